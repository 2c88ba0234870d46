"""Rules about one IKE SA's own exchanges: setup, authentication, retransmissions, liveness.

Each rule takes the IKE SA and the whole analysis and yields findings; its docstring names the
evidence and the RFC section. A rule never guesses past its evidence: without keys it says what
the sizes, timing and what followed show, and sets ``basis="inferred"``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from ikeview import iana
from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis.codes import CHILD_ERRORS, finding, notify_code
from ikeview.diagnosis.fixes import error_fix
from ikeview.diagnosis.keywords import cisco as cisco_words
from ikeview.diagnosis.keywords import first_group, offer_words, strongswan
from ikeview.diagnosis.records import Finding
from ikeview.pipeline.model import Exchange, IkeSa, Message, proposal_text

X = iana.ExchangeType
N = iana.NotifyType

QUIET_AFTER = 5.0
"""Seconds of capture after a lone unanswered request before it counts as never answered (a
capture that stops right after a request says nothing about the answer)."""
IPV4_PATH_MTU = 1500
"""The usual Ethernet MTU; an IKE datagram above it leaves as IP fragments."""
IPV6_MIN_MTU = 1280
"""RFC 8200 5: the least MTU an IPv6 path guarantees."""


def _frames(*msgs: Message | None) -> list[int]:
    return [m.frame for m in msgs if m is not None]


def _exchanges(sa: IkeSa, etype: int) -> list[Exchange]:
    return [e for e in sa.exchanges if e.exchange_type == etype]


def _ended(analysis: ev.Facts, ex: Exchange) -> bool:
    """The request was retransmitted, or the capture went on long enough after it."""
    copies = ev.request_copies(ex)
    if len(copies) > 1:
        return True
    last = copies[-1].ts if copies else 0.0
    return ev.capture_end(analysis) - last >= QUIET_AFTER


def rule_init(sa: IkeSa, analysis: ev.Facts) -> Iterator[Finding]:
    """IKE_SA_INIT (RFC 7296 1.2, 2.4, 2.6, 2.7): never answered, refused with an error notify,
    retried after INVALID_KE_PAYLOAD or COOKIE, or answered with nothing after it (half-open).
    Read from clear payloads, so ``decrypted`` except for silence, which is inferred."""
    inits = _exchanges(sa, X.IKE_SA_INIT)
    if not inits:
        return
    answered = [e for e in inits if e.response is not None]
    silent = _never_answered(sa, analysis, inits, answered)
    if silent is not None:
        yield silent
    for ex in inits:
        if ex.retry == N.INVALID_KE_PAYLOAD:
            yield _invalid_ke(sa, ex, inits)
        elif ex.retry == N.COOKIE:
            yield finding(
                "cookie-challenge",
                frames=_frames(ex.request, ex.response),
                basis="decrypted",
                explanation=(
                    f"the responder answered IKE_SA_INIT with a COOKIE (frame "
                    f"{ex.response.frame if ex.response else '?'}), costing one round trip; it "
                    "does so when it sees many half-open SAs"
                ),
                fix=None,
            )
        elif ex.error is not None and ex.response is not None:
            yield _init_error(sa, ex)
    half_open = _half_open(sa, analysis, inits, answered)
    if half_open is not None:
        yield half_open


def _never_answered(
    sa: IkeSa, analysis: ev.Facts, inits: list[Exchange], answered: list[Exchange]
) -> Finding | None:
    """IKE_SA_INIT sent, never answered, and the capture went on long enough to say so."""
    # Later exchanges (or a responder SPI) show an answer came, even if the capture missed it.
    went_on = len(sa.exchanges) > len(inits) or any(sa.spi_r)
    if (
        not answered
        and not went_on
        and inits[-1].request is not None
        and _ended(analysis, inits[-1])
    ):
        copies = [m for e in inits for m in ev.request_copies(e)]
        return finding(
            "no-response",
            frames=_frames(*copies),
            basis="inferred",
            explanation=(
                f"the initiator {sa.initiator} sent IKE_SA_INIT {len(copies)} time(s) and "
                f"{sa.responder} never answered"
            ),
            fix=(
                "make the responder reachable on UDP 500 and 4500 (routing, firewalls and ACLs "
                "on the path) and check that its IKE daemon listens on that address"
            ),
            fix_cisco=(
                "on the responder: `show crypto ikev2 sa`, and an ACL permitting udp 500/4500"
            ),
            fix_strongswan="on the responder: charon running, `local_addrs` covering the address",
            count=len(copies),
        )
    return None


def _half_open(
    sa: IkeSa, analysis: ev.Facts, inits: list[Exchange], answered: list[Exchange]
) -> Finding | None:
    """IKE_SA_INIT answered, then no IKE_AUTH: the answer was lost, or the initiator gave up."""
    if answered and answered[-1].status == "ok" and len(sa.exchanges) == len(inits):
        last = answered[-1]
        lost = [m for m in ev.request_copies(last) if m.ts > (last.response_ts or 0.0)]
        if lost:
            answers = [m for m in last.messages if m.response]
            return finding(
                "half-open",
                frames=_frames(*ev.request_copies(last), *answers),
                basis="inferred",
                severity="error",
                explanation=(
                    f"the responder answered IKE_SA_INIT (frames "
                    f"{', '.join(str(m.frame) for m in answers)}) but the initiator kept sending "
                    f"it ({len(lost)} more time(s)) and never sent IKE_AUTH: the answers did not "
                    "reach it, so the IKE SA stayed half-open"
                ),
                fix=(
                    "find what drops the responder's UDP 500 answers on the way back to the "
                    "initiator (a firewall, NAT or asymmetric route)"
                ),
                lost_answers=len(answers),
            )
        elif ev.capture_end(analysis) - (last.response_ts or 0.0) >= QUIET_AFTER:
            return finding(
                "half-open",
                frames=_frames(last.request, last.response),
                basis="inferred",
                explanation=(
                    "IKE_SA_INIT was answered but the initiator never sent IKE_AUTH, so the "
                    "IKE SA stayed half-open"
                ),
                fix=(
                    "look at the initiator's log: it usually gave up on the responder's "
                    "IKE_SA_INIT response (unacceptable proposal or KE, or a certificate request "
                    "it cannot meet)"
                ),
            )
    return None


def _invalid_ke(sa: IkeSa, ex: Exchange, inits: list[Exchange]) -> Finding:
    n = ev.notify(ex.response, N.INVALID_KE_PAYLOAD)
    group = getattr(getattr(n, "decoded", None), "group", None)
    sent = None
    req_ke = [p for p in ev.payloads(ex.request) if type(p).__name__ == "KePayload"]
    if req_ke:
        sent = getattr(req_ke[0], "group", None)
    later = [e.request for e in inits if e.attempt > ex.attempt and e.request is not None]
    cost = later[0].ts - ex.request.ts if later and ex.request is not None else None
    name = ev.group_name(group) if isinstance(group, int) else "another group"
    was = f" instead of {ev.group_name(sent)}" if isinstance(sent, int) else ""
    cost_text = f", costing {cost * 1000:.1f} ms" if cost is not None else ""
    return finding(
        "invalid-ke-retry",
        frames=_frames(ex.request, ex.response),
        basis="decrypted",
        explanation=(
            f"the responder asked for {name}{was} with INVALID_KE_PAYLOAD (frame "
            f"{ex.response.frame if ex.response else '?'}), so IKE_SA_INIT was sent again"
            f"{cost_text}"
        ),
        fix=f"put {name} first in the initiator's IKE proposal so its first KE payload fits",
        fix_cisco=(
            f"`group {group}` first in the initiator's `crypto ikev2 proposal`"
            + (f", e.g. {cisco_words(first_group(sa.offered[0], group))}" if sa.offered else "")
            if isinstance(group, int)
            else None
        ),
        fix_strongswan=(
            f"list that group first in the initiator's `proposals`, e.g. `proposals = "
            f"{strongswan(first_group(sa.offered[0], group))}`"
            if isinstance(group, int) and sa.offered
            else "list that group first in the initiator's `proposals`"
        ),
        group=group if isinstance(group, int) else None,
        extra_round_trip=cost,
    )


def _init_error(sa: IkeSa, ex: Exchange) -> Finding:
    err = ex.error or 0
    name = iana.NOTIFY_TYPES.name(err)
    code = notify_code(err)
    offered = "; ".join(proposal_text(p) for p in sa.offered) or "nothing readable"
    frame = ex.response.frame if ex.response is not None else "?"  # (the caller checked it)
    explanation = f"the responder refused IKE_SA_INIT with {name} (frame {frame})"
    if code == "no-proposal-chosen":
        explanation += f"; the initiator offered {offered}"
    fix, cisco, swan = error_fix(err, ike=True)
    if code == "no-proposal-chosen" and sa.offered:
        cisco, swan = offer_words(sa.offered, cisco, swan)
    return finding(
        code,
        frames=_frames(ex.request, ex.response),
        basis="decrypted",
        explanation=explanation,
        fix=fix,
        fix_cisco=cisco,
        fix_strongswan=swan,
        rejected_by="responder",
        notify=name,
        offered=tuple(proposal_text(p) for p in sa.offered),
    )


def auth_exchanges(sa: IkeSa) -> list[Exchange]:
    """IKE_AUTH exchanges of the SA (several with EAP or multiple authentication)."""
    return _exchanges(sa, X.IKE_AUTH)


def rule_retransmission(sa: IkeSa, analysis: ev.Facts) -> Iterator[Finding]:
    """Requests sent more than once (RFC 7296 2.1, 2.4: retransmitted on timeout with the same
    bytes). For an answered exchange the round trip that counts is from the last copy sent
    before the response; the first-copy RTT hides the waiting. Unanswered requests are judged
    by the no-response, fragmentation and DPD rules."""
    for ex in sa.exchanges:
        copies = ev.request_copies(ex)
        if len(copies) < 2 or ex.response is None or ex.request is None:
            continue
        before = [m for m in copies if m.ts <= ex.response.ts] or copies[:1]
        true_rtt = ex.response.ts - before[-1].ts
        schedule = tuple(round(m.ts - copies[0].ts, 3) for m in copies)
        at = f"at +{', +'.join(f'{t:g}' for t in schedule)} s"
        if len(before) < len(copies):
            # Copies sent after an answer was on the wire: the answers never arrived.
            answers = [m for m in ex.messages if m.response]
            explanation = (
                f"{ex.requester}'s {ex.name} request (message ID {ex.message_id}) was sent "
                f"{len(copies)} times ({at}) although the other peer answered (frames "
                f"{', '.join(str(m.frame) for m in answers)}): its answers did not reach the "
                f"{ex.requester} (a filter or route dropping them on the way back)"
            )
        else:
            explanation = (
                f"{ex.requester}'s {ex.name} request (message ID {ex.message_id}) was sent "
                f"{len(copies)} times ({at}) before the answer in frame {ex.response.frame}; "
                f"the round trip after the last copy was {true_rtt * 1000:.1f} ms"
            )
        yield finding(
            "retransmission",
            frames=_frames(*copies, ex.response),
            basis="inferred",
            explanation=explanation,
            fix=(
                "look for loss or delay between the peers (or a responder slow to answer, e.g. "
                "a busy CA or RADIUS lookup)"
            ),
            count=len(copies) - 1,
            schedule=schedule,
            true_rtt=round(true_rtt, 6),
            exchange=ex.name,
        )


def _frag_threshold(ex: Exchange) -> int:
    m = ex.request
    assert m is not None
    v6 = ":" in m.flow.src
    marker = 4 if m.flow.dport == 4500 or m.flow.sport == 4500 else 0
    ip = 40 if v6 else 20
    return (IPV6_MIN_MTU if v6 else IPV4_PATH_MTU) - ip - 8 - marker


def rule_unanswered(sa: IkeSa, analysis: ev.Facts) -> Iterator[Finding]:
    """Unanswered requests after IKE_SA_INIT (RFC 7296 2.4). An oversized one sent as IP
    fragments without RFC 7383 fragmentation, retransmitted and never answered, is the classic
    path that drops IP fragments (RFC 7383 1); an INFORMATIONAL left unanswered after the SA
    was set up is a failed liveness check (dead peer detection)."""
    sent: dict[str, list[tuple[float, int]]] | None = None  # built on first need
    for ex in sa.exchanges:
        if ex.exchange_type == X.IKE_SA_INIT or ex.response is not None or ex.request is None:
            continue
        if not _ended(analysis, ex):
            continue
        copies = ev.request_copies(ex)
        other = "responder" if ex.requester == "initiator" else "initiator"
        if sent is None:
            sent = _sent_by(sa)
        alive = _first_after(sent[other], copies[0].ts)
        if ex.request.fragment is None and ex.request.length > _frag_threshold(ex):
            yield _fragmentation(ex, copies, _frag_threshold(ex))
        elif alive is not None:
            # The peer kept talking (its own requests, answers to others): not dead, but this
            # request never got through, or its answer never came back.
            yield _lost_request(ex, copies, other, alive)
        elif (gave_up := _peer_gave_up(sa, other, copies[0].ts)) is not None:
            yield _after_peer_gave_up(ex, copies, other, gave_up)
        elif ex.exchange_type == X.INFORMATIONAL and sa.established_ts is not None:
            yield _dpd(sa, ex, copies)
        else:
            yield finding(
                "no-response",
                frames=_frames(*copies),
                basis="inferred",
                explanation=(
                    f"{ex.requester}'s {ex.name} request (message ID {ex.message_id}) was sent "
                    f"{len(copies)} time(s) and never answered"
                ),
                fix=(
                    "check the peer's log for why it dropped the request, and the path for loss "
                    "of UDP 4500"
                ),
                count=len(copies),
                exchange=ex.name,
            )


def _peer_gave_up(sa: IkeSa, peer: str, ts: float) -> Exchange | None:
    """The ``peer``'s own request, sent more than once before ``ts`` and never answered: after
    its last retransmission a peer gives up and deletes the IKE SA (RFC 7296 2.4), so its silence
    afterwards is not a dead peer."""
    for ex in sa.exchanges:
        copies = ev.request_copies(ex)
        if ex.requester == peer and ex.response is None and len(copies) > 1 and copies[-1].ts < ts:
            return ex
    return None


def _after_peer_gave_up(
    ex: Exchange,
    copies: tuple,
    other: str,
    own: Exchange,
) -> Finding:
    own_frames = ", ".join(str(m.frame) for m in ev.request_copies(own))
    return finding(
        "no-response",
        frames=_frames(*copies),
        basis="inferred",
        severity="warning",
        explanation=(
            f"{ex.requester}'s {ex.name} request (message ID {ex.message_id}) was sent "
            f"{len(copies)} time(s) and never answered, but the {other} was not dead: its own "
            f"{own.name} request (frames {own_frames}) had gone unanswered before, after which a "
            "peer gives up and deletes the IKE SA (RFC 7296 2.4), so it no longer knew this SA"
        ),
        fix=(
            f"find what dropped the {other}'s requests on the way to the {ex.requester} (a "
            "one-way filter on UDP 500/4500); the SA has to be set up again"
        ),
        count=len(copies),
        exchange=ex.name,
        peer_gave_up=True,
    )


def _sent_by(sa: IkeSa) -> dict[str, list[tuple[float, int]]]:
    """(time, frame) of every message of the SA per sender, in time order: built once per SA,
    so an SA with thousands of unanswered requests stays linear."""
    out: dict[str, list[tuple[float, int]]] = {"initiator": [], "responder": []}
    for e in sa.exchanges:
        for m in e.messages:
            out[m.sender].append((m.ts, m.frame))
    for v in out.values():
        v.sort()
    return out


def _first_after(times: list[tuple[float, int]], ts: float) -> int | None:
    """Frame of the first message in ``times`` sent after ``ts``; None when there is none."""
    i = bisect.bisect_right(times, (ts, float("inf")))
    return times[i][1] if i < len(times) else None


def _lost_request(
    ex: Exchange,
    copies: tuple,
    other: str,
    alive: int,
) -> Finding:
    return finding(
        "retransmission",
        frames=_frames(*copies),
        basis="inferred",
        explanation=(
            f"{ex.requester}'s {ex.name} request (message ID {ex.message_id}) was sent "
            f"{len(copies)} time(s) and never answered, while the {other} kept sending (frame "
            f"{alive} on): the {other} is alive, so the request or its answer is lost "
            "one way on the path"
        ),
        fix=(
            f"look for a filter dropping IKE (UDP 500/4500) from the {ex.requester} to the "
            f"{other}, or the answers back"
        ),
        count=len(copies) - 1,
        schedule=tuple(round(m.ts - copies[0].ts, 3) for m in copies),
        exchange=ex.name,
    )


def _fragmentation(ex: Exchange, copies: tuple, limit: int) -> Finding:
    m = ex.request
    assert m is not None
    mtu = IPV6_MIN_MTU if ":" in m.flow.src else IPV4_PATH_MTU
    return finding(
        "fragmentation-suspected",
        frames=_frames(*copies),
        basis="inferred",
        explanation=(
            f"the {ex.name} request of {m.length} bytes (frame {m.frame}) is larger than one "
            f"packet on the path ({limit} bytes of IKE fit in a {mtu}-byte MTU), so it left "
            "as IP fragments without IKEv2 fragmentation, was sent "
            f"{len(copies)} time(s) and never answered: a device on the path most likely drops "
            "IP fragments"
        ),
        fix=(
            "enable IKEv2 fragmentation (RFC 7383) on both peers, or let the path pass IP "
            "fragments; smaller certificates or chains also help"
        ),
        fix_cisco="`crypto ikev2 fragmentation mtu 1360` on both routers",
        fix_strongswan="`fragmentation = yes` (or `force`) in the connection on both peers",
        length=m.length,
        count=len(copies),
    )


def _dpd(sa: IkeSa, ex: Exchange, copies: tuple) -> Finding:
    m = ex.request
    assert m is not None
    read = ev.readable(m)
    liveness = read and not m.inner
    what = "liveness check (empty INFORMATIONAL)" if liveness else "INFORMATIONAL request"
    peer = sa.responder if ex.requester == "initiator" else sa.initiator
    return finding(
        "dpd-timeout",
        frames=_frames(*copies),
        basis="decrypted" if read else "inferred",
        explanation=(
            f"the {ex.requester}'s {what} (message ID {ex.message_id}) was sent "
            f"{len(copies)} time(s) from frame {m.frame} and {peer} never answered: the peer "
            "is down or the path between them broke"
        ),
        fix=(
            "find out why the peer stopped answering (reboot, address change, path or NAT "
            "mapping lost); the SA is torn down and renegotiated when it returns"
        ),
        fix_cisco="`dpd <interval> <retry> periodic` in the IKEv2 profile sets how soon it is seen",
        fix_strongswan="`dpd_delay` and `dpd_action = restart` in the connection",
        count=len(copies),
        direction=ex.requester,
    )


def rule_integrity(sa: IkeSa, analysis: ev.Facts) -> Iterator[Finding]:
    """Messages whose SK/SKF integrity check failed with the keys given (RFC 7296 3.14). When
    every message checked fails, the keys do not belong to this IKE SA: a warning about the
    keys, not about the tunnel. When some pass and some fail with the same keys, the bytes were
    altered on the way: an error."""
    checked = [m for m in sa.messages if m.integrity is not None]
    bad = [m for m in checked if m.integrity == "failed"]
    if not bad:
        return
    every = len(bad) == len(checked)
    if every:
        explanation = (
            f"all {len(bad)} encrypted message(s) of this IKE SA failed their integrity check "
            f"with the keys given (first frame {bad[0].frame}): the keys are not this SA's, "
            "which says nothing against the tunnel itself"
        )
        fix = (
            "give the DH secret (or SK_* keys) of this IKE SA: the ones given belong to "
            "another SA or were copied wrongly"
        )
    else:
        explanation = (
            f"{len(bad)} of {len(checked)} encrypted messages failed their integrity check while "
            f"the others passed with the same keys (first frame {bad[0].frame}): something on "
            "the path altered them"
        )
        fix = "look for a device altering packets between the peers (or a capture fault)"
    yield finding(
        "ike-integrity-failure",
        frames=_frames(*bad),
        basis="decrypted",
        severity="warning" if every else "error",
        explanation=explanation,
        fix=fix,
        count=len(bad),
        keys_wrong=every,
    )


def child_error(ex: Exchange) -> int | None:
    """The child-refusing error notify of an answered exchange, if it carried one."""
    return ex.error if ex.error in CHILD_ERRORS else None


__all__ = [
    "auth_exchanges",
    "child_error",
    "rule_init",
    "rule_integrity",
    "rule_retransmission",
    "rule_unanswered",
]
