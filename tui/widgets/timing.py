"""Timing: the selected IKE SA on one time axis (exchanges, child SAs, ESP per direction) with
the IKE SAs of its rekey (the one it replaced, the one that replaced it), its retransmission
schedules, and the round trip of every exchange.

Drawn only while the tab is shown (and again when the width or the data change): a snapshot
arriving for a hidden tab only stores what to draw.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from ikeview.pipeline.model import IkeSa
from ikeview.timebase import TimeBase

from .. import text
from ..esprows import EspRows
from ..timeline import axis_text, schedule_lines

Story = tuple[tuple[IkeSa, str], ...]
"""The IKE SAs of the selected SA's rekey with their roles (``timeline.rekey_story``)."""
Inputs = tuple[IkeSa | None, EspRows, TimeBase, frozenset[int], Story]
"""What one drawing shows: SA, rows, clock, marks, rekey story."""

BAR = 30
"""Columns of the longest round-trip bar (fewer in a narrow pane)."""
SCROLLBAR = 2
"""Columns a vertical scrollbar takes."""
REDRAW_EVERY = 0.5
"""Fewest seconds between two drawings caused by new snapshots (a user's action, showing the
tab or a new width, draws at once)."""


def rtt_chart(sa: IkeSa, width: int = 80) -> Text:
    """One bar per exchange, scaled to the slowest round trip (the bar fits ``width``)."""
    longest = max(5, min(BAR, width - 25 - 10))
    rtts = [ex.rtt for ex in sa.exchanges]
    top = max((r for r in rtts if r is not None), default=0.0) or 1.0
    out = Text()
    out.append("round trips (first copy to answer)\n", style="bold underline")
    for ex, rtt in zip(sa.exchanges, rtts, strict=True):
        label = f"{ex.name} #{ex.message_id}"[:24].ljust(25)
        out.append(label)
        if rtt is None:
            out.append("unanswered\n" if ex.status == "unanswered" else "-\n", style="red")
            continue
        bar = "█" * max(1, round(longest * rtt / top))
        out.append(bar, style="red" if ex.status == "failed" else "cyan")
        out.append(f" {text.duration(rtt)}\n")
    out.append("time to establish: ", style="bold")
    out.append(text.duration(sa.time_to_establish))
    return out


def timing_text(
    sa: IkeSa,
    rows: EspRows,
    clock: TimeBase,
    width: int,
    marks: frozenset[int],
    story: Story = (),
) -> Text:
    """Everything the tab shows for ``sa`` at ``width`` columns (``story``: its rekey's SAs on
    the axis too; the schedules and round trips stay ``sa``'s own)."""
    parts = [axis_text(sa, rows, clock, width, marks, story)]
    schedules = schedule_lines(sa, clock)
    head = Text()
    head.append("retransmission schedules", style="bold underline")
    if schedules:
        parts.append(Text("\n").join([head, *schedules]))
    else:
        head.append("\nno request was sent twice", style="dim")
        parts.append(head)
    parts.append(rtt_chart(sa, width))
    return Text("\n\n").join(parts)


def _chosen(inputs: Inputs) -> object:
    """What the user picked, as opposed to what the load brought."""
    sa, _rows, clock, marks, _story = inputs
    return (sa.spis if sa is not None else None, clock, marks)


class TimingView(VerticalScroll):
    """The timing text of the selected IKE SA, redrawn lazily."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__(**kwargs)
        self._inputs: Inputs | None = None
        self._signature: tuple[object, ...] = ()
        self._drawn = 0.0
        """time.monotonic() of the last drawing."""
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("select an IKE SA", style="dim"), id="timing-body")

    def update_from(
        self,
        sa: IkeSa | None,
        rows: EspRows,
        clock: TimeBase | None = None,
        marks: frozenset[int] = frozenset(),
        story: Story = (),
    ) -> None:
        """Show ``sa`` (times on ``clock``, ``marks`` flagged, the SAs of its IKE SA rekey in
        ``story``); drawn now if the tab is shown."""
        before = self._inputs
        self._inputs = (sa, rows, clock or TimeBase(), marks, story)
        if not self.is_on_screen:
            return
        # The user's doing (another SA, clock or mark) draws at once; new data may wait.
        if before is None or _chosen(before) != _chosen(self._inputs):
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.redraw()
        else:
            self.schedule_redraw()

    def schedule_redraw(self) -> None:
        """Redraw now, or (snapshots of a big load arriving fast) once ``REDRAW_EVERY`` seconds
        have passed since the last drawing: each one counts every ESP packet again."""
        if self._timer is not None:
            return  # a redraw is due already; it will take the latest inputs
        wait = self._drawn + REDRAW_EVERY - time.monotonic()
        if wait <= 0:
            self.redraw()
            return

        def due() -> None:
            self._timer = None
            self.redraw()

        self._timer = self.set_timer(wait, due)

    def on_show(self) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Draw the stored inputs unless what they show has not changed."""
        if self._inputs is None:
            return
        sa, rows, clock, marks, story = self._inputs
        # The scrollbar's columns are kept free, so one appearing does not clip the lanes.
        width = self.scrollable_content_region.width - SCROLLBAR
        shown = [s for s, _ in story] or ([sa] if sa else [])
        packets = tuple(st.packets for s in shown for c in s.child_sas for st in c.esp)
        signature = (
            sa.spis if sa else None,
            tuple((s.spis, role) for s, role in story),
            tuple((ex.status, len(ex.messages)) for s in shown for ex in s.exchanges),
            packets,
            clock,
            marks,
            width,
            sa.diagnosis if sa else None,
        )
        if signature == self._signature or not width:
            return
        self._signature = signature
        self._drawn = time.monotonic()
        body = self.query_one("#timing-body", Static)
        if sa is None:
            body.update(Text("select an IKE SA", style="dim"))
            return
        body.update(timing_text(sa, rows, clock, width, marks, story))
