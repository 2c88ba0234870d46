"""``--jobs N`` with keys that open IKE (a pre-shared key, DH secrets) on the batch path of a
classic pcap (``decrypt -o``, ``report`` and ``export``): each range starts at once, and the
earlier ranges hand it their other frames as they meet them.

With such keys a later range needs what the frames before it make: the IKE SAs and the child
SAs whose keys open its ESP. Located ranges (``rangesplit``) have every process walk record
headers of the earlier ranges before anything else (0.13-0.15 s a process on 1M packets, the
largest cost ``--jobs`` added there). Here every range is walked at once from where its first
record is guessed to start (``parunlocated.unlocated_split``), and the process of each range but
the last writes its other frames (all but plain ESP, ``dissectors.stream.plain_esp``) to a file
of its own as it meets them (:class:`Handoff`). A later range feeds the earlier ranges' frames to
its own dissector, correlator and decryptor in capture order (:class:`Earlier`), so it holds the
single pass's keys once the range before it has read the frames that make them. Meanwhile, by
its :class:`Relay`, it:

- opens the ESP of an SPI it already holds keys for (an SA's keys never change once made);
- waits for more of the earlier frames at an SPI it holds no keys for yet, and before any frame
  that is not plain ESP (IKE, a fragment, anything whose handling may depend on the frames
  before it, in order), importing the IKE side at its first wait;
- once it has waited :data:`GRACE` seconds in all, walks the record headers from the last point
  handed over to its own start itself, as locating would (only the part the ranges before it
  have not read yet), and waits no more.

An SPI opened early would have been opened with other keys by the single pass only if keys
were given to it again further on; any process that reads both (the one whose range gives them
again does: it reads its own IKE only once every earlier frame is in) says so
(``KeyringDecryptor.redefined``), and the capture is then read in one pass. So is it when a
range's other frames are more than a locating split would take (``rangesplit.OTHER_SHARE``):
the handoff says so and every range stops. Only frames cross, never ESP, and no process waits
on another for long: a range that cannot be walked writes its end at once, and any wait ends
after :data:`GRACE`. A handoff that cannot be written or read (:class:`HandoffLost`) sends the
capture to one pass too. All this with up to :data:`HANDOFF_JOBS` processes; with more, the
earlier ranges are located first, as before (why: there). ``decrypt -o``'s stripes
(``parstripe``) are ranges too: a process that reads several keeps one decryptor across them
and follows the stripes the others read in between (``rangedecrypt.HandoffStripes``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ikeview.dissectors.records import RawFrame
from ikeview.dissectors.stream import plain_esp
from ikeview.ikepreload import import_ike_side
from ikeview.pcapranges import Layout, frame_at, scan
from ikeview.rangesplit import OTHER_SHARE

if TYPE_CHECKING:
    import mmap

    from ikeview.pipeline.fastwalk import Lane
    from ikeview.rangesplit import Split

HANDOFF_JOBS = 2
"""Most processes that hand frames over; with more, the earlier ranges are located first, as
before. Measured (1M packets with the PSK, 2026-12-05, CPU of one run each): where IKE comes
only at the start, handoffs took 2.93-3.02 s of CPU with 4 and 8 processes against 3.35-3.58 s
located; with an IKE frame in every 32nd of the file (DPD, say), every later range soon has to
walk the earlier ranges' headers itself, and a walk grows with the range's place in the file:
``decrypt -o`` 4.37 and 5.47 s against 3.72 and 4.31 s located, ``report`` about even with 4,
4.57 s against 3.68 s with 8. With 2 processes handoffs were as fast or faster either way
(3.26 s against 3.42 s, and 2.89 s against 2.94 s, in that capture)."""
GRACE = 0.05
"""Seconds a later range waits for the earlier ranges' frames, in all, before it walks the rest
of their record headers itself. The first range's process hands over the IKE at the start of a
capture within a few milliseconds; a key made further on (a rekey) would take that range's
reading time to come, which locating beats."""
MARK_BYTES = 4 << 20
"""A handoff says how far its range has been read at least every this many bytes: where a later
range that stops waiting starts walking."""
MAX_HANDOFF_BYTES = 64 << 20
"""A range's other frames beyond this many bytes: the capture is read in one pass."""
MIN_OTHERS = 10_000
"""Other frames a range may hand over whatever their share (as ``rangesplit`` allows)."""
BASE_SHIFT = 40
"""Range r > 0 numbers its frames from r << BASE_SHIFT: frame numbers stay in capture order
across ranges whose true bases are not known (a later range's lines that would name a frame
send the capture to one pass, as with ``parunlocated``)."""

