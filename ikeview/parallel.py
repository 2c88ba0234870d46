"""``--jobs N``: one capture analysed by N processes, with the same result as one pass.

Only an uncompressed pcap or pcapng regular file is split (``ikeview.pcapranges``); anything
else (gzip, a pipe, a damaged file, a pcapng file with more than one section or with
interfaces declared after its first packet) is read in one process, with a line on stderr.
The file is cut into N byte ranges and read in two rounds, each range by its own process (the
first by this one):

1. *Locate*: each process maps the file, finds the first record of its range and walks the
   record headers, noting the (frame number, offset) of every frame that is not fast-path ESP
   (IKE, keepalives, fragments, anything else: few). The ranges must tile the file exactly, or
   the capture is read in one pass.
2. *Analyse*: each process dissects and correlates every one of those other frames of the whole
   capture, in order (so each holds every IKE SA and key: "IKE first", and the dissector's
   reassembly state is the single pass's), and all frames of its own range; ESP of other
   ranges is never read. The later ranges' ESP counters (per SA, small) come back and are
   folded into the first range's correlator in capture order (``pipeline.correlate.merge``);
   the analysis is then frozen and diagnosed as a single pass would. If the ESP cannot be
   folded exactly (sequence numbers far out of order across a boundary), the capture is read
   again in one pass: the output never depends on ``--jobs``.

Only file names, byte offsets and per-SA counters cross between processes, never packets.
"""

from __future__ import annotations

import multiprocessing
import os
import struct
import sys
import threading
from array import array
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ikeview.dissectors.records import EspPacket, RawFrame
from ikeview.dissectors.stream import Dissector, DissectStats
from ikeview.fastsummary import RangeCount, count_range, summarize_fast
from ikeview.pcapranges import Layout, Walked, chained, cuts, frame_at, frames, layout, open_map

if TYPE_CHECKING:
    import mmap

    from ikeview.pipeline.correlate import Correlator
    from ikeview.pipeline.correlate.espbulk import EspBulk
    from ikeview.pipeline.correlate.merge import EspPart, Recorder
    from ikeview.pipeline.model import Analysis
    from ikeview.pipeline.seam import Decryptor
    from ikeview.summary import Summary

MIN_SPLIT_BYTES = 4 << 20
"""Files smaller than this are read in one pass: starting processes would cost more."""


OTHER_SHARE = 0.25
"""Most frames that may be other than plain ESP (beyond the first 10,000) for a split to pay
(see :func:`locate`)."""
MAX_OTHER_BYTES = 16 << 20
"""Every process gets the offsets of all other frames (16 bytes each): past this many bytes
(a million frames that are not plain ESP) the capture is read in one pass."""


def job_count(jobs: int) -> int:
    """``--jobs`` as a number of processes: 0 means one per core."""
    if jobs < 0:
        from ikeview.errors import IkeviewError

        raise IkeviewError("--jobs must be 0 (all cores) or a positive number")
    return jobs or os.cpu_count() or 1


NOT_SPLIT = "the file could not be split into ranges (damage, or mostly frames not plain ESP)"


def note(text: str) -> None:
    """Why ``--jobs`` read a capture in one process, on stderr (output stays the same)."""
    print(f"ikeview: {text}", file=sys.stderr)


def pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes, started by ``fork`` when this process runs a single thread: a worker
    is then ready in milliseconds with every module already imported (dissectors, correlator,
    cryptography), and only a task's few arguments are pickled. With other threads alive a
    fork could copy a lock one of them holds, so ``forkserver`` is used then (a clean server
    process forks the workers: slower to start, same results); the choice is made here rather
    than left to the platform default, which Python 3.14 changes to forkserver."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))


