"""Reading the payload lists of an exchange: the first payload of a kind, notifies, the chosen
algorithms, the key exchange. Pure functions over dissector records; nothing here changes state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from ikeview import iana
from ikeview.dissectors.ike_records import KePayload, NotifyPayload, Proposal
from ikeview.pipeline.ids import ZERO_SPI as ZERO_SPI
from ikeview.pipeline.ike_seam import ChosenAlgorithms, KeyExchange

if TYPE_CHECKING:
    from ikeview.pipeline.correlate.builders import Ex

ERROR_NOTIFY_LIMIT = 16384
"""Notify types below this are errors (RFC 7296 3.10.1)."""
RETRY_NOTIFIES = frozenset({iana.NotifyType.COOKIE, iana.NotifyType.INVALID_KE_PAYLOAD})
"""Answers to IKE_SA_INIT (and INVALID_KE_PAYLOAD to CREATE_CHILD_SA) that ask for a retry."""

P = TypeVar("P")


def notifies(payloads: Iterable[object]) -> list[NotifyPayload]:
    return [p for p in payloads if isinstance(p, NotifyPayload)]


def has_notify(payloads: Iterable[object], notify_type: int) -> bool:
    return any(n.notify_type == notify_type for n in notifies(payloads))


def first(payloads: Iterable[object], cls: type[P]) -> P | None:
    """The first payload of type ``cls``, or None."""
    return next((p for p in payloads if isinstance(p, cls)), None)


def error_notify(payloads: Iterable[object]) -> int | None:
    """The first error notify (RFC 7296 3.10.1) that is not a request to retry."""
    for n in notifies(payloads):
        if n.notify_type < ERROR_NOTIFY_LIMIT and n.notify_type not in RETRY_NOTIFIES:
            return n.notify_type
    return None


def algorithms(p: Proposal) -> ChosenAlgorithms:
    """The transforms of a chosen proposal (RFC 7296 3.3.2: one of each type)."""
    tt = iana.TransformType
    by_type: dict[int, tuple[int, int | None]] = {}
    for t in p.transforms:
        by_type.setdefault(t.transform_type, (t.transform_id, t.key_length))
    encr, bits = by_type.get(tt.ENCR, (0, None))
    integ = by_type.get(tt.INTEG, (None, None))[0]
    prf = by_type.get(tt.PRF, (None, None))[0]
    dh = by_type.get(tt.KE, (None, None))[0]
    esn = by_type.get(tt.ESN, (0, None))[0] == 1
    return ChosenAlgorithms(encr, bits, integ, prf, dh or None, esn)


def key_exchange(ex: Ex) -> KeyExchange | None:
    """The KE payloads of an exchange's request and response (RFC 7296 sections 1.2, 1.3), in
    the group the responder's KE names; None unless both are there."""
    ke_i = first(ex.req.payloads, KePayload)
    ke_r = first(ex.resp.payloads, KePayload)
    if ke_i is not None and ke_r is not None:
        return KeyExchange(ke_r.group, ke_i.data, ke_r.data)
    return None


def spi_int(spi: bytes) -> int:
    return int.from_bytes(spi, "big") if spi else 0


def nname(notify_type: int) -> str:
    return iana.NOTIFY_TYPES.name(notify_type)


def ename(exchange_type: int) -> str:
    return iana.EXCHANGE_TYPES.name(exchange_type)
