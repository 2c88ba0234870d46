"""Rules about child SAs and their ESP, algorithm strength, NAT, deletes and rekey collisions.

A child SA's two SPIs carry its two directions (RFC 4301 4.1): traffic towards the exchange
initiator uses ``spi_initiator``, towards the responder ``spi_responder``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ikeview import iana
from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis.codes import finding, notify_code
from ikeview.diagnosis.fixes import error_fix
from ikeview.diagnosis.keywords import offer_words
from ikeview.diagnosis.pfs import pfs_refusal
from ikeview.diagnosis.records import ExtraValue, Finding
from ikeview.diagnosis.weak import REPLACEMENT, weak_transforms
from ikeview.dissectors.ike_records import Proposal, TsPayload
from ikeview.pipeline.model import (
    ChildSa,
    EspSpiStats,
    Exchange,
    IkeSa,
    proposal_text,
)

X = iana.ExchangeType
T = iana.TransformType
N_NO_PROPOSAL = iana.NotifyType.NO_PROPOSAL_CHOSEN

MIN_ONE_WAY = 3
"""Packets one direction must carry, with none in the other, before ESP counts as one-way (a
lone packet before a capture stops says little)."""


def rule_weak(proposal: Proposal | None, frames: list[int], *, esp: bool) -> Iterator[Finding]:
    """Chosen transforms that RFC 8247 (IKE) or RFC 8221 (ESP) tells peers to stop using."""
    if proposal is None:
        return
    what = "ESP" if esp else "IKE"
    rfc = "RFC 8221" if esp else "RFC 8247"
    for ttype, name, level in weak_transforms(proposal, esp=esp):
        yield finding(
            "weak-algorithm",
            frames=frames,
            basis="decrypted",
            explanation=(f"the chosen {what} proposal uses {name}, which {rfc} rates {level}"),
            fix=f"prefer {REPLACEMENT.get(ttype, 'a current algorithm')} on both peers",
            fix_cisco=(
                "replace it in the `crypto ikev2 proposal`"
                if not esp
                else "replace it in the `crypto ipsec transform-set` (or `set pfs group`)"
            ),
            fix_strongswan=f"drop it from `{'esp_proposals' if esp else 'proposals'}`",
            transform=name,
            requirement=level,
            protocol=what,
        )


def _direction_stats(child: ChildSa) -> tuple[list[EspSpiStats], list[EspSpiStats]]:
    to_init = [s for s in child.esp if s.spi == child.spi_initiator]
    to_resp = [s for s in child.esp if s.spi == child.spi_responder]
    return to_init, to_resp


def _frames_of(stats: list[EspSpiStats]) -> list[int]:
    return [f for s in stats for f in (s.first_frame, s.last_frame) if f]


def rule_esp(child: ChildSa) -> Iterator[Finding]:
    """ESP of one child SA: one direction silent (RFC 4301 4.1: an SA pair carries both ways),
    sequence gaps and repeats (RFC 4303 3.4.3), ICV failures (RFC 4303 3.4.4)."""
    if child.error is not None:
        return
    to_init, to_resp = _direction_stats(child)
    n_init = sum(s.packets for s in to_init)
    n_resp = sum(s.packets for s in to_resp)
    if (n_init == 0) != (n_resp == 0) and max(n_init, n_resp) >= MIN_ONE_WAY:
        flowing, silent = (
            (f"{child.initiator} -> {child.responder}", child.spi_initiator)
            if n_resp
            else (f"{child.responder} -> {child.initiator}", child.spi_responder)
        )
        asking = _expects_answer(to_init + to_resp)
        yield finding(
            "esp-one-way",
            frames=[child.created_frame, *_frames_of(to_init + to_resp)],
            basis="decrypted" if asking else "inferred",
            # One-way ESP can be one-way traffic (syslog, a stream); decrypted requests that
            # expect an answer (echo requests, TCP) with none make it a failure.
            severity="error" if asking else "warning",
            explanation=(
                f"ESP flowed only {flowing} ({max(n_init, n_resp)} packets"
                + (f", among them {asking}" if asking else "")
                + f"); SPI 0x{silent:08x} carried nothing back"
            ),
            fix=(
                "find where the return traffic stops: a firewall or NAT dropping ESP or UDP 4500 "
                "one way, a missing route for the remote subnet, or the far peer not sending "
                "(its policy or SA not installed)"
            ),
            fix_cisco=(
                "`show crypto ipsec sa` on the far router: #pkts encaps stays 0 if it never sends"
            ),
            fix_strongswan=(
                "`swanctl --list-sas` on the far peer: bytes_out stays 0 if it never sends"
            ),
            direction=flowing,
            silent_spi=f"{silent:08x}",
        )
    for s in child.esp:
        yield from _esp_counters(child, s)


def _expects_answer(stats: list[EspSpiStats]) -> str | None:
    """What in the decrypted inner flows asks for an answer: ICMP/ICMPv6 echo requests or TCP
    (RFC 792, RFC 4443, RFC 9293); None when nothing decrypted does."""
    for s in stats:
        for f in s.inner_flows:
            if (f.protocol, f.icmp_type) in ((1, 8), (58, 128)):
                return f"{f.packets} echo request(s)"
            if f.protocol == 6:
                return f"{f.packets} TCP packet(s)"
    return None


def rule_esp_keyless(sa: IkeSa, analysis: ev.Facts) -> Iterator[Finding]:
    """Without keys no child SA is known, but ESP between the peers first seen after IKE_AUTH
    that flows one way only still shows a silent direction (RFC 4301 4.1), and sequence
    numbers are in the clear (RFC 4303 2.2), so gaps and repeats show too."""
    if sa.child_sas or sa.established_ts is None:
        return
    esp = [s for s in ev.esp_after(analysis, sa, sa.established_ts) if s.packets]
    for s in esp:
        yield from _esp_counters(None, s)
    directions = {(s.src, s.dst) for s in esp}
    total = sum(s.packets for s in esp)
    if len(directions) != 1 or total < MIN_ONE_WAY:
        return
    ((src, dst),) = directions
    yield finding(
        "esp-one-way",
        frames=[f for s in esp for f in (s.first_frame, s.last_frame) if f],
        basis="inferred",
        severity="warning",  # without keys nothing tells one-way traffic from a broken path
        explanation=(
            f"after IKE_AUTH, ESP flowed only {src} -> {dst} ({total} packets on SPI "
            f"{', '.join(f'0x{s.spi:08x}' for s in esp)}); nothing came back"
        ),
        fix=(
            "find where the return traffic stops: a firewall or NAT dropping ESP or UDP 4500 "
            "one way, a missing route for the remote subnet, or the far peer not sending"
        ),
        direction=f"{src} -> {dst}",
    )


def _esp_counters(child: ChildSa | None, s: EspSpiStats) -> Iterator[Finding]:
    where = f"SPI 0x{s.spi:08x} ({s.src} -> {s.dst})"
    if s.integrity_failed:
        # Every packet failing blames the keys (a warning about them, not about the tunnel);
        # some failing among packets that pass with the same keys means altered packets.
        every = s.decrypted == 0 and s.integrity_failed == s.packets
        why = (
            ": all of them, so the keys given are not this SA's" if every else
            " while others passed with the same keys: something altered them"
        )  # fmt: skip
        yield finding(
            "esp-integrity-failure",
            frames=[f for f in (s.integrity_failed_frame,) if f],
            basis="decrypted",
            severity="warning" if every else "error",
            keys_wrong=every,
            explanation=(
                f"{s.integrity_failed} of {s.packets} packets on {where} failed their ICV{why}"
            ),
            fix=(
                "if every packet fails, the keys given do not belong to this SA; if some do, "
                "packets are being altered on the path"
            ),
            count=s.integrity_failed,
            spi=f"{s.spi:08x}",
        )
    if s.missing:
        yield finding(
            "esp-loss",
            frames=[f for f in (s.gap_frame,) if f],
            basis="inferred",
            explanation=(
                f"{s.missing} sequence numbers never arrived on {where} "
                f"(seq {s.first_seq}..{s.max_seq}, {s.packets} packets)"
            ),
            fix="look for loss on the path (or a capture that dropped packets)",
            count=s.missing,
            spi=f"{s.spi:08x}",
        )
    if s.replays:
        yield finding(
            "esp-replay",
            frames=[f for f in (s.replay_frame,) if f],
            basis="inferred",
            explanation=f"{s.replays} packets on {where} repeated a sequence number already seen",
            fix=(
                "duplicated packets on the path, or a sender reusing sequence numbers (an SA "
                "restored after a failover); the receiver drops them"
            ),
            count=s.replays,
            spi=f"{s.spi:08x}",
        )


def refused_child(sa: IkeSa, ex: Exchange, error: int) -> ChildSa:
    """A child SA the responder refused, kept in the model with what was offered (RFC 7296
    1.2: an IKE_AUTH whose child part fails still sets up the IKE SA)."""
    req = ex.request
    sa_p = ev.sa_payload(req)
    offered = sa_p.proposals if sa_p is not None else ()
    ts_i = tuple(
        t
        for p in ev.payloads(req)
        if isinstance(p, TsPayload) and p.which == "TSi"
        for t in p.selectors
    )
    ts_r = tuple(
        t
        for p in ev.payloads(req)
        if isinstance(p, TsPayload) and p.which == "TSr"
        for t in p.selectors
    )
    spi_i = int.from_bytes(offered[0].spi, "big") if offered and offered[0].spi else 0
    init_side = ex.requester == "initiator"
    resp = ex.response
    return ChildSa(
        ike_sa=sa.spis,
        protocol_id=offered[0].protocol_id if offered else iana.ProtocolId.ESP,
        spi_initiator=spi_i,
        spi_responder=0,
        initiator=(sa.initiator if init_side else sa.responder) or "?",
        responder=(sa.responder if init_side else sa.initiator) or "?",
        created_frame=resp.frame if resp else 0,
        created_ts=resp.ts if resp else 0.0,
        exchange_type=ex.exchange_type,
        proposal=None,
        offered=offered,
        mode="tunnel",
        ts_i=ts_i,
        ts_r=ts_r,
        rekey_of=None,
        rekeyed_by=None,
        deleted_ts=None,
        esp=(),
        problem=None,
        error=error,
    )


def refused_findings(child: ChildSa, ex: Exchange, sa: IkeSa | None = None) -> list[Finding]:
    """Why a refused child SA was refused, with what had been offered (and, given its IKE SA,
    whether only the PFS group can have been refused)."""
    frames = [m.frame for m in (ex.request, ex.response) if m is not None]
    offered = tuple(proposal_text(p) for p in child.offered)
    if not child.error:
        return [
            finding(
                "no-child-sa",
                frames=frames,
                basis="inferred",
                explanation=(
                    f"the {ex.name} response (frame {frames[-1]}) is too small to carry "
                    f"{'SA and Nonce' if ex.exchange_type == 36 else 'SA and TS'} payloads, so "
                    "the child SA was refused; keys would show its error notify "
                    "(NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, TEMPORARY_FAILURE, ...)"
                ),
                fix=(
                    "compare both peers' ESP proposals and traffic selectors (keys, or the "
                    "responder's log, name the error)"
                ),
            )
        ]
    name = iana.NOTIFY_TYPES.name(child.error)
    fix, cisco, swan = error_fix(child.error, ike=False)
    if child.error == iana.NotifyType.NO_PROPOSAL_CHOSEN and child.offered:
        cisco, swan = offer_words(child.offered, cisco, swan)
    text = f"the responder refused the child SA with {name} (frame {frames[-1]})"
    if child.error == iana.NotifyType.NO_PROPOSAL_CHOSEN:
        text += f"; offered: {'; '.join(offered) or 'nothing readable'}"
    pfs = pfs_refusal(sa, child) if sa is not None and child.error == N_NO_PROPOSAL else None
    extra: dict[str, ExtraValue] = {}
    if pfs is not None:
        groups = " or ".join(pfs.groups)
        text += (
            f"; the same cipher and integrity were accepted without a DH group (frame "
            f"{pfs.accepted_frame}), so the responder refused the PFS group {groups}: it wants "
            "another group, or no PFS (IKE_AUTH carries no KE, so this shows at the first "
            "CREATE_CHILD_SA with one, typically the rekey)"
        )
        fix = f"configure the same PFS group on both peers for this child SA (offered: {groups})"
        cisco = "`set pfs group` of the IPsec profile or crypto map, the same on both peers"
        swan = "the DH group in the child's `esp_proposals`, the same on both peers"
        extra["cause"] = "pfs-group"
    found = [
        finding(
            notify_code(child.error),
            frames=frames,
            basis="decrypted",
            explanation=text,
            fix=fix,
            fix_cisco=cisco,
            fix_strongswan=swan,
            rejected_by="responder" if ex.requester == "initiator" else "initiator",
            notify=name,
            offered=offered,
        )
    ]
    # The cause goes last among the extras, only when known (absent, not null, otherwise).
    return [replace(f, extra=f.extra + tuple(extra.items())) for f in found]


def rule_nat(sa: IkeSa) -> Iterator[Finding]:
    """NAT_DETECTION hashes that do not match the addresses seen (RFC 7296 2.23)."""
    nat = sa.nat
    if nat is None or not (nat.initiator_behind_nat or nat.responder_behind_nat):
        return
    who = [
        side
        for side, behind in (
            ("initiator", nat.initiator_behind_nat),
            ("responder", nat.responder_behind_nat),
        )
        if behind
    ]
    inits = [e for e in sa.exchanges if e.exchange_type == X.IKE_SA_INIT and e.response]
    frames = [m.frame for e in inits[-1:] for m in (e.request, e.response) if m is not None]
    yield finding(
        "nat-detected",
        frames=frames,
        basis="decrypted",
        explanation=(
            f"NAT detected in front of the {' and '.join(who)} ({nat.detail}); IKE moves to UDP "
            "4500 and ESP is UDP-encapsulated (a peer may also fake the hash to force this)"
        ),
        fix=None,
        behind_nat=tuple(who),
    )


def rule_deleted(sa: IkeSa) -> Iterator[Finding]:
    """INFORMATIONAL exchanges whose decrypted Delete payloads removed SAs (RFC 7296 1.4.1)."""
    for ex in sa.exchanges:
        if ex.purpose not in ("delete IKE SA", "delete child SA") or ex.request is None:
            continue
        spis = [s.hex() for d in ev.deletes(ex.request) for s in d.spis]
        what = "the IKE SA" if ex.purpose == "delete IKE SA" else f"child SA(s) {', '.join(spis)}"
        yield finding(
            "deleted",
            frames=[m.frame for m in (ex.request, ex.response) if m is not None],
            basis="decrypted",
            explanation=f"the {ex.requester} deleted {what} (frame {ex.request.frame})",
            fix=None,
            deleted_by=ex.requester,
        )


def rule_collision(sa: IkeSa) -> Iterator[Finding]:
    """Both peers started a CREATE_CHILD_SA before either answered the other's (RFC 7296
    2.8.1: simultaneous rekeying; the exchange with the lowest nonce loses)."""
    ccs = [e for e in sa.exchanges if e.exchange_type == X.CREATE_CHILD_SA and e.request]
    for i, a in enumerate(ccs):
        for b in ccs[i + 1 :]:
            if a.requester == b.requester or a.request is None or b.request is None:
                continue
            a_end = a.response_ts if a.response_ts is not None else float("inf")
            b_end = b.response_ts if b.response_ts is not None else float("inf")
            if b.request.ts < a_end and a.request.ts < b_end and a.purpose == b.purpose:
                what = a.purpose or "CREATE_CHILD_SA (purpose encrypted)"
                yield finding(
                    "rekey-collision",
                    frames=[a.request.frame, b.request.frame],
                    basis="decrypted" if a.purpose else "inferred",
                    explanation=(
                        f"both peers started {what} at once (frames {a.request.frame} and "
                        f"{b.request.frame}); the exchange with the lower nonce loses and its "
                        "SA is deleted"
                    ),
                    fix="none needed; randomised rekey times make it rarer",
                    fix_strongswan="keep `rand_time` non-zero",
                )


__all__ = [
    "refused_child",
    "refused_findings",
    "rule_collision",
    "rule_deleted",
    "rule_esp",
    "rule_esp_keyless",
    "rule_nat",
    "rule_weak",
]
