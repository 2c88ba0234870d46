"""Rules on an IKE SA's exchanges once set up, or whatever its outcome: retransmissions, IP
fragmentation, integrity, liveness, rekey collisions, deletes, NAT and weak IKE algorithms.

Each rule is ``rule(sa, ctx) -> list[Finding]``; its docstring names its evidence and RFC.
"""

from __future__ import annotations

from ikeview.diagnosis import facts as F
from ikeview.diagnosis.facts import Context, finding
from ikeview.diagnosis.records import Finding
from ikeview.diagnosis.weak import weak_finding
from ikeview.pipeline.model import Exchange, IkeSa

DPD_MIN_COPIES = 2
"""An unanswered INFORMATIONAL sent at least this often reads as a failed liveness check."""


def retransmission(sa: IkeSa, ctx: Context) -> list[Finding]:
    """``retransmission``: a request sent again with identical bytes (strongSwan's is_retransmit
    rule). Evidence: the copies' frames and times; for an answered request the true round trip
    is measured from the last copy sent before the answer. RFC 7296 2.1 (retransmission timers),
    2.4."""
    out: list[Finding] = []
    for ex in sa.exchanges:
        copies = F.request_copies(ex)
        if len(copies) < 2:
            continue
        t0 = copies[0].ts
        schedule = tuple(round(m.ts - t0, 3) for m in copies)
        frames = [m.frame for m in copies]
        text = (
            f"The {ex.name} request mid {ex.message_id} from the {ex.requester} was sent "
            f"{len(copies)} times (frames {', '.join(map(str, frames))}; at +"
            + ", +".join(f"{s:.1f}" for s in schedule)
            + " s)"
        )
        rtt = None
        if ex.response is not None:
            before = [m for m in copies if m.ts <= ex.response.ts] or [copies[0]]
            rtt = ex.response.ts - before[-1].ts
            frames.append(ex.response.frame)
            text += (
                f"; answered in frame {ex.response.frame}, {rtt * 1000:.1f} ms after the last "
                f"copy ({(ex.response.ts - t0) * 1000:.1f} ms after the first)."
            )
        else:
            text += " and never answered."
        out.append(finding(
            "retransmission", frames, "inferred", text,
            count=len(copies) - 1, schedule=schedule,
            rtt=None if rtt is None else round(rtt, 6), exchange=ex.name,
        ))  # fmt: skip
    return out


def _rfc7383(sa: IkeSa) -> bool:
    """Both peers announced IKEv2 fragmentation in IKE_SA_INIT (RFC 7383 2.3)."""
    init = [e for e in sa.exchanges if e.exchange_type == F.IKE_SA_INIT]
    return bool(init) and all(
        F.notify(m, F.N_FRAGMENTATION_SUPPORTED) is not None
        for m in (init[-1].request, init[-1].response)
    )


def fragmentation(sa: IkeSa, ctx: Context) -> list[Finding]:
    """``fragmentation-suspected``: an unanswered request whose datagram exceeded the path MTU
    (so it left as IP fragments) or 1280 bytes, with no RFC 7383 fragmentation in use.
    Evidence: the request's size and its copies. RFC 7383 section 1 (IP fragments dropped by
    middleboxes), 2.5.1 (1280)."""
    out: list[Finding] = []
    for ex in sa.exchanges:
        if ex.request is None or ex.response is not None or ex.request.fragment is not None:
            continue
        size = F.datagram_size(ex.request)
        if size <= F.SAFE_SIZE:
            continue
        copies = F.request_copies(ex)
        ip_frags = size > F.TYPICAL_MTU
        how = "left as IP fragments" if ip_frags else "exceeded 1280 bytes"
        fr = ex.request.frame
        use = ("IKEv2 fragmentation was offered by both peers but not used" if _rfc7383(sa)
               else "IKEv2 fragmentation (RFC 7383) was not in use")  # fmt: skip
        out.append(finding(
            "fragmentation-suspected", [m.frame for m in copies], "inferred",
            f"The {ex.name} request (frame {fr}) is a {size}-byte IP datagram that {how}, was "
            f"sent {len(copies)} time(s) and never answered; {use}, so a path dropping IP "
            "fragments is the likely cause.",
            severity="error" if ip_frags and len(copies) >= 2 else "warning",
            size=size, ip_fragmented=ip_frags, count=len(copies),
        ))  # fmt: skip
    return out


def ike_integrity(sa: IkeSa, ctx: Context) -> list[Finding]:
    """``ike-integrity-failure``: encrypted IKE messages whose ICV did not verify with the keys
    given. All failing means the keys are not this SA's (a warning about the keys); some failing
    means the path altered them. RFC 7296 3.14."""
    checked = [m for m in sa.messages if m.integrity is not None]
    bad = [m for m in checked if m.integrity == "failed"]
    if not bad:
        return []
    frames = [m.frame for m in bad]
    if len(bad) == len(checked):
        return [finding(
            "ike-integrity-failure", frames, "decrypted",
            f"Every encrypted message checked ({len(bad)}) failed its integrity check: the keys "
            "given do not belong to this IKE SA (a wrong DH secret or SK_* entry), not a "
            "network fault.",
            severity="warning", count=len(bad), keys_wrong=True,
        )]  # fmt: skip
    return [finding(
        "ike-integrity-failure", frames, "decrypted",
        f"{len(bad)} of {len(checked)} encrypted messages failed their integrity check while "
        "the others passed with the same keys: something on the path altered them.",
        count=len(bad), keys_wrong=False,
    )]  # fmt: skip


def _dpd_candidates(sa: IkeSa) -> list[Exchange]:
    return [
        e for e in sa.exchanges
        if e.exchange_type == F.INFORMATIONAL and e.response is None and e.request is not None
        and e.purpose in (None, "liveness check", "informational")
    ]  # fmt: skip


