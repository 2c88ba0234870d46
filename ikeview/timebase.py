"""One clock for every view: capture-relative, SA-relative, delta, absolute UTC or local time.

Router syslog and ``debug crypto ikev2`` lines carry wall-clock times, Wireshark counts from the
capture's first packet and strongSwan's ladder from the SA's first message: an engineer switches
between them, so every view formats a timestamp through one ``TimeBase`` (pure functions, no
state; the TUI's ``t`` key only picks the next ``Clock``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ikeview.pipeline.model import Analysis, IkeSa


class Clock(StrEnum):
    """Which zero a time is counted from (or none: wall-clock)."""

    CAPTURE = "capture"
    """Seconds since the first IKE or ESP packet of the capture (Wireshark's default)."""
    SA = "sa"
    """Seconds since the IKE SA's first message."""
    DELTA = "delta"
    """Seconds since the previous row shown."""
    UTC = "utc"
    """Wall-clock time in UTC."""
    LOCAL = "local"
    """Wall-clock time in this machine's time zone."""


CLOCK_ORDER = (Clock.CAPTURE, Clock.SA, Clock.DELTA, Clock.UTC, Clock.LOCAL)
"""The order ``t`` cycles through."""

CLOCK_TITLE = {
    Clock.CAPTURE: "time since capture start",
    Clock.SA: "time since the IKE SA's first message",
    Clock.DELTA: "time since the previous row",
    Clock.UTC: "UTC",
    Clock.LOCAL: "local time",
}
"""Column and status-line titles."""

WIDTH = 15
"""Columns every formatted time fits in (``12:34:56.789012``, ``+12345.678901``)."""


def next_clock(clock: Clock) -> Clock:
    """The clock after ``clock`` in ``CLOCK_ORDER`` (wrapping)."""
    return CLOCK_ORDER[(CLOCK_ORDER.index(clock) + 1) % len(CLOCK_ORDER)]


def capture_start(analysis: Analysis | None) -> float | None:
    """Time of the earliest IKE or ESP packet the analysis knows (None when it knows none).

    ESP counts too, so an ESP-only capture and ESP seen before a rekeyed SA's first message
    never give negative or epoch-sized times.
    """
    if analysis is None:
        return None
    starts = [sa.first_ts for sa in analysis.ike_sas]
    for sa in analysis.ike_sas:
        for child in sa.child_sas:
            starts.extend(s.first_ts for s in child.esp if s.packets)
    starts.extend(s.first_ts for s in analysis.unassociated_esp if s.packets)
    return min(starts) if starts else None


@dataclass(frozen=True, slots=True)
class TimeBase:
    """How to show a timestamp: the clock and the zeros it may need."""

    clock: Clock = Clock.CAPTURE
    """The chosen clock."""
    capture_t0: float = 0.0
    """Capture start (``capture_start``)."""
    sa_t0: float | None = None
    """The IKE SA's first message; None when no SA is selected (then the capture start)."""

    def for_sa(self, sa: IkeSa | None) -> TimeBase:
        """The same clock with ``sa`` as the SA zero."""
        return replace(self, sa_t0=sa.first_ts if sa is not None else None)

    def cycled(self) -> TimeBase:
        """The next clock (the ``t`` key)."""
        return replace(self, clock=next_clock(self.clock))

    def zero(self) -> float:
        """The zero of the relative clocks."""
        if self.clock == Clock.SA and self.sa_t0 is not None:
            return self.sa_t0
        return self.capture_t0

    def format(self, ts: float, previous: float | None = None, digits: int = 6) -> str:
        """``ts`` on this clock with ``digits`` decimals; ``previous`` is the row before (delta
        clock; the first row then counts from the zero). At most ``WIDTH`` columns for 6 digits,
        ``WIDTH - 6 + digits`` for fewer."""
        if self.clock in (Clock.UTC, Clock.LOCAL):
            return wall_clock(ts, self.clock, digits)
        if self.clock == Clock.DELTA:
            base = previous if previous is not None else self.zero()
            return f"Δ{ts - base:+.{digits}f}"
        return f"{ts - self.zero():+.{digits}f}"

    def title(self) -> str:
        """What the times mean, for a column header or status line."""
        return CLOCK_TITLE[self.clock]


def _wall(ts: float, clock: Clock) -> datetime | None:
    """``ts`` as an aware datetime in UTC or local time; None when no datetime can hold it."""
    try:
        when = datetime.fromtimestamp(ts, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when.astimezone() if clock == Clock.LOCAL else when


def wall_clock(ts: float, clock: Clock = Clock.UTC, digits: int = 6) -> str:
    """``12:34:56.789012`` in UTC or local time (date left to ``wall_date``)."""
    when = _wall(ts, clock)
    if when is None:
        return "?"
    text = when.strftime("%H:%M:%S.%f")
    return text[: 9 + digits] if digits else text[:8]


def wall_date(ts: float, clock: Clock = Clock.UTC) -> str:
    """``2026-12-04 12:34:56.789012 UTC`` (or the local zone's name)."""
    when = _wall(ts, clock)
    if when is None:
        return "?"
    return f"{when:%Y-%m-%d %H:%M:%S.%f} {when.tzname() or ''}".rstrip()
