"""A child SA whose rekey the peer refused (RFC 7296 1.3.3, 2.8).

N(REKEY_SA) in a CREATE_CHILD_SA request names the child SA being replaced (its SPI, as the
sender receives it). When that exchange is refused the old child SA lives on until its lifetime
runs out; with no successor, its traffic then stops: the "tunnel drops every hour" pattern.
"""

from __future__ import annotations

from ikeview import iana
from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis.codes import finding
from ikeview.diagnosis.records import Finding
from ikeview.pipeline.model import ChildSa, Exchange, IkeSa


def rekeyed_spi(ex: Exchange) -> int | None:
    """The SPI N(REKEY_SA) names in the request, None when it is not a child SA rekey."""
    n = ev.notify(ex.request, iana.NotifyType.REKEY_SA)
    if n is None or len(n.spi) != 4:
        return None
    return int.from_bytes(n.spi, "big")


def _deleted_after(sa: IkeSa, child: ChildSa, ts: float) -> Exchange | None:
    """The exchange whose Delete removed the child SA on its own (not with its IKE SA) after
    ``ts``."""
    spis = {child.spi_initiator, child.spi_responder}
    for ex in sa.exchanges:
        req = ex.request
        if req is None or req.ts <= ts:
            continue
        if any(int.from_bytes(s, "big") in spis for d in ev.deletes(req) for s in d.spis):
            return ex
    return None


def rekey_refused(sa: IkeSa, child: ChildSa, refused: list[tuple[Exchange, str]]) -> list[Finding]:
    """Findings for ``child`` when one of the ``refused`` CREATE_CHILD_SA exchanges (with their
    error's name) tried to rekey it."""
    spis = {child.spi_initiator, child.spi_responder}
    mine = [(ex, name) for ex, name in refused if rekeyed_spi(ex) in spis and ex.response]
    if not mine:
        return []
    first, name = mine[0]
    frames = [m.frame for e, _ in mine for m in (e.request, e.response) if m is not None]
    resp = first.response
    assert resp is not None
    text = f"its rekey was refused with {name} (frame {resp.frame})"
    gone = _deleted_after(sa, child, resp.ts) if child.rekeyed_by is None else None
    if gone is not None and gone.request is not None:
        frames.append(gone.request.frame)
        after = gone.request.ts - resp.ts
        text += (
            f"; {after:.1f} s later the {gone.requester} deleted it (frame {gone.request.frame}) "
            "with no successor, so its traffic stopped there"
        )
        if gone.requester == first.requester:
            text += " (the side that tried to rekey it: most likely its lifetime ran out)"
    return [
        finding(
            "rekey-refused",
            frames=frames,
            basis="decrypted",
            explanation=text,
            fix="make the rekey acceptable to the peer (see the refused exchange's finding)",
            severity="error" if gone is not None else None,
            notify=name,
        )
    ]


__all__ = ["rekey_refused", "rekeyed_spi"]