def dpd_timeout(sa: IkeSa, ctx: Context) -> list[Finding]:
    """``dpd-timeout``: an INFORMATIONAL request (empty when decrypted: a liveness check)
    retransmitted and never answered, the last thing the SA does. Evidence: the copies.
    RFC 7296 2.4 (a peer that stops answering is declared dead)."""
    out: list[Finding] = []
    for ex in _dpd_candidates(sa):
        copies = F.request_copies(ex)
        if len(copies) < DPD_MIN_COPIES:
            continue
        later = [e for e in sa.exchanges if (e.request_ts or 0) > copies[-1].ts]
        if later:
            continue
        peer = "responder" if ex.requester == "initiator" else "initiator"
        what = "liveness check" if ex.purpose == "liveness check" else "INFORMATIONAL request"
        out.append(finding(
            "dpd-timeout", [m.frame for m in copies], "decrypted" if ex.purpose else "inferred",
            f"The {ex.requester}'s {what} (frame {copies[0].frame}) was sent {len(copies)} "
            f"times over {copies[-1].ts - copies[0].ts:.1f} s and the {peer} never answered: "
            f"the {ex.requester} will declare it dead and tear the SA down.",
            count=len(copies), silent=peer,
        ))  # fmt: skip
    return out


def rekey_collision(sa: IkeSa, ctx: Context) -> list[Finding]:
    """``rekey-collision``: both peers sent a CREATE_CHILD_SA request before either answer
    arrived. Evidence: request/response times of the two exchanges (with keys, the REKEY_SA /
    IKE proposals name what each rekeys). RFC 7296 2.8.1 (simultaneous rekeying)."""
    out: list[Finding] = []
    cc = [e for e in sa.exchanges if e.exchange_type == F.CREATE_CHILD_SA and e.request]
    for a in cc:
        for b in cc:
            if a.requester != "initiator" or b.requester != "responder":
                continue
            assert a.request is not None and b.request is not None
            a_end = a.response_ts if a.response_ts is not None else float("inf")
            b_end = b.response_ts if b.response_ts is not None else float("inf")
            if not (a.request.ts < b_end and b.request.ts < a_end):
                continue
            if a.purpose and b.purpose and a.purpose != b.purpose:
                continue
            what = a.purpose or b.purpose or "CREATE_CHILD_SA"
            out.append(finding(
                "rekey-collision", F.request_frames(a, b),
                "decrypted" if a.purpose else "inferred",
                f"Both peers started a {what} at once (initiator frame {a.request.frame}, "
                f"responder frame {b.request.frame}, {abs(a.request.ts - b.request.ts) * 1000:.0f}"
                " ms apart, each before the other's answer).",
            ))  # fmt: skip
    return out


def deleted(sa: IkeSa, ctx: Context) -> list[Finding]:
    """``deleted`` (info): who deleted the IKE SA and when. Evidence: the decrypted Delete
    payload's INFORMATIONAL request. RFC 7296 1.4.1."""
    for ex in sa.exchanges:
        if ex.purpose == "delete IKE SA" and ex.request is not None:
            ack = f", acknowledged in frame {ex.response.frame}" if ex.response else ""
            return [finding(
                "deleted", F.request_frames(ex), "decrypted",
                f"The {ex.requester} deleted the IKE SA (frame {ex.request.frame}, "
                f"+{ex.request.ts - sa.first_ts:.3f} s after its first message){ack}.",
                by=ex.requester,
            )]  # fmt: skip
    return []


def nat_detected(sa: IkeSa, ctx: Context) -> list[Finding]:
    """``nat-detected`` (info): a NAT_DETECTION hash that does not match the captured address.
    Evidence: the clear notifies in IKE_SA_INIT. RFC 7296 2.23 (a peer may also fake the hash to
    force UDP encapsulation, as strongSwan's ``encap = yes`` does)."""
    n = sa.nat
    if n is None or not (n.initiator_behind_nat or n.responder_behind_nat):
        return []
    who = [s for s, v in (("initiator", n.initiator_behind_nat),
                          ("responder", n.responder_behind_nat)) if v]  # fmt: skip
    init = [e for e in sa.exchanges if e.exchange_type == F.IKE_SA_INIT]
    frames = F.request_frames(*init[-1:])
    return [finding(
        "nat-detected", frames, "decrypted",
        f"NAT detection says the {' and the '.join(who)} {'is' if len(who) == 1 else 'are'} "
        f"behind a NAT ({n.detail}); IKE and ESP "
        f"{'moved to' if n.udp_encapsulation else 'did not move to'} UDP 4500.",
        behind=tuple(who), udp_encapsulation=n.udp_encapsulation,
    )]  # fmt: skip


def weak_ike(sa: IkeSa, ctx: Context) -> list[Finding]:
    """``weak-algorithm`` for the chosen IKE proposal (RFC 8247 section 3). Evidence: the
    responder's SA payload in IKE_SA_INIT (clear) or in the rekeying CREATE_CHILD_SA."""
    if sa.chosen is None:
        return []
    frame = None
    for ex in sa.exchanges:
        if ex.exchange_type == F.IKE_SA_INIT and ex.response is not None and ex.error is None:
            frame = ex.response.frame
    if frame is None:
        frame = next((e.response.frame for e in sa.exchanges if e.response), 0)
    basis = "decrypted"
    return list(weak_finding(sa.chosen, frame, basis, ike=True, what="The IKE SA"))


RULES = (
    retransmission,
    fragmentation,
    ike_integrity,
    dpd_timeout,
    rekey_collision,
    weak_ike,
    nat_detected,
    deleted,
)
"""Run in this order for every IKE SA."""

__all__ = ["RULES"]
