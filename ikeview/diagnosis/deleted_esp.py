"""ESP still sent on a child SA after its peer deleted it (RFC 7296 1.4.1).

A Delete payload lists the SPI its sender receives on; once it is sent, that side drops what
arrives on the SPI (strongSwan 5.9 keeps the SA until the Delete is answered). ESP towards the
deleter that goes on well after the Delete means the other side never took it (the Delete was
lost on the way: it goes unanswered) or ignores it: either way that traffic is black-holed.
"""

from __future__ import annotations

from collections.abc import Iterator

from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis.codes import finding
from ikeview.diagnosis.records import Finding
from ikeview.pipeline.model import ChildSa, EspSpiStats, Exchange, IkeSa

GRACE = 1.0
"""Seconds after the Delete during which packets already under way may still arrive."""


def _delete_of(sa: IkeSa, spi: int) -> Exchange | None:
    """The first exchange whose request deletes the child SA receiving on ``spi``."""
    for ex in sa.exchanges:
        if ex.request is None:
            continue
        if any(int.from_bytes(s, "big") == spi for d in ev.deletes(ex.request) for s in d.spis):
            return ex
    return None


def _reverse(child: ChildSa, stats: EspSpiStats) -> EspSpiStats | None:
    return next((s for s in child.esp if s.spi != stats.spi and s.packets), None)


def rule_esp_after_delete(sa: IkeSa, child: ChildSa) -> Iterator[Finding]:
    """ESP on a child SA's SPI more than ``GRACE`` seconds after the side receiving on it sent
    a Delete for it: an error when that Delete was never answered (the sender never got it)."""
    for stats in child.esp:
        ex = _delete_of(sa, stats.spi)
        if ex is None or ex.request is None or not stats.packets:
            continue
        t = ex.request.ts
        if stats.last_ts <= t + GRACE:
            continue
        deleter, other = ex.requester, "responder" if ex.requester == "initiator" else "initiator"
        copies = ev.request_copies(ex)
        text = (
            f"ESP towards the {deleter} on SPI {stats.spi:08x} went on until frame "
            f"{stats.last_frame}, {stats.last_ts - t:.1f} s after the {deleter} deleted this "
            f"child SA (frame {ex.request.frame})"
        )
        back = _reverse(child, stats)
        if back is not None and back.last_ts < stats.last_ts:
            text += (
                f"; the {deleter}'s own ESP (SPI {back.spi:08x}) stopped at frame {back.last_frame}"
            )
        if ex.response is None:
            frames = ", ".join(str(m.frame) for m in copies)
            text += (
                f": its Delete was never answered (frames {frames}), so the {other} never "
                f"learned of it and kept sending into an SA the {deleter} no longer has; that "
                "traffic is lost"
            )
        else:
            answer = ex.response.frame
            text += f": the {other} answered the Delete (frame {answer}) yet kept sending"
        yield finding(
            "esp-after-delete",
            frames=[*(m.frame for m in copies), stats.last_frame],
            basis="decrypted",
            severity="error" if ex.response is None else "warning",
            explanation=text,
            fix=(
                f"find why the {deleter}'s Delete did not reach the {other} (IKE lost one way); "
                f"dead peer detection on the {other} notices such a dead SA"
            ),
            fix_cisco="`dpd <interval> <retry> on-demand` (or `periodic`) in the IKEv2 profile",
            fix_strongswan="`dpd_delay` in the connection",
            spi=f"{stats.spi:08x}",
            deleted_by=deleter,
        )


__all__ = ["GRACE", "rule_esp_after_delete"]