def splittable(name: str, jobs: int, min_bytes: int | None) -> Layout | None:
    """The file's layout when it is to be split; None to read it in one pass."""
    if jobs <= 1:
        return None
    limit = max(MIN_SPLIT_BYTES if min_bytes is None else min_bytes, 1)
    try:
        if not os.path.isfile(name) or os.path.getsize(name) < limit:
            return None
    except OSError:
        return None
    lay = layout(name)
    if lay is None:
        note(f"--jobs {jobs}: not an uncompressed pcap or pcapng file; read in one process")
    return lay


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
    walked = chained([w for w, _, _ in results], lay)
    if walked is None:
        return None
    others = sum(len(raw) for _, _, raw in results) // 16
    frames = sum(w.frames for w in walked)
    if others * 16 > MAX_OTHER_BYTES or others > max(10_000, frames * OTHER_SHARE):
        # Every process dissects every other frame: past this share of the capture (with
        # --ports, ESP in UDP is among them) more processes only repeat the same work.
        return None
    bases = [0]
    for w in walked[:-1]:
        bases.append(bases[-1] + w.frames)
    return Split(name, lay, tuple(walked), tuple(raw for _, _, raw in results), tuple(bases))


# ---------------------------------------------------------------------------- report / export


def _make_decryptor(key_paths: Sequence[str]) -> Decryptor:
    from ikeview.pipeline.analyze import make_decryptor

    if not key_paths:
        return make_decryptor(None)
    from ikeview.keys.loader import load_keys

    return make_decryptor(load_keys([Path(p) for p in key_paths]))


def run_range(
    split: Split,
    r: int,
    key_paths: Sequence[str],
    extra_ports: Sequence[int],
    record: bool,
    fast: bool = False,
) -> tuple[Correlator, Recorder]:
    """Round 2 for range ``r``: its correlator, and the recorder of its first sequence numbers
    per SA when ``record`` (a later range, to be folded into the first). ``fast``: the range's
    ESP through the batch path (``pipeline.fastesp``) where it applies, as ``analyze`` does."""
    # Imported here: ``summary --jobs`` (this module too) needs none of the correlator.
    from ikeview.pipeline.correlate import Correlator
    from ikeview.pipeline.correlate.merge import WIDE_INNER, Recorder
    from ikeview.pipeline.model import MAX_INNER_FLOWS

    # A later range keeps more inner flows per SPI so that they merge exactly (merge.py).
    limit = WIDE_INNER if record else MAX_INNER_FLOWS
    decryptor = _make_decryptor(key_paths)
    corr = Correlator(decryptor, capture=split.name, inner_limit=limit)
    recorder = Recorder()
    take = _RangeFeed(corr, recorder, split, r, record)
    dissector = Dissector(extra_ports=extra_ports, stats=DissectStats())
    bulk = corr.esp_bulk() if fast else None
    with open(split.name, "rb") as fh, open_map(split.name) as mm:
        if bulk is None:
            feed = take.feed
            for rec in dissector.run(split.frames_for(r, mm, fh.fileno())):
                feed(rec)
        else:
            _walk_batched(
                split, r, mm, fh.fileno(), dissector, take, bulk, decryptor, not extra_ports
            )
    return corr, recorder


class RangeLost(Exception):
    """A range the locating walk accepted could not be walked again (the file changed)."""


def _range_sink(take: _RangeFeed) -> type[Any]:
    """The batch path's sink for one range: a counter's packets are batched only once ``take``
    has kept its first sequence numbers. (A class made here so that the batch path, and the
    correlator behind it, are imported only when a range is analysed.)"""
    from ikeview.pipeline.fastesp import AnalysisSink
    from ikeview.pipeline.fastwalk import Lane

    class RangeSink(AnalysisSink):
        def flush(self) -> None:
            if not take.records:
                super().flush()
                return
            # A counter still keeping its first sequence numbers: note the lane's packets up
            # to the end of the prefix, count them, keep the window there, then count the rest
            # (what the record path does packet by packet, in two batches).
            lanes = self.lanes  # the walk holds this dict: changed in place only
            rest: list[Lane] = []
            done: list[tuple[int, str]] = []
            for spi, lane in lanes.items():
                key = (spi, self._name(lane.dst))
                if not lane.items or key in take.recorded:
                    continue
                room = take.room(key)
                if len(lane.items) > room:
                    later = Lane(spi, lane.src, lane.dst, lane.udp, lane.how)
                    later.items = lane.items[room:]
                    del lane.items[room:]
                    rest.append(later)
                for frame, _ts, _a, _b, seq, _start in lane.items:
                    if take.note(key, seq, frame):
                        done.append(key)
                take.batching.add(key)  # if the flush replays records, noted already
            super().flush()
            take.batching.clear()
            for key in done:
                take.prefix_done(key)
            if rest:
                lanes.clear()
                lanes.update((lane.spi, lane) for lane in rest)
                super().flush()

    return RangeSink


