"""``ikeview summary`` without a record per ESP packet: the same ``Summary`` as
``summary.summarize``, counted straight from the frame bytes, in one process or several.

Most frames of an IPsec capture are ESP that the dissector's inline fast path takes (Ethernet,
IPv4 without options or fragments, ESP over IP or in UDP 4500: ``dissectors.stream.plain_esp``).
Such a frame yields one EspPacket and changes nothing else, so here its SPI, sequence number,
length and addresses are read in place and added to the per-SPI counters without building the
Flow and EspPacket records. Every other frame goes through one dissector, in capture order, so
IKE, keepalives, fragments, TCP and damage are handled by the one general path.

An uncompressed pcap or pcapng file is read through ``mmap`` (``ikeview.pcapranges``); with ``jobs``
its byte ranges are counted by that many processes, each returning its counters and the
(frame number, offset) of its other frames, which are then dissected in order. Counters
of one SA found in several places are folded by frame position, so the order of the ESP lines
(first time, then first appearance) is the single pass's. Anything else (gzip, pcapng, a pipe,
a file with damage, a pcapng file with a second section) is read by ``CaptureReader``, in
one process. ``summary.summarize`` stays
the reference; tests/test_fastsummary.py checks the two agree on every capture in the
repository, and tests/test_parallel.py that ``--jobs`` changes nothing.
"""

from __future__ import annotations

import os
import struct
from array import array
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ikeview.dissectors.capture import CaptureReader
from ikeview.dissectors.net import ip_text
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, NatKeepalive
from ikeview.dissectors.stream import Dissector, DissectStats
from ikeview.pcapranges import (
    EspAcc,
    Layout,
    Walked,
    chained,
    cuts,
    frame_at,
    layout,
    open_map,
    resync,
    scan,
)
from ikeview.summary import EspLine, IkeLine, Summary, ike_line

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

# From the EtherType on, as Dissector.run's fast path reads it (see pcapranges).
_ETH_IPV4_UDP_ESP = struct.Struct("!HBxHxxHxBxx4s4sHHHxxII").unpack_from
_ESP_HEADER = struct.Struct("!II").unpack_from
_ADDR_CACHE_MAX = 4096
MAX_OTHERS = 1 << 20
"""Other frames one range may hand back; past that most of the file needs the dissector anyway
and one process reads it."""

Pos = tuple[int, int]
"""Where a record came out: (frame number fed to the dissector, rank among its records)."""
TextKey = tuple[int, str, str]


def summarize_fast(
    source: str | os.PathLike[str],
    *,
    extra_ports: Iterable[int] = (),
    jobs: int = 1,
    pool: Callable[[int], Executor] | None = None,
    note: Callable[[str], None] | None = None,
) -> Summary:
    """``summary.summarize(source)``, faster (same result; see the module doc). ``jobs`` > 1
    splits an uncompressed pcap or pcapng file into that many byte ranges, counted by
    ``pool(jobs - 1)``; ``note`` hears why a capture was read in one process instead."""
    ports = tuple(extra_ports)
    name = os.fspath(source)
    lay = layout(name)
    split = jobs > 1 and pool is not None
    if lay is not None:
        if split and pool is not None:
            done = _split(name, lay, ports, jobs, pool)
        else:
            done = _mapped(name, lay, ports)
        if done is not None:
            return done
    if split and note is not None:
        why = (
            "not an uncompressed pcap or pcapng file"
            if lay is None
            else "the file could not be split into ranges (damage, or mostly frames not plain "
            "ESP) or a worker failed"
        )
        note(f"--jobs {jobs}: {why}; read in one process")
    return _read(source, ports)


