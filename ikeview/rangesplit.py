"""The ranges of ``--jobs N``: where each lies in the file and which of its frames every process
must dissect (see ``ikeview.parallel``'s module doc).

:func:`locate` (every other reading path) walks the record headers of all N ranges, one per
process. :func:`locate_open` (the batch path on a classic pcap) locates only ranges 0..N-2, that
span cut into N shares so that every process takes part; the last range is left open: only its
own process reads its ESP, and that process finds the range's other frames as it walks it (they
come back with its result), so no process walks the last range twice.
"""

from __future__ import annotations

import itertools
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ikeview.dissectors.records import RawFrame
from ikeview.fastsummary import RangeCount, count_range
from ikeview.pcapranges import Layout, Walked, chained, cuts, frame_at, frames

if TYPE_CHECKING:
    import mmap

OTHER_SHARE = 0.25
"""Most frames that may be other than plain ESP (beyond the first 10,000) for a split to pay
(see :func:`locate`)."""
MAX_OTHER_BYTES = 16 << 20
"""Every process gets the offsets of all other frames (16 bytes each): past this many bytes
(a million frames that are not plain ESP) the capture is read in one pass."""


# ---------------------------------------------------------------------------- the ranges


@dataclass(frozen=True, slots=True)
class Split:
    """A capture's ranges, located: all a process needs to read its part (a few numbers per
    range and the offsets of the other frames, so it pickles cheaply)."""

    name: str
    lay: Layout
    walked: tuple[Walked, ...]
    others: tuple[bytes, ...]
    """Per range: array('Q') bytes of (frame number within the range, record offset) pairs."""
    bases: tuple[int, ...]
    """Frames before each range."""

    @property
    def frames(self) -> int:
        return self.bases[-1] + self.walked[-1].frames

    @property
    def empty(self) -> bool:
        """No frame at all (the last range may be open: see :data:`OPEN`)."""
        last = self.walked[-1]
        return not self.bases[-1] and (not last.frames or last.start >= self.lay.size)

    def owns(self, r: int) -> Callable[[int], bool]:
        """Whether a frame number is range ``r``'s."""
        lo, hi = self.bases[r], self.bases[r] + self.walked[r].frames
        return lambda frame: lo < frame <= hi

    def frames_for(self, r: int, mm: mmap.mmap, fd: int) -> Iterator[RawFrame]:
        """Every other frame of the capture and every frame of range ``r``, in capture order
        (``mm`` maps the file, ``fd`` is open on it)."""
        yield from self.other_frames(range(r), fd)
        w = self.walked[r]
        yield from frames(mm, self.lay, w.start, w.end, self.bases[r] + 1)
        yield from self.other_frames(range(r + 1, len(self.walked)), fd)

    def other_frames(self, ranges: range, fd: int) -> Iterator[RawFrame]:
        """The other frames (not plain ESP) of these ranges, in capture order."""
        for q in ranges:
            pairs = array("Q")
            pairs.frombytes(self.others[q])
            base = self.bases[q]
            for k in range(0, len(pairs), 2):
                yield frame_at(fd, self.lay, base + pairs[k], pairs[k + 1])


def locate(
    name: str, lay: Layout, jobs: int, fast_udp: bool, ex: Executor | None = None
) -> Split | None:
    """Round 1 (see the module doc): the ranges, or None when they do not tile the file."""
    bounds = cuts(lay, jobs)
    args = [(name, lay, bounds[r], bounds[r + 1], fast_udp, False) for r in range(jobs)]
    later: list[Future[RangeCount]] = []
    if ex is not None:
        later = [ex.submit(count_range, *a) for a in args[1:]]
        results = [count_range(*args[0])]
        results += [f.result() for f in later]
    else:
        results = [count_range(*a) for a in args]
    return split_of(name, lay, [(w, raw) for w, _, raw in results])


def split_of(
    name: str, lay: Layout, located: Sequence[tuple[Walked | None, bytes]]
) -> Split | None:
    """The split of the ranges located (where each lies, its other frames' pairs), or None when
    they do not tile the file or too many frames are not plain ESP (a last range left
    :data:`OPEN` is not counted)."""
    walked = chained([w for w, _ in located], lay)
    if walked is None:
        return None
    others = sum(len(raw) for _, raw in located) // 16
    frames = sum(w.frames for w in walked if w.frames != OPEN)
    # The share of the file located (all of it, or all but an open last range): the floor
    # below is for the whole file.
    seen = 1.0
    if walked[-1].frames == OPEN and lay.size > lay.first:
        seen = (walked[-1].start - lay.first) / (lay.size - lay.first)
    if others * 16 > MAX_OTHER_BYTES or others > max(10_000 * seen, frames * OTHER_SHARE):
        # Every process dissects every other frame: past this share of the capture (with
        # --ports, ESP in UDP is among them) more processes only repeat the same work.
        return None
    bases = [0]
    for w in walked[:-1]:
        bases.append(bases[-1] + w.frames)
    return Split(name, lay, tuple(walked), tuple(raw for _, raw in located), tuple(bases))