def _walk_batched(
    split: Split,
    r: int,
    mm: mmap.mmap,
    fd: int,
    dissector: Dissector,
    take: _RangeFeed,
    bulk: EspBulk,
    decryptor: Decryptor,
    fast_udp: bool,
) -> None:
    """Range ``r`` through the batch path's walk and sink (``pipeline.fastwalk`` and
    ``fastesp``, as ``analyze`` takes them), records through ``take``; a counter's packets are
    batched only once ``take`` has kept its first sequence numbers. The other ranges' other
    frames go to the sink's general path before and after the range, in capture order."""
    from ikeview.pipeline.fastwalk import walk_frames, walk_span

    batch = getattr(decryptor, "esp_batch", None) if decryptor.has_keys else None
    sink = _range_sink(take)(dissector, take.feed, bulk, batch)
    lay, w, base = split.lay, split.walked[r], split.bases[r]
    if lay.ng:
        # The walk over frames a reader gave (the batch path's own loop for pcapng).
        walk_frames(split.frames_for(r, mm, fd), sink, fast_udp)
        return
    for raw in split.other_frames(range(r), fd):
        sink.frame(raw)
    kind = (lay.endian, lay.scale)
    if walk_span(mm, lay.size, kind, sink, fast_udp, (w.start, w.end, base)) is None:
        raise RangeLost(split.name)
    for raw in split.other_frames(range(r + 1, len(split.walked)), fd):
        sink.frame(raw)
    sink.flush()


class _RangeFeed:
    """Records of one range's walk into its correlator: ESP of other ranges dropped (frames
    that are not plain ESP are read by every range), and in a later range the first sequence
    numbers of each counter kept beside it (``correlate.merge``)."""

    def __init__(
        self, corr: Correlator, recorder: Recorder, split: Split, r: int, record: bool
    ) -> None:
        self._corr, self._recorder, self._record = corr, recorder, record
        self._lo, self._hi = split.bases[r], split.bases[r] + split.walked[r].frames
        self.recorded: set[tuple[int, str]] = set()
        """Counters whose first sequence numbers are kept (or that need none: first range)."""

        self.batching: set[tuple[int, str]] = set()
        """Counters whose packets the sink's flush has noted itself (see _walk_batched)."""

    @property
    def records(self) -> bool:
        """Whether this range keeps first sequence numbers (a later range)."""
        return self._record

    def room(self, key: tuple[int, str]) -> int:
        """How many more of this counter's first sequence numbers are to be kept."""
        from ikeview.pipeline.correlate.merge import PREFIX

        return PREFIX - len(self._recorder.prefix.get(key, ()))

    def note(self, key: tuple[int, str], seq: int, frame: int) -> bool:
        """One packet the batch path is about to count; True when it ends the prefix."""
        return self._recorder.before(key, seq, frame)

    def prefix_done(self, key: tuple[int, str]) -> None:
        """The counter has counted its whole prefix: keep its window (``Recorder``)."""
        self.recorded.add(key)
        found = self._corr.esp_counter(*key)
        if found is not None:
            self._recorder.after_last(key, found)

    def feed(self, rec: object) -> None:
        # Once per packet of the range on the record path: locals and an exact type test.
        if type(rec) is not EspPacket or not isinstance(rec, EspPacket):
            self._corr.feed(rec)
            return
        flow = rec.flow
        frame = flow.frame
        if not self._lo < frame <= self._hi:
            return  # ESP another range reads (not fast-path: e.g. fragmented)
        key = (rec.spi, flow.dst)
        if (
            not self._record
            or key in self.recorded
            or key in self.batching
            or rec.error is not None
        ):
            self._corr.feed(rec)
            return
        last = self._recorder.before(key, rec.seq, frame)
        self._corr.feed(rec)
        if last:
            self.prefix_done(key)