class _Tally:
    """What the records of the general path add, as ``summary.summarize`` adds them, with the
    position of each SA's first and last record (to fold in fast-path counters)."""

    def __init__(self, ports: tuple[int, ...]) -> None:
        self.dissector = Dissector(extra_ports=ports, stats=DissectStats())
        self.ike: list[IkeLine] = []
        self.errors: list[FrameError] = []
        self.keepalives = 0
        self.esp: dict[TextKey, list[Any]] = {}
        """(spi, src, dst) -> [packets, bytes, first, last, first_seq, last_seq, udp_encap,
        first position, last position]"""

    def feed(self, frame: Any) -> None:
        """Dissect one frame and add its records."""
        for rank, rec in enumerate(self.dissector.run((frame,)), 1):
            self.add(rec, (frame[0], rank))

    def add(self, rec: object, pos: Pos) -> None:
        # type() first: an exact class test is what summary.summarize does, and cheaper.
        cls = type(rec)
        if cls is EspPacket and isinstance(rec, EspPacket):
            f = rec.flow
            key = (rec.spi, f.src, f.dst)
            acc = self.esp.get(key)
            if acc is None:
                self.esp[key] = [1, rec.length, f.ts, f.ts, rec.seq, rec.seq, rec.udp_encap,
                                 pos, pos]  # fmt: skip
            else:
                acc[0] += 1
                acc[1] += rec.length
                acc[3] = f.ts
                acc[5] = rec.seq
                acc[8] = pos
        elif cls is IkeDatagram and isinstance(rec, IkeDatagram):
            self.ike.append(ike_line(rec))
        elif cls is NatKeepalive:
            self.keepalives += 1
        elif cls is FrameError and isinstance(rec, FrameError):
            self.errors.append(rec)

    def result(self, source: object, parts: Iterable[tuple[int, EspAcc]] = ()) -> Summary:
        """The summary, with fast-path counters ``(frames before the range, counters)`` folded
        in (addresses still raw bytes there)."""
        esp: dict[TextKey, list[Any]] = {}
        names: dict[bytes, str] = {}
        for base, acc in parts:
            for (spi, s, d), a in acc.items():
                src = names.get(s) or _name(names, s)
                dst = names.get(d) or _name(names, d)
                _fold(esp, (spi, src, dst), [*a[:7], (a[7] + base, 0), (a[8] + base, 0)])
        for key, a in self.esp.items():
            _fold(esp, key, a)
        lines = tuple(
            EspLine(spi, src, dst, bool(a[6]), a[0], a[1], a[2], a[3], a[4], a[5])
            for (spi, src, dst), a in sorted(esp.items(), key=lambda kv: (kv[1][2], kv[1][7]))
        )
        return Summary(str(source), tuple(self.ike), lines, self.keepalives, tuple(self.errors))


def _fold(into: dict[TextKey, list[Any]], key: TextKey, b: list[Any]) -> None:
    """Add the counters ``b`` of SA ``key``; the earliest part gives the first values and the
    latest the last, by position."""
    a = into.get(key)
    if a is None:
        into[key] = b
        return
    a[0] += b[0]
    a[1] += b[1]
    if b[7] < a[7]:
        a[2], a[4], a[6], a[7] = b[2], b[4], b[6], b[7]
    if b[8] > a[8]:
        a[3], a[5], a[8] = b[3], b[5], b[8]


def _mapped(name: str, lay: Layout, ports: tuple[int, ...]) -> Summary | None:
    """One process, the file mapped; None at damage (see pcapranges)."""
    tally = _Tally(ports)
    feed = tally.feed
    esp: EspAcc = {}
    try:
        with open(name, "rb") as fh, open_map(name) as mm:
            fd = fh.fileno()
            walked = scan(mm, lay, lay.first, lay.size, esp,
                          lambda i, off: feed(frame_at(fd, lay, i, off)), not ports)  # fmt: skip
    except (OSError, ValueError):
        return None
    if walked is None:
        return None
    return tally.result(name, [(0, esp)])


RangeCount = tuple[Walked | None, EspAcc, bytes]


def count_range(
    name: str, lay: Layout, lo: int, hi: int, fast_udp: bool, count: bool = True
) -> RangeCount:
    """Worker: the fast-path ESP counters of the records starting in ``[lo, hi)`` (when
    ``count``) and the (frame number, offset) pairs of its other frames (numbered from 1 in the
    range). Plain data only, so it pickles cheaply."""
    esp: EspAcc = {}
    others = array("Q")
    push = others.append

    def other(index: int, off: int) -> None:
        if len(others) >= 2 * MAX_OTHERS:
            raise _TooMany
        push(index)
        push(off)

    try:
        with open_map(name) as mm:
            start = lo if lo == lay.first else resync(mm, lay, lo)
            if start is None:
                return None, {}, b""
            walked = scan(mm, lay, start, hi, esp if count else None, other, fast_udp)
    except (OSError, ValueError, struct.error, _TooMany):
        return None, {}, b""
    return walked, esp, others.tobytes()


class _TooMany(Exception):
    pass


Piece = tuple[list[IkeLine], list[FrameError], int, dict[TextKey, list[Any]], bool]
"""What the other frames of one range add: IKE lines, frame errors, keepalives, ESP counters
of the general path, and whether the range left its dissector idle."""


def tally_range(name: str, lay: Layout, base: int, raw: bytes, ports: tuple[int, ...]) -> Piece:
    """Worker: dissect the other frames of one range (``raw``: its (frame number, offset)
    pairs, numbered from ``base`` + 1) with a dissector of its own."""
    tally = _Tally(ports)
    _feed_others(tally, name, lay, base, raw)
    return tally.ike, tally.errors, tally.keepalives, tally.esp, tally.dissector.idle()