OPEN = 1 << 62
"""Frames of the last range in a split by :func:`locate_open`: not counted before its own
process walks it (a number past any frame, so that every frame after its start is its)."""


def plan(
    lay: Layout, jobs: int, bounds: list[int] | None = None
) -> tuple[list[int], list[list[tuple[int, int]]]]:
    """Where the ranges begin (and the file size last: ``bounds``, by default N equal ranges),
    and for each of the N processes the byte pieces of all ranges but the last it locates:
    that span cut into N equal shares, each also cut where a range begins. (The last range
    needs no locating: only its own process reads its ESP, and it finds its other frames as it
    walks it.)"""
    bounds = cuts(lay, jobs) if bounds is None else bounds
    last = len(bounds) - 2
    end = bounds[last]
    share = [lay.first + (end - lay.first) * q // jobs for q in range(jobs)]
    edges = sorted({*bounds[:last], *share, end})
    mine: list[list[tuple[int, int]]] = [[] for _ in range(jobs)]
    for lo, hi in itertools.pairwise(edges):
        if lo < end:
            mine[bisect_right(share, lo) - 1].append((lo, hi))
    return bounds, mine


Piece = tuple[int, Walked | None, bytes]
"""A located piece: where it was cut, what ``count_range`` found (its frames and the (frame
number within the piece, offset) pairs of its other frames)."""


def locate_pieces(
    name: str, lay: Layout, pieces: list[tuple[int, int]], fast_udp: bool
) -> list[Piece]:
    """Worker: locate these pieces (record headers walked, other frames noted)."""
    found: list[Piece] = []
    for lo, hi in pieces:
        walked, _, raw = count_range(name, lay, lo, hi, fast_udp, False)
        found.append((lo, walked, raw))
        if walked is None:
            break
    return found


def locate_open(
    name: str,
    lay: Layout,
    jobs: int,
    fast_udp: bool,
    ex: Executor,
    bounds: list[int] | None = None,
) -> Split | None:
    """Round 1 of the batch path on a classic pcap: every range but the last (of ``bounds``,
    by default N equal ones) located by the N processes at once (see :func:`plan`), the last
    left open; None when the pieces do not tile the file."""
    bounds, mine = plan(lay, jobs, bounds)
    later = [ex.submit(locate_pieces, name, lay, p, fast_udp) for p in mine[1:] if p]
    found = locate_pieces(name, lay, mine[0], fast_udp)
    for f in later:
        found += f.result()
    return split_pieces(name, lay, bounds, found)


def split_pieces(name: str, lay: Layout, bounds: list[int], found: list[Piece]) -> Split | None:
    """The split of the pieces located (in file order), when they tile the file from its first
    record on; the last range starts where they end and is left open."""
    jobs = len(bounds) - 1
    walked: list[Walked] = []
    others: list[bytes] = []
    pos, k = lay.first, 0
    for r in range(jobs - 1):
        start, frames, pairs = pos, 0, array("Q")
        while k < len(found) and found[k][0] < bounds[r + 1]:
            w, raw = found[k][1], found[k][2]
            if w is None or w.start != pos:
                return None
            got = array("Q")
            got.frombytes(raw)
            for j in range(0, len(got), 2):
                got[j] += frames  # numbered within the piece: now within the range
            pairs += got
            pos, frames, k = w.end, frames + w.frames, k + 1
        walked.append(Walked(start, pos, frames))
        others.append(pairs.tobytes())
    if k != len(found):
        return None
    located = [(w, raw) for w, raw in zip(walked, others, strict=True)]
    split = split_of(name, lay, [*located, (Walked(pos, lay.size, OPEN), b"")])
    return split


__all__ = [
    "MAX_OTHER_BYTES",
    "OPEN",
    "OTHER_SHARE",
    "Piece",
    "Split",
    "locate",
    "locate_open",
    "locate_pieces",
    "plan",
    "split_of",
    "split_pieces",
]
