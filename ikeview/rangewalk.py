"""One range of a ``--jobs`` split walked in this process: its records into a correlator of its
own (``parallel``, ``parunlocated``, the TUI's split load).

:func:`walk_range` reads range ``r`` of a :class:`rangesplit.Split`: the frames that are not
plain ESP of the ranges located before it, then its own frames (through the batch path's walk
and sink where the range is on it, ``pipeline.fastwalk`` and ``fastesp``), then those of the
ranges after it. :class:`RangeFeed` takes the records: ESP of other ranges dropped, a later
range's first sequence numbers per counter kept beside its correlator (``correlate.merge``),
an open range's other frames kept for the first range's process, or written to a file for it
as they are met (``back``: ``parunlocated``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ikeview.dissectors.records import EspPacket, RawFrame
from ikeview.dissectors.stream import Dissector, DissectStats, plain_esp
from ikeview.pcapranges import open_map
from ikeview.rangesplit import MAX_OTHER_BYTES, OPEN, OTHER_SHARE, Split

if TYPE_CHECKING:
    import mmap

    from ikeview.keys.model import KeyRing
    from ikeview.parhandoff import Handoff, Handoffs, Relay
    from ikeview.pipeline.correlate import Correlator
    from ikeview.pipeline.correlate.espbulk import EspBulk
    from ikeview.pipeline.correlate.merge import Recorder
    from ikeview.pipeline.fastsnap import RangeWatch
    from ikeview.pipeline.seam import Decryptor


def decryptor_for(key_paths: Sequence[str]) -> Decryptor:
    from ikeview.pipeline.analyze import make_decryptor

    if not key_paths:
        return make_decryptor(None)
    from ikeview.keys.loader import load_keys

    return make_decryptor(load_keys([Path(p) for p in key_paths]))


def walk_range(
    split: Split,
    r: int,
    key_paths: Sequence[str],
    extra_ports: Sequence[int],
    record: bool,
    fast: bool,
    keyring: KeyRing | None,
    tail: Callable[[RangeFeed], Iterable[RawFrame]] | None = None,
    *,
    watch: RangeWatch | None = None,
    ike: bool = True,
    handoffs: Handoffs | None = None,
    back: str | None = None,
) -> tuple[Correlator, Recorder, RangeFeed]:
    # ``watch``: the TUI's recorder of ESP rows and its pacer (``tui.parload``). ``ike``:
    # whether IKE datagrams are parsed (Dissector's ``ike``). ``handoffs``: ``parhandoff``.
    # ``back``: the file an open range's other frames are streamed to (``parback``).
    # Imported here: ``summary --jobs`` (this module too) needs none of the correlator.
    from ikeview.pipeline.capture_model import MAX_INNER_FLOWS
    from ikeview.pipeline.correlate import Correlator
    from ikeview.pipeline.correlate.merge import WIDE_INNER, Recorder

    # A later range keeps more inner flows per SPI so that they merge exactly (merge.py).
    limit = WIDE_INNER if record else MAX_INNER_FLOWS
    if watch is not None and watch.decryptor is not None:
        decryptor = watch.decryptor
    elif keyring is not None:
        from ikeview.pipeline.analyze import make_decryptor

        decryptor = make_decryptor(keyring)
    else:
        decryptor = decryptor_for(key_paths)
    on_esp = None if watch is None else watch.recorder.esp
    corr = Correlator(decryptor, capture=split.name, inner_limit=limit, on_esp=on_esp)
    if watch is not None:
        watch.corr = corr
    recorder = Recorder()
    take = RangeFeed(corr, recorder, split, r, record, not extra_ports)
    dissector = Dissector(extra_ports=extra_ports, stats=DissectStats(), ike=ike)
    bulk = corr.esp_bulk(observed=watch is not None) if fast else None
    walk = (split, r, dissector, take, bulk, decryptor, not extra_ports, tail, watch, handoffs)
    if back is None:
        _walk(*walk)
        return corr, recorder, take
    from ikeview.parback import back_writer

    take.back = back_writer(back, split.bases[r])
    try:
        _walk(*walk)
    finally:
        try:
            take.back.end(take.end)  # 0 when the walk did not end
        finally:
            take.back.close()
    return corr, recorder, take


def _walk(
    split: Split,
    r: int,
    dissector: Dissector,
    take: RangeFeed,
    bulk: EspBulk | None,
    decryptor: Decryptor,
    fast_udp: bool,
    tail: Callable[[RangeFeed], Iterable[RawFrame]] | None,
    watch: RangeWatch | None,
    handoffs: Handoffs | None,
) -> None:
    with open(split.name, "rb") as fh, open_map(split.name) as mm:
        if bulk is None:
            feed = take.feed
            for rec in dissector.run(split.frames_for(r, mm, fh.fileno())):
                feed(rec)
            return
        fd = fh.fileno()
        _walk_batched(
            split, r, mm, fd, dissector, take, bulk, decryptor, fast_udp, tail, watch, handoffs
        )


class RangeLost(Exception):
    """A range the locating walk accepted could not be walked again (the file changed)."""


OTHER_FLOOR = 10_000
"""Frames not plain ESP a range may hold whatever their share (see ``RangeFeed.other``)."""


class TooManyOthers(Exception):
    """An open last range holds more frames that are not plain ESP than are worth handing
    over: the capture is read in one pass."""


def _range_sink(take: RangeFeed, base: type[Any] | None = None) -> type[Any]:
    """The batch path's sink for one range: a counter's packets are batched only once ``take``
    has kept its first sequence numbers. (A class made here so that the batch path, and the
    correlator behind it, are imported only when a range is analysed.) ``base``: the sink it
    extends (``AnalysisSink``, or the TUI's ``SnapshotSink``)."""
    from ikeview.pipeline.fastesp import AnalysisSink
    from ikeview.pipeline.fastwalk import Lane

    class RangeSink(base or AnalysisSink):  # type: ignore[misc]  # a base chosen at run time
        def frame(self, raw: RawFrame) -> None:
            if take.walking:
                take.other(raw)
            super().frame(raw)

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
            # Lanes cut in two: the packets before the cut are not all recorded until the
            # second flush (a recorder must not take a checkpoint between the two).
            self.settled = not rest
            super().flush()
            self.settled = True
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
    take: RangeFeed,
    bulk: EspBulk,
    decryptor: Decryptor,
    fast_udp: bool,
    tail: Callable[[RangeFeed], Iterable[RawFrame]] | None = None,
    watch: RangeWatch | None = None,
    handoffs: Handoffs | None = None,
) -> None:
    """Range ``r`` through the batch path's walk and sink (``pipeline.fastwalk`` and
    ``fastesp``, as ``analyze`` takes them), records through ``take``; a counter's packets are
    batched only once ``take`` has kept its first sequence numbers. The other ranges' other
    frames go to the sink's general path before and after the range, in capture order; with
    ``handoffs``, the earlier ranges' come as they hand them over (``parhandoff``)."""
    from ikeview.pipeline.fastwalk import walk_frames, walk_span

    relay = None
    if handoffs is not None and not split.lay.ng:
        from ikeview.parhandoff import reading, relay_for

        relay = relay_for(split, r, handoffs[0], handoffs[1], mm, fd, fast_udp)
        relay.take_other = reading(dissector.run, take.feed)  # as another range's frames
    sink = _batched_sink(dissector, take, bulk, decryptor, watch, relay)
    lay, w, base = split.lay, split.walked[r], split.bases[r]
    if lay.ng:
        # The walk over frames a reader gave (the batch path's own loop for pcapng).
        walk_frames(split.frames_for(r, mm, fd), sink, fast_udp)
        return
    for raw in split.other_frames(range(r), fd):
        sink.frame(raw)
    kind = (lay.endian, lay.scale)
    take.walking = True
    done = None
    try:
        done = walk_span(mm, lay.size, kind, sink, fast_udp, (w.start, w.end, base))
        sink.flush()
    finally:
        if relay is not None:
            relay.end(0 if done is None else done[2])  # 0: a later range stops waiting now
    take.walking = False
    if done is None:
        raise RangeLost(split.name)
    take.end = done[2]
    take.walked_to(done[0] - base, dissector.idle())
    for raw in split.other_frames(range(r + 1, len(split.walked)), fd):
        sink.frame(raw)
    for raw in tail(take) if tail is not None else ():
        sink.frame(raw)
    sink.flush()
    take.redefined = bool(getattr(decryptor, "redefined", False))


