"""MOBIKE (RFC 4555): a peer of an established IKE SA changes address.

The IKE SA initiator announces its addresses (ADDITIONAL_IP4/IP6_ADDRESS, NO_ADDITIONAL_
ADDRESSES in an INFORMATIONAL), checks a path, and moves the SA with an INFORMATIONAL carrying
UPDATE_SA_ADDRESSES, sent from the new address to the peer's (section 3.5). The addresses the
SA used last are kept per SA; an UPDATE_SA_ADDRESSES request from or to other ones is a move.
"""

from __future__ import annotations

from collections.abc import Sequence

from ikeview import iana
from ikeview.pipeline.correlate.builders import Ex, Sa
from ikeview.pipeline.correlate.payloads import notifies
from ikeview.pipeline.ids import SIDES
from ikeview.pipeline.model import AddressChange, Message

N = iana.NotifyType
_ADDRESS_LIST = frozenset(
    {N.ADDITIONAL_IP4_ADDRESS, N.ADDITIONAL_IP6_ADDRESS, N.NO_ADDITIONAL_ADDRESSES}
)


def mobike_purpose(sa: Sa, ex: Ex, m: Message, inner: Sequence[object]) -> str | None:
    """The exchange's purpose when it is a MOBIKE one (recording any move), else None."""
    kinds = {n.notify_type for n in notifies(inner)}
    if N.UPDATE_SA_ADDRESSES in kinds:
        moves = _moves(sa, ex, m)
        sa.address_changes.extend(moves)
        what = ", ".join(f"{c.side} {c.old} -> {c.new}" for c in moves)
        return "MOBIKE: update SA addresses" + (f" ({what})" if what else "")
    if kinds & _ADDRESS_LIST:
        return "MOBIKE: address list"
    return None


def _moves(sa: Sa, ex: Ex, m: Message) -> list[AddressChange]:
    sender, peer = m.flow.src, m.flow.dst
    if ex.requester == "initiator":
        now = {"initiator": sender, "responder": peer}
    else:
        now = {"initiator": peer, "responder": sender}
    before = _current(sa)
    moves: list[AddressChange] = []
    for side in SIDES:
        old = before[side]
        if old is not None and old != now[side]:
            moves.append(AddressChange(m.frame, m.ts, side, old, now[side]))
    return moves


def _current(sa: Sa) -> dict[str, str | None]:
    addr: dict[str, str | None] = {"initiator": sa.initiator, "responder": sa.responder}
    for change in sa.address_changes:
        addr[change.side] = change.new
    return addr