_FRAME = struct.Struct("<cQdIII")  # b"F", frame number, time, link type, original length, length
_MARK = struct.Struct("<cQQ")  # b"P" read up to (offset, frames before it); b"E" end; b"X" too many


Handoffs = tuple[Sequence[str], float]
"""The ranges' handoff files and the grace a later range waits for them."""


def base(r: int) -> int:
    """The number before range ``r``'s first frame (see :data:`BASE_SHIFT`)."""
    return r << BASE_SHIFT


class Diverged(Exception):
    """This range's output would not be the single pass's: the capture is read in one pass."""


class HandoffLost(Exception):
    """A handoff file could not be written or read (no room left in the temporary directory):
    the capture is read in one pass. Not an OSError, which would be taken for the output's."""


class Handoff:
    """The writing end: one range's other frames, appended for the later ranges as they are met,
    with marks of how far the range has been read and its end. ``flush``: written once this
    many bytes are gathered (and at the end) rather than at once, where nothing waits on each
    frame (``parback``)."""

    _write = staticmethod(os.write)  # (a test makes the disk full here)

    def __init__(self, path: str, first: int, flush: int = 0) -> None:
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        except OSError as exc:
            raise HandoffLost(str(exc)) from None
        self._first = first
        self._marked = -MARK_BYTES
        self._bytes = 0
        self._frames = 0
        self._flush_at = flush
        self._buf = bytearray()

    def frame(self, raw: RawFrame) -> None:
        """Hand over one other frame; :class:`Diverged` once they are too many."""
        self._frames += 1
        self._bytes += len(raw.data) + _FRAME.size
        seen = raw.index - self._first
        if self._bytes > MAX_HANDOFF_BYTES or (
            self._frames > MIN_OTHERS and self._frames > seen * OTHER_SHARE
        ):
            self._put(_MARK.pack(b"X", 0, 0))
            self._flush()  # at once, gathered or not: the readers stop there
            raise Diverged
        head = _FRAME.pack(b"F", raw.index, raw.ts, raw.linktype, raw.orig_len, len(raw.data))
        self._put(head + raw.data)

    def mark(self, offset: int, before: int) -> None:
        """Every other frame numbered up to ``before`` is handed over; the record at
        ``offset`` is frame ``before + 1`` (written every :data:`MARK_BYTES` or so)."""
        if offset - self._marked >= MARK_BYTES:
            self._marked = offset
            self._put(_MARK.pack(b"P", offset, before))

    def end(self, offset: int) -> None:
        """The range is read and ended at ``offset`` (0: it could not be read)."""
        self._put(_MARK.pack(b"E", offset, 0))
        self._flush()

    def close(self) -> None:
        os.close(self._fd)

    def _put(self, data: bytes) -> None:
        self._buf += data
        if len(self._buf) >= self._flush_at:
            self._flush()

    def _flush(self) -> None:
        view = memoryview(self._buf)
        try:
            while view:
                view = view[self._write(self._fd, view) :]
        except OSError as exc:
            raise HandoffLost(str(exc)) from None
        finally:
            view.release()
        self._buf.clear()


def frame_record(buf: bytearray, pos: int) -> tuple[int, RawFrame] | None:
    """The frame whose record (``b"F"``) starts at ``pos`` of ``buf``, with the offset just past
    it; None while it is not all there."""
    if len(buf) - pos < _FRAME.size:
        return None
    _, index, ts, linktype, orig, length = _FRAME.unpack_from(buf, pos)
    end = pos + _FRAME.size + length
    if end > len(buf):
        return None
    return end, RawFrame(index, ts, linktype, bytes(buf[end - length : end]), orig)


