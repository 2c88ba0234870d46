"""Correlation: dissector records in, IKE SAs / exchanges / child SAs out. No I/O.

Rules (RFC 7296 unless noted), all state changes live in this file:

1. An IKE SA is named by (SPIi, SPIr). The first IKE_SA_INIT request has SPIr zero, so a
   half-open SA is found by SPIi alone until a response gives it its SPIr (section 2.6).
   COOKIE and INVALID_KE_PAYLOAD answers keep SPIi: the repeated request belongs to the same SA
   and is a new *attempt* of the same exchange (sections 2.6, 1.3).
2. Each end keeps its own message ID space (section 2.2). A request's sender is given by its
   I flag; a response's requester is the other end. So an exchange is keyed by
   (message ID, requester), and both peers go through one code path.
3. strongSwan's ``is_retransmit``: same message ID and identical bytes is a retransmission;
   same ID with other bytes is not (it is a new attempt, or a peer bug), and is marked as such.
   SKF fragments (RFC 7383) of one message share the ID but differ: they are compared per
   fragment number.
4. A response carrying a notify of type < 16384 failed the exchange (section 3.10.1), except
   COOKIE / INVALID_KE_PAYLOAD in IKE_SA_INIT, which ask for a retry.
5. A CREATE_CHILD_SA whose SA payload has protocol IKE and an 8-byte SPI rekeys the IKE SA: the
   new SA's SPIi is the exchange initiator's SPI, its SPIr the exchange responder's
   (section 1.3.2). Otherwise it makes a child SA, rekeying the one N(REKEY_SA) names.
6. A Delete payload (section 3.11) of protocol IKE ends the IKE SA; of ESP/AH, the child SAs
   whose SPIs it lists (the sender's inbound SPIs).
7. ESP packets are counted per (SPI, destination) and never stored: the TUI re-reads the capture
   for per-packet rows.

Decryption goes through the ``Decryptor`` of seam.py only: setups are registered when the
exchange that makes them completes, so the first message of a new SA is opened after its keys
(capture order is the protocol's order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ikeview.diagnosis.codes import notify_code
from ikeview.dissectors import iana
from ikeview.dissectors.ike_records import (
    AuthPayload,
    CertPayload,
    DeletePayload,
    EapPayload,
    IdPayload,
    IkeHeader,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Proposal,
    SaPayload,
    SkfPayload,
    TsPayload,
)
from ikeview.dissectors.records import EspPacket, Flow, FrameError, IkeDatagram, NatKeepalive
from ikeview.pipeline import nat
from ikeview.pipeline.inner import InnerFlowCounter
from ikeview.pipeline.model import (
    Analysis,
    AuthSide,
    ChildSa,
    Counters,
    EspSpiStats,
    Exchange,
    ExchangeStatus,
    IkeSa,
    IkeSaState,
    Message,
    NatInfo,
    Problem,
    RetransmitKind,
    Severity,
)
from ikeview.pipeline.seam import (
    AuthVerdict,
    ChildSaSetup,
    ChosenAlgorithms,
    Decryptor,
    EspOpened,
    IkeSaSetup,
    IkeSpis,
    KeyExchange,
    Opened,
    Side,
)

# ---------------------------------------------------------------- rules as data

IKE_SA_INIT = 34
IKE_AUTH = 35
CREATE_CHILD_SA = 36
INFORMATIONAL = 37

PROTO_IKE = 1
PROTO_AH = 2
PROTO_ESP = 3

ERROR_NOTIFY_LIMIT = 16384
"""Notify types below this are errors (RFC 7296 3.10.1)."""
N_INVALID_KE_PAYLOAD = 17
N_COOKIE = 16390
N_USE_TRANSPORT_MODE = 16391
N_REKEY_SA = 16393
RETRY_NOTIFIES = frozenset({N_COOKIE, N_INVALID_KE_PAYLOAD})
"""Answers to IKE_SA_INIT (and INVALID_KE_PAYLOAD to CREATE_CHILD_SA) that ask for a retry."""

ZERO_SPI = bytes(8)
ESP_REPLAY_WINDOW = 1024
"""Bits of sequence-number history kept per SPI to tell replays from late packets."""
MAX_FRAME_ERROR_PROBLEMS = 50
"""Frame errors beyond this many are only counted."""


# ---------------------------------------------------------------- mutable builders


@dataclass(slots=True)
class _Half:
    """One message of an exchange (its request or its response) being assembled."""

    message: Message | None = None
    """The first copy seen; later copies go to the exchange's ``others``."""
    raw: dict[int, bytes] = field(default_factory=dict)
    """Raw bytes by fragment number (0 for an unfragmented message), for rule 3."""
    payloads: list[object] = field(default_factory=list)
    """Clear and decrypted payloads (all fragments)."""
    done: bool = False
    """The whole message is here and its exchange handler has run."""
    decrypted: bool = False
    """Some copy or fragment of it was decrypted."""


@dataclass(slots=True)
class _Ex:
    """An exchange being assembled."""

    exchange_type: int
    message_id: int
    requester: Side
    attempt: int
    req: _Half = field(default_factory=_Half)
    resp: _Half = field(default_factory=_Half)
    others: list[Message] = field(default_factory=list)
    error: int | None = None
    retry: int | None = None
    purpose: str | None = None

    @property
    def request(self) -> Message | None:
        return self.req.message

    @property
    def response(self) -> Message | None:
        return self.resp.message


@dataclass(slots=True)
class _Child:
    ike: IkeSpis
    protocol_id: int
    spi_i: int
    spi_r: int
    initiator: str
    responder: str
    frame: int
    ts: float
    exchange_type: int
    proposal: Proposal | None
    offered: tuple[Proposal, ...]
    mode: str
    ts_i: tuple
    ts_r: tuple
    rekey_of: int | None
    rekeyed_by: tuple[int, int] | None = None
    deleted_ts: float | None = None
    problem: str | None = None


