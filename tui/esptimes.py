"""Capture times of one SPI's packets for the timing lanes, in memory bounded per SPI.

The first ``EXACT`` times are kept as they are (a lab capture's lanes are drawn exactly); past
that they are counted in at most ``BINS`` bins of a power-of-two width from the SPI's first
packet, the width doubling (pairs of bins merged) whenever a packet falls past the last bin.
A lane is at most a few hundred columns wide, so 1,024 bins place every packet within a
fraction of a column, whatever the number of packets; 12 KB per SPI at most.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

EXACT = 512
"""Times kept exactly before counting in bins (4 KB per SPI)."""
BINS = 1024
"""Most bins per SPI (8 KB per SPI; a lane is at most a few hundred columns)."""
FINEST = 2.0**-20
"""Narrowest bin (about a microsecond)."""
_TS = itemgetter(1)


class TimeCounts:
    """Packets over time of one SPI: exact times, then counts per bin."""

    __slots__ = ("_bins", "_exact", "_origin", "_width")

    def __init__(self) -> None:
        self._exact = array("d")
        self._bins: array[int] | None = None
        self._origin = 0.0
        self._width = FINEST

    def add(self, ts: float) -> None:
        """One packet at ``ts`` (worker thread)."""
        bins = self._bins
        if bins is None:
            self._exact.append(ts)
            if len(self._exact) > EXACT:
                self._to_bins()
            return
        i = int((ts - self._origin) / self._width) if ts > self._origin else 0
        if i >= BINS:
            bins = self._widen(i)
            i = int((ts - self._origin) / self._width)
        bins[i] += 1

    def add_run(self, first: float, last: float, n: int) -> bool:
        """``n`` packets from ``first`` to ``last`` (capture order) counted in one step when
        they fall into one bin, as nearly all of a batch's do; False (nothing counted) when
        not: then ``add_items``."""
        bins = self._bins
        if bins is None:
            return False
        origin, width = self._origin, self._width
        if not origin <= first <= last:
            return False
        i = int((first - origin) / width)
        if i != int((last - origin) / width) or i >= BINS:
            return False
        bins[i] += n
        return True

    def add_items(self, items: Sequence[tuple[Any, ...]]) -> None:
        """Packets of one batch, their times at index 1, in capture order: one step when they
        fall into the same bin, as they nearly always do."""
        bins = self._bins
        if bins is None:
            self._exact.extend(map(_TS, items))
            if len(self._exact) > EXACT:
                self._to_bins()
            return
        first, last = items[0][1], items[-1][1]
        origin, width = self._origin, self._width
        if origin <= first <= last:
            i, j = int((first - origin) / width), int((last - origin) / width)
            if i == j and i < BINS:
                bins[i] += len(items)
                return
            if j < BINS:  # across a bin edge (a fifth of the batches): each in its own
                if j == i + 1 and self._two_bins(items, i):
                    return
                for it in items:
                    ts = it[1]
                    k = int((ts - origin) / width)
                    if 0 <= k < BINS and ts >= origin:  # times out of order: the long way
                        bins[k] += 1
                    else:
                        self.add(ts)
                return
        for it in items:
            self.add(it[1])

    def _two_bins(self, items: Sequence[tuple[Any, ...]], i: int) -> bool:
        """Packets of a batch across the edge of bins ``i`` and ``i + 1`` counted with C loops
        (the per-packet loop of ``add_items`` was half the recorder's time at 1M packets);
        False, nothing counted, when some time falls outside those two bins (out of order)."""
        origin, width = self._origin, self._width
        times = list(map(_TS, items))
        ks = [int((ts - origin) / width) for ts in times]
        a, b = ks.count(i), ks.count(i + 1)
        if a + b != len(ks) or min(times) < origin:  # int() truncates a negative to 0
            return False
        bins = self._bins
        assert bins is not None
        bins[i] += a
        bins[i + 1] += b
        return True

    def _to_bins(self) -> None:
        exact = self._exact
        origin = min(exact)
        span = max(exact) - origin
        width = FINEST
        if span > 0:
            width = max(FINEST, 2.0 ** math.ceil(math.log2(span * 2 / BINS)))
        bins = array("Q", bytes(8 * BINS))
        for ts in exact:
            bins[min(BINS - 1, int((ts - origin) / width))] += 1
        self._origin, self._width = origin, width
        self._bins = bins  # published after origin and width: the UI reads bins last

    def _widen(self, i: int) -> array[int]:
        """Bins wide enough for index ``i``: pairs merged until it fits (published at once)."""
        old, width = self._bins, self._width
        assert old is not None
        while i >= BINS:
            merged = [old[k] + old[k + 1] for k in range(0, BINS, 2)]
            old = array("Q", merged + [0] * (BINS // 2))
            width *= 2
            i //= 2
        self._width = width
        self._bins = old
        return old

    def absorb(self, later: TimeCounts) -> None:
        """The counts of a later range of the capture (a split load, ``tui.parload``) added
        to these: its exact times as they are, its bins' packets at their bins' middles (each
        within one of its bins, a fraction of a column, of where a single pass counts it)."""
        bins = later._bins
        if bins is None:
            for ts in later._exact:
                self.add(ts)
            return
        if self._bins is None and not self._exact:
            self._exact, self._origin, self._width = later._exact, later._origin, later._width
            self._bins = bins  # published last, as in ``_to_bins``
            return
        origin, width = later._origin, later._width
        for k, n in enumerate(bins):
            if n:
                self._add_many(origin + (k + 0.5) * width, n)

    def _add_many(self, ts: float, n: int) -> None:
        if self._bins is None:
            self._to_bins()
        origin = self._origin
        i = int((ts - origin) / self._width) if ts > origin else 0
        bins = self._bins
        assert bins is not None
        if i >= BINS:
            bins = self._widen(i)
            i = int((ts - origin) / self._width)
        bins[i] += n

    def weighted(self) -> tuple[Sequence[float], Sequence[int] | None]:
        """(times, counts): exact times with None, or bin centres with their counts (UI)."""
        exact = self._exact
        bins = self._bins
        if bins is None:
            return exact[: len(exact)], None
        bins = bins[:]
        origin, width = self._origin, self._width
        if len(bins) != BINS:  # never, but a torn read must not fail the redraw
            return [], None
        return [origin + (k + 0.5) * width for k in range(BINS)], bins
