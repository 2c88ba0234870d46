"""Was the IKE SA set up? IKE_AUTH judged from decrypted payloads, or from sizes and what
followed when there are no keys (RFC 7296 1.2, 2.15, 2.21.2).

The verdict is the one place an IKE SA's outcome is decided; the other rules only add findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ikeview import iana
from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis.codes import CHILD_ERRORS, finding, notify_code
from ikeview.diagnosis.eap import eap_abandoned
from ikeview.diagnosis.fixes import error_fix
from ikeview.diagnosis.records import Basis, Finding, Outcome
from ikeview.dissectors.ike_records import IdPayload
from ikeview.pipeline.model import AuthSide, Exchange, IkeSa, Message

X = iana.ExchangeType
N = iana.NotifyType

REJECT_WINDOW = 5.0
"""Seconds after the IKE_AUTH response within which the initiator's INFORMATIONAL counts as its
reaction to that response (RFC 7296 2.21.2 has it sent at once)."""


@dataclass(slots=True)
class AuthVerdict:
    """How IKE_AUTH ended, with the findings that show it."""

    outcome: Outcome
    basis: Basis
    text: str
    """Why, in one clause: ``the responder rejected the initiator's AUTH (frame 4)``."""
    findings: list[Finding] = field(default_factory=list)
    refused_child_error: int | None = None
    """The error notify that refused the first child SA (0 = refused, notify unreadable)."""
    refused_child_exchange: Exchange | None = None


def _side(sa: IkeSa, side: str) -> AuthSide | None:
    return next((s for s in sa.auth if s.side == side), None)


def requested_idr(sa: IkeSa) -> str | None:
    """The IDr the initiator put in its IKE_AUTH request: the responder identity it asked for
    (RFC 7296 3.5, optional), None when absent or unreadable."""
    for ex in sa.exchanges:
        if ex.exchange_type == X.IKE_AUTH and ex.requester == "initiator":
            for p in ev.payloads(ex.request):
                if isinstance(p, IdPayload) and p.which == "IDr":
                    return p.text
    return None


def _psk_mismatch(sa: IkeSa, accepted_side: str, frames: list[int]) -> Finding | None:
    """The PSK given reproduces ``accepted_side``'s AUTH, yet the other peer rejected it: that
    peer holds another key for this identity (RFC 7296 2.15: both compute AUTH from one key), or
    it refused the identities before any key was checked (a strongSwan responder with no
    connection for IDi/IDr answers AUTHENTICATION_FAILED too), which the capture cannot tell
    apart: both are named."""
    s = _side(sa, accepted_side)
    if s is None or not s.verified or not s.psk:
        return None
    other = "responder" if accepted_side == "initiator" else "initiator"
    who = s.identity or f"the {accepted_side}"
    idr = requested_idr(sa)
    if other == "responder":
        asked = f" and the IDr {idr} the initiator asked for" if idr else ""
        why = (
            f", or it refused the identities before checking any key: no connection for IDi "
            f"{who}{asked} (its log tells which)"
        )
    elif idr and idr != s.identity:
        why = (
            f", or it refused the identity: it asked for IDr {idr} and the responder answered "
            f"as {who}"
        )
    else:
        why = ", or it refused the identity (its log tells which)"
    return finding(
        "psk-mismatch",
        frames=[*frames, *([s.frame] if s.frame else [])],
        basis="decrypted",
        explanation=(
            f"the PSK you gave ({s.psk}) reproduces the {accepted_side}'s AUTH, so the {other} "
            f"holds another key for {who}{why}"
        ),
        fix=(
            f"set the same pre-shared key for {who} on the {other}, or make the identities "
            "agree (each peer's local identity must be the remote identity the other expects)"
        ),
        fix_cisco=(
            f"`pre-shared-key` of the keyring peer matching {who} on the {other}; `identity "
            "local` / `match identity remote` in the `crypto ikev2 profile`"
        ),
        fix_strongswan=(
            f"the `secret` of the ike secret whose `id` matches {who} on the {other}; `id` in "
            "`local` and `remote` of the connections"
        ),
        rejected_by=other,
        identity=s.identity,
        requested_idr=idr,
    )


