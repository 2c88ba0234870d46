"""A CREATE_CHILD_SA sent again with another KE group (RFC 7296 1.3, 2.7, 3.10.1).

When the KE payload of a CREATE_CHILD_SA (PFS for a child SA, or an IKE SA rekey) is for a group
the responder does not want, it answers N(INVALID_KE_PAYLOAD) naming its group and the
initiator sends the request again with that group: one round trip lost, nothing refused. Without
keys the answer is just a response too small for SA and Nonce, followed at once by a new request
from the same peer that is answered in full: most likely this retry, not a refused child SA.
"""

from __future__ import annotations

from collections.abc import Iterator

from ikeview import iana
from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis.codes import finding
from ikeview.diagnosis.records import Finding
from ikeview.dissectors.ike_records import KePayload
from ikeview.pipeline.model import Exchange, IkeSa

X = iana.ExchangeType
AT_ONCE = 1.0
"""Seconds within which the new request must follow the refusal to count as its retry."""


def _ke_group(ex: Exchange | None) -> int | None:
    if ex is None:
        return None
    return next((p.group for p in ev.payloads(ex.request) if isinstance(p, KePayload)), None)


def _answered_in_full(sa: IkeSa, e: Exchange) -> bool:
    return e.response is not None and not ev.refused_by_size(sa.chosen, e)


def retries(sa: IkeSa) -> dict[int, Exchange]:
    """Without keys: each CREATE_CHILD_SA refused by size (``id`` of the exchange) mapped to the
    request the same peer sent within ``AT_ONCE`` after the refusal, with another length (the KE
    payload changed) and answered in full; each retry answers one refusal, the earliest."""
    out: dict[int, Exchange] = {}
    claimed: set[int] = set()
    creates = [e for e in sa.exchanges if e.exchange_type == X.CREATE_CHILD_SA]
    for ex in creates:
        resp, req = ex.response, ex.request
        if resp is None or req is None or ex.error or not ev.refused_by_size(sa.chosen, ex):
            continue
        for e in creates:
            again = e.request
            if (
                id(e) not in claimed
                and e.requester == ex.requester
                and again is not None
                and 0 <= again.ts - resp.ts <= AT_ONCE
                and again.length != req.length
                and _answered_in_full(sa, e)
            ):
                out[id(ex)] = e
                claimed.add(id(e))
                break
    return out


def retried_at_once(sa: IkeSa, ex: Exchange) -> Exchange | None:
    """The retry of ``ex`` (see :func:`retries`), or for a read INVALID_KE_PAYLOAD the next
    CREATE_CHILD_SA request of the same peer; None when there is none."""
    if ex.retry == iana.NotifyType.INVALID_KE_PAYLOAD and ex.response is not None:
        t = ex.response.ts
        later = [
            e
            for e in sa.exchanges
            if e.exchange_type == X.CREATE_CHILD_SA
            and e.requester == ex.requester
            and e.request is not None
            and e.request.ts >= t
        ]
        return later[0] if later else None
    return retries(sa).get(id(ex))


def _fixes(group: int | None) -> tuple[str, str | None, str | None]:
    name = ev.group_name(group) if group is not None else "the group the responder asks for"
    return (
        f"put {name} first among the initiator's key exchange groups for this SA, so its first "
        "KE payload fits",
        f"`set pfs group{group}` in the IPsec profile (child SAs) or `group {group}` first in "
        "the IKEv2 proposal (IKE rekeys)"
        if group is not None
        else None,
        "list that group first in `esp_proposals` (child SAs) or `proposals` (IKE rekeys)",
    )


def rule_child_retry(sa: IkeSa) -> Iterator[Finding]:
    """INVALID_KE_PAYLOAD answering a CREATE_CHILD_SA: read (decrypted), or inferred from a
    refusal by size and an at-once retry answered in full."""
    inferred = retries(sa)
    for ex in sa.exchanges:
        if ex.exchange_type != X.CREATE_CHILD_SA or ex.response is None or ex.request is None:
            continue
        if ex.retry == iana.NotifyType.INVALID_KE_PAYLOAD:
            n = ev.notify(ex.response, iana.NotifyType.INVALID_KE_PAYLOAD)
            group = getattr(getattr(n, "decoded", None), "group", None)
            group = group if isinstance(group, int) else None
            sent = _ke_group(ex)
            again = retried_at_once(sa, ex)
            was = f" instead of {ev.group_name(sent)}" if sent is not None else ""
            asked = ev.group_name(group) if group is not None else "another group"
            then = (
                f", so it was sent again (frame {again.request.frame})"
                if again and again.request
                else ""
            )
            fix, cisco, swan = _fixes(group)
            yield finding(
                "invalid-ke-retry",
                frames=[ex.request.frame, ex.response.frame],
                basis="decrypted",
                explanation=(
                    f"the responder asked for {asked}{was} with INVALID_KE_PAYLOAD in its "
                    f"CREATE_CHILD_SA response (frame {ex.response.frame}){then}"
                ),
                fix=fix,
                fix_cisco=cisco,
                fix_strongswan=swan,
                group=group,
                exchange=ex.name,
            )
        elif (again := inferred.get(id(ex))) is not None:
            assert again.request is not None and again.response is not None
            diff = ex.request.length - again.request.length
            size = f", {abs(diff)} bytes {'shorter' if diff > 0 else 'longer'}"
            size += ", as with another group's KE"
            fix, cisco, swan = _fixes(None)
            yield finding(
                "invalid-ke-retry",
                frames=[ex.request.frame, ex.response.frame, again.request.frame],
                basis="inferred",
                explanation=(
                    f"the CREATE_CHILD_SA response (frame {ex.response.frame}) is too small for "
                    f"SA and Nonce, and {(again.request.ts - ex.response.ts) * 1000:.0f} ms later "
                    f"the {ex.requester} sent a new CREATE_CHILD_SA (frame "
                    f"{again.request.frame}{size}) answered in full (frame "
                    f"{again.response.frame}): most likely INVALID_KE_PAYLOAD and a retry with "
                    "the group asked for, not a refused SA; keys would tell"
                ),
                fix=fix,
                fix_cisco=cisco,
                fix_strongswan=swan,
                group=None,
                exchange=ex.name,
            )


__all__ = ["AT_ONCE", "retried_at_once", "retries", "rule_child_retry"]