def mark_record(buf: bytearray, pos: int) -> tuple[int, tuple[bytes, int, int]] | None:
    """The mark (kind, offset, frames before) whose record starts at ``pos`` of ``buf``, with
    the offset just past it; None while it is not all there."""
    if len(buf) - pos < _MARK.size:
        return None
    kind, offset, before = _MARK.unpack_from(buf, pos)
    return pos + _MARK.size, (kind, offset, before)


Segment = tuple[str, int, int, int, int]
"""An earlier range as a later one follows it: its handoff file, where it begins and ends in
the capture, where it numbers its frames from (:func:`base`), where its handoff begins in the
file (0 but for ``decrypt -o``'s stripes, whose process hands them all over in one file)."""


class Earlier:
    """The reading end, in a later range: the earlier ranges' handoffs, in order, each frame fed
    once; or, from the last mark on, the record headers walked (:meth:`walk_rest`). A process
    that reads several ranges of its own (``rangedecrypt.HandoffStripes``) adds the ranges the
    others read between its own as it goes (:meth:`extend`), so that it never waits for one
    of them to be done before it goes on with the next of its own."""

    def __init__(
        self, paths: Sequence[str], starts: Sequence[int], feed: Callable[[RawFrame], None]
    ):
        """``starts``: where each earlier range begins, then where this one does (ranges 0 to
        r - 1, numbered from ``base(0)``...)."""
        self._segs: list[Segment] = [
            (path, starts[r], starts[r + 1], base(r), 0) for r, path in enumerate(paths)
        ]
        self._feed = feed
        self._k = 0
        self._fd: int | None = None
        self._buf = bytearray()
        self._at = (starts[0], base(0))
        self._last = base(0)
        self.done = not self._segs
        self.broken = False

    def extend(self, segments: Sequence[Segment]) -> None:
        """More earlier ranges to follow after those already given (whatever of those is
        still to come is fed first)."""
        if self.broken or not segments:
            return
        if self.done:
            self._k = len(self._segs)
            self._open_segment(segments[0])
        self._segs += segments
        self.done = False

    def poll(self) -> bool:
        """Feed whatever has been handed over since; whether anything had."""
        got = False
        while not self.done:
            try:
                if self._fd is None:
                    path, *_, at = self._segs[self._k]
                    self._fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                    if at:
                        os.lseek(self._fd, at, os.SEEK_SET)
                chunk = os.read(self._fd, 1 << 16)
            except OSError as exc:
                raise HandoffLost(str(exc)) from None
            if not chunk:
                break
            got = True
            self._buf += chunk
            self._parse()
        return got

    def walk_rest(self, mm: mmap.mmap, lay: Layout, fd: int, fast_udp: bool = True) -> None:
        """Walk the record headers of what is left of the earlier ranges, from the last mark
        on, feeding the other frames not fed yet; :attr:`broken` when a walk does not end
        exactly where its range does."""
        while not self.done:
            off, before = self._at
            end = self._segs[self._k][2]
            other = _not_fed(self._feed, fd, lay, before, self._last)
            walked = scan(mm, lay, off, end, None, other, fast_udp)
            if walked is None or walked.end != end:
                self._finish(True)
                return
            self._next()

    def _parse(self) -> None:
        buf, pos = self._buf, 0
        while not self.done and pos < len(buf):
            if buf[pos : pos + 1] == b"F":
                got = frame_record(buf, pos)
                if got is None:
                    break
                pos, raw = got
                if raw.index > self._last:
                    self._last = raw.index
                    self._feed(raw)
                continue
            mark = mark_record(buf, pos)
            if mark is None:
                break
            pos, (kind, offset, before) = mark
            if kind == b"P":
                self._at = (offset, before)
            elif kind == b"E" and offset == self._segs[self._k][2]:
                self._next()
            else:
                self._finish(True)  # too many frames, or a range that ended elsewhere
        del buf[:pos]

    def _next(self) -> None:
        self._close()
        self._buf.clear()
        self._k += 1
        if self._k == len(self._segs):
            self.done = True
            return
        self._open_segment(self._segs[self._k])

    def _open_segment(self, seg: Segment) -> None:
        self._at = (seg[1], seg[3])
        self._last = seg[3]

    def _finish(self, broken: bool) -> None:
        self._close()
        self.done, self.broken = True, broken

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _not_fed(
    feed: Callable[[RawFrame], None], fd: int, lay: Layout, before: int, last: int
) -> Callable[[int, int], None]:
    """A walk's callback for the other frame ``index`` of a range numbered after ``before``,
    at ``at``: fed unless it was already (numbered up to ``last``)."""

    def other(index: int, at: int) -> None:
        if before + index > last:
            feed(frame_at(fd, lay, before + index, at))

    return other