SIGNATURE_METHODS = frozenset({1, 9, 10, 11, 14})
"""AUTH methods that are signatures (RSA, ECDSA P-256/384/521, RFC 7427 digital signature)."""


def _certificate_rejected(sa: IkeSa, signer: str, frames: list[int]) -> Finding | None:
    """``signer``'s AUTH signature verifies with the key of the certificate it sent, yet the other
    peer rejected it: what it refused is the certificate (trust, validity, revocation) or the
    identity, not the signature (RFC 7296 2.15, 3.6)."""
    s = _side(sa, signer)
    if s is None or s.method not in SIGNATURE_METHODS or s.verified is not True:
        return None
    by = "responder" if signer == "initiator" else "initiator"
    return finding(
        "certificate-rejected",
        frames=[*frames, *([s.frame] if s.frame else [])],
        basis="decrypted",
        explanation=(
            f"the {signer}'s AUTH signature (frame {s.frame}) verifies with the key of its "
            f"certificate, so the {by} refused the certificate or the identity "
            f"{s.identity or '?'}, not the signature: an issuer it does not trust (a missing CA "
            "or intermediate), an expired or revoked certificate, or an identity it did not "
            "expect"
        ),
        fix=(
            f"make the {by} trust the issuing CA (with any intermediate), check the certificate's "
            f"validity and revocation, and that its identity is the one the {by} expects"
        ),
        fix_cisco=(
            "a `crypto pki trustpoint` holding the issuing CA (`crypto pki authenticate`), and "
            "`match identity remote` / `match certificate` in the `crypto ikev2 profile`"
        ),
        fix_strongswan=(
            "the CA certificate in `swanctl/x509ca/` (or `cacerts` in `remote`), and `id` in "
            "`remote` matching the certificate"
        ),
        rejected_by=by,
        identity=s.identity,
    )


def _rejected(sa: IkeSa, by: str, frames: list[int], basis: Basis, how: str) -> list[Finding]:
    other = "initiator" if by == "responder" else "responder"
    found = [
        finding(
            "authentication-failed",
            frames=frames,
            basis=basis,
            explanation=f"the {by} rejected the {other}'s AUTH: {how}",
            fix=error_fix(24, ike=True)[0],
            fix_cisco=error_fix(24, ike=True)[1],
            fix_strongswan=error_fix(24, ike=True)[2],
            rejected_by=by,
        )
    ]
    for why in (_psk_mismatch(sa, other, frames), _certificate_rejected(sa, other, frames)):
        if why is not None:
            found.append(why)
    return found


def _initiator_informational(sa: IkeSa, resp: Message, *, auth_failed: bool) -> Exchange | None:
    """The first INFORMATIONAL the initiator sent within ``REJECT_WINDOW`` of the IKE_AUTH
    response; with ``auth_failed``, only one read to carry AUTHENTICATION_FAILED (RFC 7296
    2.21.2)."""
    for ex in sa.exchanges:
        req = ex.request
        if (
            ex.exchange_type == X.INFORMATIONAL
            and ex.requester == "initiator"
            and req is not None
            and 0 <= req.ts - resp.ts <= REJECT_WINDOW
            and (not auth_failed or N.AUTHENTICATION_FAILED in req.notifies)
        ):
            return ex
    return None


AT_ONCE = 1.0
"""Seconds: an initiator's INFORMATIONAL this soon after the IKE_AUTH response, with nothing
after it and no ESP, is the SA being refused, not housekeeping."""


