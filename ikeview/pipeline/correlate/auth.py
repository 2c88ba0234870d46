"""The IKE_AUTH shape (RFC 7296 1.2, 2.15, 2.16): identities, AUTH checks, the first child SA.

AUTH payloads wait in ``Sa.pending_auth`` until both sides are in (or the exchange ends without
one): PSKs may be scoped to either side's identity, so both go to the decryptor before any
verdict is final.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ikeview import iana
from ikeview.diagnosis.codes import notify_code
from ikeview.dissectors.ike_records import (
    AuthPayload,
    CertPayload,
    EapPayload,
    IdPayload,
    Payload,
    SaPayload,
)
from ikeview.pipeline.correlate import state
from ikeview.pipeline.correlate.builders import Ex, Sa
from ikeview.pipeline.correlate.children import make_child
from ikeview.pipeline.correlate.context import Context
from ikeview.pipeline.correlate.eap import EapTrack, eap_round
from ikeview.pipeline.correlate.payloads import first, has_notify, nname
from ikeview.pipeline.ids import SIDES, Side
from ikeview.pipeline.ike_seam import AuthClaim, AuthVerdict
from ikeview.pipeline.model import AuthRound, AuthSide, Message


def track_eap(sa: Sa, payloads: Sequence[object]) -> None:
    """Note the EAP payloads of a decrypted IKE_AUTH message (RFC 7296 section 2.16)."""
    for p in payloads:
        if isinstance(p, EapPayload):
            if sa.eap is None:
                sa.eap = EapTrack()
            sa.eap.see(p)


def after_eap(sa: Sa, side: Side) -> bool:
    """True when ``side``'s AUTH is one sent after EAP (over the MSK): the initiator's whenever
    it used EAP, the responder's once EAP succeeded (its first AUTH is an ordinary one)."""
    if sa.eap is None:
        return False
    return side == "initiator" or sa.eap.success is True


def auth_payloads(sa: Sa, payloads: list[Payload], side: Side, frame: int) -> None:
    """Identity and AUTH of one side; the AUTH waits in ``pending_auth`` for its check."""
    id_p = first(payloads, IdPayload)
    if id_p is not None:
        sa.ids[side] = id_p
    else:
        # EAP (RFC 7296 2.16): the last AUTH comes rounds after the ID it covers.
        id_p = sa.ids.get(side)
    auth_p = first(payloads, AuthPayload)
    if auth_p is None:
        if id_p is not None and side not in sa.auth:
            sa.auth[side] = AuthSide(
                side, id_p.text, id_p.id_type, None, None, None, "no AUTH payload", frame
            )
        return
    certs = tuple(p for p in payloads if isinstance(p, CertPayload))
    sa.pending_auth[side] = (auth_p, id_p, certs, frame)


def verify_pending(ctx: Context, sa: Sa) -> None:
    """Check the AUTH payloads seen, once both are in (or the exchange ended without one):
    both go to the decryptor in one call, which may explain one side by the other."""
    if not sa.pending_auth:
        return
    order = [s for s in SIDES if s in sa.pending_auth]
    claims = tuple(
        AuthClaim(
            side,
            sa.pending_auth[side][0],
            sa.pending_auth[side][1],
            sa.pending_auth[side][2],
            eap=sa.eap.run() if sa.eap is not None and after_eap(sa, side) else None,
        )
        for side in order
    )
    if sa.intermediate:
        # RFC 9242 section 3.3.2: AUTH covers the IntAuth of every IKE_INTERMEDIATE, which is
        # not computed here; a check without it would fail every AUTH falsely.
        verdicts = tuple(
            AuthVerdict(c.side, c.auth.method, None, None,
                        "not checked: AUTH after IKE_INTERMEDIATE covers IntAuth (RFC 9242)")
            for c in claims
        )  # fmt: skip
    else:
        verdicts = ctx.decryptor.verify_auth(sa.spis, claims)
    for claim, verdict in zip(claims, verdicts, strict=True):
        side = claim.side
        auth_p, id_p, _certs, frame = sa.pending_auth.pop(side)
        earlier = sa.auth.get(side)
        if earlier is not None and earlier.method is not None and earlier.frame != frame:
            # A second AUTH of a side: the responder's over the MSK (RFC 7296 2.16), or a later
            # round (RFC 4739, its own ID). The first verdict stays, this one is added to it.
            sa.auth[side] = _with_later_verdict(earlier, verdict, claim, frame)
            continue
        sa.auth[side] = AuthSide(
            side=side,
            identity=id_p.text if id_p is not None else None,
            id_type=id_p.id_type if id_p is not None else None,
            method=auth_p.method,
            verified=verdict.verified,
            psk=verdict.psk,
            detail=verdict.detail,
            frame=frame,
        )
        if verdict.verified is False:
            ctx.problem(
                "error",
                f"IKE SA {sa.label}: {side}'s AUTH did not verify "
                f"(frame {frame}): {verdict.detail}",
                frame=frame,
                sa=sa,
            )


