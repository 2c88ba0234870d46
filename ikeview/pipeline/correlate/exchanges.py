"""The exchange shapes: what a complete request or response of each exchange type changes.

:data:`SHAPES` maps an exchange type to its pair of handlers (on request, on response); a type
not in it (IKE_INTERMEDIATE, say) is recorded but changes nothing. Every response first goes
through :func:`check_response` (rule 4: retries and error notifies). A handler is called once
per message, when all of it is here (every SKF fragment, or decrypted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ikeview import iana
from ikeview.diagnosis.codes import notify_code
from ikeview.dissectors.ike_records import (
    DeletePayload,
    KePayload,
    NoncePayload,
    SaPayload,
    SkfPayload,
)
from ikeview.dissectors.notify_data import NotifyGroup, NotifyRedirect
from ikeview.pipeline import nat
from ikeview.pipeline.correlate import rekeys, state
from ikeview.pipeline.correlate.auth import auth_request, auth_response
from ikeview.pipeline.correlate.builders import Ex, Sa
from ikeview.pipeline.correlate.children import make_child, rekey_ike
from ikeview.pipeline.correlate.context import Context
from ikeview.pipeline.correlate.mobike import mobike_purpose
from ikeview.pipeline.correlate.payloads import (
    RETRY_NOTIFIES,
    algorithms,
    ename,
    error_notify,
    first,
    key_exchange,
    nname,
    notifies,
    spi_int,
)
from ikeview.pipeline.ike_seam import IkeSaSetup
from ikeview.pipeline.model import Message

ET = iana.ExchangeType
PROTO_IKE = iana.ProtocolId.IKE

Handler = Callable[[Context, Sa, Ex, Message], None]


def noop(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    return None


def check_response(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    """Rule 4: retries and error notifies, for every exchange type."""
    payloads = ex.resp.payloads
    if ex.exchange_type in (ET.IKE_SA_INIT, ET.IKE_AUTH) and redirect_to(payloads) is not None:
        # RFC 5685 sections 4.2, 6: the gateway sends the initiator elsewhere; the request is
        # repeated there under a new SPIi.
        ex.retry = iana.NotifyType.REDIRECT
        return
    if ex.exchange_type in (ET.IKE_SA_INIT, ET.CREATE_CHILD_SA):
        for n in notifies(payloads):
            if n.notify_type in RETRY_NOTIFIES:
                ex.retry = n.notify_type
                return
    err = error_notify(payloads)
    if err is not None:
        ex.error = err
        ctx.problem(
            "error",
            f"IKE SA {sa.label}: {ename(ex.exchange_type)} mid "
            f"{ex.message_id} failed with {nname(err)} (frame {m.frame})",
            frame=m.frame,
            sa=sa,
            code=notify_code(err),
        )


# ---------------------------------------------------------------- IKE_SA_INIT


def redirect_to(payloads: Iterable[object], kind: int = iana.NotifyType.REDIRECT) -> str | None:
    """The gateway a REDIRECT (or REDIRECTED_FROM) notify names (RFC 5685 section 8), or None."""
    for n in notifies(payloads):
        if n.notify_type == kind:
            return n.decoded.gateway if isinstance(n.decoded, NotifyRedirect) else "?"
    return None


def init_request(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    sa_p = first(ex.req.payloads, SaPayload)
    if sa_p is not None:
        sa.offered = sa_p.proposals
    if sa.initiator is None:
        sa.initiator, sa.responder = m.flow.src, m.flow.dst
    came_from = redirect_to(ex.req.payloads, iana.NotifyType.REDIRECTED_FROM)
    if came_from is not None and not sa.retries:
        # RFC 5685 section 4.2: this IKE_SA_INIT follows a REDIRECT from that gateway.
        sa.retries.append(f"REDIRECT from {came_from}")


def redirected(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    """An IKE_SA_INIT or IKE_AUTH answered with REDIRECT: the SA ends here, said where to."""
    gateway = redirect_to(ex.resp.payloads) or "?"
    sa.retries.append(f"REDIRECT(to {gateway})")
    state.advance(sa, state.Event.REDIRECTED)
    sa.failure = f"redirected to {gateway} by {ename(ex.exchange_type)} response (frame {m.frame})"
    ex.purpose = f"redirect to {gateway}"


def _retry_text(ex: Ex, retry: int) -> str:
    """``COOKIE``, or ``INVALID_KE_PAYLOAD(group ...)`` naming the group the responder wants."""
    what = nname(retry)
    if retry == iana.NotifyType.INVALID_KE_PAYLOAD:
        n = next((x for x in notifies(ex.resp.payloads) if x.notify_type == retry), None)
        if n is not None and isinstance(n.decoded, NotifyGroup):
            what += f"(group {iana.DH_GROUPS.name(n.decoded.group)})"
    return what


def init_response(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    if ex.retry == iana.NotifyType.REDIRECT:
        redirected(ctx, sa, ex, m)
        return
    if ex.retry is not None:
        sa.retries.append(_retry_text(ex, ex.retry))
        return
    if ex.error is not None:
        state.advance(sa, state.Event.INIT_FAILED)
        sa.failure = f"{nname(ex.error)} in IKE_SA_INIT response (frame {m.frame})"
        return
    sa_p = first(ex.resp.payloads, SaPayload)
    if sa_p is not None and sa_p.proposals:
        sa.chosen = sa_p.proposals[0]
    ke_r = first(ex.resp.payloads, KePayload)
    ni = first(ex.req.payloads, NoncePayload)
    nr = first(ex.resp.payloads, NoncePayload)
    if ke_r is not None:
        sa.dh_group = ke_r.group
    state.advance(sa, state.Event.INIT_ANSWERED)
    req = ex.request
    if req is not None:
        sa.nat_checks.append(("initiator", nat.check(req.spi_i, req.spi_r, req.payloads, req.flow)))
    sa.nat_checks.append(("responder", nat.check(m.spi_i, m.spi_r, m.payloads, m.flow)))
    if sa.chosen is None or ni is None or nr is None:
        ctx.problem(
            "warning",
            f"IKE SA {sa.label}: IKE_SA_INIT lacks SA, nonce or its "
            "request; keys cannot be derived",
            frame=m.frame,
            sa=sa,
        )
        return
    setup = IkeSaSetup(
        spis=sa.spis,
        ni=ni.data,
        nr=nr.data,
        algorithms=algorithms(sa.chosen),
        ke=key_exchange(ex),
        initiator=sa.initiator or "",
        responder=sa.responder or "",
        init_request=ex.req.raw.get(0),
        init_response=ex.resp.raw.get(0),
    )
    ctx.register_ike(sa, setup)


def auth_or_redirect(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    """IKE_AUTH response: a REDIRECT in it ends the SA (RFC 5685 section 6), else AUTH."""
    if ex.retry == iana.NotifyType.REDIRECT:
        redirected(ctx, sa, ex, m)
        return
    auth_response(ctx, sa, ex, m)


# ---------------------------------------------------------------- CREATE_CHILD_SA


def child_purpose(ex: Ex) -> str:
    req_sa = first(ex.req.payloads, SaPayload)
    if req_sa is not None and any(p.protocol_id == PROTO_IKE for p in req_sa.proposals):
        return "rekey IKE SA"
    if any(n.notify_type == iana.NotifyType.REKEY_SA for n in notifies(ex.req.payloads)):
        return "rekey child SA"
    return "new child SA"


def create_child_response(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    if ex.retry is not None or ex.error is not None:
        if ex.error is not None:
            ex.purpose = child_purpose(ex)
        return
    if not (ex.req.decrypted and ex.resp.decrypted):
        return
    req_sa = first(ex.req.payloads, SaPayload)
    resp_sa = first(ex.resp.payloads, SaPayload)
    if req_sa is None or resp_sa is None:
        return
    chosen = resp_sa.proposals[0] if resp_sa.proposals else None
    if chosen is not None and chosen.protocol_id == PROTO_IKE and len(chosen.spi) == 8:
        rekey_ike(ctx, sa, ex, m, req_sa, chosen)
    else:
        ex.purpose = child_purpose(ex)
        make_child(ctx, sa, ex, m)


# ---------------------------------------------------------------- INFORMATIONAL


def info_request(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    if not ex.req.decrypted:
        return
    inner = [p for p in ex.req.payloads if not isinstance(p, SkfPayload)]
    deletes = [p for p in inner if isinstance(p, DeletePayload)]
    ex.purpose = mobike_purpose(sa, ex, m, inner)
    gateway = redirect_to(inner)
    if gateway is not None:
        # RFC 5685 section 5: the gateway moves an established SA's client elsewhere.
        ex.purpose = f"redirect to {gateway}"
    if not inner:
        # RFC 7296 section 1.4: an empty INFORMATIONAL request checks the peer is alive.
        ex.purpose = "liveness check"
    for d in deletes:
        if d.protocol_id == PROTO_IKE:
            ex.purpose = "delete IKE SA"
            sa.deleted_ts = m.ts
            state.advance(sa, state.Event.DELETED)
            rekeys.ike_deleted(sa, m.ts)
        else:
            ex.purpose = ex.purpose or "delete child SA"
            delete_children(ctx, d, m.ts)
    if not deletes and ex.purpose is None:
        # An error notify is what the request says (RFC 7296 2.21.2: AUTHENTICATION_FAILED
        # from an initiator that rejected the responder's AUTH or gave up on EAP).
        errors = [n.notify_type for n in notifies(inner) if n.notify_type < 16384]
        ex.purpose = iana.NOTIFY_TYPES.name(errors[0]) if errors else "informational"


def info_response(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    if not ex.resp.decrypted:
        return
    for d in ex.resp.payloads:
        if isinstance(d, DeletePayload) and d.protocol_id != PROTO_IKE:
            delete_children(ctx, d, m.ts)


def delete_children(ctx: Context, d: DeletePayload, ts: float) -> None:
    """Rule 6: the child SAs whose SPIs a Delete lists end at ``ts`` (the first delete wins)."""
    for spi in d.spis:
        child = ctx.child_by_spi.get(spi_int(spi))
        if child is not None and child.deleted_ts is None:
            child.deleted_ts = ts


def intermediate_request(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    """IKE_INTERMEDIATE (RFC 9242) and IKE_FOLLOWUP_KE (RFC 9370): named; an SA that used them
    has AUTH octets with IntAuth and, with additional key exchanges, keys from more than the
    IKE_SA_INIT g^ir. Neither is computed here: its AUTHs are left unchecked (auth.py)."""
    ex.purpose = (
        "intermediate exchange (RFC 9242)"
        if ex.exchange_type == ET.IKE_INTERMEDIATE
        else "follow-up key exchange (RFC 9370)"
    )
    if not sa.intermediate:
        sa.intermediate = True
        ctx.problem(
            "warning",
            f"IKE SA {sa.label}: {ename(ex.exchange_type)} seen (frame {m.frame}): ikeview "
            "does not fold IntAuth (RFC 9242) or additional key exchanges (RFC 9370) into AUTH "
            "and keys; its AUTHs are not checked and later messages may not decrypt",
            frame=m.frame,
            sa=sa,
        )


SHAPES: dict[int, tuple[Handler, Handler]] = {
    ET.IKE_SA_INIT: (init_request, init_response),
    ET.IKE_AUTH: (auth_request, auth_or_redirect),
    ET.CREATE_CHILD_SA: (noop, create_child_response),
    ET.INFORMATIONAL: (info_request, info_response),
    ET.IKE_INTERMEDIATE: (intermediate_request, noop),
    ET.IKE_FOLLOWUP_KE: (intermediate_request, noop),
}
"""Exchange type -> (on request, on response)."""
DEFAULT_SHAPE: tuple[Handler, Handler] = (noop, noop)
