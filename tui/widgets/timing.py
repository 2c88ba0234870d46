"""Timing: round trip of every exchange, time to establish, ESP packets over time per child SA."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Sparkline, Static

from ikeview.pipeline.model import IkeSa

from .. import text
from ..esprows import EspRowStore

BINS = 60
"""Time buckets of the ESP packets-over-time chart."""
BAR = 30
"""Columns of the longest round-trip bar."""


def rtt_chart(sa: IkeSa) -> Text:
    """One bar per exchange, scaled to the slowest round trip."""
    rtts = [ex.rtt for ex in sa.exchanges]
    top = max((r for r in rtts if r is not None), default=0.0) or 1.0
    out = Text()
    out.append("round trips\n", style="bold underline")
    for ex, rtt in zip(sa.exchanges, rtts, strict=True):
        label = f"{ex.name} #{ex.message_id}"[:24].ljust(25)
        out.append(label)
        if rtt is None:
            out.append("unanswered\n" if ex.status == "unanswered" else "-\n", style="red")
            continue
        bar = "█" * max(1, round(BAR * rtt / top))
        out.append(bar, style="red" if ex.status == "failed" else "cyan")
        out.append(f" {text.duration(rtt)}\n")
    out.append("time to establish: ", style="bold")
    out.append(text.duration(sa.time_to_establish) + "\n")
    return out


def bins(times: list[float], start: float, end: float, n: int = BINS) -> list[float]:
    """Counts of ``times`` in ``n`` equal buckets from ``start`` to ``end``."""
    counts = [0.0] * n
    span = end - start
    for t in times:
        k = 0 if span <= 0 else min(n - 1, max(0, int((t - start) / span * n)))
        counts[k] += 1
    return counts


class TimingView(VerticalScroll):
    """RTT bars and sparkline for the selected IKE SA, and an ESP sparkline per child SA."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__(**kwargs)
        self._signature: tuple[object, ...] = ()

    def update_from(self, sa: IkeSa | None, rows: EspRowStore) -> None:
        """Redraw for ``sa`` (only when what it shows changed)."""
        packets = tuple(c.esp_packets for c in sa.child_sas) if sa else ()
        signature = (sa.spis if sa else None, len(sa.exchanges) if sa else 0, packets)
        if signature == self._signature:
            return
        self._signature = signature
        self.remove_children()
        if sa is None:
            self.mount(Static(Text("select an IKE SA", style="dim")))
            return
        widgets: list[Static | Sparkline] = [Static(rtt_chart(sa))]
        rtts = [ex.rtt * 1000 for ex in sa.exchanges if ex.rtt is not None]
        if len(rtts) > 1:
            widgets.append(Static("round trips (ms), in exchange order", classes="chart-title"))
            widgets.append(Sparkline(rtts, summary_function=max, classes="rtt-spark"))
        for child in sa.child_sas:
            spis = (child.spi_initiator, child.spi_responder)
            times = rows.view(spis).times()
            title = (
                f"ESP {text.spi_hex(child.spi_initiator)}/{text.spi_hex(child.spi_responder)}: "
                f"{child.esp_packets} packets"
            )
            widgets.append(Static(title, classes="chart-title"))
            if times:
                start, end = min(times), max(times)
                widgets.append(Sparkline(bins(times, start, end), classes="esp-spark"))
                widgets.append(
                    Static(
                        f"over {text.duration(end - start)} from +{start - sa.first_ts:.3f} s",
                        classes="chart-note",
                    )
                )
        self.mount_all(widgets)