def _with_later_verdict(
    first_auth: AuthSide, verdict: AuthVerdict, claim: AuthClaim, frame: int
) -> AuthSide:
    both = (first_auth.verified, verdict.verified)
    verified = False if False in both else (True if both == (True, True) else first_auth.verified)
    rounds = first_auth.more_rounds
    if claim.side == "initiator" or claim.eap is None:
        # Not the responder's AUTH over the MSK, which closes its own (first) round.
        text = claim.identity.text if claim.identity is not None else None
        rounds += (AuthRound(text, int(claim.auth.method), verdict.verified, frame),)
    label = "after EAP" if claim.eap is not None else f"round {len(rounds) + 1}"
    return replace(
        first_auth,
        verified=verified,
        detail=f"{first_auth.detail}; {label}: {verdict.detail}",
        more_rounds=rounds,
    )


def auth_request(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    if ex.req.decrypted:
        track_eap(sa, ex.req.payloads)
        auth_payloads(sa, ex.req.payloads, ex.requester, m.frame)
        if first(ex.req.payloads, SaPayload) is not None:
            # With EAP the child SA is offered in the first IKE_AUTH request and accepted in
            # the last response (RFC 7296 2.16): remember the offer.
            sa.child_offer = list(ex.req.payloads)


def auth_response(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    if not ex.resp.decrypted:
        verify_pending(ctx, sa)
        return
    other: Side = "responder" if ex.requester == "initiator" else "initiator"
    track_eap(sa, ex.resp.payloads)
    if sa.eap is not None and sa.eap.success is False and sa.eap.password is None:
        # Refused: no final AUTH will show whether the password given is the client's.
        sa.eap.password = ctx.decryptor.check_eap_password(sa.eap.run())
    rounds = [r for r in (eap_round(ex.req.payloads), eap_round(ex.resp.payloads)) if r]
    if rounds and ex.purpose is None:
        ex.purpose = " / ".join(rounds)
    auth_payloads(sa, ex.resp.payloads, other, m.frame)
    verify_pending(ctx, sa)
    has_auth = first(ex.resp.payloads, AuthPayload) is not None
    # RFC 7296 2.16: with EAP the responder's AUTH comes in the first response, next to an
    # EAP request; the SA stands only after the last round (AUTH without EAP).
    more_rounds = first(ex.resp.payloads, EapPayload) is not None
    # RFC 4739: N(ANOTHER_AUTH_FOLLOWS) in the request announces another authentication round
    # (its own IDi and AUTH, often EAP) before the SA stands.
    more_rounds |= has_notify(ex.req.payloads, iana.NotifyType.ANOTHER_AUTH_FOLLOWS)
    if more_rounds and ex.error is None:
        return
    if has_auth and not has_notify(ex.resp.payloads, iana.NotifyType.AUTHENTICATION_FAILED):
        state.advance(sa, state.Event.AUTH_DONE, m.ts)
        if first(ex.resp.payloads, SaPayload) is not None:
            make_child(ctx, sa, ex, m)
        elif ex.error is not None:
            ctx.problem(
                "warning",
                f"IKE SA {sa.label}: established without its first child SA ({nname(ex.error)})",
                frame=m.frame,
                sa=sa,
                code=notify_code(ex.error),
            )
    elif ex.error is not None:
        state.advance(sa, state.Event.AUTH_FAILED)
        sa.failure = f"{nname(ex.error)} in IKE_AUTH response (frame {m.frame})"
