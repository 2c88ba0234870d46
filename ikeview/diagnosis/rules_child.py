"""Child SA rules: refusals in IKE_AUTH / CREATE_CHILD_SA (read from the error notify, or
inferred from the response's size without keys), error notifies in other exchanges, and weak
ESP algorithms.

``child_refusals`` returns ``(response frame, finding)`` pairs: the engine puts a finding on
the refused child SA the model keeps for that response, else on the IKE SA.
"""

from __future__ import annotations

from ikeview.diagnosis import facts as F
from ikeview.diagnosis.facts import Context, finding
from ikeview.diagnosis.proposals import cisco, strongswan
from ikeview.diagnosis.records import Finding
from ikeview.diagnosis.weak import weak_finding
from ikeview.dissectors import iana
from ikeview.dissectors.ike_records import Proposal, SaPayload, TsPayload
from ikeview.pipeline.model import ChildSa, Exchange, IkeSa, Message, proposal_text, ts_text

_CHILD_ERRORS = {
    F.N_NO_PROPOSAL_CHOSEN: "no-proposal-chosen",
    F.N_TS_UNACCEPTABLE: "ts-unacceptable",
    F.N_SINGLE_PAIR_REQUIRED: "single-pair-required",
    F.N_INTERNAL_ADDRESS_FAILURE: "internal-address-failure",
    F.N_FAILED_CP_REQUIRED: "failed-cp-required",
    F.N_TEMPORARY_FAILURE: "temporary-failure",
    F.N_CHILD_SA_NOT_FOUND: "child-sa-not-found",
    F.N_INVALID_SYNTAX: "invalid-syntax",
}

MIN_CREATE_CHILD_RESPONSE_INNER = F.GENERIC_HEADER + 16 + F.MIN_SA_CHILD
"""A CREATE_CHILD_SA success carries at least SA and a 16-octet Nonce (RFC 7296 1.3, 2.10)."""


def _payloads(m: Message | None) -> tuple[object, ...]:
    return () if m is None else (*m.payloads, *m.inner)


def offered(ex: Exchange, sa: IkeSa) -> tuple[Proposal, ...]:
    """The SA proposals in the exchange's request (for IKE_AUTH with EAP: the first request)."""
    requests = [ex.request]
    if ex.exchange_type == F.IKE_AUTH:
        requests += [e.request for e in sa.exchanges if e.exchange_type == F.IKE_AUTH]
    for m in requests:
        for p in _payloads(m):
            if isinstance(p, SaPayload):
                return p.proposals
    return ()


def _ts(m: Message | None) -> str:
    parts = []
    for p in _payloads(m):
        if isinstance(p, TsPayload):
            parts.append(f"{p.which} " + ", ".join(ts_text(t) for t in p.selectors))
    return "; ".join(parts)


def _refusal(sa: IkeSa, ex: Exchange) -> Finding:
    assert ex.response is not None and ex.error is not None
    name = iana.NOTIFY_TYPES.name(ex.error)
    c = _CHILD_ERRORS.get(ex.error, "error-notify")
    fr = ex.response.frame
    frames = F.request_frames(ex)
    what = "the child SA" if ex.exchange_type == F.IKE_AUTH else f"the {ex.purpose or 'child SA'}"
    text = (
        f"The {'responder' if ex.requester == 'initiator' else 'initiator'} refused {what} "
        f"with {name} (frame {fr})"
    )
    if c == "no-proposal-chosen":
        props = offered(ex, sa)
        first = props[0] if props else None
        return finding(
            c, frames, "decrypted",
            text + "; offered: "
            + ("; ".join(f"#{p.number} {proposal_text(p)}" for p in props) or "not seen") + ".",
            fix_cisco=None if first is None else f"Accept one of them, e.g. {cisco(first)}.",
            fix_strongswan=None if first is None else
            f"Accept one of them, e.g. esp_proposals = {strongswan(first)}.",
            notify=name, offered=tuple(proposal_text(p) for p in props), exchange=ex.name,
        )  # fmt: skip
    if c == "ts-unacceptable":
        proposed = _ts(ex.request)
        return finding(c, frames, "decrypted",
                       text + (f"; proposed: {proposed}." if proposed else "."),
                       notify=name, proposed=proposed or None, exchange=ex.name)  # fmt: skip
    return finding(c, frames, "decrypted", text + ".", notify=name, exchange=ex.name)


def child_refusals(sa: IkeSa, ctx: Context) -> list[tuple[int, Finding]]:
    """Refused child SAs: an error notify in an IKE_AUTH response that also carries AUTH (the
    IKE SA stands, RFC 7296 1.2/2.21.3) or in a CREATE_CHILD_SA response (1.3); without keys a
    CREATE_CHILD_SA response too small for SA + Nonce (``child-sa-refused``)."""
    out: list[tuple[int, Finding]] = []
    for ex in sa.exchanges:
        resp = F.answer(ex)
        if resp is None or ex.exchange_type not in (F.IKE_AUTH, F.CREATE_CHILD_SA):
            continue
        if ex.error is not None and F.readable(resp):
            if ex.exchange_type == F.IKE_AUTH and 39 not in resp.inner_types:
                continue  # the IKE SA itself was refused: rules_ike says so
            out.append((resp.frame, _refusal(sa, ex)))
        elif ex.exchange_type == F.CREATE_CHILD_SA and not F.readable(resp) and ex.retry is None:
            least = F.sk_size(sa.chosen, MIN_CREATE_CHILD_RESPONSE_INNER)
            size = F.message_size(ex, True) or resp.length
            if least is not None and size < least:
                out.append((resp.frame, finding(
                    "child-sa-refused", F.request_frames(ex), "inferred",
                    f"The CREATE_CHILD_SA response (frame {resp.frame}, {size} bytes) is too "
                    f"small for SA and Nonce ({least} needed): the {ex.requester}'s request was "
                    "refused (keys would show the notify, e.g. NO_PROPOSAL_CHOSEN, "
                    "TS_UNACCEPTABLE or TEMPORARY_FAILURE).",
                    severity="warning", exchange=ex.name,
                )))  # fmt: skip
    return out


def other_errors(sa: IkeSa, ctx: Context) -> list[Finding]:
    """Error notifies in INFORMATIONAL responses (INVALID_SYNTAX, CHILD_SA_NOT_FOUND, ...).
    Evidence: the decrypted notify. RFC 7296 3.10.1."""
    out: list[Finding] = []
    for ex in sa.exchanges:
        if ex.exchange_type != F.INFORMATIONAL or ex.error is None or ex.response is None:
            continue
        if ex.error == F.N_AUTHENTICATION_FAILED:
            continue
        name = iana.NOTIFY_TYPES.name(ex.error)
        c = _CHILD_ERRORS.get(ex.error, "error-notify")
        out.append(finding(
            c, F.request_frames(ex), "decrypted",
            f"The {'responder' if ex.requester == 'initiator' else 'initiator'} answered an "
            f"INFORMATIONAL with {name} (frame {ex.response.frame}).",
            notify=name, exchange=ex.name,
        ))  # fmt: skip
    return out


def weak_esp(child: ChildSa) -> list[Finding]:
    """``weak-algorithm`` for a child SA's chosen proposal (RFC 8221 sections 5-6; RFC 8247 3.4
    for a PFS group). Evidence: the decrypted SA payload of the response."""
    if child.proposal is None:
        return []
    return list(weak_finding(child.proposal, child.created_frame, "decrypted", ike=False,
                             what="The child SA"))  # fmt: skip


__all__ = ["child_refusals", "offered", "other_errors", "weak_esp"]