def _rejected_at_once(sa: IkeSa, resp: Message, rej: Exchange) -> bool:
    """The INFORMATIONAL came at once and is the last thing the IKE SA did (no other exchange
    after it, no rekey): the SA lived for milliseconds."""
    req = rej.request
    if req is None or req.ts - resp.ts > AT_ONCE or sa.rekeyed_into is not None:
        return False
    later = [e for e in sa.exchanges if e is not rej and (e.request_ts or 0.0) > resp.ts]
    return not later


CHILDLESS_IKEV2_SUPPORTED = 16418
"""RFC 6023 section 3: sent in IKE_SA_INIT by a peer that accepts IKE_AUTH without a child SA."""


def _childless_then_child(sa: IkeSa, auth: Exchange) -> int | None:
    """Frame of a full-size CREATE_CHILD_SA response that follows a child-less IKE_AUTH at once,
    when the responder announced CHILDLESS_IKEV2_SUPPORTED: the signature of RFC 6023, which
    a refused first child SA rarely leaves. None when that is not what the capture shows."""
    inits = [e for e in sa.exchanges if e.exchange_type == X.IKE_SA_INIT and e.response]
    if not inits or ev.notify(inits[-1].response, CHILDLESS_IKEV2_SUPPORTED) is None:
        return None
    t = auth.response_ts or 0.0
    later = [e for e in sa.exchanges if (e.request_ts or 0.0) > t]
    first = later[0] if later else None
    if (
        first is None
        or first.exchange_type != X.CREATE_CHILD_SA
        or first.requester != "initiator"
        or first.response is None
        or (first.request_ts or 0.0) - t > AT_ONCE
        or ev.refused_by_size(sa.chosen, first)
    ):
        return None
    return first.response.frame


def judge_auth(sa: IkeSa, analysis: ev.Facts) -> AuthVerdict | None:
    """The IKE SA's outcome from its IKE_AUTH exchanges; None when there were none."""
    auths = [e for e in sa.exchanges if e.exchange_type == X.IKE_AUTH]
    if not auths:
        return None
    answered = [e for e in auths if e.response is not None]
    if not answered:
        last = auths[-1]
        copies = ev.request_copies(last)
        frames = [m.frame for m in copies]
        quiet = ev.capture_end(analysis) - (copies[-1].ts if copies else sa.last_ts)
        if len(copies) > 1 or quiet >= REJECT_WINDOW:
            return AuthVerdict(
                "failed",
                "inferred",
                f"IKE_AUTH never answered (frames {', '.join(map(str, frames))})",
            )
        return AuthVerdict(
            "incomplete",
            "inferred",
            "the capture ends before the IKE_AUTH "
            f"response (request frame {frames[0] if frames else '?'})",
        )
    final = answered[-1]
    resp = final.response
    assert resp is not None
    # With RFC 7383 fragments the response is read in the fragment that completed it.
    read = next((m for m in final.messages if m.response and m.decrypted), None)
    if read is not None or ev.readable(resp):
        return _judge_read(sa, final, read or resp)
    if len(answered) > 1:
        return _judge_rounds(sa, analysis, auths[0], final, resp)
    return _judge_sizes(sa, analysis, final, resp)


def _refused_auth(error: int, frames: list[int], resp: Message) -> AuthVerdict:
    """The responder answered IKE_AUTH with an error notify and no AUTH."""
    name = iana.NOTIFY_TYPES.name(error)
    fix = error_fix(error, ike=True)
    return AuthVerdict(
        "failed",
        "decrypted",
        f"the responder refused IKE_AUTH with {name} (frame {resp.frame})",
        [
            finding(
                notify_code(error),
                frames=frames,
                basis="decrypted",
                explanation=f"the responder answered IKE_AUTH with {name} and no AUTH",
                fix=fix[0],
                fix_cisco=fix[1],
                fix_strongswan=fix[2],
                rejected_by="responder",
                notify=name,
            )
        ],
    )


