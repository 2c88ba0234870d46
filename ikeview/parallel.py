"""``--jobs N``: one capture analysed by N processes, with the same result as one pass.

The file is cut into N ranges by bytes of frame data (a frame belongs to the range in which its
first byte falls, counting the captured bytes of the frames before it: every process computes
this alike). Process ``r`` reads the whole file but dissects, decrypts
and counts only what is cheap or needed by all: every IKE message (so each knows every SA and
key: "IKE first"), keepalives and damaged frames, and the ESP packets of its own range. ESP
outside its range is skipped before dissection when the dissector's fast path would take it
(``dissectors.stream.plain_esp``, inlined here), and dropped after dissection otherwise. The
first range runs in this process; the others' ESP counters come back and are folded into it in
capture order (``pipeline.correlate.merge``); then the analysis is frozen and diagnosed as a
single pass would. If the ranges' ESP cannot be folded exactly (sequence numbers far out of
order across a boundary), the capture is read again in one pass: the output never depends on
``--jobs``.

Only regular files are split; anything else (and ``--jobs 1``) is the plain single pass.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ikeview.dissectors.capture import CaptureReader
from ikeview.dissectors.records import EspPacket, RawFrame
from ikeview.dissectors.stream import Dissector, DissectStats
from ikeview.pipeline.correlate import Correlator
from ikeview.pipeline.correlate.merge import WIDE_INNER, EspPart, Recorder
from ikeview.pipeline.model import MAX_INNER_FLOWS, Analysis

MIN_SPLIT_BYTES = 4 << 20
"""Files smaller than this are read in one pass: starting processes would cost more."""


def job_count(jobs: int) -> int:
    """``--jobs`` as a number of processes: 0 means one per core."""
    if jobs < 0:
        from ikeview.errors import IkeviewError

        raise IkeviewError("--jobs must be 0 (all cores) or a positive number")
    return jobs or os.cpu_count() or 1


def bounds(size: int, jobs: int) -> list[int]:
    """Byte counts where ranges 1..N-1 start (range 0 starts at 0, the last ends at EOF)."""
    return [size * r // jobs for r in range(1, jobs)]


def data_size(path: str) -> int:
    """Bytes of capture data: the file size, or for gzip the size its trailer gives (modulo
    4 GiB, as RFC 1952 stores it) when that is larger. Only balances the ranges."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if f.read(2) != b"\x1f\x8b" or size < 18:
            return size
        f.seek(-4, os.SEEK_END)
        isize = int.from_bytes(f.read(4), "little")
    return max(size, isize)


_ETH_IPV4_UDP_ESP = struct.Struct("!HBxHxxHxBxx4s4sHHHxxII").unpack_from


@dataclass(slots=True)
class _Range:
    """Which frames belong to range ``r``: those that start while the running total of frame
    bytes read is in ``[start, end)`` (a count every process makes alike, whatever the file
    format or compression); ``lo``/``hi`` are the first frame numbers in and past it."""

    start: int
    end: int | None
    lo: int | None = None
    hi: int | None = None
    skipped: int = 0
    last_ts: float = 0.0
    frames_read: int = 0
    first_linktype: int | None = None
    """Link type of the capture's first frame (the decrypted capture's link type)."""

    def frames(self, reader: CaptureReader, fast_udp: bool) -> Iterator[RawFrame]:
        done = 0
        start, end = self.start, self.end
        unpack = _ETH_IPV4_UDP_ESP
        skipped = 0
        frame = None
        for frame in reader:
            if self.first_linktype is None:
                self.first_linktype = frame[2]
            data = frame[3]
            at = done
            done += 16 + len(data)  # about the file offset of the next pcap record
            if at >= start and (end is None or at < end):
                if self.lo is None:
                    self.lo = frame[0]
                yield frame
                continue
            if end is not None and at >= end and self.hi is None:
                self.hi = frame[0]
            # plain_esp() inline (it is most of the frames here): the dissector's fast path
            # would make one EspPacket of it and nothing else, and it is not ours.
            if frame[2] == 1 and len(data) >= 50:
                etype, vihl, total, frag, proto, _s, _d, sport, dport, ulen, spi, _q = unpack(
                    data, 12
                )
                if (
                    etype == 0x0800
                    and vihl == 0x45
                    and not frag & 0x3FFF
                    and total >= 36
                    and (
                        proto == 50
                        or (
                            proto == 17
                            and fast_udp
                            and spi
                            and (sport == 4500 or dport == 4500)
                            and sport != 500
                            and dport != 500
                            and ulen >= 16
                            and 34 + ulen <= 14 + total
                        )
                    )
                ):
                    skipped += 1
                    continue
            yield frame
        self.skipped = skipped
        if frame is not None:
            self.last_ts = frame[1]

    def owns(self, frame: int) -> bool:
        return self.lo is not None and frame >= self.lo and (self.hi is None or frame < self.hi)


