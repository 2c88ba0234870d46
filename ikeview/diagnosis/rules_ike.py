"""How an IKE SA's setup ended: IKE_SA_INIT, then IKE_AUTH, then what followed.

``establishment`` walks the setup in order and returns the outcome with the findings that
explain it. With keys it reads the notifies; without keys it judges from what the capture does
show (sizes, timing, ESP) and says so (basis ``inferred``), never claiming an established SA
without naming the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.diagnosis import facts as F
from ikeview.diagnosis.facts import Context, finding
from ikeview.diagnosis.proposals import cisco, dh_strongswan, strongswan
from ikeview.diagnosis.records import Basis, Finding, Outcome
from ikeview.dissectors import iana
from ikeview.dissectors.ike_records import Proposal
from ikeview.pipeline.model import Exchange, IkeSa, proposal_text

QUICK = 2.0
"""Seconds after the IKE_AUTH response within which an initiator's INFORMATIONAL, with no ESP,
reads as a rejection rather than ordinary later housekeeping."""
GAVE_UP = 5.0
"""Seconds of capture after a last message with no follow-up that count as "gave up"."""

# Error notifies that refuse the IKE SA itself, and their codes (RFC 7296 3.10.1).
_IKE_ERRORS = {
    F.N_AUTHENTICATION_FAILED: "authentication-failed",
    F.N_NO_PROPOSAL_CHOSEN: "no-proposal-chosen",
    F.N_INVALID_SYNTAX: "invalid-syntax",
    F.N_TEMPORARY_FAILURE: "temporary-failure",
}


@dataclass(frozen=True, slots=True)
class Establishment:
    """The outcome of an IKE SA's setup and the findings behind it."""

    outcome: Outcome
    basis: Basis
    headline: str
    """What the verdict line says after the outcome."""
    findings: tuple[Finding, ...] = ()


def _clause(sentence: str) -> str:
    """A finding's sentence as a clause after a colon."""
    return sentence[:1].lower() + sentence[1:].rstrip(".")


def _offered(proposals: tuple[Proposal, ...]) -> str:
    return "; ".join(f"#{p.number} {proposal_text(p)}" for p in proposals) or "nothing seen"


def _frames(*exchanges: Exchange | None) -> list[int]:
    return [m.frame for e in exchanges if e is not None for m in (e.request, e.response) if m]


def init_retries(sa: IkeSa) -> list[Finding]:
    """``cookie-challenge`` and ``invalid-ke-retry``: IKE_SA_INIT answered with COOKIE or
    INVALID_KE_PAYLOAD and sent again. Evidence: the clear notify in the response and the next
    attempt. RFC 7296 2.6 (cookies), 1.2 and 3.10.1 (INVALID_KE_PAYLOAD)."""
    out: list[Finding] = []
    inits = [e for e in sa.exchanges if e.exchange_type == F.IKE_SA_INIT]
    for i, ex in enumerate(inits):
        if ex.retry is None or ex.response is None:
            continue
        nxt = inits[i + 1] if i + 1 < len(inits) else None
        frames = _frames(ex) + ([nxt.request.frame] if nxt and nxt.request else [])
        rtt = ex.rtt or 0.0
        if ex.retry == F.N_COOKIE:
            out.append(finding(
                "cookie-challenge", frames, "decrypted",
                f"The responder answered IKE_SA_INIT with a COOKIE (frame {ex.response.frame}) "
                f"and the initiator repeated it with the cookie, one extra round trip "
                f"({rtt * 1000:.1f} ms).",
                extra_rtt=round(rtt, 6),
            ))  # fmt: skip
            continue
        n = F.notify(ex.response, F.N_INVALID_KE_PAYLOAD)
        group = int.from_bytes(n.data[:2], "big") if n is not None and len(n.data) >= 2 else None
        gname = iana.DH_GROUPS.name(group) if group is not None else "another group"
        offered = sa.offered[0] if sa.offered else None
        sw = cisco_fix = None
        if group is not None and offered is not None:
            rest = [t for t in offered.transforms if t.transform_type != 4]
            groups = [t for t in offered.transforms if t.transform_type == 4]
            groups.sort(key=lambda t: t.transform_id != group)
            reordered = Proposal(offered.number, offered.protocol_id, offered.spi,
                                 (*rest, *groups), offered.offset)  # fmt: skip
            sw = (
                f"proposals = {strongswan(reordered)} (the group to use first: "
                f"{dh_strongswan(group)})"
            )
            cisco_fix = f"{cisco(reordered)} (the group listed first is sent in KE)"
        out.append(finding(
            "invalid-ke-retry", frames, "decrypted",
            f"The initiator's KE used a group the responder does not want; the responder "
            f"asked for {gname} with INVALID_KE_PAYLOAD (frame {ex.response.frame}), costing "
            f"an extra round trip ({rtt * 1000:.1f} ms).",
            fix=f"List {gname} first in the initiator's proposal so its first KE payload "
                f"uses it.",
            fix_cisco=cisco_fix or "",
            fix_strongswan=sw or "",
            group=gname,
            group_id=group,
            extra_rtt=round(rtt, 6),
        ))  # fmt: skip
    return out