def _judge_read(sa: IkeSa, ex: Exchange, resp: Message) -> AuthVerdict:
    frames = [m.frame for m in (ex.request, resp) if m is not None]
    if N.AUTHENTICATION_FAILED in resp.notifies:
        how = f"it answered AUTHENTICATION_FAILED (frame {resp.frame})"
        return AuthVerdict(
            "failed",
            "decrypted",
            f"the responder rejected the initiator's AUTH (frame {resp.frame})",
            _rejected(sa, "responder", frames, "decrypted", how),
        )
    if ev.has_auth(resp):
        return _answered_with_auth(sa, ex, resp, frames)
    if ex.error is not None:
        return _refused_auth(ex.error, frames, resp)
    rej = _initiator_informational(sa, resp, auth_failed=True)
    if rej is not None and rej.request is not None:
        text, found = eap_abandoned(sa, ex, resp, rej.request, rej.response)
        return AuthVerdict("failed", "decrypted", text, found)
    # An IKE_AUTH round of EAP or multiple authentication, and nothing after it.
    return AuthVerdict(
        "incomplete", "decrypted", f"IKE_AUTH had not finished (last response frame {resp.frame})"
    )


def _answered_with_auth(sa: IkeSa, ex: Exchange, resp: Message, frames: list[int]) -> AuthVerdict:
    """The responder sent its AUTH: established, unless the initiator then said
    AUTHENTICATION_FAILED; a child SA refused in the same response is noted."""
    rej = _initiator_informational(sa, resp, auth_failed=True)
    if rej is not None and rej.request is not None:
        f2 = [*frames, rej.request.frame, *([rej.response.frame] if rej.response else [])]
        how = (
            f"after the IKE_AUTH response (frame {resp.frame}) it sent AUTHENTICATION_FAILED "
            f"in an INFORMATIONAL (frame {rej.request.frame})"
        )
        return AuthVerdict(
            "failed",
            "decrypted",
            f"the initiator rejected the responder's AUTH (frame {rej.request.frame})",
            _rejected(sa, "initiator", f2, "decrypted", how),
        )
    verdict = AuthVerdict("established", "decrypted", f"IKE_AUTH completed (frame {resp.frame})")
    if ex.error is not None and ex.error in CHILD_ERRORS:
        verdict.refused_child_error = ex.error
        verdict.refused_child_exchange = ex
        verdict.text += (
            f", but the responder refused its child SA with {iana.NOTIFY_TYPES.name(ex.error)}"
        )
    return verdict


def _judge_rounds(
    sa: IkeSa, analysis: ev.Facts, first: Exchange, ex: Exchange, resp: Message
) -> AuthVerdict:
    """Several IKE_AUTH round trips without keys (EAP, RFC 7296 2.16, or multiple
    authentication, RFC 4739): the last response's size says nothing of a child SA, since the SA
    and TS payloads were asked for in the first request; what followed decides."""
    rounds = sum(1 for e in sa.exchanges if e.exchange_type == X.IKE_AUTH and e.response)
    esp = ev.esp_after(analysis, sa, resp.ts)
    if len({(s.src, s.dst) for s in esp if s.packets}) >= 2:
        return AuthVerdict(
            "established",
            "inferred",
            f"IKE_AUTH took {rounds} round trips (EAP or multiple authentication), the last "
            f"answered in frame {resp.frame}, and ESP then flowed in both directions",
        )
    rej = _initiator_informational(sa, resp, auth_failed=False)
    if rej is not None and rej.request is not None and _rejected_at_once(sa, resp, rej):
        frames = [m.frame for m in (first.request, resp, rej.request, rej.response) if m]
        gap = (rej.request.ts - resp.ts) * 1000
        how = (
            f"{gap:.0f} ms after the response of IKE_AUTH round {rounds} (frame {resp.frame}) "
            f"the initiator sent an INFORMATIONAL (frame {rej.request.frame}) and the SA did "
            "nothing more, no ESP: most likely N(AUTHENTICATION_FAILED), the authentication "
            "(EAP) having failed or been refused; keys would tell which side refused"
        )
        return AuthVerdict(
            "failed",
            "inferred",
            f"the authentication most likely failed after {rounds} IKE_AUTH round trips: an "
            f"INFORMATIONAL from the initiator {gap:.0f} ms after the last response (frame "
            f"{rej.request.frame}), then nothing",
            [
                finding(
                    "authentication-failed",
                    frames=frames,
                    basis="inferred",
                    explanation=f"the authentication failed after {rounds} IKE_AUTH rounds: {how}",
                    fix=error_fix(24, ike=True)[0],
                    fix_cisco=error_fix(24, ike=True)[1],
                    fix_strongswan=error_fix(24, ike=True)[2],
                    rejected_by="initiator",
                )
            ],
        )
    later = [e for e in sa.exchanges if (e.request_ts or 0.0) > resp.ts]
    if any(e.exchange_type == X.CREATE_CHILD_SA and e.response for e in later):
        return AuthVerdict(
            "established",
            "inferred",
            f"IKE_AUTH took {rounds} round trips and CREATE_CHILD_SA exchanges followed, which "
            "need an established IKE SA",
        )
    return AuthVerdict(
        "unknown",
        "inferred",
        f"IKE_AUTH took {rounds} round trips (EAP or multiple authentication), the last answered "
        f"in frame {resp.frame}; nothing after it shows whether the SA came up; keys would tell",
    )