def _batched_sink(
    dissector: Dissector,
    take: RangeFeed,
    bulk: EspBulk,
    decryptor: Decryptor,
    watch: RangeWatch | None,
    relay: Relay | None,
) -> Any:
    """The range's sink: the TUI's with ``watch``, driven by ``relay`` with handoffs."""
    batch = getattr(decryptor, "esp_batch", None) if decryptor.has_keys else None
    snapshot: type[Any] | None = None
    if watch is not None:
        from ikeview.pipeline.fastsnap import SnapshotSink

        snapshot = SnapshotSink
    sink_type = _range_sink(take, snapshot)
    if relay is not None:
        from ikeview.parhandoff import relayed

        sink_type = relayed(sink_type, relay, batch, decryptor)
    if watch is None:
        return sink_type(dissector, take.feed, bulk, batch)
    return sink_type(dissector, take.feed, bulk, batch, watch.recorder, watch.pacer)


class RangeFeed:
    """Records of one range's walk into its correlator: ESP of other ranges dropped (frames
    that are not plain ESP are read by every range), and in a later range the first sequence
    numbers of each counter kept beside it (``correlate.merge``)."""

    def __init__(
        self,
        corr: Correlator,
        recorder: Recorder,
        split: Split,
        r: int,
        record: bool,
        fast_udp: bool = True,
    ) -> None:
        self._corr, self._recorder, self._record = corr, recorder, record
        self._lo, self._hi = split.bases[r], split.bases[r] + split.walked[r].frames
        self._fast_udp = fast_udp
        self.kept: list[RawFrame] | None = [] if r and split.walked[r].frames == OPEN else None
        """An open range's frames that are not plain ESP, for the first range's process."""
        self.back: Handoff | None = None
        """Where those frames go instead, as they are met (``parback``)."""
        self._room = MAX_OTHER_BYTES
        self.walked = 0
        """Frames the batch path's walk counted in the range."""
        self.walking = False
        """Whether the range's own frames are being walked (not the other ranges' frames)."""
        self.end = 0
        """Once the range is walked: the offset just past its last frame."""
        self.idle = True
        """Whether the dissector held nothing (fragments, streams) when the range ended."""
        self.others = 0
        """Frames of the walk that are not plain ESP."""
        self.redefined = False
        """Whether its decryptor was given keys for an SPI that had some (``parhandoff``)."""
        self.recorded: set[tuple[int, str]] = set()
        """Counters whose first sequence numbers are kept (or that need none: first range)."""

        self.batching: set[tuple[int, str]] = set()
        """Counters whose packets the sink's flush has noted itself (see _walk_batched)."""

    @property
    def records(self) -> bool:
        """Whether this range keeps first sequence numbers (a later range)."""
        return self._record

    def walked_to(self, frames: int, idle: bool) -> None:
        """The range is walked: ``frames`` in it; an open range's end is known now."""
        self.walked, self.idle = frames, idle
        if self._hi - self._lo >= OPEN:
            self._hi = self._lo + frames

    def other(self, raw: RawFrame) -> None:
        """A frame of the range's walk that the batch path did not take. Counted when it is not
        plain ESP (which a range's process reads alone): past a quarter of the frames walked
        (and 10,000 frames), every process would repeat most of one pass, so the capture is
        read in one (``TooManyOthers``). Kept for the first range's process when the range
        is open (:data:`OPEN`), or streamed to it (:attr:`back`)."""
        if plain_esp(raw.linktype, raw.data, self._fast_udp):
            return
        self.others += 1
        if self.others > OTHER_FLOOR and self.others > (raw.index - self._lo) * OTHER_SHARE:
            raise TooManyOthers
        kept = self.kept
        if kept is not None:
            self._room -= len(raw.data) + 64
            if self._room < 0:
                raise TooManyOthers
            if self.back is None:
                kept.append(raw)
            else:
                self.back.frame(raw)

    def room(self, key: tuple[int, str]) -> int:
        """How many more of this counter's first sequence numbers are to be kept."""
        from ikeview.pipeline.correlate.merge import PREFIX

        return PREFIX - len(self._recorder.prefix.get(key, ((), ()))[0])

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


__all__ = [
    "OTHER_FLOOR",
    "RangeFeed",
    "RangeLost",
    "TooManyOthers",
    "decryptor_for",
    "walk_range",
]
