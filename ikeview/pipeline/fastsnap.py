"""``iter_analysis`` on the batch path: the TUI's load of a classic pcap file.

``pipeline.fastesp`` takes a whole file to one ``Analysis``. The TUI also wants snapshots while
the file is read, and a row per ESP packet; here the same walk and sink run with three
additions:
- a snapshot (``Step``) goes to ``on_step`` after ``first_after`` frames, then at most once per
  ``interval`` seconds: each is diagnosed, which costs milliseconds once there are many IKE SAs,
  and the TUI draws one a second at most anyway;
- the packets of each flushed lane (as file offsets: no copy, no record) and every ESP packet
  of the general path (through the correlator's ``on_esp``, with what the decryptor made of it)
  go to an ``EspRecorder``, the TUI's row index;
- ``cancelled()`` is asked as often, and ends the walk.
Only a classic pcap mapped in place takes this path (the recorder keeps offsets into the file).
For anything else ``stream_fast`` returns False before any step; for a mapped file the walk
gives up on (damage: the reader's diagnostics are wanted) it returns False after the steps it
posted, and the caller runs ``iter_analysis`` from the start with a fresh recorder.
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ikeview.dissectors.capture import Checkpoint, SeekTable
from ikeview.dissectors.records import EspPacket, RawFrame
from ikeview.dissectors.stream import Dissector, DissectStats
from ikeview.pipeline.analyze import Step
from ikeview.pipeline.correlate import Correlator
from ikeview.pipeline.correlate.espbulk import EspBulk
from ikeview.pipeline.dec_esp import EspEntry
from ikeview.pipeline.fastesp import AnalysisSink
from ikeview.pipeline.fastswitch import fast_allowed
from ikeview.pipeline.fastwalk import Buffer, Lane, RecordHeader, walk_pcap
from ikeview.pipeline.seam import Decryptor, EspOpened

FIRST_AFTER = 5000
"""Frames before the first snapshot (as ``iter_analysis``'s first)."""
INTERVAL = 1.0
"""Fewest seconds between two later snapshots: the TUI draws one partial snapshot a second at
most (``PARTIAL_EVERY``), so more would only be diagnosed, posted and dropped; each also
moves the progress bar."""


class Cancelled(Exception):
    """Raised through the walk when ``cancelled()`` says so."""


class _NotMapped(Exception):
    """The walk reads the file through ``CaptureReader``: no file offsets for the recorder."""


class EspRecorder(Protocol):
    """What keeps the ESP packets of a load for the TUI's rows."""

    def begin(self, mm: Buffer, record: RecordHeader) -> None:
        """Before the first lane: the mapped file (valid while the walk runs) and its
        record-header unpacker (a frame's header sits 16 octets before its start)."""

    def lanes(self, lanes: Sequence[Lane], settled: bool = True) -> None:
        """The packets of one flush, each lane one SPI's, counted by the batch path (an SPI's
        packets in capture order); ``settled``: every packet before the last of these is
        recorded, no more and no fewer (a place for a checkpoint; not so when part of the
        flush was replayed through ``esp``)."""

    def esp(self, packet: EspPacket, opened: EspOpened) -> None:
        """One ESP packet of the general path (capture order)."""

    def boundary(self, offset: int, frames_before: int) -> None:
        """A record boundary (file offset, frames before it) with every packet before it
        recorded: a place to read again from (every 8 MB of the walk)."""

    def seek_points(self) -> Iterable[tuple[int, int]]:
        """(frames before, file offset) of record boundaries, in file order."""


class _Pacer:
    """When the next snapshot is due; cancellation."""

    def __init__(
        self,
        take: Callable[[int, int], None],
        boundary: Callable[[int], None],
        cancelled: Callable[[], bool],
        first_after: int,
        interval: float,
        clock: Callable[[], float],
    ) -> None:
        self._take, self._cancelled, self._clock = take, cancelled, clock
        self._boundary = boundary
        self._first_after, self._interval = first_after, interval
        self._last: float | None = None
        self.frames = 0
        """Frames seen so far (the last one's number)."""
        self.done = 0
        """Bytes of the file walked so far (the walk's progress calls, the batches' ends)."""

    def progress(self, done: int, _total: int) -> None:
        """The walk's progress call: ``done`` is the offset of the next record."""
        self.done = done
        self._boundary(done)

    def tick(self) -> None:
        if self._cancelled():
            raise Cancelled
        now = self._clock()
        if self._last is None:
            if self.frames < self._first_after:
                return
        elif now - self._last < self._interval:
            return
        self._take(self.frames, self.done)
        self._last = self._clock()  # after the snapshot: its own cost is not counted in


class SnapshotSink(AnalysisSink):
    """``AnalysisSink`` that also hands each flush's lanes to a recorder and paces snapshots."""

    settled = True
    """False while the first half of a flush is counted: a range of ``--jobs`` cuts lanes in
    two (``ikeview.parallel``) and flushes twice; the recorder gets both halves at once."""

    def __init__(
        self,
        dissector: Dissector,
        feed: Callable[[object], None],
        bulk: EspBulk,
        batch: Callable[[int], EspEntry | str | None] | None,
        recorder: EspRecorder,
        pacer: _Pacer,
    ) -> None:
        super().__init__(dissector, feed, bulk, batch)
        self._recorder = recorder
        self._pacer = pacer
        self._replayed = False
        self._held: list[Lane] = []
        """The first half of a cut flush's lanes, recorded with the second."""
        self._held_replayed = False

    def begin(self, mm: Buffer, linktype: int, record: RecordHeader) -> None:
        if not isinstance(mm, mmap.mmap):
            raise _NotMapped
        super().begin(mm, linktype, record)
        self._recorder.begin(mm, record)

    def frame(self, raw: RawFrame) -> None:
        super().frame(raw)
        self._pacer.frames = raw.index
        self._pacer.tick()

    def flush(self) -> None:
        lanes = [lane for lane in self.lanes.values() if lane.items]
        if not lanes:
            return
        self._replayed = False
        super().flush()
        if not self.settled:
            if self._replayed:
                self._held_replayed = True
            else:
                self._held += lanes
            return
        # Replayed lanes went through the correlator, and on_esp: their rows are kept ones.
        held, settled = self._held, not (self._held_replayed or self._replayed)
        self._held, self._held_replayed = [], False
        if not self._replayed:
            self._recorder.lanes(held + lanes, settled)
        elif held:
            self._recorder.lanes(held, False)
        # The last packet's frame number and file offset (a FastItem's first and last).
        frame, _ts, _a, _b, _seq, start = max(lane.items[-1] for lane in lanes)
        pacer = self._pacer
        pacer.frames = frame
        pacer.done = max(pacer.done, start)
        pacer.tick()

    def _replay(self, lanes: list[Lane]) -> None:
        self._replayed = True
        super()._replay(lanes)


@dataclass(slots=True)
class RangeWatch:
    """What a range of a split load (``tui.parload``) records its ESP rows into, and paces
    its snapshots and cancellation with."""

    recorder: EspRecorder
    pacer: _Pacer
    decryptor: Decryptor | None = None
    """The decryptor the range is to use (the one the recorder's rows are opened with); None:
    one made from the range's keys."""
    corr: Correlator | None = None
    """The range's correlator, once made (snapshots are taken from it)."""


def range_watch(
    recorder: EspRecorder,
    on_step: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    decryptor: Decryptor | None = None,
) -> RangeWatch:
    """A range's watch: ``on_step(frames, bytes walked)`` when a snapshot is due, as
    ``stream_fast`` takes them (None: never, a worker's range); ``cancelled()`` asked as
    often."""
    first_after, interval = (FIRST_AFTER, INTERVAL) if on_step else (1 << 62, float("inf"))
    take = on_step if on_step is not None else (lambda _f, _d: None)
    pacer = _Pacer(take, lambda _o: None, cancelled, first_after, interval, time.monotonic)
    return RangeWatch(recorder, pacer, decryptor)


def stream_fast(
    source: str | os.PathLike[str],
    decryptor: Decryptor,
    recorder: EspRecorder,
    on_step: Callable[[Step], object],
    *,
    extra_ports: Iterable[int] = (),
    cancelled: Callable[[], bool] = lambda: False,
    first_after: int = FIRST_AFTER,
    interval: float = INTERVAL,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Analyse ``source`` as ``iter_analysis`` does, handing each ``Step`` to ``on_step`` (the
    last complete, with a seek table from the recorder's points); True when done or cancelled,
    False when the caller must take the general path (see the module's docstring)."""

    if not fast_allowed():
        return False
    try:
        st = os.stat(source)
    except OSError:
        return False
    ports = tuple(extra_ports)
    stats = DissectStats()
    dissector = Dissector(extra_ports=ports, stats=stats)
    corr = Correlator(decryptor, capture=os.fspath(source), on_esp=recorder.esp)
    bulk = corr.esp_bulk(observed=True)
    if bulk is None:
        return False
    total = st.st_size

    def take(frames: int, done: int) -> None:
        on_step(partial_step(corr, frames, min(done, total), total))

    def boundary(offset: int) -> None:
        sink.flush()  # every packet before ``offset`` recorded, and the pacer's frame count
        recorder.boundary(offset, pacer.frames)

    pacer = _Pacer(take, boundary, cancelled, first_after, interval, clock)
    batch = getattr(decryptor, "esp_batch", None) if decryptor.has_keys else None
    sink = SnapshotSink(dissector, corr.feed, bulk, batch, recorder, pacer)
    try:
        done = walk_pcap(source, sink, fast_udp=not ports, progress=pacer.progress)
    except _NotMapped:
        return False
    except Cancelled:
        return True
    if done is None:
        return False
    stats.frames, dissector.last_ts, capture = done
    tail = dissector.finish(capture, capture.frames if capture else 0, dissector.last_ts)
    if tail is not None:
        corr.feed(tail)
    on_step(last_step(corr, stats.frames, recorder, (total, st.st_mtime_ns)))
    return True


def partial_step(corr: Correlator, frames: int, done: int, total: int) -> Step:
    """A snapshot of the load so far, diagnosed: ``frames`` read, ``done`` of ``total`` bytes."""
    from ikeview.diagnosis.engine import diagnose

    return Step(done, total, diagnose(corr.snapshot(frames=frames, complete=False)))


def last_step(corr: Correlator, frames: int, recorder: EspRecorder, file: tuple[int, int]) -> Step:
    """The complete analysis, diagnosed, with a seek table from the recorder's points in the
    file (``file``: its size and modification time as the load began)."""
    from ikeview.diagnosis.engine import diagnose

    total, mtime = file
    seek = SeekTable(total, mtime, [Checkpoint(f, o) for f, o in recorder.seek_points()])
    return Step(total, total, diagnose(corr.snapshot(frames=frames, complete=True)), seek)


__all__ = [
    "FIRST_AFTER",
    "INTERVAL",
    "Cancelled",
    "EspRecorder",
    "RangeWatch",
    "SnapshotSink",
    "last_step",
    "partial_step",
    "range_watch",
    "stream_fast",
]
