"""Marks on messages: frame numbers the user flagged with ``m``, to come back to with ``n`` and to
find again in the ladder, the timing axis, the transcript and the exported timeline.

Marks are frame numbers, so they survive a re-run with new keys (the frames stay the same) and
need no reference to a model object.
"""

from __future__ import annotations

import bisect

MARK = "★"
"""The sign a marked message carries in every view."""


def toggled(marks: frozenset[int], frame: int) -> frozenset[int]:
    """``marks`` with ``frame`` added, or removed when it was there."""
    return marks - {frame} if frame in marks else marks | {frame}


def next_mark(marks: frozenset[int], current: int | None, *, backwards: bool = False) -> int | None:
    """The marked frame after ``current`` (before it, ``backwards``), wrapping round; None when
    nothing is marked. With no current frame, the first (last) mark."""
    if not marks:
        return None
    ordered = sorted(marks)
    if current is None:
        return ordered[-1] if backwards else ordered[0]
    if backwards:
        i = bisect.bisect_left(ordered, current) - 1
        return ordered[i]  # -1 wraps to the last
    i = bisect.bisect_right(ordered, current)
    return ordered[i % len(ordered)]