def _make_decryptor(key_paths: Sequence[str]) -> Any:
    from ikeview.pipeline.analyze import make_decryptor

    if not key_paths:
        return make_decryptor(None)
    from ikeview.keys.loader import load_keys

    return make_decryptor(load_keys([Path(p) for p in key_paths]))


def _records(path: str, extra_ports: Sequence[int], rng: _Range) -> Iterator[object]:
    """Every record a single pass would give, except ESP outside ``rng``; after the last one,
    ``rng.frames_read`` holds the number of frames in the file."""
    reader = CaptureReader(path)
    stats = DissectStats()
    dissector = Dissector(extra_ports=extra_ports, stats=stats)
    owns = rng.owns
    for rec in dissector.run(rng.frames(reader, not extra_ports)):
        if type(rec) is not EspPacket or owns(rec.flow.frame):  # type: ignore[attr-defined]
            yield rec
    # The damaged-file check wants the time of the last frame read, skipped ones included.
    dissector.last_ts = rng.last_ts
    rstats = reader.stats
    tail = dissector.finish(rstats, rstats.frames, dissector.last_ts)
    if tail is not None:
        yield tail
    rng.frames_read = stats.frames + rng.skipped


def _run_range(
    path: str, key_paths: Sequence[str], extra_ports: Sequence[int], rng: _Range, record: bool
) -> tuple[Correlator, int, Recorder]:
    """Correlate one range; returns its correlator, the frame count and the recorder."""
    # A later range keeps more inner flows per SPI so that they merge exactly (merge.py).
    limit = WIDE_INNER if record else MAX_INNER_FLOWS
    corr = Correlator(_make_decryptor(key_paths), capture=path, inner_limit=limit)
    recorder = Recorder()
    feed, counter = corr.feed, corr.esp_counter
    before, after = recorder.before, recorder.after_last
    for rec in _records(path, extra_ports, rng):
        if not record or type(rec) is not EspPacket:
            feed(rec)
            continue
        flow = rec.flow  # type: ignore[attr-defined]
        key = (rec.spi, flow.dst)  # type: ignore[attr-defined]
        last = rec.error is None and before(key, rec.seq, flow.frame)  # type: ignore[attr-defined]
        feed(rec)
        if last:
            after(key, counter(*key))  # type: ignore[arg-type]
    return corr, rng.frames_read, recorder


def esp_range(
    path: str, key_paths: Sequence[str], extra_ports: Sequence[int], start: int, end: int | None
) -> EspPart:
    """Worker: the ESP of one range (a plain function of paths, so it pickles cheaply)."""
    corr, _frames, recorder = _run_range(path, key_paths, extra_ports, _Range(start, end), True)
    return corr.take_esp(recorder)