def _judge_sizes(sa: IkeSa, analysis: ev.Facts, ex: Exchange, resp: Message) -> AuthVerdict:
    """Without keys: what the sizes of the IKE_AUTH messages, then what followed, tell."""
    frames = [m.frame for m in (ex.request, resp) if m is not None]
    by_size = _by_size(sa, ex, resp, frames)
    if by_size is not None:
        return by_size
    return _by_what_followed(sa, analysis, ex, resp, frames)


def _by_size(sa: IkeSa, ex: Exchange, resp: Message, frames: list[int]) -> AuthVerdict | None:
    """A response too small for IDr and AUTH (refused), or for SA and TS (no child SA)."""
    least_auth = ev.min_auth_response(sa.chosen, with_child=False)
    least_child = ev.min_auth_response(sa.chosen, with_child=True)
    no_keys = "keys would show the error notify"
    if resp.fragment is None and least_auth is not None and resp.length < least_auth:
        how = (
            f"its encrypted IKE_AUTH response (frame {resp.frame}) is {resp.length} bytes, less "
            f"than the {least_auth} the negotiated cipher needs for IDr and AUTH, so it carries "
            f"only an error notify, most likely AUTHENTICATION_FAILED ({no_keys})"
        )
        return AuthVerdict(
            "failed",
            "inferred",
            f"the responder refused IKE_AUTH (frame {resp.frame}, {resp.length} bytes: too "
            "small for IDr and AUTH)",
            _rejected(sa, "responder", frames, "inferred", how),
        )
    req = ex.request
    childless = (
        req is not None
        and req.fragment is None
        and least_child is not None
        and req.length < least_child
    )
    if childless and least_child is not None and resp.length < least_child:
        # Neither message can hold SA and TS: the initiator asked for no child SA (RFC 6023),
        # so nothing was refused.
        return AuthVerdict(
            "established",
            "inferred",
            f"IKE_AUTH was answered (frame {resp.frame}); neither message is large enough for "
            "SA and TS payloads, so no child SA was asked for (childless, RFC 6023)",
        )
    if resp.fragment is None and least_child is not None and resp.length < least_child:
        child = _childless_then_child(sa, ex)
        if child is not None:
            return AuthVerdict(
                "established",
                "inferred",
                f"IKE_AUTH was answered (frame {resp.frame}) without room for SA and TS, the "
                "responder announced childless IKE SAs (RFC 6023) and a CREATE_CHILD_SA was "
                f"answered in full right after (frame {child}): most likely a childless IKE SA "
                "whose child SA came next; keys would tell",
            )
        verdict = AuthVerdict(
            "established",
            "inferred",
            f"IKE_AUTH was answered (frame {resp.frame}) with {resp.length} bytes: room for IDr "
            f"and AUTH but not for SA and TS ({least_child} bytes at least), so the IKE SA is "
            "most likely up without its first child SA",
        )
        verdict.refused_child_error = 0
        verdict.refused_child_exchange = ex
        return verdict
    return None


