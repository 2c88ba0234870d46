"""What an answered IKE_AUTH or CREATE_CHILD_SA makes: a child SA (rule 5, RFC 7296 1.3.1) or a
successor IKE SA (RFC 7296 1.3.2), each registered with the decryptor before any of its
traffic arrives (capture order is the protocol's order).
"""

from __future__ import annotations

from ikeview import iana
from ikeview.dissectors.ike_records import (
    KePayload,
    NoncePayload,
    Payload,
    Proposal,
    SaPayload,
    TrafficSelector,
    TsPayload,
)
from ikeview.pipeline.correlate import rekeys, state
from ikeview.pipeline.correlate.builders import Child, Ex, Sa
from ikeview.pipeline.correlate.context import Context
from ikeview.pipeline.correlate.payloads import (
    algorithms,
    first,
    has_notify,
    key_exchange,
    notifies,
    spi_int,
)
from ikeview.pipeline.ike_seam import ChildSaSetup, IkeSaSetup
from ikeview.pipeline.model import Message


def rekey_ike(
    ctx: Context, sa: Sa, ex: Ex, m: Message, req_sa: SaPayload, chosen: Proposal
) -> None:
    """Rule 5: the successor IKE SA, registered before any of its messages arrive."""
    ex.purpose = "rekey IKE SA"
    offered = next((p for p in req_sa.proposals if p.number == chosen.number), None)
    offered = offered or (req_sa.proposals[0] if req_sa.proposals else None)
    if offered is None or len(offered.spi) != 8:
        return
    req_flow = (ex.request or m).flow
    st, inferred = state.OPENED_BY_REKEY
    new = Sa(
        offered.spi,
        chosen.spi,
        req_flow.src,
        req_flow.dst,
        req_flow.ts,
        m.ts,
        ex.exchange_type,
        st,
        state_inferred=inferred,
        established_ts=m.ts,
        offered=req_sa.proposals,
        chosen=chosen,
        rekey_of=sa.spis,
    )
    ke_r = first(ex.resp.payloads, KePayload)
    ni = first(ex.req.payloads, NoncePayload)
    nr = first(ex.resp.payloads, NoncePayload)
    new.dh_group = ke_r.group if ke_r is not None else None
    new.udp_encap = sa.udp_encap
    new.lowest_nonce = rekeys.lowest(ni.data if ni else None, nr.data if nr else None)
    state.advance(sa, state.Event.REKEYED)
    ctx.add_sa(new)
    rekeys.ike_rekeyed(ctx, sa, new, m.ts)
    if ni is not None and nr is not None:
        setup = IkeSaSetup(
            spis=new.spis,
            ni=ni.data,
            nr=nr.data,
            algorithms=algorithms(chosen),
            ke=key_exchange(ex),
            initiator=req_flow.src,
            responder=req_flow.dst,
            init_request=None,
            init_response=None,
            parent=sa.spis,
        )
        ctx.register_ike(new, setup)


def _selectors(
    payloads: list[Payload],
) -> tuple[tuple[TrafficSelector, ...], tuple[TrafficSelector, ...]]:
    """TSi and TSr of a response (the last of each, as sent)."""
    ts_i: tuple[TrafficSelector, ...] = ()
    ts_r: tuple[TrafficSelector, ...] = ()
    for p in payloads:
        if isinstance(p, TsPayload):
            if p.which == "TSi":
                ts_i = p.selectors
            else:
                ts_r = p.selectors
    return ts_i, ts_r


def _new_child(
    sa: Sa, ex: Ex, m: Message, req_payloads: list[Payload]
) -> tuple[Child, Proposal] | None:
    """The child SA an answered exchange agreed on (and the proposal chosen), from its request
    and response payloads."""
    req_sa = first(req_payloads, SaPayload)
    resp_sa = first(ex.resp.payloads, SaPayload)
    if resp_sa is None or not resp_sa.proposals:
        return None
    chosen = resp_sa.proposals[0]
    offered = req_sa.proposals if req_sa is not None else ()
    mine = next((p for p in offered if p.number == chosen.number), None)
    mine = mine or (offered[0] if offered else None)
    req_flow = (ex.request or m).flow
    # RFC 7296 1.3.1: transport mode only when both sides asked for it.
    transport = has_notify(req_payloads, iana.NotifyType.USE_TRANSPORT_MODE) and has_notify(
        ex.resp.payloads, iana.NotifyType.USE_TRANSPORT_MODE
    )
    ts_i, ts_r = _selectors(ex.resp.payloads)
    rekey = next(
        (n for n in notifies(req_payloads) if n.notify_type == iana.NotifyType.REKEY_SA), None
    )
    child = Child(
        ike=sa.spis,
        protocol_id=chosen.protocol_id,
        spi_i=spi_int(mine.spi) if mine else 0,
        spi_r=spi_int(chosen.spi),
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
        rekey_of=spi_int(rekey.spi) if rekey is not None else None,
    )
    return child, chosen


def make_child(ctx: Context, sa: Sa, ex: Ex, m: Message) -> None:
    """Record the child SA an exchange made and register its keys with the decryptor."""
    req_payloads = ex.req.payloads
    if ex.exchange_type == iana.ExchangeType.IKE_AUTH and first(req_payloads, SaPayload) is None:
        req_payloads = sa.child_offer
    made = _new_child(sa, ex, m, req_payloads)
    if made is None:
        return
    child, chosen = made
    sa.children.append(child)
    if ex.exchange_type == iana.ExchangeType.CREATE_CHILD_SA:
        n_i, n_r = first(ex.req.payloads, NoncePayload), first(ex.resp.payloads, NoncePayload)
        child.lowest_nonce = rekeys.lowest(n_i.data if n_i else None, n_r.data if n_r else None)
    if child.rekey_of is not None:
        old = ctx.child_by_spi.get(child.rekey_of)
        if old is not None:
            rekeys.child_rekeyed(ctx, old, child)
    ctx.child_by_spi[child.spi_i] = child
    ctx.child_by_spi[child.spi_r] = child
    ni = nr = None
    ke = None
    if ex.exchange_type == iana.ExchangeType.CREATE_CHILD_SA:
        n_i = first(ex.req.payloads, NoncePayload)
        n_r = first(ex.resp.payloads, NoncePayload)
        ni = n_i.data if n_i is not None else None
        nr = n_r.data if n_r is not None else None
        ke = key_exchange(ex)
    setup = ChildSaSetup(
        ike=sa.spis,
        spi_at_initiator=child.spi_i,
        spi_at_responder=child.spi_r,
        algorithms=algorithms(chosen),
        ni=ni,
        nr=nr,
        ke=ke,
        initiator=child.initiator,
        responder=child.responder,
    )
    problem = ctx.decryptor.child_sa(setup)
    if problem:
        child.problem = problem
        ctx.problem("warning", problem, frame=m.frame, sa=sa)