@dataclass(slots=True)
class _Sa:
    spi_i: bytes
    spi_r: bytes
    initiator: str | None
    responder: str | None
    first_ts: float
    last_ts: float
    created_by: int | None
    state: IkeSaState
    state_inferred: bool = False
    exchanges: list[_Ex] = field(default_factory=list)
    by_key: dict[tuple[int, Side], _Ex] = field(default_factory=dict)
    failure: str | None = None
    established_ts: float | None = None
    deleted_ts: float | None = None
    retries: list[str] = field(default_factory=list)
    offered: tuple[Proposal, ...] = ()
    chosen: Proposal | None = None
    dh_group: int | None = None
    auth: dict[Side, AuthSide] = field(default_factory=dict)
    nat_checks: list[tuple[Side, nat.NatCheck]] = field(default_factory=list)
    udp_encap: bool = False
    children: list[_Child] = field(default_factory=list)
    rekey_of: IkeSpis | None = None
    rekeyed_into: IkeSpis | None = None
    problem: str | None = None
    ids: dict[str, IdPayload] = field(default_factory=dict)
    """Latest IDi/IDr seen, by side."""
    child_offer: list[object] = field(default_factory=list)
    """Payloads of the IKE_AUTH request that offered the first child SA."""
    pending_auth: dict[str, tuple[AuthPayload, object, tuple[object, ...], int]] = field(
        default_factory=dict
    )
    """AUTH payloads seen but not yet checked (rule: both sides first, see _verify_pending)."""

    @property
    def spis(self) -> IkeSpis:
        return (self.spi_i, self.spi_r)

    @property
    def label(self) -> str:
        """``SPIi_hex/SPIr_hex``, as problem lines and the model's ``IkeSa.label`` name it."""
        return f"{self.spi_i.hex()}/{self.spi_r.hex()}"


@dataclass(slots=True)
class _Esp:
    spi: int
    src: str
    dst: str
    udp_encap: bool
    first_ts: float
    first_seq: int
    packets: int = 0
    bytes: int = 0
    last_ts: float = 0.0
    last_seq: int = 0
    max_seq: int = 0
    min_seq: int = 0
    unique: int = 0
    window: int = 0
    replays: int = 0
    out_of_order: int = 0
    decrypted: int = 0
    integrity_failed: int = 0
    problem: str | None = None
    inner: InnerFlowCounter | None = None
    """Inner flows of the decrypted packets; made at the first one."""
    first_frame: int = 0
    last_frame: int = 0
    gap_frame: int | None = None
    replay_frame: int | None = None
    integrity_failed_frame: int | None = None

    def count(self, seq: int, frame: int = 0) -> None:
        """Anti-replay bookkeeping in the manner of RFC 4303 3.4.3, for reporting only."""
        if self.unique == 0:
            self.max_seq = self.min_seq = seq
            self.window = 1
            self.unique = 1
            return
        if seq > self.max_seq:
            shift = seq - self.max_seq
            if shift > 1 and self.gap_frame is None:
                self.gap_frame = frame
            self.window = ((self.window << shift) | 1) & ((1 << ESP_REPLAY_WINDOW) - 1)
            self.max_seq = seq
            self.unique += 1
            return
        diff = self.max_seq - seq
        if diff < ESP_REPLAY_WINDOW and (self.window >> diff) & 1:
            self.replays += 1
            if self.replay_frame is None:
                self.replay_frame = frame
            return
        if diff < ESP_REPLAY_WINDOW:
            self.window |= 1 << diff
        self.out_of_order += 1
        self.unique += 1
        self.min_seq = min(self.min_seq, seq)

    def freeze(self) -> EspSpiStats:
        span = self.max_seq - self.min_seq + 1 if self.unique else 0
        return EspSpiStats(
            spi=self.spi,
            src=self.src,
            dst=self.dst,
            udp_encap=self.udp_encap,
            packets=self.packets,
            bytes=self.bytes,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            first_seq=self.first_seq,
            last_seq=self.last_seq,
            max_seq=self.max_seq,
            missing=max(span - self.unique, 0),
            replays=self.replays,
            out_of_order=self.out_of_order,
            decrypted=self.decrypted,
            integrity_failed=self.integrity_failed,
            problem=self.problem,
            inner_flows=self.inner.freeze() if self.inner is not None else (),
            inner_other=self.inner.other if self.inner is not None else 0,
            first_frame=self.first_frame,
            last_frame=self.last_frame,
            gap_frame=self.gap_frame,
            replay_frame=self.replay_frame,
            integrity_failed_frame=self.integrity_failed_frame,
        )


# ---------------------------------------------------------------- the decryptor without keys


class NullDecryptor:
    """A ``Decryptor`` with no keys: nothing is decrypted, nothing verified."""

    def ike_sa(self, setup: IkeSaSetup) -> str | None:
        return (
            f"IKE SA {setup.spis[0].hex()}/{setup.spis[1].hex()}: no keys given "
            "(pass --keys with a PSK and DH secret, or SK_* keys)"
        )

    def open(self, spis: IkeSpis, raw: bytes, sk: object, *, from_initiator: bool) -> Opened:
        return Opened(None, None, "no keys")

    def verify_auth(
        self,
        spis: IkeSpis,
        side: Side,
        auth: object,
        id_payload: object,
        certs: tuple[object, ...],
    ) -> AuthVerdict:
        method = auth.method if isinstance(auth, AuthPayload) else 0
        return AuthVerdict(side, method, None, None, "no keys")

    def child_sa(self, setup: ChildSaSetup) -> str | None:
        return None

    def esp(self, packet: EspPacket) -> EspOpened:
        return EspOpened(False, None, None, None, "no keys")


# ---------------------------------------------------------------- helpers


def _notifies(payloads: list[object] | tuple[object, ...]) -> list[NotifyPayload]:
    return [p for p in payloads if isinstance(p, NotifyPayload)]


def _first(payloads: list[object] | tuple[object, ...], cls: type) -> object | None:
    return next((p for p in payloads if isinstance(p, cls)), None)


def _error_notify(payloads: list[object]) -> int | None:
    for n in _notifies(payloads):
        if n.notify_type < ERROR_NOTIFY_LIMIT and n.notify_type not in RETRY_NOTIFIES:
            return n.notify_type
    return None


def _algorithms(p: Proposal) -> ChosenAlgorithms:
    """The transforms of a chosen proposal (RFC 7296 3.3.2: one of each type)."""
    by_type: dict[int, tuple[int, int | None]] = {}
    for t in p.transforms:
        by_type.setdefault(t.transform_type, (t.transform_id, t.key_length))
    encr, bits = by_type.get(1, (0, None))
    integ = by_type.get(3, (None, None))[0]
    prf = by_type.get(2, (None, None))[0]
    dh = by_type.get(4, (None, None))[0]
    esn = by_type.get(5, (0, None))[0] == 1
    return ChosenAlgorithms(encr, bits, integ, prf, dh or None, esn)


