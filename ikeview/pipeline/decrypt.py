"""The key side of the pipeline: ``KeyringDecryptor`` implements ``seam.Decryptor``.

Keys for an IKE SA come, in this order, from [[ike_sa]] records naming its SPIs, from DH
private values whose public value is one of its KE payloads, from g^ir scoped to its SPIi, and
from unscoped g^ir tried one by one until the first SK payload's integrity check passes
(RFC 7296 section 2.14; a rekeyed SA per section 2.18). Child SA KEYMAT follows section 2.17.
Problem lines name the SA, the message and what would unlock it, never a secret.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ikeview.crypto.transforms import (
    TransformType,
    UnsupportedTransform,
    encr_spec,
    integ_spec,
    is_aead,
    lookup,
)
from ikeview.keys.model import EspKeys, IkeSaKeys, KeyRing
from ikeview.pipeline.dec_esp import EspCandidate, EspEntry, build_candidates, fast_opened
from ikeview.pipeline.dec_records import (
    DerivedEspSa,
    DerivedIkeSa,
    derived_source,
    describe_header,
    key_origin,
    spis_text,
)
from ikeview.pipeline.ids import IkeSpis, IntegrityVerdict
from ikeview.pipeline.seam import EspOpened

if TYPE_CHECKING:
    # The IKE side (SK payloads, key derivation, DH, AUTH, EAP) is imported by the methods that
    # use it, when the first IKE SA or IKE message arrives: ESP with [[esp]] keys (the bulk of
    # a whole-file decryption) never loads it.
    from ikeview.crypto.keymat import ChildKeys
    from ikeview.crypto.sk import SkResult
    from ikeview.dissectors.ike_records import IkeHeader, SkfPayload, SkPayload
    from ikeview.dissectors.records import EspPacket
    from ikeview.pipeline.dec_dh import DhMatcher, GirCandidate
    from ikeview.pipeline.dec_ike import IkeCandidate, IkeSaState
    from ikeview.pipeline.ike_seam import (
        AuthClaim,
        AuthVerdict,
        ChildSaSetup,
        EapRun,
        IkeSaSetup,
        Opened,
    )

_TRIAL = 2  # GirCandidate.rank of an unscoped secret, known only by an integrity check


class KeyringDecryptor:
    """Decrypts whatever the key ring can unlock; one instance per capture."""

    has_keys = True

    def __init__(self, keyring: KeyRing, *, keep_plaintext: bool = False) -> None:
        """``keep_plaintext`` keeps each opened SK body for ``take_plaintext`` (decrypt command)."""
        self._ring = keyring
        self._plain: dict[bytes, tuple[int, bytes]] | None = {} if keep_plaintext else None
        self._dh_matcher: DhMatcher | None = None
        self._ike: dict[IkeSpis, IkeSaState] = {}
        self._esp: dict[int, list[EspEntry]] = {}
        self._no_keys: dict[int, EspOpened] = {}
        self.redefined = False
        """Keys were added to an SPI that had some already (``decrypt --jobs`` then reads the
        capture in one pass: ``parhandoff``)."""
        for rec in keyring.esp_sas:
            self._add_esp(rec, key_origin(rec), esn=False, ike=None, src=rec.src, dst=rec.dst)

    # --- IKE SAs -------------------------------------------------------------------------------

    def _dh(self) -> DhMatcher:
        """The matcher of the ring's [[dh]] secrets, made on the first key exchange."""
        if self._dh_matcher is None:
            from ikeview.pipeline.dec_dh import DhMatcher

            self._dh_matcher = DhMatcher(self._ring.dh_secrets)
        return self._dh_matcher

    def ike_sa(self, setup: IkeSaSetup) -> str | None:
        """Register an IKE SA; a problem line when nothing can possibly unlock it."""
        from ikeview.pipeline import dec_ike
        from ikeview.pipeline.dec_ike import IkeCandidate, IkeSaState

        old = self._ike.get(setup.spis)
        if old is not None and old.pinned is not None:
            return None  # a retransmitted IKE_SA_INIT: keep the keys that already verified
        state = IkeSaState(setup.spis, setup)
        self._ike[setup.spis] = state
        for rec in self._ring.ike_keys_for(*setup.spis):
            keys = dec_ike.complete(rec, setup.algorithms)
            state.candidates.append(IkeCandidate(keys, f"from {key_origin(rec)}"))
        why = self._derive_ike(state, setup)
        if state.candidates:
            return None
        return why

    def _derive_ike(self, state: IkeSaState, setup: IkeSaSetup) -> str:
        from ikeview.pipeline import dec_ike
        from ikeview.pipeline.dec_dh import GirCandidate
        from ikeview.pipeline.dec_ike import IkeCandidate, KeySetupError

        spis = spis_text(setup.spis)
        try:
            lens = dec_ike.lengths(setup.algorithms)
        except KeySetupError as exc:
            return f"cannot derive keys for IKE SA {spis}: {exc}"
        parent_keys = None
        parent_note = ""
        if setup.parent is not None:
            parent = self._ike.get(setup.parent)
            chosen = parent.chosen() if parent is not None else None
            if chosen is None or chosen.keys.sk_d is None:
                return (
                    f"no SK_d of the old IKE SA {spis_text(setup.parent)} to derive the rekeyed "
                    f"IKE SA {spis}; add a [[dh]] secret for the old SA or [[ike_sa]] keys"
                )
            parent_keys = chosen.keys
            parent_note = f"SK_d of IKE SA {spis_text(setup.parent)} and "
        if setup.parent is not None and setup.ke is None:
            girs = [GirCandidate(b"", "no KE payloads", 0)]
        else:
            girs = self._dh().candidates(
                setup.ke, spi_i=setup.spis[0], child=False, either_kind=setup.parent is not None
            )
        for gir in girs:
            try:
                if parent_keys is not None:
                    keys = dec_ike.derive_rekey(setup, parent_keys, gir.g_ir, lens)
                else:
                    keys = dec_ike.derive(setup, gir.g_ir, lens)
            except (KeySetupError, ValueError) as exc:
                return f"cannot derive keys for IKE SA {spis}: {exc}"
            origin = f"derived from {parent_note}{gir.origin}"
            record = dec_ike.as_record(keys, setup.spis, setup.algorithms, origin)
            state.candidates.append(IkeCandidate(record, origin))
        if setup.parent is not None:
            return (
                f"no DH secret for the rekeyed IKE SA {spis}; add a [[dh]] shared_secret (g^ir of "
                f"the CREATE_CHILD_SA) or private_key, or [[ike_sa]] keys"
            )
        return self._why_no_keys(state)

    def _state(self, spis: IkeSpis) -> IkeSaState | None:
        from ikeview.pipeline.dec_ike import IkeCandidate, IkeSaState

        state = self._ike.get(spis)
        if state is None:
            given = self._ring.ike_keys_for(*spis)
            if not given:
                return None
            # Keys for an SA whose IKE_SA_INIT is not in the capture: use them as they are.
            state = IkeSaState(spis, None)
            state.candidates = [IkeCandidate(k, f"from {key_origin(k)}") for k in given]
            self._ike[spis] = state
        return state

    def open(self, header: IkeHeader, raw: bytes, sk: SkPayload | SkfPayload) -> Opened:
        """Decrypt and verify one SK/SKF payload; SKF fragments are held until complete."""
        from ikeview.crypto.sk import SKF
        from ikeview.dissectors.ikev2 import parse_payloads
        from ikeview.pipeline.ike_seam import Opened

        spis = (header.spi_i, header.spi_r)
        from_initiator = header.initiator
        what = f"{describe_header(header)} of IKE SA {spis_text(spis)}"
        state = self._state(spis)
        if state is None:
            return Opened(
                None,
                None,
                f"no keys for {what}: its IKE_SA_INIT is not in the capture; add [[ike_sa]] keys",
            )
        if not state.candidates:
            why = self._why_no_keys(state)
            return Opened(None, None, f"cannot decrypt {what}: {why}")
        offset, ptype = sk.offset, sk.payload_type
        failures: list[tuple[IkeCandidate, str]] = []
        untrusted: SkResult | None = None
        for index in state.order():
            dec = state.sk_decryptor(index, from_initiator)
            cand = state.candidates[index]
            if isinstance(dec, str):
                failures.append((cand, dec))
                continue
            result = dec.decrypt(raw, offset, ptype)
            if result.integrity_ok is False or (result.error and not result.plaintext):
                why = "integrity" if result.integrity_ok is False else (result.error or "")
                failures.append((cand, why))
                if result.integrity_ok is False and result.plaintext and ptype != SKF:
                    untrusted = result
                continue
            if state.pinned is None and (result.integrity_ok or len(state.candidates) == 1):
                state.pinned = index
            if result.integrity_ok:
                state.verified = True
            return self._opened(state, header, raw, ptype, result, what)
        text = self._failure_text(state, what, failures, from_initiator)
        if untrusted is not None and len(state.candidates) == 1:
            # One key set, a bad ICV, yet SK_e yields a clean payload chain: the capture's ICV
            # (or only SK_a) is wrong. Show the payloads, as Wireshark and tcpdump do, flagged.
            payloads, problem = parse_payloads(untrusted.next_payload or 0, untrusted.plaintext)
            if problem is None and payloads:
                note = "the payloads decrypted cleanly with SK_e but are not authenticated"
                return Opened(payloads, "failed", f"{text}; {note}")
        return Opened(None, "failed" if any(f[1] == "integrity" for f in failures) else None, text)

    @staticmethod
    def _why_no_keys(state: IkeSaState) -> str:
        return (
            f"no DH secret or SK_* keys for IKE SA {spis_text(state.spis)}; add a [[dh]] "
            f"shared_secret (g^ir) or private_key, or [[ike_sa]] keys"
        )

    @staticmethod
    def _failure_text(
        state: IkeSaState,
        what: str,
        failures: list[tuple[IkeCandidate, str]],
        from_initiator: bool,
    ) -> str:
        parts = []
        for cand, why in failures:
            aead = cand.keys.encr is not None and _is_aead_id(cand.keys.encr, cand.keys)
            if why == "integrity":
                key = (
                    ("SK_ei" if from_initiator else "SK_er")
                    if aead
                    else ("SK_ai" if from_initiator else "SK_ar")
                )
                parts.append(f"{key} {cand.origin} does not verify")
            else:
                parts.append(f"keys {cand.origin}: {why}")
        if all(w == "integrity" for _, w in failures):
            head = f"integrity check failed for {what}"
        else:
            head = f"cannot decrypt {what}"
        if len(parts) == 1:
            return f"{head}: {parts[0]}"
        return f"{head}: none of {len(parts)} candidate keys works ({'; '.join(parts)})"

    def _opened(
        self,
        state: IkeSaState,
        header: IkeHeader,
        raw: bytes,
        ptype: int,
        result: SkResult,
        what: str,
    ) -> Opened:
        from ikeview.crypto.sk import SKF
        from ikeview.pipeline import dec_ike
        from ikeview.pipeline.ike_seam import Opened

        verdict: IntegrityVerdict | None = (
            "ok" if result.integrity_ok else None
        )  # a failed check never gets here
        if ptype != SKF:
            if self._plain is not None:
                self._plain[raw] = (result.next_payload or 0, result.plaintext)
            return self._parse(result.next_payload or 0, result.plaintext, verdict, result.error)
        frag, total = result.fragment_number or 0, result.total_fragments or 0
        if not 1 <= frag <= total:
            return Opened(None, verdict, f"{what}: fragment number {frag} of {total} is invalid")
        # One peer sends requests and responses under the same ID (two ID spaces, RFC 7296
        # 2.2), so the R flag names the message as much as the ID does.
        key = (header.message_id, header.initiator, header.response)
        pending = state.fragments.get(key)
        if pending is None or pending.total != total:
            pending = dec_ike.Fragments(total)
            state.fragments[key] = pending
        pending.parts[frag] = result.plaintext
        if frag == 1:
            pending.first_inner = result.next_payload or 0
        if result.integrity_ok is None:
            pending.checked = False
        if len(pending.parts) < total:
            return Opened(None, verdict, None, pending=True)
        del state.fragments[key]
        body = b"".join(pending.parts[n] for n in range(1, total + 1))
        if self._plain is not None:
            # Kept under the fragment that completed the message (decrypt command).
            self._plain[raw] = (pending.first_inner, body)
        verdict = "ok" if pending.checked else None
        return self._parse(pending.first_inner, body, verdict, result.error)

    @staticmethod
    def _parse(
        first: int, body: bytes, verdict: IntegrityVerdict | None, warning: str | None
    ) -> Opened:
        from ikeview.dissectors.ikev2 import parse_payloads
        from ikeview.pipeline.ike_seam import Opened

        payloads, problem = parse_payloads(first, body)
        text = warning
        if problem is not None:
            note = f"inner payloads stop at offset {problem.offset}: {problem.reason}"
            text = f"{warning}; {note}" if warning else note
        return Opened(payloads, verdict, text)

    def take_plaintext(self, raw: bytes) -> tuple[int, bytes] | None:
        """(first inner payload type, inner payloads) of the SK payload of message ``raw``, once.

        Only with ``keep_plaintext``; for SKF, the whole reassembled message is kept under the
        fragment that completed it.
        """
        return None if self._plain is None else self._plain.pop(raw, None)

    # --- AUTH ----------------------------------------------------------------------------------

    def verify_auth(self, spis: IkeSpis, claims: tuple[AuthClaim, ...]) -> tuple[AuthVerdict, ...]:
        """Check both sides' AUTH payloads (dec_auth.py)."""
        from ikeview.pipeline import dec_auth

        return dec_auth.verify_claims(
            self._ike.get(spis), spis, claims, self._ring.psks, self._ring.eap_secrets
        )

    def check_eap_password(self, run: EapRun) -> tuple[bool | None, str] | None:
        """An [[eap]] password against a refused EAP-MSCHAPv2 response (dec_eap.py)."""
        from ikeview.pipeline import dec_eap

        return dec_eap.check_refused_password(self._ring.eap_secrets, run)

    # --- child SAs and ESP ---------------------------------------------------------------------

    def child_sa(self, setup: ChildSaSetup) -> str | None:
        """Derive a child SA's KEYMAT and register both ESP SAs by SPI."""
        from ikeview.crypto.keymat import derive_child_keys
        from ikeview.crypto.prf import get_prf

        spis = spis_text(setup.ike)
        child = f"child SA 0x{setup.spi_at_initiator:08x}/0x{setup.spi_at_responder:08x}"
        given = self._esp.get(setup.spi_at_initiator) and self._esp.get(setup.spi_at_responder)
        state = self._state(setup.ike)
        ike_cands = [] if state is None else [state.candidates[i] for i in state.order()]
        ike_cands = [c for c in ike_cands if c.keys.sk_d is not None]
        if not ike_cands:
            if given:
                return None
            return (
                f"no SK_d of IKE SA {spis} for {child}; add a [[dh]] secret so ikeview derives "
                f"it, [[ike_sa]] sk_d, or [[esp]] keys for both SPIs"
            )
        ike_setup = state.setup if state is not None else None
        ni = setup.ni if setup.ni is not None else (ike_setup.ni if ike_setup else None)
        nr = setup.nr if setup.nr is not None else (ike_setup.nr if ike_setup else None)
        if ni is None or nr is None:
            return f"no nonces for {child} of IKE SA {spis}"
        algs = setup.algorithms
        try:
            encr = lookup(TransformType.ENCR, algs.encr, algs.encr_key_bits)
            integ = None if is_aead(encr) else integ_spec(algs.integ)
        except UnsupportedTransform as exc:
            return f"cannot derive keys for {child} of IKE SA {spis}: {exc}"
        girs = self._child_girs(setup, child, spis)
        if isinstance(girs, str):
            return girs
        problems: list[str] = []
        for ike_cand in ike_cands:
            prf_id = ike_cand.keys.prf or (ike_setup.algorithms.prf if ike_setup else None)
            sk_d = ike_cand.keys.sk_d
            if sk_d is None:  # filtered out above; says so to the type checker
                continue
            if prf_id is None:
                problems.append("the IKE SA's PRF is unknown")
                continue
            for gir in girs:
                keys = derive_child_keys(
                    get_prf(prf_id),
                    sk_d,
                    ni,
                    nr,
                    encr_key_len=encr.keymat_len,
                    integ_key_len=integ.key_len if integ else 0,
                    g_ir_new=gir.g_ir if setup.ke is not None else None,
                )
                pfs = f" and {gir.origin}" if setup.ke is not None else ""
                origin = f"derived from SK_d of IKE SA {spis} ({ike_cand.origin}){pfs}"
                trial = gir.origin if setup.ke is not None and gir.rank == _TRIAL else ""
                problems += self._add_child_keys(setup, keys, origin, dh=trial)
        if problems and not given:
            return f"cannot derive keys for {child} of IKE SA {spis}: {problems[0]}"
        return None

    def _child_girs(self, setup: ChildSaSetup, child: str, spis: str) -> list[GirCandidate] | str:
        """g^ir candidates of a CREATE_CHILD_SA with PFS, or why there is none; one empty
        candidate without PFS (RFC 7296 2.17: KEYMAT from SK_d and the nonces alone)."""
        from ikeview.pipeline.dec_dh import GirCandidate

        if setup.ke is None:
            return [GirCandidate(b"", "", 0)]
        girs = self._dh().candidates(
            setup.ke,
            spi_i=setup.ike[0],
            child=True,
            child_spis=(setup.spi_at_initiator, setup.spi_at_responder),
        )
        if not girs:
            return (
                f"{child} of IKE SA {spis} used PFS (DH group {setup.ke.group}) and no DH "
                f"secret matches; add a [[dh]] child = true shared_secret or private_key"
            )
        return girs

    def _add_child_keys(
        self, setup: ChildSaSetup, keys: ChildKeys, origin: str, *, dh: str = ""
    ) -> list[str]:
        """Register the two ESP SAs of one KEYMAT (RFC 7296 2.17: initiator-to-responder keys
        first); the problems met. ``dh`` names an unscoped PFS secret still on trial (its
        first ESP packet's ICV tells whether it fits)."""
        algs = setup.algorithms
        problems: list[str] = []
        for spi, ek, ak, src, dst in (
            (setup.spi_at_responder, keys.sk_ei, keys.sk_ai, setup.initiator, setup.responder),
            (setup.spi_at_initiator, keys.sk_er, keys.sk_ar, setup.responder, setup.initiator),
        ):
            rec = EspKeys(
                spi=spi,
                encr_key=ek,
                integ_key=ak or None,
                src=src,
                dst=dst,
                encr=algs.encr,
                encr_key_bits=algs.encr_key_bits,
                integ=algs.integ or 0,
                icv_unchecked=None,
                source=derived_source(origin),
            )
            why = self._add_esp(rec, origin, esn=algs.esn, ike=setup.ike, src=src, dst=dst, dh=dh)
            if why:
                problems.append(why)
        return problems

    def _add_esp(
        self,
        rec: EspKeys,
        origin: str,
        *,
        esn: bool,
        ike: IkeSpis | None,
        src: str | None,
        dst: str | None,
        dh: str = "",
    ) -> str | None:
        cands, why = build_candidates(rec, origin, esn=esn)
        if not cands:
            return f"ESP SPI 0x{rec.spi:08x}: {why}"
        if dh:
            cands = [replace(c, dh=dh) for c in cands]
        entries = self._esp.setdefault(rec.spi, [])
        self.redefined = self.redefined or len(entries) > 0
        entry = next(
            (e for e in entries if e.src in (None, src) and e.dst in (None, dst) and e.esn == esn),
            None,
        )
        if entry is None:
            entry = EspEntry(rec.spi, src, dst, esn=esn, ike=ike)
            entries.append(entry)
        elif entry.ike is None:
            entry.ike = ike
        entry.candidates.extend(cands)
        return None

    def esp(self, packet: EspPacket) -> EspOpened:
        """Decrypt one ESP packet with the keys registered for its SPI."""
        entries = self._esp.get(packet.spi)
        if entries is None:
            return self._unknown_spi(packet.spi)
        entry = entries[0]
        if len(entries) > 1:
            # Addresses only tell SAs sharing an SPI apart; a lone SA is used from anywhere
            # (MOBIKE and NAT move ESP to addresses the IKE_SA_INIT never used).
            flow = packet.flow
            found = next((e for e in entries if e.matches(flow.src, flow.dst)), None)
            if found is None:
                return self._unknown_spi(packet.spi, flow.src, flow.dst)
            entry = found
        data = packet.data
        if packet.error is not None or len(data) < packet.length:
            return EspOpened(
                False,
                None,
                None,
                None,
                f"ESP SPI 0x{packet.spi:08x}: only {len(data)} of {packet.length} octets were "
                f"captured (snap length); cannot decrypt",
            )
        fast = entry.fast
        if fast is not None:
            # Hot path: keys already verified on this SA and no ESN state to keep.
            opened = fast_opened(fast(data))
            if opened is not None:
                return opened
        return entry.open(data)

    def esp_batch_after(self, spi: int, data: bytes) -> EspEntry | str | None:
        """``esp_batch(spi)`` once a lone SA's keys have been tried on ``data`` (its SPI ..
        ICV), as ``esp()`` would on the SA's first packet: a split load's later range pinned
        them on a packet this process never read (``tui.parload``)."""
        entries = self._esp.get(spi)
        if entries is not None and len(entries) == 1 and entries[0].pinned is None:
            entries[0].open(data)
        return self.esp_batch(spi)

    def has_esp_keys(self, spi: int) -> bool:
        """Whether ``spi`` has keys so far (``decrypt --jobs`` opens its packets before every
        earlier frame is read: ``parhandoff``)."""
        return spi in self._esp

    def esp_batch(self, spi: int) -> EspEntry | str | None:
        """How the batch path (``pipeline.fastesp``) may take whole, undamaged ESP packets of
        ``spi``: the SA's entry when it is the only one for the SPI and pinned to keys, without
        ESN (its ``pinned.sa.open_batch`` then gives what ``esp()`` gives clean packets, and
        ``open()`` the rest); the problem ``esp()`` gives every packet of an SPI without keys;
        None when only ``esp()``, one packet at a time, can say."""
        entries = self._esp.get(spi)
        if entries is None:
            return self._unknown_spi(spi).problem
        if len(entries) == 1 and entries[0].fast is not None and entries[0].pinned is not None:
            return entries[0]
        return None

    def _unknown_spi(self, spi: int, src: str = "", dst: str = "") -> EspOpened:
        if src:
            return EspOpened(
                False, None, None, None, f"no keys for ESP SPI 0x{spi:08x} from {src} to {dst}"
            )
        known = self._no_keys.get(spi)
        if known is None:
            known = EspOpened(False, None, None, None, f"no keys for ESP SPI 0x{spi:08x}")
            self._no_keys[spi] = known
        return known

    # --- what was derived ----------------------------------------------------------------------

    def _trials_used(self) -> set[str]:
        """Unscoped ``[[dh]]`` secrets that verified on some SA (IKE SA or ESP)."""
        trials = {c.dh for entries in self._esp.values() for e in entries for c in e.candidates}
        trials.discard("")
        used = {e.pinned.dh for es in self._esp.values() for e in es if e.pinned and e.verified}
        ike_origins = [
            cand.origin
            for state in self._ike.values()
            if state.verified and (cand := state.chosen()) is not None
        ]
        used |= {t for t in trials if any(o.endswith(t) for o in ike_origins)}
        used.discard("")
        return used

    def unused_dh(self) -> tuple[str, ...]:
        """Unscoped ``[[dh]] shared_secret`` records that fit no IKE SA or child SA seen."""
        ike_origins = [c.origin for st in self._ike.values() if (c := st.chosen()) is not None]
        esp_origins = [
            ec.origin for es in self._esp.values() for e in es if (ec := e.chosen()) is not None
        ]
        used = self._trials_used()
        out = []
        for rec in self._ring.dh_secrets:
            if rec.shared_secret is None or rec.spi_i is not None or rec.child:
                continue
            o = key_origin(rec)
            if o in used or any(x.endswith(o) for x in (*ike_origins, *esp_origins)):
                continue
            out.append(o)
        return tuple(out)

    def derived_keys(self) -> tuple[DerivedIkeSa | DerivedEspSa, ...]:
        """Every IKE SA and ESP SA key set in use, IKE SAs first, in registration order."""
        out: list[DerivedIkeSa | DerivedEspSa] = []
        for state in self._ike.values():
            cand = state.chosen()
            if cand is None:
                continue
            setup = state.setup
            out.append(
                DerivedIkeSa(
                    keys=cand.keys,
                    origin=cand.origin,
                    verified=state.verified,
                    initiator=setup.initiator if setup else None,
                    responder=setup.responder if setup else None,
                    parent=setup.parent if setup else None,
                )
            )
        used = self._trials_used()
        for entries in self._esp.values():
            for entry in entries:
                chosen: EspCandidate | None = entry.chosen() or _by_elimination(entry, used)
                if chosen is None:
                    continue
                out.append(
                    DerivedEspSa(
                        keys=chosen.keys,
                        esn=entry.esn,
                        origin=chosen.origin,
                        ike=entry.ike,
                        verified=entry.verified,
                    )
                )
        return tuple(out)


def _by_elimination(entry: EspEntry, used: set[str]) -> EspCandidate | None:
    """The one candidate of a never-verified SA left once trial secrets that other SAs
    verified with are struck out (each key exchange has its own g^ir), else None."""
    if entry.pinned is not None or not any(c.dh for c in entry.candidates):
        return None
    left = [c for c in entry.candidates if not (c.dh and c.dh in used)]
    return left[0] if len(left) == 1 else None


def _is_aead_id(encr: int, keys: IkeSaKeys) -> bool:
    try:
        return is_aead(encr_spec(encr, keys.encr_key_bits, keys.sk_ei))
    except UnsupportedTransform:
        return False


__all__ = ["DerivedEspSa", "DerivedIkeSa", "KeyringDecryptor"]