def _feed_others(tally: _Tally, name: str, lay: Layout, base: int, raw: bytes) -> None:
    pairs = array("Q")
    pairs.frombytes(raw)
    with open(name, "rb") as fh:
        fd = fh.fileno()
        for k in range(0, len(pairs), 2):
            tally.feed(frame_at(fd, lay, base + pairs[k], pairs[k + 1]))


def _split(
    name: str,
    lay: Layout,
    ports: tuple[int, ...],
    jobs: int,
    pool: Callable[[int], Executor],
) -> Summary | None:
    """``jobs`` ranges counted at once (the first here), then their other frames dissected at
    once, each range apart: exact when every range but the last leaves its dissector idle
    (nothing held across the boundary), else they are dissected here in one sequence."""
    # Only with --jobs: concurrent.futures (and the logging it imports) costs ~4 ms of start-up.
    from concurrent.futures import BrokenExecutor

    bounds = cuts(lay, jobs)
    fast_udp = not ports
    try:
        with pool(jobs - 1) as ex:
            later: list[Future[RangeCount]] = [
                ex.submit(count_range, name, lay, bounds[r], bounds[r + 1], fast_udp)
                for r in range(1, jobs)
            ]
            results = [count_range(name, lay, bounds[0], bounds[1], fast_udp)]
            results += [f.result() for f in later]
            walked = chained([w for w, _, _ in results], lay)
            if walked is None:
                return None
            bases = [0]
            for w in walked:
                bases.append(bases[-1] + w.frames)
            others = [raw for _, _, raw in results]
            pieces: list[Future[Piece]] = [
                ex.submit(tally_range, name, lay, bases[r], others[r], ports)
                for r in range(1, jobs)
            ]
            first = tally_range(name, lay, 0, others[0], ports)
            done = [first, *(f.result() for f in pieces)]
        tally = _Tally(ports)
        if all(p[4] for p in done[:-1]):
            for ike, errors, keepalives, esp, _ in done:
                tally.ike += ike
                tally.errors += errors
                tally.keepalives += keepalives
                for key, a in esp.items():
                    _fold(tally.esp, key, a)
        else:
            for r in range(jobs):
                _feed_others(tally, name, lay, bases[r], others[r])
    except (BrokenExecutor, OSError, struct.error):
        return None  # a worker died, or processes could not be started: one process reads
    return tally.result(name, [(bases[r], results[r][1]) for r in range(jobs)])


def _read(source: str | os.PathLike[str], ports: tuple[int, ...]) -> Summary:
    """Anything but an intact uncompressed pcap: CaptureReader, fast-path ESP still counted
    without records."""
    reader = CaptureReader(source)
    tally = _Tally(ports)
    dissector, feed = tally.dissector, tally.feed
    fast_udp = not ports  # extra ports may carry bare IKE: only the general path knows
    esp = tally.esp
    names: dict[bytes, str] = {}
    unpack, esp_header = _ETH_IPV4_UDP_ESP, _ESP_HEADER
    ts = 0.0
    for frame in reader:
        index, ts, data = frame[0], frame[1], frame[3]
        if frame[2] == 1 and len(data) >= 50:
            etype, vihl, total, frag, proto, src, dst, sport, dport, ulen, spi, seq = unpack(
                data, 12
            )
            if etype == 0x0800 and vihl == 0x45 and not frag & 0x3FFF and total >= 36:
                length = -1
                udp = proto == 17
                if proto == 50:
                    spi, seq = esp_header(data, 34)
                    length = total - 20
                elif (
                    udp
                    and fast_udp
                    and spi
                    and (sport == 4500 or dport == 4500)
                    and sport != 500
                    and dport != 500
                    and ulen >= 16
                    and 34 + ulen <= 14 + total
                ):
                    length = ulen - 8
                if length >= 0:
                    key = (spi, names.get(src) or _name(names, src),
                           names.get(dst) or _name(names, dst))  # fmt: skip
                    pos = (index, 0)
                    acc = esp.get(key)
                    if acc is None:
                        esp[key] = [1, length, ts, ts, seq, seq, udp, pos, pos]
                    else:
                        acc[0] += 1
                        acc[1] += length
                        acc[3] = ts
                        acc[5] = seq
                        acc[8] = pos
                    continue
        feed(frame)
    stats = reader.stats
    tail = dissector.finish(stats, stats.frames, ts)
    if isinstance(tail, FrameError):
        tally.errors.append(tail)
    return tally.result(source)


def _name(cache: dict[bytes, str], addr: bytes) -> str:
    if len(cache) >= _ADDR_CACHE_MAX:
        cache.clear()
    text = cache[addr] = ip_text(addr)
    return text


__all__ = ["MAX_OTHERS", "Piece", "RangeCount", "count_range", "summarize_fast", "tally_range"]