def _unanswered(sa: IkeSa, ex: Exchange, ctx: Context, what: str) -> Establishment:
    """A setup request never answered: failed when it was retransmitted or the capture went on
    long enough; else the capture simply ends too soon."""
    copies = F.request_copies(ex)
    assert ex.request is not None
    first, last = copies[0], copies[-1]
    waited = ctx.capture_end - last.ts
    gave_up = len(copies) >= 2 or waited >= GAVE_UP
    frames = [m.frame for m in copies]
    text = (
        f"The {what} request (frame {first.frame}) was sent {len(copies)} time(s) over "
        f"{last.ts - first.ts:.1f} s and never answered"
    )
    if ex.exchange_type == F.IKE_SA_INIT:
        f = finding(
            "no-response", frames, "inferred",
            text + ": the responder is unreachable, silent or filtered.",
            severity="error" if gave_up else "warning",
            count=len(copies),
        )  # fmt: skip
        outcome: Outcome = "failed" if gave_up else "incomplete"
        return Establishment(outcome, "inferred", f"no answer to IKE_SA_INIT (frame "
                             f"{first.frame}, {len(copies)} copies)", (f,))  # fmt: skip
    # IKE_AUTH: the retransmission and fragmentation rules explain it.
    outcome = "failed" if gave_up else "incomplete"
    head = f"no answer to IKE_AUTH (frame {first.frame}, {len(copies)} copies)"
    if not gave_up:
        head += "; the capture ends before an answer was due"
    return Establishment(outcome, "inferred", head)


def establishment(sa: IkeSa, ctx: Context) -> Establishment:
    """The outcome of the IKE SA's setup (RFC 7296 1.2: IKE_SA_INIT then IKE_AUTH)."""
    if sa.created_by == F.CREATE_CHILD_SA:
        return Establishment("established", "decrypted",
                             "rekeyed in from another IKE SA (CREATE_CHILD_SA)")  # fmt: skip
    if sa.created_by is None:
        answered = [e for e in sa.exchanges if e.response is not None]
        if answered:
            return Establishment(
                "established", "inferred",
                f"first seen mid-life; its peers answer each other (frame "
                f"{answered[0].response.frame})",  # type: ignore[union-attr]
            )  # fmt: skip
        return Establishment("unknown", "inferred", "first seen mid-life, never answered")
    return _from_init(sa, ctx)


def _from_init(sa: IkeSa, ctx: Context) -> Establishment:
    inits = [e for e in sa.exchanges if e.exchange_type == F.IKE_SA_INIT]
    auths = [e for e in sa.exchanges if e.exchange_type == F.IKE_AUTH and
             e.requester == "initiator"]  # fmt: skip
    if not inits:
        return Establishment("unknown", "inferred", "IKE_SA_INIT not in the capture")
    last = inits[-1]
    if last.response is None and last.request is not None:
        if auths and auths[0].request is not None:
            return Establishment(
                "incomplete", "inferred",
                f"the capture misses the IKE_SA_INIT response (the IKE_AUTH request in frame "
                f"{auths[0].request.frame} shows the responder answered)",
            )  # fmt: skip
        return _unanswered(sa, last, ctx, "IKE_SA_INIT")
    if last.response is None:
        return Establishment("unknown", "inferred", "IKE_SA_INIT request not in the capture")
    if last.error is not None:
        return _init_refused(sa, last)
    if last.retry is not None:
        retry = iana.NOTIFY_TYPES.name(last.retry)
        return Establishment("incomplete", "decrypted", f"the initiator did not retry after "
                             f"{retry} (frame {last.response.frame})")  # fmt: skip
    if not auths:
        return _half_open(sa, last, ctx)
    auth = auths[-1]
    if auth.response is None:
        if auth.request is None:
            return Establishment("unknown", "inferred", "IKE_AUTH request not in the capture")
        return _unanswered(sa, auth, ctx, "IKE_AUTH")
    if F.readable(F.answer(auth)):
        return _auth_read(sa, auth, ctx)
    return _auth_inferred(sa, auth, ctx, eap=len(auths) > 1)