class Relay:
    """One range's side of the handoffs, for whichever sink walks it: its own handoff (written),
    the earlier ranges' (followed), and the rules of the module doc on what may run ahead."""

    def __init__(self, handoff: Handoff | None, fast_udp: bool = True) -> None:
        self.handoff = handoff
        self._fast_udp = fast_udp
        self._earlier: Earlier | None = None
        self._walk_rest: Callable[[], None] = lambda: None
        self._grace = GRACE
        self._warm = False
        self.take_other: Callable[[RawFrame], None] = lambda raw: None
        """How the range's sink reads an earlier range's frame (set by the sink)."""

    def begin(self, handoff: Handoff | None) -> None:
        """Another range read through the same sink (``stripewalk``): its own handoff, and no
        earlier frames to follow until :meth:`follow` says so."""
        self.handoff, self._earlier, self._walk_rest = handoff, None, lambda: None

    def follow(self, earlier: Earlier, walk_rest: Callable[[], None], grace: float) -> None:
        """A later range: the earlier frames come from ``earlier``; ``walk_rest`` walks what is
        left of them once ``grace`` seconds have gone by waiting."""
        self._earlier, self._walk_rest, self._grace = earlier, walk_rest, grace

    def lane(self, spi: int, keyless: Callable[[int], bool]) -> None:
        """Before a lane of ``spi`` opens: wait while ``keyless(spi)`` and earlier frames may
        still come."""
        earlier = self._earlier
        if earlier is not None and not earlier.done:
            while keyless(spi) and not earlier.done:
                self._wait(earlier)
            if earlier.broken:
                raise Diverged

    def frame(self, raw: RawFrame, has_keys: Callable[[int], bool]) -> None:
        """Before a general frame is read (the lanes flushed): handed over when it is not plain
        ESP, and every earlier frame fed first unless it is plain ESP of an SPI with keys."""
        if self.handoff is not None and not plain_esp(raw.linktype, raw.data, self._fast_udp):
            self.handoff.frame(raw)
        earlier = self._earlier
        if earlier is not None and not earlier.done:
            spi = _esp_spi(raw, self._fast_udp)
            if spi is None or not has_keys(spi):
                self.catch_up()

    def mark(self, lanes: dict[int, Lane]) -> None:
        """Before the lanes are flushed: how far the range has been read (their last packet)."""
        if self.handoff is not None:
            held = [lane.items[-1] for lane in lanes.values() if lane.items]
            if held:
                last = max(held)
                self.handoff.mark(last[5] - 16, last[0] - 1)

    def end(self, offset: int) -> None:
        """The range is walked (to ``offset``; 0: it could not be): its handoff ended and
        closed; frames read after it (another range's, handed back) are not handed over."""
        handoff, self.handoff = self.handoff, None
        if handoff is not None:
            try:
                handoff.end(offset)
            finally:
                handoff.close()

    def catch_up(self) -> None:
        """Every earlier frame fed (:class:`Diverged` when they cannot all be)."""
        earlier = self._earlier
        if earlier is None:
            return
        while not earlier.done:
            self._wait(earlier)
        if earlier.broken:
            raise Diverged

    def _wait(self, earlier: Earlier) -> None:
        if earlier.poll():
            return
        if not self._warm:
            # The IKE side imported while the range before reads its first IKE, not after it
            # (2026-12-05, 1M packets with a PSK, a timeline of --jobs 2: the first later range
            # waited 62 ms for the IKE frames, then spent ~64 ms importing as it read them;
            # now its ESP starts ~60 ms sooner. In wall time within the noise of nine runs.)
            self._warm = True
            import_ike_side(keys=True)
            return
        if self._grace <= 0:
            self._walk_rest()
            return
        began = time.monotonic()
        time.sleep(0.001)
        self._grace -= time.monotonic() - began