def _key_exchange(ex: _Ex) -> KeyExchange | None:
    """The KE payloads of an exchange's request and response (RFC 7296 sections 1.2, 1.3), in
    the group the responder's KE names; None unless both are there."""
    ke_i = _first(ex.req.payloads, KePayload)
    ke_r = _first(ex.resp.payloads, KePayload)
    if isinstance(ke_i, KePayload) and isinstance(ke_r, KePayload):
        return KeyExchange(ke_r.group, ke_i.data, ke_r.data)
    return None


def _spi_int(spi: bytes) -> int:
    return int.from_bytes(spi, "big") if spi else 0


def _nname(notify_type: int) -> str:
    return iana.NOTIFY_TYPES.name(notify_type)


def _ename(exchange_type: int) -> str:
    return iana.EXCHANGE_TYPES.name(exchange_type)


# ---------------------------------------------------------------- the correlator


class Correlator:
    """Feed records in capture order; take a snapshot (an ``Analysis``) at any time."""

    def __init__(self, decryptor: Decryptor | None = None, capture: str = "") -> None:
        self._dec: Decryptor = decryptor if decryptor is not None else NullDecryptor()
        # ESP is nearly every packet of a real capture: without keys, skip the call entirely.
        self._esp_open = None if type(self._dec) is NullDecryptor else self._dec.esp
        self.capture = capture
        self._sas: list[_Sa] = []
        self._by_spis: dict[IkeSpis, _Sa] = {}
        self._by_spi_i: dict[bytes, _Sa] = {}
        """Latest SA per SPIi, for half-open SAs and IKE_SA_INIT retries."""
        self._esp: dict[tuple[int, str], _Esp] = {}
        self._child_by_spi: dict[int, _Child] = {}
        self._problems: list[Problem] = []
        self._seen_problems: set[tuple[str, str]] = set()
        self._counts = {
            "ike": 0,
            "ike_decrypted": 0,
            "ike_integrity_failed": 0,
            "esp": 0,
            "esp_decrypted": 0,
            "esp_integrity_failed": 0,
            "keepalives": 0,
            "frame_errors": 0,
            "ikev1": 0,
        }
        self._handlers: dict[int, tuple[Callable, Callable]] = {
            IKE_SA_INIT: (self._init_request, self._init_response),
            IKE_AUTH: (self._auth_request, self._auth_response),
            CREATE_CHILD_SA: (self._noop, self._create_child_response),
            INFORMATIONAL: (self._info_request, self._info_response),
        }
        """Exchange shapes: what a completed request / response of each type changes."""

    # ------------------------------------------------------------ input

    def feed(self, record: object) -> None:
        """Take one dissector record (capture order)."""
        cls = type(record)
        if cls is EspPacket:
            self._on_esp(record)  # type: ignore[arg-type]
        elif cls is IkeDatagram:
            self._on_ike(record)  # type: ignore[arg-type]
        elif cls is NatKeepalive:
            self._counts["keepalives"] += 1
        elif cls is FrameError:
            self._counts["frame_errors"] += 1
            if self._counts["frame_errors"] <= MAX_FRAME_ERROR_PROBLEMS:
                self._problem(
                    "warning", f"frame {record.frame}: {record.reason}", frame=record.frame
                )

    def _problem(
        self,
        severity: Severity,
        text: str,
        *,
        frame: int | None = None,
        sa: _Sa | None = None,
        once: str | None = None,
        code: str | None = None,
    ) -> None:
        if once is not None:
            if (severity, once) in self._seen_problems:
                return
            self._seen_problems.add((severity, once))
        self._problems.append(Problem(severity, text, frame, sa.spis if sa else None, code))

    # ------------------------------------------------------------ ESP

    def _on_esp(self, pkt: EspPacket) -> None:
        self._counts["esp"] += 1
        f = pkt.flow
        key = (pkt.spi, f.dst)
        c = self._esp.get(key)
        if c is None:
            c = self._esp[key] = _Esp(pkt.spi, f.src, f.dst, pkt.udp_encap, f.ts, pkt.seq)
            c.first_frame = f.frame
        c.last_frame = f.frame
        c.packets += 1
        c.bytes += pkt.length
        c.last_ts = f.ts
        c.last_seq = pkt.seq
        if pkt.error is None:
            c.count(pkt.seq, f.frame)
        if self._esp_open is None:
            c.problem = "no keys"
            return
        opened = self._esp_open(pkt)
        if opened.decrypted:
            c.decrypted += 1
            self._counts["esp_decrypted"] += 1
            if c.inner is None:
                c.inner = InnerFlowCounter()
            c.inner.add_opened(opened)
        if opened.integrity == "failed":
            c.integrity_failed += 1
            self._counts["esp_integrity_failed"] += 1
            if c.integrity_failed == 1:
                c.integrity_failed_frame = f.frame
                self._problem(
                    "error",
                    f"ESP SPI 0x{pkt.spi:08x} frame {f.frame}: integrity check failed",
                    frame=f.frame,
                    code="esp-integrity-failure",
                )
        if opened.problem and c.problem is None:
            c.problem = opened.problem

    # ------------------------------------------------------------ IKE: finding the SA

    def _find_sa(self, h: IkeHeader, flow: Flow) -> _Sa:
        key = (h.spi_i, h.spi_r)
        sa = self._by_spis.get(key)
        if sa is not None:
            return sa
        sa = self._by_spi_i.get(h.spi_i)
        if sa is not None:
            if sa.spi_r == ZERO_SPI and h.spi_r != ZERO_SPI:
                # Rule 1: the first answer with a responder SPI completes the SA's name.
                sa.spi_r = h.spi_r
                self._by_spis[sa.spis] = sa
                return sa
            if h.spi_r == ZERO_SPI and sa.state == "half-open":
                return sa
            if (
                h.exchange_type == IKE_SA_INIT
                and sa.state == "half-open"
                and sa.established_ts is None
            ):
                # An IKE_SA_INIT retry answered with another SPIr: the SA's name changes.
                self._by_spis.pop(sa.spis, None)
                sa.spi_r = h.spi_r
                self._by_spis[sa.spis] = sa
                return sa
        initiator = flow.src if h.initiator else flow.dst
        responder = flow.dst if h.initiator else flow.src
        created = IKE_SA_INIT if h.exchange_type == IKE_SA_INIT else None
        sa = _Sa(
            h.spi_i,
            h.spi_r,
            initiator,
            responder,
            flow.ts,
            flow.ts,
            created,
            "half-open" if created else "established",
            state_inferred=created is None,
        )
        if created is None:
            self._problem(
                "info",
                f"IKE SA {sa.label}: first seen mid-life in frame "
                f"{flow.frame} ({_ename(h.exchange_type)}); its IKE_SA_INIT is not in the capture"
                + self._rekey_hint(initiator, responder),
                frame=flow.frame,
                sa=sa,
            )
        self._add_sa(sa)
        return sa

    def _rekey_hint(self, a: str, b: str) -> str:
        """Name the likeliest parent when an SA appears mid-life: the last SA between the same
        peers with an answered CREATE_CHILD_SA that could not be decrypted (a guess, said so)."""
        for old in reversed(self._sas):
            if {old.initiator, old.responder} != {a, b}:
                continue
            hidden = [
                e
                for e in old.exchanges
                if e.exchange_type == CREATE_CHILD_SA and e.response and not e.resp.decrypted
            ]
            if hidden:
                last = hidden[-1]
                frames = ",".join(str(m.frame) for m in (last.request, last.response) if m)
                return (
                    f"; possibly a rekey of {old.label} in a "
                    f"CREATE_CHILD_SA that was not decrypted (the last one: frames {frames})"
                )
        return ""

    def _add_sa(self, sa: _Sa) -> None:
        self._sas.append(sa)
        self._by_spi_i[sa.spi_i] = sa
        if sa.spi_r != ZERO_SPI:
            self._by_spis[sa.spis] = sa

    # ------------------------------------------------------------ IKE: messages and exchanges

    def _on_ike(self, rec: IkeDatagram) -> None:
        self._counts["ike"] += 1
        msg = rec.message
        h = msg.header
        flow = rec.flow
        if h is None or msg.version != 2:
            if msg.version == 1:
                self._counts["ikev1"] += 1
                self._problem(
                    "info",
                    "IKEv1 messages are labelled but not analyzed",
                    frame=flow.frame,
                    once="ikev1",
                )
            else:
                why = msg.error.reason if msg.error else "not IKEv2"
                self._problem("warning", f"frame {flow.frame}: not an IKE message ({why})")
            return
        sa = self._find_sa(h, flow)
        sa.last_ts = flow.ts
        if flow.sport == 4500 or flow.dport == 4500 or flow.transport == "tcp":
            sa.udp_encap = sa.udp_encap or h.exchange_type != IKE_SA_INIT
        requester: Side
        if h.response:
            requester = "responder" if h.initiator else "initiator"
        else:
            requester = "initiator" if h.initiator else "responder"
        key = (h.message_id, requester)
        ex = sa.by_key.get(key)
        sk = msg.sk
        frag_no = sk.fragment_number if isinstance(sk, SkfPayload) else 0
        raw = msg.raw
        retrans: RetransmitKind | None = None
        original: Message | None = None
        new_attempt = False
        if not h.response:
            if ex is not None and ex.request is not None:
                prior = ex.req.raw.get(frag_no)
                if prior == raw:
                    retrans = "retransmit"
                    original = self._original(ex, frag_no, response=False)
                elif prior is not None or frag_no == 0:
                    retrans = "other-bytes"
                    original = ex.request
                    new_attempt = True
            if ex is None or new_attempt:
                ex = self._new_exchange(sa, key, h.exchange_type, h.message_id, requester)
        else:
            if ex is None:
                ex = self._new_exchange(sa, key, h.exchange_type, h.message_id, requester)
            prior = ex.resp.raw.get(frag_no)
            if prior == raw:
                retrans = "retransmit"
                original = self._original(ex, frag_no, response=True)
            elif prior is not None or (frag_no == 0 and ex.response is not None):
                retrans = "other-bytes"
                original = ex.response
                self._problem(
                    "warning",
                    f"IKE SA {sa.label} frame {flow.frame}: second "
                    f"response to {_ename(h.exchange_type)} mid {h.message_id} with other bytes "
                    f"than frame {original.frame if original else '?'} (not a retransmission)",
                    frame=flow.frame,
                    sa=sa,
                )

        # Decrypt (a retransmission shares its original's outcome: same bytes, same result).
        inner: tuple[object, ...] = ()
        decrypted = False
        integrity = None
        problem = None
        if retrans == "retransmit" and original is not None:
            inner, decrypted = original.inner, original.decrypted
            integrity, problem = original.integrity, original.problem
        elif sk is not None:
            opened = self._dec.open((h.spi_i, h.spi_r), raw, sk, from_initiator=h.initiator)
            if opened.payloads is not None:
                inner = tuple(opened.payloads)
                decrypted = True
            integrity = opened.integrity
            problem = opened.problem
            if decrypted:
                self._counts["ike_decrypted"] += 1
            if integrity == "failed":
                self._counts["ike_integrity_failed"] += 1
                self._problem(
                    "error",
                    # The decryptor's text already names the SA, the message and the key tried.
                    f"frame {flow.frame}: {problem}"
                    if problem
                    else f"IKE SA {sa.label} frame {flow.frame}: "
                    "integrity check failed (wrong keys?)",
                    frame=flow.frame,
                    sa=sa,
                )
            elif problem and not opened.pending and sa.problem is None:
                sa.problem = problem
        m = Message(
            frame=flow.frame,
            ts=flow.ts,
            flow=flow,
            spi_i=h.spi_i,
            spi_r=h.spi_r,
            exchange_type=h.exchange_type,
            message_id=h.message_id,
            response=h.response,
            from_initiator=h.initiator,
            length=len(raw),
            payloads=tuple(msg.payloads),
            inner=inner,
            decrypted=decrypted,
            integrity=integrity,
            fragment=(sk.fragment_number, sk.total_fragments)
            if isinstance(sk, SkfPayload)
            else None,
            retransmission=retrans,
            original_frame=original.frame if original else None,
            problem=problem,
            decode_error=str(msg.error) if msg.error else None,
            raw=raw,
        )
        self._attach(sa, ex, m, msg, frag_no, retrans)

    def _original(self, ex: _Ex, frag_no: int, *, response: bool) -> Message | None:
        first = (ex.resp if response else ex.req).message
        for m in (first, *ex.others):
            if m is None or m.response != response or m.retransmission is not None:
                continue
            if (m.fragment[0] if m.fragment else 0) == frag_no:
                return m
        return first

    def _new_exchange(
        self, sa: _Sa, key: tuple[int, Side], etype: int, mid: int, requester: Side
    ) -> _Ex:
        prior = sa.by_key.get(key)
        # A repeat of the same exchange type is another attempt; another type reusing the ID
        # (a peer bug, or a test harness) starts its own count.
        attempt = prior.attempt + 1 if prior and prior.exchange_type == etype else 1
        ex = _Ex(etype, mid, requester, attempt)
        sa.by_key[key] = ex
        sa.exchanges.append(ex)
        return ex

    def _attach(
        self,
        sa: _Sa,
        ex: _Ex,
        m: Message,
        msg: object,
        frag_no: int,
        retrans: RetransmitKind | None,
    ) -> None:
        sk = msg.sk  # type: ignore[attr-defined]
        if retrans == "retransmit" or (retrans == "other-bytes" and m.response):
            ex.others.append(m)
            return
        clear = [p for p in m.payloads if p is not sk]
        half = ex.resp if m.response else ex.req
        if half.message is None:
            half.message = m
        else:
            ex.others.append(m)
        half.raw[frag_no] = msg.raw  # type: ignore[attr-defined]
        if frag_no <= 1:
            half.payloads.extend(clear)
        half.payloads.extend(m.inner)
        half.decrypted = half.decrypted or m.decrypted
        if half.done or not self._complete(m, half.raw, sk):
            return
        half.done = True
        on_request, on_response = self._handlers.get(ex.exchange_type, (self._noop, self._noop))
        if m.response:
            self._check_response(sa, ex, m)
            on_response(sa, ex, m)
        else:
            on_request(sa, ex, m)

    @staticmethod
    def _complete(m: Message, raws: dict[int, bytes], sk: object) -> bool:
        """All of the message is here: unfragmented, decrypted, or every fragment seen."""
        if not isinstance(sk, SkfPayload) or m.decrypted:
            return True
        return len(raws) >= sk.total_fragments

    def _check_response(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        """Rule 4: retries and error notifies, for every exchange type."""
        payloads = ex.resp.payloads
        for n in _notifies(payloads):
            if n.notify_type in RETRY_NOTIFIES and ex.exchange_type in (
                IKE_SA_INIT,
                CREATE_CHILD_SA,
            ):
                ex.retry = n.notify_type
                return
        err = _error_notify(payloads)
        if err is not None:
            ex.error = err
            self._problem(
                "error",
                f"IKE SA {sa.label}: {_ename(ex.exchange_type)} mid "
                f"{ex.message_id} failed with {_nname(err)} (frame {m.frame})",
                frame=m.frame,
                sa=sa,
                # The diagnosis rules judge this failure with its fix and replace this line.
                code=notify_code(err),
            )

    def _noop(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        return None

    # ------------------------------------------------------------ IKE_SA_INIT

    def _init_request(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        sa_p = _first(ex.req.payloads, SaPayload)
        if isinstance(sa_p, SaPayload):
            sa.offered = sa_p.proposals
        if sa.initiator is None:
            sa.initiator, sa.responder = m.flow.src, m.flow.dst

    def _init_response(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        if ex.retry is not None:
            what = _nname(ex.retry)
            if ex.retry == N_INVALID_KE_PAYLOAD:
                n = next(
                    (x for x in _notifies(ex.resp.payloads) if x.notify_type == ex.retry), None
                )
                group = getattr(n.decoded, "group", None) if n else None
                if group is not None:
                    what += f"(group {iana.DH_GROUPS.name(group)})"
            sa.retries.append(what)
            return
        if ex.error is not None:
            sa.state = "failed"
            sa.failure = f"{_nname(ex.error)} in IKE_SA_INIT response (frame {m.frame})"
            return
        sa_p = _first(ex.resp.payloads, SaPayload)
        if isinstance(sa_p, SaPayload) and sa_p.proposals:
            sa.chosen = sa_p.proposals[0]
        ke_r = _first(ex.resp.payloads, KePayload)
        ni = _first(ex.req.payloads, NoncePayload)
        nr = _first(ex.resp.payloads, NoncePayload)
        if isinstance(ke_r, KePayload):
            sa.dh_group = ke_r.group
        if sa.state == "half-open":
            sa.state = "authenticating"
        req = ex.request
        if req is not None:
            sa.nat_checks.append(
                ("initiator", nat.check(req.spi_i, req.spi_r, req.payloads, req.flow))
            )
        sa.nat_checks.append(("responder", nat.check(m.spi_i, m.spi_r, m.payloads, m.flow)))
        if (
            sa.chosen is None
            or not isinstance(ni, NoncePayload)
            or not isinstance(nr, NoncePayload)
        ):
            self._problem(
                "warning",
                f"IKE SA {sa.label}: IKE_SA_INIT lacks SA, nonce or its "
                "request; keys cannot be derived",
                frame=m.frame,
                sa=sa,
            )
            return
        req_raw = ex.req.raw.get(0)
        setup = IkeSaSetup(
            spis=sa.spis,
            ni=ni.data,
            nr=nr.data,
            algorithms=_algorithms(sa.chosen),
            ke=_key_exchange(ex),
            initiator=sa.initiator or "",
            responder=sa.responder or "",
            init_request=req_raw,
            init_response=ex.resp.raw.get(0),
        )
        self._register_ike(sa, setup)

    def _register_ike(self, sa: _Sa, setup: IkeSaSetup) -> None:
        problem = self._dec.ike_sa(setup)
        if problem:
            sa.problem = problem
            self._problem("warning", problem, sa=sa, once=f"ike-setup:{sa.spis}")

    # ------------------------------------------------------------ IKE_AUTH

    def _auth_payloads(self, sa: _Sa, payloads: list[object], side: Side, frame: int) -> None:
        """Identity and AUTH of one side; the AUTH waits in ``pending_auth`` for its check."""
        id_p = _first(payloads, IdPayload)
        if isinstance(id_p, IdPayload):
            sa.ids[side] = id_p
        else:
            # EAP (RFC 7296 2.16): the last AUTH comes rounds after the ID it covers.
            id_p = sa.ids.get(side)
        auth_p = _first(payloads, AuthPayload)
        if not isinstance(auth_p, AuthPayload):
            if isinstance(id_p, IdPayload) and side not in sa.auth:
                sa.auth[side] = AuthSide(
                    side, id_p.text, id_p.id_type, None, None, None, "no AUTH payload", frame
                )
            return
        certs = tuple(p for p in payloads if isinstance(p, CertPayload))
        sa.pending_auth[side] = (auth_p, id_p, certs, frame)

    def _verify_pending(self, sa: _Sa) -> None:
        """Check the AUTH payloads seen, once both are in (or the exchange ended without one).

        Both go to the decryptor before any verdict is final: PSKs may be scoped to either
        side's identity, and a PSK matching only one side explains the other's failure. So a
        first verdict that is not True is asked again after the other side was checked.
        """
        order = [s for s in ("initiator", "responder") if s in sa.pending_auth]
        verdicts: dict[str, AuthVerdict] = {}
        for side in order:
            auth_p, id_p, certs, _frame = sa.pending_auth[side]
            verdicts[side] = self._dec.verify_auth(sa.spis, side, auth_p, id_p, certs)  # type: ignore[arg-type]
        if len(order) == 2 and verdicts[order[0]].verified is not True:
            auth_p, id_p, certs, _frame = sa.pending_auth[order[0]]
            verdicts[order[0]] = self._dec.verify_auth(
                sa.spis,
                order[0],  # type: ignore[arg-type]
                auth_p,
                id_p,
                certs,
            )
        for side in order:
            auth_p, id_p, _certs, frame = sa.pending_auth.pop(side)
            verdict = verdicts[side]
            sa.auth[side] = AuthSide(
                side=side,  # type: ignore[arg-type]
                identity=id_p.text if isinstance(id_p, IdPayload) else None,
                id_type=id_p.id_type if isinstance(id_p, IdPayload) else None,
                method=auth_p.method,
                verified=verdict.verified,
                psk=verdict.psk,
                detail=verdict.detail,
                frame=frame,
            )
            if verdict.verified is False:
                self._problem(
                    "error",
                    f"IKE SA {sa.label}: {side}'s AUTH did not verify "
                    f"(frame {frame}): {verdict.detail}",
                    frame=frame,
                    sa=sa,
                )

    def _auth_request(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        if ex.req.decrypted:
            self._auth_payloads(sa, ex.req.payloads, ex.requester, m.frame)
            if _first(ex.req.payloads, SaPayload) is not None:
                # With EAP the child SA is offered in the first IKE_AUTH request and accepted in
                # the last response (RFC 7296 2.16): remember the offer.
                sa.child_offer = list(ex.req.payloads)

    def _auth_response(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        if not ex.resp.decrypted:
            self._verify_pending(sa)
            return
        other: Side = "responder" if ex.requester == "initiator" else "initiator"
        self._auth_payloads(sa, ex.resp.payloads, other, m.frame)
        self._verify_pending(sa)
        has_auth = _first(ex.resp.payloads, AuthPayload) is not None
        # RFC 7296 2.16: with EAP the responder's AUTH comes in the first response, next to an
        # EAP request; the SA stands only after the last round (AUTH without EAP).
        more_rounds = _first(ex.resp.payloads, EapPayload) is not None
        if more_rounds and ex.error is None:
            return
        if has_auth and not _notifies_any(ex.resp.payloads, {ERROR_AUTH_FAILED}):
            if sa.state in ("half-open", "authenticating"):
                sa.state = "established"
                sa.state_inferred = False
                sa.established_ts = m.ts
            if _first(ex.resp.payloads, SaPayload) is not None:
                self._make_child(sa, ex, m)
            elif ex.error is not None:
                self._problem(
                    "warning",
                    f"IKE SA {sa.label}: established without its first "
                    f"child SA ({_nname(ex.error)})",
                    frame=m.frame,
                    sa=sa,
                    code=notify_code(ex.error),
                )
        elif ex.error is not None:
            sa.state = "failed"
            sa.state_inferred = False
            sa.failure = f"{_nname(ex.error)} in IKE_AUTH response (frame {m.frame})"

    # ------------------------------------------------------------ CREATE_CHILD_SA

    def _create_child_response(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        if ex.retry is not None or ex.error is not None:
            if ex.error is not None:
                ex.purpose = self._child_purpose(ex)
            return
        if not (ex.req.decrypted and ex.resp.decrypted):
            return
        req_sa = _first(ex.req.payloads, SaPayload)
        resp_sa = _first(ex.resp.payloads, SaPayload)
        if not isinstance(req_sa, SaPayload) or not isinstance(resp_sa, SaPayload):
            return
        chosen = resp_sa.proposals[0] if resp_sa.proposals else None
        if chosen is not None and chosen.protocol_id == PROTO_IKE and len(chosen.spi) == 8:
            self._rekey_ike(sa, ex, m, req_sa, chosen)
        else:
            ex.purpose = self._child_purpose(ex)
            self._make_child(sa, ex, m)

    @staticmethod
    def _child_purpose(ex: _Ex) -> str:
        req_sa = _first(ex.req.payloads, SaPayload)
        if isinstance(req_sa, SaPayload) and any(
            p.protocol_id == PROTO_IKE for p in req_sa.proposals
        ):
            return "rekey IKE SA"
        if any(n.notify_type == N_REKEY_SA for n in _notifies(ex.req.payloads)):
            return "rekey child SA"
        return "new child SA"

    def _rekey_ike(self, sa: _Sa, ex: _Ex, m: Message, req_sa: SaPayload, chosen: Proposal) -> None:
        """Rule 5: the successor IKE SA, registered before any of its messages arrive."""
        ex.purpose = "rekey IKE SA"
        offered = next((p for p in req_sa.proposals if p.number == chosen.number), None)
        offered = offered or (req_sa.proposals[0] if req_sa.proposals else None)
        if offered is None or len(offered.spi) != 8:
            return
        req_flow = (ex.request or m).flow
        new = _Sa(
            offered.spi,
            chosen.spi,
            req_flow.src,
            req_flow.dst,
            req_flow.ts,
            m.ts,
            CREATE_CHILD_SA,
            "established",
            established_ts=m.ts,
            offered=req_sa.proposals,
            chosen=chosen,
            rekey_of=sa.spis,
        )
        ke_r = _first(ex.resp.payloads, KePayload)
        ni = _first(ex.req.payloads, NoncePayload)
        nr = _first(ex.resp.payloads, NoncePayload)
        new.dh_group = ke_r.group if isinstance(ke_r, KePayload) else None
        new.udp_encap = sa.udp_encap
        sa.rekeyed_into = new.spis
        if sa.state in ("established", "authenticating"):
            sa.state = "rekeyed"
        self._add_sa(new)
        if isinstance(ni, NoncePayload) and isinstance(nr, NoncePayload):
            setup = IkeSaSetup(
                spis=new.spis,
                ni=ni.data,
                nr=nr.data,
                algorithms=_algorithms(chosen),
                ke=_key_exchange(ex),
                initiator=req_flow.src,
                responder=req_flow.dst,
                init_request=None,
                init_response=None,
                parent=sa.spis,
            )
            self._register_ike(new, setup)

    def _make_child(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        req_payloads = ex.req.payloads
        if ex.exchange_type == IKE_AUTH and _first(req_payloads, SaPayload) is None:
            req_payloads = sa.child_offer
        req_sa = _first(req_payloads, SaPayload)
        resp_sa = _first(ex.resp.payloads, SaPayload)
        if not isinstance(resp_sa, SaPayload) or not resp_sa.proposals:
            return
        chosen = resp_sa.proposals[0]
        offered = req_sa.proposals if isinstance(req_sa, SaPayload) else ()
        mine = next((p for p in offered if p.number == chosen.number), None)
        mine = mine or (offered[0] if offered else None)
        spi_i = _spi_int(mine.spi) if mine else 0
        spi_r = _spi_int(chosen.spi)
        req_flow = (ex.request or m).flow
        transport = any(
            n.notify_type == N_USE_TRANSPORT_MODE for n in _notifies(req_payloads)
        ) and any(n.notify_type == N_USE_TRANSPORT_MODE for n in _notifies(ex.resp.payloads))
        ts_i: tuple = ()
        ts_r: tuple = ()
        for p in ex.resp.payloads:
            if isinstance(p, TsPayload):
                if p.which == "TSi":
                    ts_i = p.selectors
                else:
                    ts_r = p.selectors
        rekey = next((n for n in _notifies(req_payloads) if n.notify_type == N_REKEY_SA), None)
        rekey_of = _spi_int(rekey.spi) if rekey is not None else None
        child = _Child(
            ike=sa.spis,
            protocol_id=chosen.protocol_id,
            spi_i=spi_i,
            spi_r=spi_r,
            initiator=req_flow.src,
            responder=req_flow.dst,
            frame=m.frame,
            ts=m.ts,
            exchange_type=ex.exchange_type,
            proposal=chosen,
            offered=tuple(offered),
            mode="transport" if transport else "tunnel",
            ts_i=ts_i,
            ts_r=ts_r,
            rekey_of=rekey_of,
        )
        sa.children.append(child)
        if rekey_of is not None:
            old = self._child_by_spi.get(rekey_of)
            if old is not None:
                old.rekeyed_by = (spi_i, spi_r)
        self._child_by_spi[spi_i] = child
        self._child_by_spi[spi_r] = child
        ni = nr = None
        ke = None
        if ex.exchange_type == CREATE_CHILD_SA:
            n_i = _first(ex.req.payloads, NoncePayload)
            n_r = _first(ex.resp.payloads, NoncePayload)
            ni = n_i.data if isinstance(n_i, NoncePayload) else None
            nr = n_r.data if isinstance(n_r, NoncePayload) else None
            ke = _key_exchange(ex)
        setup = ChildSaSetup(
            ike=sa.spis,
            spi_at_initiator=spi_i,
            spi_at_responder=spi_r,
            algorithms=_algorithms(chosen),
            ni=ni,
            nr=nr,
            ke=ke,
            initiator=req_flow.src,
            responder=req_flow.dst,
        )
        problem = self._dec.child_sa(setup)
        if problem:
            child.problem = problem
            self._problem("warning", problem, frame=m.frame, sa=sa)

    # ------------------------------------------------------------ INFORMATIONAL

    def _info_request(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        if not ex.req.decrypted:
            return
        inner = [p for p in ex.req.payloads if not isinstance(p, SkfPayload)]
        deletes = [p for p in inner if isinstance(p, DeletePayload)]
        if not inner:
            # RFC 7296 section 1.4: an empty INFORMATIONAL request checks the peer is alive.
            ex.purpose = "liveness check"
        for d in deletes:
            if d.protocol_id == PROTO_IKE:
                ex.purpose = "delete IKE SA"
                sa.deleted_ts = m.ts
                if sa.state in ("established", "authenticating", "half-open"):
                    sa.state = "deleted"
                    sa.state_inferred = False
            else:
                ex.purpose = ex.purpose or "delete child SA"
                self._delete_children(d, m.ts)
        if not deletes and ex.purpose is None:
            ex.purpose = "informational"

    def _info_response(self, sa: _Sa, ex: _Ex, m: Message) -> None:
        if not ex.resp.decrypted:
            return
        for d in ex.resp.payloads:
            if isinstance(d, DeletePayload) and d.protocol_id != PROTO_IKE:
                self._delete_children(d, m.ts)

    def _delete_children(self, d: DeletePayload, ts: float) -> None:
        for spi in d.spis:
            child = self._child_by_spi.get(_spi_int(spi))
            if child is not None and child.deleted_ts is None:
                child.deleted_ts = ts

    # ------------------------------------------------------------ output

    def snapshot(self, *, frames: int = 0, complete: bool = True) -> Analysis:
        """Freeze what is known so far into an ``Analysis``."""
        if complete:
            # The capture ended with an AUTH whose exchange never completed: check it now.
            for sa in self._sas:
                if sa.pending_auth:
                    self._verify_pending(sa)
        problems = list(self._problems)
        child_spis: set[int] = set()
        for sa in self._sas:
            for c in sa.children:
                child_spis.update((c.spi_i, c.spi_r))
        esp_by_spi: dict[int, list[EspSpiStats]] = {}
        unassociated: list[EspSpiStats] = []
        for c in self._esp.values():
            stats = c.freeze()
            if c.spi in child_spis:
                esp_by_spi.setdefault(c.spi, []).append(stats)
            else:
                unassociated.append(stats)
        ike_sas = tuple(self._freeze_sa(sa, esp_by_spi, problems, complete) for sa in self._sas)
        for s in unassociated:
            if s.packets and complete:
                problems.append(
                    Problem(
                        "info",
                        f"ESP SPI 0x{s.spi:08x} ({s.src} > {s.dst}, {s.packets} packets) is not "
                        "tied to any child SA seen (IKE_AUTH/CREATE_CHILD_SA not decrypted or "
                        "not in the capture)",
                    )
                )
        k = self._counts
        counters = Counters(
            frames=frames,
            ike_messages=k["ike"],
            ike_decrypted=k["ike_decrypted"],
            ike_integrity_failed=k["ike_integrity_failed"],
            esp_packets=k["esp"],
            esp_decrypted=k["esp_decrypted"],
            esp_integrity_failed=k["esp_integrity_failed"],
            keepalives=k["keepalives"],
            frame_errors=k["frame_errors"],
            ikev1_messages=k["ikev1"],
        )
        return Analysis(
            capture=self.capture,
            counters=counters,
            ike_sas=ike_sas,
            unassociated_esp=tuple(unassociated),
            problems=tuple(problems),
            complete=complete,
            derived_keys=self._derived_keys() if complete else (),
        )

    def _derived_keys(self) -> tuple[object, ...]:
        """Derived keys, when the decryptor offers them (KeyringDecryptor.derived_keys)."""
        method = getattr(self._dec, "derived_keys", None)
        return tuple(method()) if callable(method) else ()

    def _freeze_sa(
        self,
        sa: _Sa,
        esp_by_spi: dict[int, list[EspSpiStats]],
        problems: list[Problem],
        complete: bool,
    ) -> IkeSa:
        exchanges = tuple(self._freeze_ex(sa, ex, problems, complete) for ex in sa.exchanges)
        state = sa.state
        inferred = sa.state_inferred
        established_ts = sa.established_ts
        if state == "authenticating":
            # Without keys: an answered IKE_AUTH without a clear error most likely established it.
            answered = [
                e for e in exchanges if e.exchange_type == IKE_AUTH and e.response is not None
            ]
            if answered and all(not e.response.decrypted for e in answered):  # type: ignore[union-attr]
                state, inferred = "established", True
                established_ts = answered[-1].response.ts  # type: ignore[union-attr]
        children = tuple(
            ChildSa(
                ike_sa=c.ike,
                protocol_id=c.protocol_id,
                spi_initiator=c.spi_i,
                spi_responder=c.spi_r,
                initiator=c.initiator,
                responder=c.responder,
                created_frame=c.frame,
                created_ts=c.ts,
                exchange_type=c.exchange_type,
                proposal=c.proposal,
                offered=c.offered,
                mode=c.mode,
                ts_i=c.ts_i,
                ts_r=c.ts_r,
                rekey_of=c.rekey_of,
                rekeyed_by=c.rekeyed_by,
                deleted_ts=c.deleted_ts,
                esp=tuple(s for spi in (c.spi_r, c.spi_i) for s in esp_by_spi.get(spi, ())),
                problem=c.problem,
            )
            for c in sa.children
        )
        auth = tuple(sa.auth[s] for s in ("initiator", "responder") if s in sa.auth)
        return IkeSa(
            spi_i=sa.spi_i,
            spi_r=sa.spi_r,
            initiator=sa.initiator,
            responder=sa.responder,
            exchanges=exchanges,
            state=state,
            state_inferred=inferred,
            failure=sa.failure,
            created_by=sa.created_by,
            first_ts=sa.first_ts,
            last_ts=sa.last_ts,
            established_ts=established_ts,
            deleted_ts=sa.deleted_ts,
            retries=tuple(sa.retries),
            offered=sa.offered,
            chosen=sa.chosen,
            dh_group=sa.dh_group,
            auth=auth,
            nat=self._nat_info(sa),
            child_sas=children,
            rekey_of=sa.rekey_of,
            rekeyed_into=sa.rekeyed_into,
            problem=sa.problem,
        )

    def _freeze_ex(self, sa: _Sa, ex: _Ex, problems: list[Problem], complete: bool) -> Exchange:
        status: ExchangeStatus
        if ex.request is None:
            status = "no-request"
        elif ex.response is None:
            status = "unanswered"
            if complete:
                problems.append(
                    Problem(
                        "warning",
                        f"IKE SA {sa.label}: {_ename(ex.exchange_type)} "
                        f"request mid {ex.message_id} from the {ex.requester} (frame "
                        f"{ex.request.frame}) was never answered in the capture",
                        ex.request.frame,
                        sa.spis,
                    )
                )
        elif ex.retry is not None:
            status = "retry"
        elif ex.error is not None:
            status = "failed"
        else:
            status = "ok"
        purpose = ex.purpose
        if purpose is None and ex.exchange_type == INFORMATIONAL and ex.req.decrypted:
            purpose = "informational"
        return Exchange(
            exchange_type=ex.exchange_type,
            message_id=ex.message_id,
            requester=ex.requester,
            attempt=ex.attempt,
            request=ex.request,
            response=ex.response,
            copies=tuple(ex.others),
            status=status,
            error=ex.error,
            retry=ex.retry,
            purpose=purpose,
        )

    @staticmethod
    def _nat_info(sa: _Sa) -> NatInfo | None:
        if not sa.nat_checks:
            return None
        ini: bool | None = None
        resp: bool | None = None
        parts: list[str] = []
        for sender, check in sa.nat_checks:
            receiver = "responder" if sender == "initiator" else "initiator"
            if check.source_matches is not None:
                behind = not check.source_matches
                if sender == "initiator":
                    ini = behind or bool(ini)
                else:
                    resp = behind or bool(resp)
                parts.append(
                    f"{sender}'s NAT_DETECTION_SOURCE_IP "
                    f"{'matches' if check.source_matches else 'does not match'} its address"
                )
            if check.destination_matches is not None:
                behind = not check.destination_matches
                if receiver == "initiator":
                    ini = behind or bool(ini)
                else:
                    resp = behind or bool(resp)
                parts.append(
                    f"{sender}'s NAT_DETECTION_DESTINATION_IP "
                    f"{'matches' if check.destination_matches else 'does not match'} the "
                    f"{receiver}'s address"
                )
        if not parts:
            return None
        return NatInfo(ini, resp, sa.udp_encap, "; ".join(parts))


ERROR_AUTH_FAILED = 24


def _notifies_any(payloads: list[object], types: set[int]) -> bool:
    return any(n.notify_type in types for n in _notifies(payloads))


__all__ = ["Correlator", "NullDecryptor"]