def _init_refused(sa: IkeSa, ex: Exchange) -> Establishment:
    """``no-proposal-chosen`` / ``invalid-syntax`` / ``error-notify`` in the clear IKE_SA_INIT
    response. RFC 7296 2.7 (proposal choice), 3.10.1."""
    assert ex.response is not None and ex.error is not None
    name = iana.NOTIFY_TYPES.name(ex.error)
    frames = _frames(ex)
    fr = ex.response.frame
    c = _IKE_ERRORS.get(ex.error, "error-notify")
    if c == "no-proposal-chosen":
        first = sa.offered[0] if sa.offered else None
        f = finding(
            c, frames, "decrypted",
            f"The responder accepted none of the IKE proposals offered (NO_PROPOSAL_CHOSEN, "
            f"frame {fr}); offered: {_offered(sa.offered)}.",
            fix_cisco=None if first is None else f"Accept one of them, e.g. {cisco(first)}, in "
            "the policy's proposal.",
            fix_strongswan=None if first is None else f"Accept one of them on the responder, "
            f"e.g. proposals = {strongswan(first)}.",
            offered=tuple(proposal_text(p) for p in sa.offered),
            notify=name,
        )  # fmt: skip
    else:
        f = finding(c, frames, "decrypted",
                    f"The responder refused IKE_SA_INIT with {name} (frame {fr}).",
                    notify=name)  # fmt: skip
    return Establishment("failed", "decrypted", f"the responder refused IKE_SA_INIT with {name} "
                         f"(frame {fr})", (f,))  # fmt: skip


def _half_open(sa: IkeSa, ex: Exchange, ctx: Context) -> Establishment:
    """``half-open``: IKE_SA_INIT answered, IKE_AUTH never sent. RFC 7296 2.6."""
    assert ex.response is not None
    fr = ex.response.frame
    waited = ctx.capture_end - ex.response.ts
    redirect = F.notify(ex.response, 16407)
    if redirect is not None:
        return Establishment("failed", "decrypted",
                             f"the responder redirected the initiator elsewhere (REDIRECT, "
                             f"RFC 5685, frame {fr})")  # fmt: skip
    gave_up = waited >= GAVE_UP
    f = finding(
        "half-open", _frames(ex), "decrypted",
        f"IKE_SA_INIT was answered (frame {fr}) but no IKE_AUTH followed"
        + (f" in the {waited:.1f} s the capture goes on." if gave_up else
           " before the capture ends."),
        severity="warning" if gave_up else "info",
    )  # fmt: skip
    return Establishment(
        "failed" if gave_up else "incomplete",
        "decrypted",
        f"IKE_SA_INIT answered (frame {fr}), IKE_AUTH never sent",
        (f,),
    )


def _psk_side(sa: IkeSa, side: str) -> tuple[str | None, str | None]:
    """(PSK label, identity) when the user's PSK reproduced ``side``'s AUTH."""
    for a in sa.auth:
        if a.side == side and a.verified and a.psk:
            return a.psk, a.identity
    return None, None


