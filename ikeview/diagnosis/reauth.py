"""An IKE SA replaced by reauthentication rather than rekeyed (RFC 7296 2.8.3).

Reauthentication builds a new IKE SA from scratch (IKE_SA_INIT, IKE_AUTH, new child SAs) and
deletes the old one; a rekey uses CREATE_CHILD_SA on the old SA. strongSwan reauthenticates on
``reauth_time`` (break-before-make by default in 5.9: delete first, then the new SA, with a
short gap in traffic), Cisco IOS on re-authentication timers and AAA. Seen in a capture it is two
unrelated IKE SAs; this rule links them.
"""

from __future__ import annotations

from collections.abc import Iterator

from ikeview import iana
from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis.codes import finding
from ikeview.diagnosis.records import Basis, Finding
from ikeview.pipeline.model import Exchange, IkeSa

REAUTH_WINDOW = 5.0
"""Seconds around the old SA's delete within which the new SA's IKE_SA_INIT must start."""


def _identities(sa: IkeSa) -> dict[str, str]:
    """Identity by peer address, from the decrypted IDi/IDr."""
    where = {"initiator": sa.initiator, "responder": sa.responder}
    return {where[a.side] or "?": a.identity for a in sa.auth if a.identity is not None}


def _ike_delete(sa: IkeSa) -> tuple[Exchange, Basis] | None:
    """The decrypted Delete of the IKE SA; without keys, an unreadable INFORMATIONAL that is the
    SA's last exchange (most likely that Delete)."""
    ex = next((e for e in sa.exchanges if e.purpose == "delete IKE SA" and e.request), None)
    if ex is not None:
        return ex, "decrypted"
    last = sa.exchanges[-1] if sa.exchanges else None
    if (
        last is not None
        and last.exchange_type == iana.ExchangeType.INFORMATIONAL
        and last.request is not None
        and not ev.readable(last.request)
    ):
        return last, "inferred"
    return None


def _up(sa: IkeSa) -> float | None:
    """When the SA came up: established, or (without keys) its last IKE_AUTH answered."""
    if sa.established_ts is not None:
        return sa.established_ts
    auths = [e for e in sa.exchanges if e.exchange_type == iana.ExchangeType.IKE_AUTH]
    return auths[-1].response_ts if auths and auths[-1].response is not None else None


def _successor(sa: IkeSa, delete: Exchange, others: tuple[IkeSa, ...]) -> IkeSa | None:
    t = delete.request_ts or 0.0
    mine = _identities(sa)
    for b in others:
        if b is sa or b.rekey_of is not None or _up(b) is None:
            continue
        if {b.initiator, b.responder} != {sa.initiator, sa.responder}:
            continue
        # Started once the old SA was up (not a second SA set up beside it), near the delete.
        up = _up(sa)
        if up is None or b.first_ts <= up or abs(b.first_ts - t) > REAUTH_WINDOW:
            continue
        if _selectors(sa) and _selectors(b) and not _selectors(sa) & _selectors(b):
            continue  # other traffic: a second tunnel, not a replacement
        theirs = _identities(b)
        if mine and theirs and mine != theirs:
            continue
        return b
    return None


def _selectors(sa: IkeSa) -> set[tuple[str, str]]:
    """The child SAs' traffic selectors, as text, from both ends' point of view."""
    out: set[tuple[str, str]] = set()
    for c in sa.child_sas:
        ts_i = ",".join(sorted(str(t) for t in c.ts_i))
        ts_r = ",".join(sorted(str(t) for t in c.ts_r))
        if ts_i or ts_r:
            out |= {(ts_i, ts_r), (ts_r, ts_i)}
    return out


def rule_reauth(sa: IkeSa, others: tuple[IkeSa, ...]) -> Iterator[Finding]:
    """The IKE SA deleted with a decrypted Delete and followed, between the same peers and
    identities, by a new IKE SA (not a rekey) within ``REAUTH_WINDOW``."""
    found = _ike_delete(sa)
    if found is None or found[0].request is None:
        return
    delete, basis = found
    assert delete.request is not None
    new = _successor(sa, delete, others)
    new_up = _up(new) if new is not None else None
    if new is None or new_up is None:
        return
    init = next(e for e in new.exchanges if e.exchange_type == iana.ExchangeType.IKE_SA_INIT)
    start = init.request.frame if init.request else "?"
    if new_up <= (delete.request_ts or 0.0):
        order = "make-before-break: the new IKE SA was up before the old one was deleted"
    else:
        gap = new_up - (delete.request_ts or 0.0)
        order = (
            "break-before-make: the old IKE SA was deleted first, so for "
            f"{gap * 1000:.0f} ms no IKE SA (and no child SA) was up"
        )
    if basis == "decrypted":
        text = (
            f"replaced by reauthentication, not rekeyed: the {delete.requester} deleted this IKE "
            f"SA (frame {delete.request.frame}) and IKE SA {new.label} between the same peers "
            f"and identities started with IKE_SA_INIT (frame {start}); {order}"
        )
    else:
        text = (
            f"most likely replaced by reauthentication: this SA's last exchange is an "
            f"INFORMATIONAL from the {delete.requester} (frame {delete.request.frame}, most "
            f"likely its Delete) and IKE SA {new.label} between the same peers started with "
            f"IKE_SA_INIT (frame {start}); {order}; keys would show the Delete and identities"
        )
    yield finding(
        "reauthenticated",
        frames=[delete.request.frame, *([init.request.frame] if init.request else [])],
        basis=basis,
        explanation=text,
        fix=None,
        successor=new.label,
    )


__all__ = ["REAUTH_WINDOW", "rule_reauth"]