def _by_what_followed(
    sa: IkeSa, analysis: ev.Facts, ex: Exchange, resp: Message, frames: list[int]
) -> AuthVerdict:
    """ESP in both directions, later CREATE_CHILD_SA exchanges, or an INFORMATIONAL at once."""
    esp = ev.esp_after(analysis, sa, resp.ts)
    directions = {(s.src, s.dst) for s in esp if s.packets}
    if len(directions) >= 2:
        return AuthVerdict(
            "established",
            "inferred",
            f"IKE_AUTH was answered (frame {resp.frame}) and ESP then flowed in both directions",
        )
    later = [
        e for e in sa.exchanges if e.exchange_type == X.CREATE_CHILD_SA and e.response is not None
    ]
    if later or sa.rekeyed_into is not None:
        first = later[0].response.frame if later and later[0].response else "?"
        return AuthVerdict(
            "established",
            "inferred",
            f"IKE_AUTH was answered (frame {resp.frame}) and the peers went on to "
            f"CREATE_CHILD_SA exchanges (frame {first}), which need an established IKE SA",
        )
    if not directions:
        informational = _by_informational(sa, resp, frames)
        if informational is not None:
            return informational
    if directions:
        return AuthVerdict(
            "established",
            "inferred",
            f"IKE_AUTH was answered (frame {resp.frame}) and ESP followed, in one direction only",
        )
    return AuthVerdict(
        "unknown",
        "inferred",
        f"IKE_AUTH was answered (frame {resp.frame}, {resp.length} bytes, enough for success) "
        "but nothing after it shows whether the SA came up; keys would tell",
    )


def _by_informational(sa: IkeSa, resp: Message, frames: list[int]) -> AuthVerdict | None:
    """No ESP: an INFORMATIONAL from the initiator right after the answer (a rejected AUTH or
    an immediate delete), or later (it may be either)."""
    rej = _initiator_informational(sa, resp, auth_failed=False)
    if rej is None or rej.request is None:  # (the search only returns requests seen)
        return None
    if _rejected_at_once(sa, resp, rej):
        gap = (rej.request.ts - resp.ts) * 1000
        how = (
            f"{gap:.0f} ms after the IKE_AUTH response (frame {resp.frame}) it sent an "
            f"INFORMATIONAL (frame {rej.request.frame}) and the SA did nothing more, no ESP: most "
            "likely N(AUTHENTICATION_FAILED) (RFC 7296 2.21.2), else an immediate delete; keys "
            "would tell which"
        )
        f2 = [*frames, rej.request.frame, *([rej.response.frame] if rej.response else [])]
        return AuthVerdict(
            "failed",
            "inferred",
            f"the initiator most likely rejected the responder's AUTH: an INFORMATIONAL "
            f"{gap:.0f} ms after the IKE_AUTH response (frame {rej.request.frame}), then nothing",
            _rejected(sa, "initiator", f2, "inferred", how),
        )
    return AuthVerdict(
        "unknown",
        "inferred",
        f"IKE_AUTH was answered (frame {resp.frame}) but no ESP followed and the initiator "
        f"sent an INFORMATIONAL {rej.request.ts - resp.ts:.1f} s later (frame "
        f"{rej.request.frame}): it may have rejected the responder's AUTH or deleted the SA; "
        "keys would tell",
    )


__all__ = ["AuthVerdict", "judge_auth"]