def _rejected(
    sa: IkeSa, by: str, frames: list[int], fr: int, basis: Basis, how: str
) -> list[Finding]:
    """``authentication-failed`` (and ``psk-mismatch`` when a supplied PSK reproduced the other
    side's AUTH). RFC 7296 2.15 (AUTH), 2.21.2 (AUTHENTICATION_FAILED)."""
    other = "initiator" if by == "responder" else "responder"
    out = [finding(
        "authentication-failed", frames, basis,
        f"The {by} rejected the {other}'s AUTH (frame {fr}): {how}.",
        rejected_by=by,
    )]  # fmt: skip
    psk, ident = _psk_side(sa, other)
    if psk:
        out.append(finding(
            "psk-mismatch", frames, "decrypted",
            f"The PSK you gave ({psk}) reproduces the {other}'s AUTH, so the {by} holds "
            f"another key for {ident or 'that identity'}.",
            rejected_by=by, identity=ident, psk=psk,
        ))  # fmt: skip
    return out


def _after(sa: IkeSa, auth: Exchange) -> list[Exchange]:
    t = auth.response_ts or 0.0
    return [e for e in sa.exchanges if e is not auth and e.request_ts is not None and
            e.request_ts >= t]  # fmt: skip


def _auth_read(sa: IkeSa, auth: Exchange, ctx: Context) -> Establishment:
    """The IKE_AUTH response decrypted: its notifies, and an initiator's N(AUTH_FAILED) after."""
    resp = F.answer(auth)
    assert resp is not None
    frames = _frames(auth)
    has_auth = 39 in resp.inner_types or 39 in resp.payload_types
    if F.notify(resp, F.N_AUTHENTICATION_FAILED) is not None or (
        not has_auth and auth.error is not None
    ):
        err = auth.error or F.N_AUTHENTICATION_FAILED
        name = iana.NOTIFY_TYPES.name(err)
        if err == F.N_AUTHENTICATION_FAILED:
            found = _rejected(sa, "responder", frames, resp.frame, "decrypted",
                              "it answered AUTHENTICATION_FAILED")  # fmt: skip
            head = f"the responder rejected the initiator's AUTH (frame {resp.frame})"
        else:
            c = _IKE_ERRORS.get(err, "error-notify")
            found = [finding(c, frames, "decrypted",
                             f"The responder refused IKE_AUTH with {name} (frame {resp.frame}).",
                             notify=name)]  # fmt: skip
            head = f"the responder refused IKE_AUTH with {name} (frame {resp.frame})"
        if len(found) > 1:
            head += ": " + _clause(found[1].explanation)
        return Establishment("failed", "decrypted", head, tuple(found))
    for ex in _after(sa, auth):
        if (
            ex.requester == "initiator"
            and ex.exchange_type == F.INFORMATIONAL
            and ex.request is not None
            and F.notify(ex.request, F.N_AUTHENTICATION_FAILED) is not None
        ):
            fr = ex.request.frame
            found = _rejected(sa, "initiator", [*frames, fr], fr, "decrypted",
                              "it sent N(AUTHENTICATION_FAILED) in an INFORMATIONAL right "
                              "after the IKE_AUTH response")  # fmt: skip
            head = f"the initiator rejected the responder's AUTH (frame {fr})"
            if len(found) > 1:
                head += ": " + _clause(found[1].explanation)
            return Establishment("failed", "decrypted", head, tuple(found))
    head = f"IKE_AUTH completed (frame {resp.frame})"
    if auth.error is not None:
        head += f"; its child SA was refused with {iana.NOTIFY_TYPES.name(auth.error)}"
    return Establishment("established", "decrypted", head)


def _esp_after(sa: IkeSa, ctx: Context, t: float) -> set[tuple[str, str]]:
    return {(s.src, s.dst) for s in ctx.esp.get(sa.spis, ()) if s.packets and s.first_ts >= t}


