"""``analyze()`` without a record per ESP packet: the batch path of whole-file analysis.

IKE, keepalives, damaged frames and everything unusual go through the dissector and the
correlator exactly as in ``analyze()``, one frame at a time and in capture order, so the IKE SAs,
child SAs and their keys are known by the time their ESP arrives. ESP frames the dissector's
inline fast path would take, of an SPI whose keys are settled (one SA for the SPI, keys pinned by
a verified packet, no ESN) or of an SPI without keys, are instead collected per SPI by
``fastwalk`` and, whenever the general path is about to take a frame (or a few thousand are
held), flushed: each SPI's packets decrypted in one batch (``EspSa.open_batch``) and counted in
one step (``correlate.espbulk``), with the same counters, replay window, inner flows and problem
lines as packet by packet. A batch in which some packet carries ESP inside (ESP in ESP) is
instead fed to the correlator as records, in frame order, like the general path.

``analyze()`` stays the reference: tests/test_fastesp.py holds the two to byte-identical reports
on the lab captures and on generated ones with loss, replays, damage and unknown SPIs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, cast

from ikeview.dissectors.net import ip_text
from ikeview.dissectors.records import RawFrame
from ikeview.dissectors.stream import Dissector, DissectStats
from ikeview.pipeline.capture_model import Analysis
from ikeview.pipeline.correlate import Correlator
from ikeview.pipeline.correlate.espbulk import CleanOutcome, DeferredProblem, EspBulk, Outcome
from ikeview.pipeline.fastswitch import NO_FAST_ENV, fast_allowed
from ikeview.pipeline.fastwalk import Buffer, FastItem, Lane, RecordHeader, walk_pcap

if TYPE_CHECKING:
    # A run without keys loads neither the keys model nor the ESP decryptor (and with it
    # cryptography): ~10 ms of a small capture's start-up.
    from ikeview.keys.model import KeyRing
    from ikeview.pipeline.dec_esp import EspEntry

_INNER, _OCTET9, _OCTET6 = itemgetter(1), itemgetter(9), itemgetter(6)
_START, _END = itemgetter(2), itemgetter(3)
Opened = tuple[list[Outcome], bool]
"""What decrypting a lane gave, in order, and True when every packet was clean."""


def analyze_fast(
    source: str | os.PathLike[str],
    keyring: KeyRing | None = None,
    *,
    extra_ports: Iterable[int] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Analysis | None:
    """``analyze(source, keyring)`` through the batch path; None when ``source`` is not a
    regular capture file, or is a classic pcap with anything the reader would report (then
    call ``analyze``, which says what is wrong)."""
    # Here, not with the module: ``decrypt -o`` uses this module's lanes but never diagnoses.
    from ikeview.diagnosis.engine import diagnose
    from ikeview.pipeline.analyze import make_decryptor

    try:
        total = os.path.getsize(source)
    except OSError:  # the general path says what is wrong, in its own words
        return None
    ports = tuple(extra_ports)
    stats = DissectStats()
    dissector = Dissector(extra_ports=ports, stats=stats)
    decryptor = make_decryptor(keyring)
    corr = Correlator(decryptor, capture=os.fspath(source))
    bulk = corr.esp_bulk()
    if bulk is None:
        return None
    # Without keys (NullDecryptor) every ESP packet is "no keys", as the correlator has it.
    batch = getattr(decryptor, "esp_batch", None) if decryptor.has_keys else None
    sink = AnalysisSink(dissector, corr.feed, bulk, batch)
    if progress is not None:
        progress(0, total)
    done = walk_pcap(source, sink, fast_udp=not ports, progress=progress)
    if done is None:
        return None
    stats.frames, dissector.last_ts, capture = done
    # As analyze() ends a file read by CaptureReader: a damaged file's last word.
    tail = dissector.finish(capture, capture.frames if capture else 0, dissector.last_ts)
    if tail is not None:
        corr.feed(tail)
    if progress is not None:
        progress(total, total)
    return diagnose(corr.snapshot(frames=stats.frames, complete=True))


class AnalysisSink:
    """Takes a walk for the correlator: general frames dissected and fed, lanes in batches."""

    def __init__(
        self,
        dissector: Dissector,
        feed: Callable[[object], None],
        bulk: EspBulk,
        batch: Callable[[int], EspEntry | str | None] | None,
    ) -> None:
        self.lanes: dict[int, Lane] = {}
        self._run = dissector.run
        self._stats = dissector.stats
        self._feed = feed
        self._bulk = bulk
        self._batch = batch
        self._names: dict[bytes, str] = {}
        self._mm: Buffer | None = None
        self._linktype = 0
        self._record: RecordHeader | None = None

    def begin(self, mm: Buffer, linktype: int, record: RecordHeader) -> None:
        self._mm, self._linktype, self._record = mm, linktype, record

    def lane(self, spi: int, src: bytes, dst: bytes, udp: bool) -> Lane | None:
        # Without keys at all every packet is "no keys"; with keys, the decryptor says.
        how = "no keys" if self._batch is None else self._batch(spi)
        if how is None:
            return None
        lane = self.lanes[spi] = Lane(spi, src, dst, udp, how)
        return lane

    def frame(self, raw: RawFrame) -> None:
        self.flush()
        for rec in self._run((raw,)):
            self._feed(rec)

    def flush(self) -> None:
        lanes = take_held(self.lanes)
        if not lanes:
            return
        mm = self._mm
        assert mm is not None
        opened = open_held(mm, lanes)
        if opened is None:
            self._replay(lanes)
            return
        bulk = self._bulk
        deferred: list[DeferredProblem] = []
        held = 0
        for lane, outcomes in zip(lanes, opened, strict=True):
            items = lane.items
            held += len(items)
            c = bulk.count(lane.spi, self._name(lane.src), self._name(lane.dst), lane.udp, items)
            if outcomes is None:
                bulk.no_keys(c, str(lane.how))
            else:
                bulk.opened(c, items, outcomes[0], deferred, clean=outcomes[1])
        self._stats.esp += held
        if deferred:
            bulk.record_problems(deferred)

    def _replay(self, lanes: list[Lane]) -> None:
        """The lanes' frames through the dissector and the correlator, in frame order."""
        mm, record = self._mm, self._record
        assert mm is not None and record is not None
        items: list[FastItem] = sorted(
            (it for lane in lanes for it in lane.items), key=itemgetter(0)
        )
        run, feed, linktype = self._run, self._feed, self._linktype
        for frame, ts, _a, _b, _seq, start in items:
            _sec, _frac, incl, orig = record(mm, start - 16)
            for rec in run((RawFrame(frame, ts, linktype, bytes(mm[start : start + incl]), orig),)):
                feed(rec)
        # run() counted these frames; the walk sets the frame total at the end.

    def _name(self, addr: bytes) -> str:
        name = self._names.get(addr)
        if name is None:
            if len(self._names) >= 4096:
                self._names.clear()
            name = self._names[addr] = ip_text(addr)
        return name


