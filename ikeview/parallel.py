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

On the batch path of a classic pcap nothing is located (``ikeview.parunlocated``; with keys
that open IKE, up to ``parhandoff.HANDOFF_JOBS`` processes, by handoffs). With ``--ports``, more
processes and keys that open IKE, or in the TUI's split load, only ranges 0..N-2 are located
(``rangesplit.locate_open``), that span cut into N shares, one per process; the last range is
walked once, by its own process, which notes its other frames as it goes and hands them back
with its ESP (only the first range's correlator needs them, last). Keys are loaded once, here.

Only file names, byte offsets, per-SA counters and the last range's few other frames cross
between processes, never ESP packets. ``decrypt -o`` has its own split (``pardecrypt``; on the
batch path nothing is located there: ``parhandoff``).
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ikeview import parhandoff
from ikeview.dissectors.records import EspPacket, RawFrame
from ikeview.dissectors.stream import Dissector, DissectStats, plain_esp
from ikeview.fastsummary import summarize_fast
from ikeview.ikepreload import preload_ike
from ikeview.pcapranges import Layout, layout, open_map
from ikeview.procpool import pool
from ikeview.rangesplit import (
    MAX_OTHER_BYTES,
    OPEN,
    OTHER_SHARE,
    Split,
    locate,
    locate_open,
    split_of,
)

if TYPE_CHECKING:
    import mmap

    from ikeview.keys.model import KeyRing
    from ikeview.parhandoff import Handoffs, Relay
    from ikeview.pipeline.correlate import Correlator
    from ikeview.pipeline.correlate.espbulk import EspBulk
    from ikeview.pipeline.correlate.merge import EspPart, Recorder
    from ikeview.pipeline.fastsnap import RangeWatch
    from ikeview.pipeline.fastwalk import Lane
    from ikeview.pipeline.model import Analysis
    from ikeview.pipeline.seam import Decryptor
    from ikeview.summary import Summary

MIN_SPLIT_BYTES = 4 << 20
"""Files smaller than this are read in one pass: starting processes would cost more."""


def job_count(jobs: int) -> int:
    """``--jobs`` as a number of processes: 0 means one per core this process may run on."""
    if jobs < 0:
        from ikeview.errors import IkeviewError

        raise IkeviewError("--jobs must be 0 (all cores) or a positive number")
    return jobs or usable_cores()


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity where the system has one (a container
    or ``taskset`` limited to 2 of a host's 64 cores gets 2 processes, not 64), else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


NOT_SPLIT = "the file could not be split into ranges (damage, or mostly frames not plain ESP)"


def note(text: str) -> None:
    """Why ``--jobs`` read a capture in one process, on stderr (output stays the same)."""
    print(f"ikeview: {text}", file=sys.stderr)


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
    *,
    keyring: KeyRing | None = None,
    tail: Callable[[_RangeFeed], Iterable[RawFrame]] | None = None,
) -> tuple[Correlator, Recorder]:
    """Round 2 for range ``r``: its correlator, and the recorder of its first sequence numbers
    per SA when ``record`` (a later range, to be folded into the first). ``fast``: the range's
    ESP through the batch path (``pipeline.fastesp``) where it applies, as ``analyze`` does.
    ``keyring``: the keys, loaded already (else read from ``key_paths``); ``tail``: the other
    frames of an open last range (:data:`OPEN`), asked for once every located one is read."""
    corr, recorder, _ = _run_range(split, r, key_paths, extra_ports, record, fast, keyring, tail)
    return corr, recorder


def _run_range(
    split: Split,
    r: int,
    key_paths: Sequence[str],
    extra_ports: Sequence[int],
    record: bool,
    fast: bool,
    keyring: KeyRing | None,
    tail: Callable[[_RangeFeed], Iterable[RawFrame]] | None = None,
    *,
    watch: RangeWatch | None = None,
    ike: bool = True,
    handoffs: Handoffs | None = None,
) -> tuple[Correlator, Recorder, _RangeFeed]:
    # ``watch``: the TUI's recorder of ESP rows and its pacer (``tui.parload``). ``ike``:
    # whether IKE datagrams are parsed (Dissector's ``ike``). ``handoffs``: ``parhandoff``.
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
        decryptor = _make_decryptor(key_paths)
    on_esp = None if watch is None else watch.recorder.esp
    corr = Correlator(decryptor, capture=split.name, inner_limit=limit, on_esp=on_esp)
    if watch is not None:
        watch.corr = corr
    recorder = Recorder()
    take = _RangeFeed(corr, recorder, split, r, record, not extra_ports)
    dissector = Dissector(extra_ports=extra_ports, stats=DissectStats(), ike=ike)
    bulk = corr.esp_bulk(observed=watch is not None) if fast else None
    with open(split.name, "rb") as fh, open_map(split.name) as mm:
        if bulk is None:
            feed = take.feed
            for rec in dissector.run(split.frames_for(r, mm, fh.fileno())):
                feed(rec)
        else:
            _walk_batched(
                split,
                r,
                mm,
                fh.fileno(),
                dissector,
                take,
                bulk,
                decryptor,
                not extra_ports,
                tail,
                watch,
                handoffs,
            )
    return corr, recorder, take


class RangeLost(Exception):
    """A range the locating walk accepted could not be walked again (the file changed)."""


OTHER_FLOOR = 10_000
"""Frames not plain ESP a range may hold whatever their share (see ``_RangeFeed.other``)."""


class TooManyOthers(Exception):
    """An open last range holds more frames that are not plain ESP than are worth handing
    over: the capture is read in one pass."""


def _range_sink(take: _RangeFeed, base: type[Any] | None = None) -> type[Any]:
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
    take: _RangeFeed,
    bulk: EspBulk,
    decryptor: Decryptor,
    fast_udp: bool,
    tail: Callable[[_RangeFeed], Iterable[RawFrame]] | None = None,
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
    take: _RangeFeed,
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


class _RangeFeed:
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
        is open (:data:`OPEN`)."""
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
            kept.append(raw)

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


def esp_range(
    split: Split,
    r: int,
    key_paths: Sequence[str],
    extra_ports: Sequence[int],
    fast: bool,
    keyring: KeyRing | None = None,
) -> EspPart:
    """Worker: the ESP of range ``r`` (counters per SA: small)."""
    corr, recorder = run_range(split, r, key_paths, extra_ports, True, fast, keyring=keyring)
    return corr.take_esp(recorder)


def last_range(
    split: Split, keyring: KeyRing | None, extra_ports: Sequence[int]
) -> tuple[EspPart, int, list[RawFrame]]:
    """Worker: the open last range (:data:`OPEN`) through the batch path: its ESP, how many
    frames it holds, and its frames that are not plain ESP (for the first range's process)."""
    r = len(split.walked) - 1
    corr, recorder, take = _run_range(split, r, (), extra_ports, True, True, keyring)
    return corr.take_esp(recorder), take.walked, take.kept or []


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
    except (BrokenExecutor, OSError, struct.error, RangeLost, TooManyOthers) as exc:
        # A worker that died (killed, out of memory), processes that could not be started, a
        # file cut short while it was read (a record header past its new end), or a last range
        # of mostly frames that are not plain ESP. (No room for handoffs: parunlocated.)
        note(f"--jobs {jobs}: {type(exc).__name__}; read in one process")
        result = None
    return one_pass() if result is None else result


def _analyze_split(
    name: str, lay: Layout, jobs: int, keys: list[str], ports: tuple[int, ...], fast: bool
) -> Analysis | None:
    from ikeview.diagnosis.engine import diagnose

    batch = fast and not lay.ng
    keyring = load_keyring(keys) if batch else None
    handoff = keyring is not None and not opens_no_ike(keyring)
    unlocated = batch and not ports and (not handoff or jobs <= parhandoff.HANDOFF_JOBS)
    if keyring is not None or not unlocated:
        # Without keys no later unlocated range parses IKE (parunlocated): the IKE side is then
        # imported by this process only, with its first IKE message, while the others run.
        preload_ike(name, keys=bool(keys))
    if unlocated:
        # With keys that open IKE the earlier ranges hand their other frames over as they go
        # (parhandoff); without, or with ESP keys only, a range needs none of them.
        from ikeview.parunlocated import analyze_unlocated

        return analyze_unlocated(name, lay, jobs, keyring, handoff)
    if batch:
        return _analyze_open(name, lay, jobs, keyring, ports)
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


def load_keyring(key_paths: Sequence[str]) -> KeyRing | None:
    """The keys, loaded once (the range processes are handed them)."""
    if not key_paths:
        return None
    from ikeview.keys.loader import load_keys

    return load_keys([Path(p) for p in key_paths])


def opens_no_ike(keyring: KeyRing) -> bool:
    """Whether no key in ``keyring`` can open IKE: ESP SA keys only (``[[esp]]``, Wireshark's
    esp_sa, ``ip xfrm state``). IKE then yields no key and no ESP verdict depends on it, so a
    range's ESP reads the same without the IKE before it, as without keys."""
    return not (keyring.psks or keyring.dh_secrets or keyring.ike_sas or keyring.eap_secrets)


def _analyze_open(
    name: str, lay: Layout, jobs: int, keyring: KeyRing | None, ports: tuple[int, ...]
) -> Analysis | None:
    """A classic pcap on the batch path: ranges 0..N-2 located by all processes, the last
    walked by its own without locating; its other frames come back with its ESP."""
    from ikeview.diagnosis.engine import diagnose

    with pool(jobs - 1) as ex:
        split = locate_open(name, lay, jobs, not ports, ex)
        if split is None:
            note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
            return None
        folded = fold_open(ex, split, keyring, ports)
    if folded is None:
        return None
    return diagnose(folded.corr.snapshot(frames=folded.frames, complete=True))


@dataclass(frozen=True, slots=True)
class Folded:
    """Later ranges folded into the first range's correlator."""

    corr: Correlator
    frames: int
    """Frames in the capture."""
    split: Split
    bases: tuple[int, ...]
    """Frames before each range."""
    shifts: tuple[int, ...]
    """What to add to each range's frame numbers (its own start's, when it was not located)."""
    later: tuple[tuple[Any, ...], ...]
    """What each later range's worker gave back (its ESP first, then what the worker adds)."""


def open_range(
    split: Split, r: int, keyring: KeyRing | None, ports: tuple[int, ...]
) -> tuple[Any, ...]:
    """Worker: range ``r`` of a split located up to its open last range: (its ESP,), or for
    the last (its ESP, its frames, its frames that are not plain ESP)."""
    if r < len(split.walked) - 1:
        return (esp_range(split, r, (), ports, True, keyring),)
    return last_range(split, keyring, ports)


def fold_open(
    ex: Executor,
    split: Split,
    keyring: KeyRing | None,
    ports: tuple[int, ...],
    *,
    worker: Callable[..., tuple[Any, ...]] = open_range,
    watch: RangeWatch | None = None,
) -> Folded | None:
    """Range 0 of a split from ``locate_open`` walked here (``watch``: its recorder and pacer),
    the later ranges by ``worker(split, r, keyring, ports)`` in ``ex``, and their ESP folded
    in (frames numbered from the capture's start); None when it cannot fold exactly."""
    later = [ex.submit(worker, split, r, keyring, ports) for r in range(1, len(split.walked))]
    corr, _, _ = _run_range(
        split, 0, (), ports, False, True, keyring, lambda _: later[-1].result()[2], watch=watch
    )
    got = tuple(f.result() for f in later)
    if not corr.absorb_esp([g[0] for g in got]):
        return None
    frames = split.bases[-1] + got[-1][1]
    return Folded(corr, frames, split, split.bases, (0,) * len(split.bases), got)


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
    preload_ike(name, parser_only=True)  # once before the fork, not in every process
    return summarize_fast(path, extra_ports=extra_ports, jobs=jobs, pool=pool, note=note)


__all__ = [
    "MAX_OTHER_BYTES",
    "MIN_SPLIT_BYTES",
    "NOT_SPLIT",
    "OPEN",
    "OTHER_SHARE",
    "Folded",
    "Split",
    "analyze_parallel",
    "esp_range",
    "fold_open",
    "job_count",
    "last_range",
    "load_keyring",
    "locate",
    "locate_open",
    "note",
    "open_range",
    "pool",
    "run_range",
    "split_of",
    "splittable",
    "summarize_parallel",
    "usable_cores",
]