def _auth_inferred(sa: IkeSa, auth: Exchange, ctx: Context, eap: bool) -> Establishment:
    """Without keys: the IKE_AUTH response's size against the least a success needs (RFC 7296
    3.14 padding and ICV; 3.5, 3.8, 3.3, 3.13 payloads), then ESP and a quick INFORMATIONAL."""
    resp = auth.response
    assert resp is not None
    size = F.message_size(auth, True) or resp.length
    sizes = F.auth_response_sizes(sa.chosen)
    frames = _frames(auth)
    cipher = proposal_text(sa.chosen) if sa.chosen else "the chosen cipher"
    if sizes is not None and eap:
        # The last response after EAP carries no IDr (RFC 7296 2.16).
        sizes = F.AuthSizes(sizes.with_auth - F.MIN_IDR, sizes.full - F.MIN_IDR)
    if sizes is not None and size < sizes.with_auth:
        found = _rejected(
            sa, "responder", frames, resp.frame, "inferred",
            f"the encrypted response has {size} bytes, fewer than the {sizes.with_auth} that "
            f"IDr and AUTH alone need with {cipher}, so it holds only notifies, most likely "
            f"AUTHENTICATION_FAILED (keys would show the notify)",
        )  # fmt: skip
        return Establishment(
            "failed", "inferred",
            f"the responder refused IKE_AUTH (frame {resp.frame}, {size} bytes: too small for "
            f"IDr+AUTH, {sizes.with_auth} needed); most likely AUTHENTICATION_FAILED, keys "
            "would show the notify",
            tuple(found),
        )  # fmt: skip
    req = F.message_size(auth, False)
    if sizes is not None and req is not None and req < sizes.full:
        # Too small a request for SA and TS: a childless IKE SA (RFC 6023), nothing refused.
        return Establishment(
            "established",
            "inferred",
            f"IKE_AUTH answered (frame "
            f"{resp.frame}); no child SA asked for (request of {req} bytes)",
        )
    if sizes is not None and size < sizes.full:
        f = finding(
            "child-sa-refused", frames, "inferred",
            f"The IKE_AUTH response (frame {resp.frame}, {size} bytes) has room for IDr and "
            f"AUTH ({sizes.with_auth}) but not for SA and TS ({sizes.full} needed with "
            f"{cipher}): the responder accepted the IKE SA but refused its first child SA "
            "(keys would show the notify, e.g. NO_PROPOSAL_CHOSEN or TS_UNACCEPTABLE).",
        )  # fmt: skip
        return Establishment(
            "established", "inferred",
            f"IKE_AUTH answered (frame {resp.frame}, {size} bytes: room for IDr+AUTH, not for "
            "SA+TS), so the IKE SA stands but its first child SA was refused",
            (f,),
        )  # fmt: skip
    return _after_auth(sa, auth, ctx, size, sizes)


def _after_auth(
    sa: IkeSa, auth: Exchange, ctx: Context, size: int, sizes: F.AuthSizes | None
) -> Establishment:
    """A full-size encrypted IKE_AUTH response: what followed decides."""
    resp = auth.response
    assert resp is not None
    roomy = (
        f"{size} bytes, room for IDr+AUTH+SA+TS ({sizes.full} needed)" if sizes else
        f"{size} bytes"
    )  # fmt: skip
    ways = _esp_after(sa, ctx, resp.ts)
    if len(ways) >= 2:
        return Establishment("established", "inferred",
                             f"IKE_AUTH answered (frame {resp.frame}, {roomy}) and ESP flows both "
                             "ways on SPIs first seen after it")  # fmt: skip
    later = _after(sa, auth)
    first = later[0] if later else None
    if (
        not ways
        and first is not None
        and first.requester == "initiator"
        and first.exchange_type == F.INFORMATIONAL
        and first.request is not None
        and first.request.ts - resp.ts <= QUICK
        and all(e.exchange_type == F.INFORMATIONAL for e in later)
    ):
        fr = first.request.frame
        gap = (first.request.ts - resp.ts) * 1000
        found = _rejected(
            sa, "initiator", _frames(auth, first), fr, "inferred",
            f"it sent an INFORMATIONAL {gap:.0f} ms after the IKE_AUTH response and no ESP "
            "followed, most likely N(AUTHENTICATION_FAILED) or an immediate delete (keys would "
            "tell which)",
        )  # fmt: skip
        return Establishment(
            "failed", "inferred",
            f"the initiator most likely rejected the responder's AUTH: an INFORMATIONAL "
            f"(frame {fr}) {gap:.0f} ms after the IKE_AUTH response, no ESP; keys would tell",
            tuple(found),
        )  # fmt: skip
    note = "ESP only one way" if ways else "no ESP seen"
    return Establishment(
        "established", "inferred", f"IKE_AUTH answered (frame {resp.frame}, {roomy}); {note}"
    )


__all__ = ["Establishment", "establishment", "init_retries"]