def open_lane(mm: Buffer, lane: Lane) -> Opened | None:
    """What decrypting the lane's packets gives, in order, and whether all were clean; None
    when it has no keys. Changes no state: the entry is pinned and without ESN, so the order
    of packets does not matter."""
    entry = lane.how
    if entry is None or isinstance(entry, str):
        return None  # no keys for the lane (without keys at all, dec_esp is never loaded)
    from ikeview.pipeline.dec_esp import EspEntry

    if not isinstance(entry, EspEntry) or entry.pinned is None:
        return None
    items = lane.items
    starts, ends = list(map(_START, items)), list(map(_END, items))
    clean = entry.pinned.sa.open_batch(mm, starts, ends)
    if None not in clean:
        # The same list read as the wider element type (lists are invariant): no copy here.
        return cast("list[Outcome]", clean), True
    # Not clean: the decryptor's full answer, as esp() gives it after its hot path.
    out: list[Outcome] = [
        c if c is not None else entry.open(bytes(mm[starts[i] : ends[i]]))
        for i, c in enumerate(clean)
    ]
    return out, False


def take_held(lanes: dict[int, Lane]) -> list[Lane]:
    """The lanes holding packets, in the order they were opened, and ``lanes`` emptied: a sink
    empties them at every flush, as the general path may change keys before the next packet."""
    held = [lane for lane in lanes.values() if lane.items]
    lanes.clear()
    return held


def open_held(mm: Buffer, lanes: list[Lane]) -> list[Opened | None] | None:
    """``open_lane`` of each lane; None when some decrypted packet may carry ESP, which the
    correlator and ``decrypt`` open as a nested SA: the batch then goes the record way."""
    opened = [open_lane(mm, lane) for lane in lanes]
    if any(out is not None and carries_esp(out) for out in opened):
        return None
    return opened


def carries_esp(opened: Opened) -> bool:
    """True when some decrypted packet may carry ESP (IPv4 protocol or IPv6 next header 50),
    which the correlator and ``decrypt`` open as a nested SA. Wider than their own tests (a
    false alarm only sends a batch the record way, which is always right)."""
    outs, clean = opened
    if clean:
        # Every outcome a (next header, inner, ok) tuple: the two octets looked at in C loops
        # (~30% less than the loop below). Neither is 50 in any: nothing can carry ESP. A short
        # inner (IndexError) or a 50 somewhere: the exact test below decides.
        try:
            inners = list(map(_INNER, cast("list[CleanOutcome]", outs)))
            if 50 not in map(_OCTET9, inners) and 50 not in map(_OCTET6, inners):
                return False
        except IndexError:
            pass
    for out in outs:
        inner = out[1] if isinstance(out, tuple) else out.inner
        if inner is not None and len(inner) >= 20 and (inner[9] == 50 or inner[6] == 50):
            return True
    return False


__all__ = [
    "NO_FAST_ENV",
    "AnalysisSink",
    "analyze_fast",
    "carries_esp",
    "fast_allowed",
    "open_held",
    "open_lane",
    "take_held",
]