@contextlib.contextmanager
def handoff_files(count: int) -> Iterator[list[str]]:
    """Empty handoff files for ranges 0..count-2, in a private temporary directory (none and
    no directory when ``count`` is 0)."""
    if not count:
        yield []
        return
    import tempfile  # here: --jobs without handoffs need none of it

    with tempfile.TemporaryDirectory(prefix="ikeview-handoff-") as tmp:
        paths = [os.path.join(tmp, f"range{r}") for r in range(count - 1)]
        for path in paths:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        yield paths


def relay_for(
    split: Split,
    r: int,
    paths: Sequence[str],
    grace: float,
    mm: mmap.mmap,
    fd: int,
    fast_udp: bool = True,
) -> Relay:
    """Range ``r``'s relay: its handoff ``paths[r]`` (every range but the last), and in a later
    range the earlier ranges' followed (``mm`` and ``fd``: the capture, for the walk of the
    rest)."""
    relay = Relay(Handoff(paths[r], base(r)) if r < len(paths) else None, fast_udp)
    if r:
        starts = [w.start for w in split.walked[: r + 1]]
        earlier = Earlier(paths[:r], starts, lambda raw: relay.take_other(raw))
        rest = functools.partial(earlier.walk_rest, mm, split.lay, fd, fast_udp)
        relay.follow(earlier, rest, grace)
    return relay


def reading(
    run: Callable[[Iterable[RawFrame]], Iterable[object]], feed: Callable[[object], None]
) -> Callable[[RawFrame], None]:
    """A handed-over frame read through a dissector's ``run``, every record to ``feed``."""

    def read(raw: RawFrame) -> None:
        for rec in run((raw,)):
            feed(rec)

    return read


def relayed(sink: type[Any], relay: Relay, batch: Any, decryptor: Any) -> type[Any]:
    """``sink`` (a batch-path sink: ``parallel``'s range sink for ``report``, ``pardecrypt``'s
    for ``decrypt -o``) driven by ``relay``: a lane waits while ``batch`` (the decryptor's
    ``esp_batch``) says the SPI has no keys, a general frame goes through :meth:`Relay.frame`
    (then the sink's own way), a flush marks how far the range has been read."""
    has_keys = decryptor.has_esp_keys

    def keyless(spi: int) -> bool:
        return isinstance(batch(spi), str)

    class Relayed(sink):  # a base chosen at run time
        def lane(self, spi: int, src: bytes, dst: bytes, udp: bool) -> Lane | None:
            relay.lane(spi, keyless)
            result: Lane | None = super().lane(spi, src, dst, udp)
            return result

        def frame(self, raw: RawFrame) -> None:
            self.flush()
            relay.frame(raw, has_keys)
            super().frame(raw)

        def flush(self) -> None:
            relay.mark(self.lanes)
            super().flush()

    return Relayed


def _esp_spi(raw: RawFrame, fast_udp: bool) -> int | None:
    """The SPI of a frame ``plain_esp`` takes (Ethernet, IPv4 without options); else None."""
    if not plain_esp(raw.linktype, raw.data, fast_udp):
        return None
    at = 34 if raw.data[23] == 50 else 42  # ESP right behind IPv4, or behind UDP
    return int.from_bytes(raw.data[at : at + 4], "big")


__all__ = [
    "GRACE",
    "HANDOFF_JOBS",
    "Diverged",
    "Earlier",
    "Handoff",
    "HandoffLost",
    "Handoffs",
    "Relay",
    "base",
    "frame_record",
    "handoff_files",
    "mark_record",
    "reading",
    "relay_for",
    "relayed",
]