def analyze_parallel(
    path: str | os.PathLike[str],
    key_paths: Sequence[str | os.PathLike[str]] = (),
    *,
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    min_bytes: int | None = None,
    serial: Callable[[], Analysis] | None = None,
) -> Analysis:
    """The ``Analysis`` of ``analyze(path, keys)``, computed by ``jobs`` processes.

    ``serial`` is the single pass to fall back on (``analyze`` with the same keys by default);
    ``min_bytes`` is for tests, to split even the small lab captures."""
    from ikeview.diagnosis.engine import diagnose

    name = os.fspath(path)
    keys = [os.fspath(p) for p in key_paths]
    ports = tuple(extra_ports)
    if serial is None:

        def serial() -> Analysis:
            from ikeview.pipeline.analyze import analyze

            return analyze(name, extra_ports=ports, decryptor=_make_decryptor(keys))

    jobs = job_count(jobs)
    size = os.path.getsize(name) if os.path.isfile(name) else 0
    if jobs <= 1 or size < max(MIN_SPLIT_BYTES if min_bytes is None else min_bytes, 1):
        return serial()
    cuts = bounds(data_size(name), jobs)
    ends: list[int | None] = [*cuts[1:], None]
    with ProcessPoolExecutor(max_workers=jobs - 1) as pool:
        futures: list[Future[EspPart]] = [
            pool.submit(esp_range, name, keys, ports, start, end)
            for start, end in zip(cuts, ends, strict=True)
        ]
        corr, frames, _ = _run_range(name, keys, ports, _Range(0, cuts[0]), False)
        parts = [f.result() for f in futures]
    if not corr.absorb_esp(parts):
        return serial()
    return diagnose(corr.snapshot(frames=frames, complete=True))


# ---------------------------------------------------------------------------- summary


EspAcc = dict[tuple[int, str, str], list]
"""(spi, src, dst) -> [packets, bytes, first ts, last ts, first seq, last seq, udp_encap], as
``summary.summarize`` keeps them."""


def _count_esp(acc: EspAcc, rec: Any) -> None:
    f = rec.flow
    key = (rec.spi, f.src, f.dst)
    a = acc.get(key)
    if a is None:
        acc[key] = [1, rec.length, f.ts, f.ts, rec.seq, rec.seq, rec.udp_encap]
    else:
        a[0] += 1
        a[1] += rec.length
        a[3] = f.ts
        a[5] = rec.seq


def summary_range(path: str, extra_ports: Sequence[int], start: int, end: int | None) -> EspAcc:
    """Worker: the ESP counters of one range for ``summary``."""
    acc: EspAcc = {}
    for rec in _records(path, extra_ports, _Range(start, end)):
        if type(rec) is EspPacket:
            _count_esp(acc, rec)
    return acc


def summarize_parallel(
    path: str | os.PathLike[str],
    *,
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    min_bytes: int | None = None,
) -> Any:
    """``summary.summarize(path)``, computed by ``jobs`` processes."""
    from ikeview.dissectors.records import FrameError, IkeDatagram, NatKeepalive
    from ikeview.summary import EspLine, Summary, ike_line, summarize

    name = os.fspath(path)
    ports = tuple(extra_ports)
    jobs = job_count(jobs)
    size = os.path.getsize(name) if os.path.isfile(name) else 0
    if jobs <= 1 or size < max(MIN_SPLIT_BYTES if min_bytes is None else min_bytes, 1):
        return summarize(path, extra_ports=ports)
    cuts = bounds(data_size(name), jobs)
    ends: list[int | None] = [*cuts[1:], None]
    ike, errors, keepalives, acc = [], [], 0, {}
    with ProcessPoolExecutor(max_workers=jobs - 1) as pool:
        futures = [
            pool.submit(summary_range, name, ports, start, end)
            for start, end in zip(cuts, ends, strict=True)
        ]
        for rec in _records(name, ports, _Range(0, cuts[0])):
            cls = type(rec)
            if cls is EspPacket:
                _count_esp(acc, rec)
            elif cls is IkeDatagram:
                ike.append(ike_line(rec))  # type: ignore[arg-type]
            elif cls is NatKeepalive:
                keepalives += 1
            elif cls is FrameError:
                errors.append(rec)
        for fut in futures:
            for key, b in fut.result().items():
                a = acc.get(key)
                if a is None:
                    acc[key] = b
                else:
                    a[0] += b[0]
                    a[1] += b[1]
                    a[3], a[5] = b[3], b[5]
    esp_lines = tuple(
        EspLine(spi, src, dst, bool(a[6]), a[0], a[1], a[2], a[3], a[4], a[5])
        for (spi, src, dst), a in sorted(acc.items(), key=lambda kv: kv[1][2])
    )
    return Summary(str(path), tuple(ike), esp_lines, keepalives, tuple(errors))


__all__ = [
    "MIN_SPLIT_BYTES",
    "analyze_parallel",
    "bounds",
    "esp_range",
    "job_count",
    "summarize_parallel",
    "summary_range",
]