def esp_range(
    split: Split, r: int, key_paths: Sequence[str], extra_ports: Sequence[int], fast: bool
) -> EspPart:
    """Worker: the ESP of range ``r`` (counters per SA: small)."""
    corr, recorder = run_range(split, r, key_paths, extra_ports, True, fast)
    return corr.take_esp(recorder)


def analyze_parallel(
    path: str | os.PathLike[str],
    key_paths: Sequence[str | os.PathLike[str]] = (),
    *,
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    min_bytes: int | None = None,
    serial: Callable[[], Analysis] | None = None,
    fast: bool = True,
) -> Analysis:
    """The ``Analysis`` of ``analyze(path, keys)``, computed by ``jobs`` processes.

    ``serial`` is the single pass to fall back on (``analyze`` with the same keys by default);
    ``min_bytes`` is for tests, to split even the small lab captures; ``fast=False`` (or
    ``IKEVIEW_NO_FAST``) keeps every range on the record path."""
    from ikeview.pipeline.fastswitch import fast_allowed

    name = os.fspath(path)
    keys = [os.fspath(p) for p in key_paths]
    ports = tuple(extra_ports)

    def one_pass() -> Analysis:
        if serial is not None:
            return serial()
        from ikeview.pipeline.analyze import analyze

        return analyze(name, extra_ports=ports, decryptor=_make_decryptor(keys), fast=fast)

    jobs = job_count(jobs)
    lay = splittable(name, jobs, min_bytes)
    if lay is None:
        return one_pass()
    try:
        result = _analyze_split(name, lay, jobs, keys, ports, fast_allowed(fast))
    except (BrokenExecutor, OSError, struct.error, RangeLost) as exc:
        # A worker that died (killed, out of memory), processes that could not be started, or
        # a file cut short while it was read (a record header past its new end).
        note(f"--jobs {jobs}: {type(exc).__name__}; read in one process")
        result = None
    return one_pass() if result is None else result


def _analyze_split(
    name: str, lay: Layout, jobs: int, keys: list[str], ports: tuple[int, ...], fast: bool
) -> Analysis | None:
    from ikeview.diagnosis.engine import diagnose

    with pool(jobs - 1) as ex:
        split = locate(name, lay, jobs, not ports, ex)
        if split is None:
            note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
            return None
        futures = [ex.submit(esp_range, split, r, keys, ports, fast) for r in range(1, jobs)]
        corr, _ = run_range(split, 0, keys, ports, False, fast)
        parts = [f.result() for f in futures]
    if not corr.absorb_esp(parts):
        return None
    return diagnose(corr.snapshot(frames=split.frames, complete=True))


# ---------------------------------------------------------------------------- summary


def summarize_parallel(
    path: str | os.PathLike[str],
    *,
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    min_bytes: int | None = None,
) -> Summary:
    """``summary.summarize(path)``, computed by ``jobs`` processes (``fastsummary``)."""
    name = os.fspath(path)
    jobs = job_count(jobs)
    if splittable(name, jobs, min_bytes) is None:
        return summarize_fast(path, extra_ports=extra_ports)
    return summarize_fast(path, extra_ports=extra_ports, jobs=jobs, pool=pool, note=note)


__all__ = [
    "MAX_OTHER_BYTES",
    "MIN_SPLIT_BYTES",
    "NOT_SPLIT",
    "OTHER_SHARE",
    "Split",
    "analyze_parallel",
    "esp_range",
    "job_count",
    "locate",
    "note",
    "pool",
    "run_range",
    "splittable",
    "summarize_parallel",
]
