"""The batch path's reader. An uncompressed classic pcap is walked in place through ``mmap``;
any other capture file (pcapng, gzip) is read by ``CaptureReader`` and walked the same way.

Each frame that the dissector turns into one ESP packet and nothing else (Ethernet or Linux cooked:
SLL, SLL2, what ``tcpdump -i any`` writes; IPv4 without options or fragments, or IPv6 without
extension headers; ESP over IP or in UDP 4500: for Ethernet and IPv4 the tests of
``dissectors.stream.plain_esp``), wholly captured, whose SPI the sink accepts, is kept as a few
integers in its SPI's lane (frame number, time, where its SPI .. ICV lie in the file, sequence
number): no RawFrame, Flow or EspPacket, no copy. Every other frame goes to the sink's general path
as a RawFrame, in order, after the sink has flushed the lanes: nothing the general path does can
then see ESP out of order.

(Frames read by ``CaptureReader`` are copied once, into a buffer refilled between flushes.)

In a mapped pcap, at anything ``CaptureReader`` would report (damage, a zero header, a time to
clamp, a cut last record) the walk stops and says so: the caller then starts again on the
general path, so the result and its diagnostics are always the reader's (``fastsummary`` reads
the same way). Through ``CaptureReader`` the reader's own verdict comes back with the walk.
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, cast

from ikeview.dissectors.capture import PCAP_KINDS, CaptureError, CaptureReader, CaptureStats
from ikeview.dissectors.records import RawFrame
from ikeview.pipeline.correlate.espbulk import FastItem

# From the EtherType on, as Dissector.run's fast path reads it: EtherType, the RFC 791 header
# without options (source address skipped), then 8 octets read as two 32-bit words: for ESP
# over IP the RFC 4303 SPI and Sequence Number, for UDP the RFC 768 ports, length and checksum
# (then the SPI and Sequence Number follow: read separately).
_ETH_IPV4_WORDS = struct.Struct("!HBxHxxHxBxx4x4sII").unpack_from
# Linux cooked v2 (SLL2) puts the protocol first, then 18 octets, then the IP header.
_SLL2_IPV4_WORDS = struct.Struct("!H18xBxHxxHxBxx4x4sII").unpack_from
# RFC 8200: version/class/label(4) payload length(2) next header(1) hop limit(1) addresses.
_IPV6_HEADER = struct.Struct("!4xHBx16s16sII").unpack_from
_UDP_ESP = struct.Struct("!HHH2xII").unpack_from
_ESP_HEADER = struct.Struct("!II").unpack_from
_RECORD = struct.Struct("<IIII")  # a classic record header, for frames gathered into a buffer
_MAX_FRAME = 1 << 24  # as CaptureReader: a larger record length is damage
_DROP = 8 << 20
BATCH = 512
"""Packets held in the lanes at most before they are flushed. A flush costs a few microseconds
per lane it counts, whatever the lane holds: a capture of ten SAs flushed every 128 packets paid
that for ~13 packets a lane, and 512 took ``report`` on make_capture.py's 1M-packet mix from
1.24 to 1.09 s of CPU (AES-GCM, one SA: 0.52 to 0.50 s per 200,000). Larger batches gained
nothing more (1024: 1.11 s). Buffers joined from a batch stay under the allocator's mmap
threshold because they are joined per ``espbatch.JOIN`` packets, not per batch: one buffer of
512 CBC packets cost ~0.1 s of page faults per 200,000 packets."""


Buffer = mmap.mmap | bytearray
"""What lane offsets point into."""
RecordHeader = Callable[[Buffer, int], tuple[int, int, int, int]]
"""Unpacks a pcap record header at an offset: (seconds, fraction, captured, original length)."""

# Link type -> (where the words above start, where the IP header starts, their unpacker):
# Ethernet without VLAN tags (dst, src, EtherType), Linux cooked v1 (packet type, ARPHRD,
# address length, address(8), protocol), v2 (protocol, reserved, ifindex, ARPHRD, packet type,
# address length, address(8)), as dissectors.net.link_to_ip reads them.
LINKS: dict[int, tuple[int, int, Callable[[Buffer | bytes, int], tuple[Any, ...]]]] = {
    1: (12, 14, _ETH_IPV4_WORDS),
    113: (14, 16, _ETH_IPV4_WORDS),
    276: (0, 20, _SLL2_IPV4_WORDS),
}


V6Esp = tuple[int, int, int, int, bytes, bytes, bool]
"""(ESP start, ESP end, SPI, sequence number, source, destination, over UDP)."""


def ipv6_esp(mm: Buffer | bytes, ip: int, end: int, fast_udp: bool) -> V6Esp | None:
    """The ESP of an IPv6 packet at ``ip`` (frame ending at ``end``) that the dissector turns
    into one ESP packet and nothing else: version 6, ESP or UDP 4500 right after the fixed
    header (no extension header, so no fragment), at least 16 octets, wholly captured. The
    general path's IPv4 tests (``_walk``), with RFC 8200's Payload Length for Total Length."""
    if end - ip < 56 or mm[ip] >> 4 != 6:
        return None
    plen, nh, src, dst, w1, w2 = _IPV6_HEADER(mm, ip)
    # Payload Length 0 (a jumbogram or offload) and a cut packet are the general path's.
    if plen < 16 or ip + 40 + plen > end:
        return None
    if nh == 50:
        return ip + 40, ip + 40 + plen, w1, w2, src, dst, False
    if nh == 17 and fast_udp:
        sport, dport, ulen, spi, seq = _UDP_ESP(mm, ip + 40)
        if (
            (sport == 4500 or dport == 4500)
            and sport != 500
            and dport != 500
            and 16 <= ulen <= plen
            and spi
        ):
            return ip + 48, ip + 40 + ulen, spi, seq, src, dst, True
    return None


class Lane:
    """The packets of one SPI towards one destination collected since the last flush."""

    __slots__ = ("dst", "how", "items", "spi", "src", "udp")

    def __init__(self, spi: int, src: bytes, dst: bytes, udp: bool, how: object) -> None:
        self.spi = spi
        self.src = src
        self.dst = dst
        self.udp = udp
        self.how = how
        """What the sink decrypts them with (its own business)."""
        self.items: list[FastItem] = []


class Sink(Protocol):
    """What takes the frames of a walk."""

    lanes: dict[int, Lane]
    """Open lanes by SPI (the walker appends to them)."""

    def begin(self, mm: Buffer, linktype: int, record: RecordHeader) -> None:
        """Before the first frame: where the lanes' offsets point (the mapped file, or a
        buffer the walker refills between flushes), the kept frames' link type and the
        record-header unpacker (the header sits 16 octets before a frame's start)."""

    def lane(self, spi: int, src: bytes, dst: bytes, udp: bool) -> Lane | None:
        """A new lane for this SPI and destination, or None: the general path takes it."""

    def frame(self, raw: RawFrame) -> None:
        """A frame for the general path (the lanes flushed first)."""

    def flush(self) -> None:
        """Handle and empty every lane."""


Progress = Callable[[int, int], None]


Walked = tuple[int, float, CaptureStats | None]
"""(frames, time of the last frame, the reader's statistics when a CaptureReader read it)."""


def walk_pcap(
    source: str | os.PathLike[str],
    sink: Sink,
    *,
    fast_udp: bool = True,
    progress: Progress | None = None,
) -> Walked | None:
    """Walk ``source`` into ``sink``. An uncompressed classic pcap is mapped and read in place;
    any other capture file (pcapng, gzip) is read through ``CaptureReader``, the ESP frames'
    bytes gathered into one buffer per flush. None when ``source`` is no regular file, no
    capture, or a classic pcap with anything the reader would report (the sink may then have
    been fed part of the file and must be thrown away; the general path says what is wrong).
    ``fast_udp``: False when extra ports may carry bare IKE (then only ESP over IP is taken)."""
    try:
        # Look before opening: opening a FIFO would take bytes (or block) that the ordinary
        # reader, which takes over for anything not a regular file, then misses.
        if not stat.S_ISREG(os.stat(source).st_mode):
            return None
        with open(source, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            kind = PCAP_KINDS.get(fh.read(4)) if size >= 24 else None
            if kind is not None:
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    done = _walk(mm, size, kind, sink, fast_udp, progress)
                    return None if done is None else (done[0], done[1], None)
    except (OSError, ValueError):
        return None
    try:
        reader = CaptureReader(source)
    except (CaptureError, OSError, ValueError):
        return None
    with reader:
        return _walk_reader(reader, size, sink, fast_udp, progress)


def _walk_reader(
    reader: CaptureReader, size: int, sink: Sink, fast_udp: bool, progress: Progress | None
) -> Walked:
    # Measured hot loop (one iteration per frame of the file): one function, locals only. The
    # tests are _walk's; a kept frame is copied into ``buf`` behind a classic record header
    # (so the sink reads it back the same way as from a mapped file).
    buf = bytearray()
    header = _RECORD.pack
    sink.begin(buf, 1, _RECORD.unpack_from)
    # A pcapng may mix link types; the lanes hold frames of one, the first kept (begin() again
    # names it before any lane exists): frames of the others take the general path.
    kept = 0
    words, ip, unpack = LINKS[1]
    ip20, ip28, ip12, least = ip + 20, ip + 28, ip + 12, ip + 36
    esp_header, v6 = _ESP_HEADER, ipv6_esp
    lanes, new_lane, general, flush = sink.lanes, sink.lane, sink.frame, sink.flush
    index, held, ts, batch = 0, 0, 0.0, BATCH
    for frame in reader:
        index, ts, linktype, data, orig = frame
        incl = len(data)
        if linktype != kept and not kept and linktype in LINKS:
            kept = linktype
            sink.begin(buf, kept, _RECORD.unpack_from)
            words, ip, unpack = LINKS[kept]
            ip20, ip28, ip12, least = ip + 20, ip + 28, ip + 12, ip + 36
        if linktype == kept and incl >= least:
            etype, vihl, total, frag, proto, dst, spi, seq = unpack(data, words)
            a = 0
            if (
                etype == 0x0800
                and vihl == 0x45
                and not frag & 0x3FFF
                and total >= 36
                and ip + total <= incl
            ):
                if proto == 50:
                    a, b = ip20, ip + total
                elif proto == 17 and fast_udp:
                    sport, dport, ulen = spi >> 16, spi & 0xFFFF, seq >> 16
                    if (
                        (sport == 4500 or dport == 4500)
                        and sport != 500
                        and dport != 500
                        and ulen >= 16
                        and ip20 + ulen <= ip + total
                    ):
                        spi, seq = esp_header(data, ip28)
                        if spi:
                            a, b = ip28, ip20 + ulen
            elif etype == 0x86DD:
                got = v6(data, ip, incl, fast_udp)
                if got is not None:
                    a, b, spi, seq, src, dst, udp = got
                    proto = 17 if udp else 50
            if a:
                lane = lanes.get(spi)
                if lane is None or lane.dst != dst:
                    if lane is None:
                        if len(dst) == 4:
                            src = data[ip12 : ip12 + 4]
                        lane = new_lane(spi, src, dst, proto == 17)
                    else:
                        lane = None
                if lane is not None:
                    start = len(buf) + 16
                    buf += header(0, 0, incl, orig)
                    buf += data
                    lane.items.append((index, ts, start + a, start + b, seq, start))
                    held += 1
                    if held >= batch:
                        flush()
                        buf.clear()
                        held = 0
                    continue
        if held:
            flush()
            buf.clear()
            held = 0
        general(frame)
        if progress is not None and not index % 2000:
            progress(min(reader.position(), size), size)
    flush()
    return index, ts, reader.stats


def _walk(
    mm: mmap.mmap,
    size: int,
    kind: tuple[str, float],
    sink: Sink,
    fast_udp: bool,
    progress: Progress | None,
    span: tuple[int, int, int] | None = None,
) -> tuple[int, float, int] | None:
    """``span``: (first record's offset, offset to stop at, frames before it), for one byte
    range of ``--jobs`` (``ikeview.parallel``): the records starting before the stop offset."""
    # Measured hot loop (one iteration per frame of the file): one function, locals only.
    endian, scale = kind
    # A fraction of a second that is a second or more is no time a capturing program writes:
    # such a file goes the general path, whose reader takes it as it stands. So every frame a
    # lane holds has a fraction below one second, and ``decrypt -o`` may copy its time as the
    # record header holds it (``fastdecrypt``). (A classic pcap's seconds are 32 bits: its
    # times can never pass the readers' year-9999 clamp, so that is not tested here.)
    units = round(1 / scale)
    linktype = struct.unpack_from(endian + "I", mm, 20)[0] & 0xFFFF
    record = struct.Struct(endian + "IIII").unpack_from
    sink.begin(mm, linktype, record)
    # Offsets from the frame's start: the link header's words, the IP header, the IPv4
    # payload (ESP over IP, or UDP), ESP after UDP, the IPv4 source, the least frame kept
    # (past any frame when the link type is not one the lanes take: one test for both).
    words, ip, unpack = LINKS.get(linktype, LINKS[1])
    ip20, ip28, ip12, least = ip + 20, ip + 28, ip + 12, ip + 36
    if linktype not in LINKS:
        least = _MAX_FRAME + 1
    esp_header, v6 = _ESP_HEADER, ipv6_esp
    lanes, new_lane, general, flush = sink.lanes, sink.lane, sink.frame, sink.flush
    max_frame, batch = _MAX_FRAME, BATCH
    off, stop, index = span if span is not None else (24, size, 0)
    held, ts = 0, 0.0
    # The last offset a record header may start at; records are read in runs up to the next
    # page drop so that the loop tests one bound per frame.
    last = min(size - 16, stop - 1)
    # Pages already read are let go every _DROP bytes: they stay in the page cache but leave
    # this process's resident set, so RSS stays flat however large the file.
    can_drop = hasattr(mmap, "MADV_DONTNEED") and hasattr(mm, "madvise")
    dropped, next_drop = off - off % mmap.PAGESIZE, off + _DROP
    if can_drop and hasattr(mmap, "MADV_SEQUENTIAL"):
        mm.madvise(mmap.MADV_SEQUENTIAL)
    while off <= last:
        if off >= next_drop:
            if progress is not None:
                progress(off, size)
            if can_drop:
                flush()  # the lanes point into pages about to be dropped: done with them first
                held = 0
                upto = off - off % mmap.PAGESIZE
                mm.madvise(mmap.MADV_DONTNEED, dropped, upto - dropped)
                dropped = upto
            next_drop = off + _DROP
        run_end = min(last, next_drop - 1)
        while off <= run_end:
            sec, frac, incl, orig = record(mm, off)
            start, off = off + 16, off + 16 + incl
            if incl > max_frame or off > size or not (incl or sec or frac or orig):
                return None
            index += 1
            if frac >= units:
                return None
            ts = sec + frac * scale
            if incl >= least:
                etype, vihl, total, frag, proto, dst, spi, seq = unpack(mm, start + words)
                a = 0
                # Wholly captured only: a packet cut by the snap length is the general path's.
                if (
                    etype == 0x0800
                    and vihl == 0x45
                    and not frag & 0x3FFF
                    and total >= 36
                    and ip + total <= incl
                ):
                    if proto == 50:
                        # The common case first: ESP over IP of an open lane.
                        lane = lanes.get(spi)
                        if lane is not None and lane.dst == dst:
                            lane.items.append(
                                (index, ts, start + ip20, start + ip + total, seq, start)
                            )
                            held += 1
                            if held >= batch:
                                flush()
                                held = 0
                            continue
                        a, b = start + ip20, start + ip + total
                    elif proto == 17 and fast_udp:
                        # spi holds the ports, seq the UDP length and checksum. SPI 0 is the
                        # Non-ESP Marker of IKE; a UDP length under 16 cannot hold ESP.
                        sport, dport, ulen = spi >> 16, spi & 0xFFFF, seq >> 16
                        if (
                            (sport == 4500 or dport == 4500)
                            and sport != 500
                            and dport != 500
                            and ulen >= 16
                            and ip20 + ulen <= ip + total
                        ):
                            spi, seq = esp_header(mm, start + ip28)
                            if spi:
                                a, b = start + ip28, start + ip20 + ulen
                elif etype == 0x86DD:
                    got = v6(mm, start + ip, off, fast_udp)
                    if got is not None:
                        a, b, spi, seq, src, dst, udp = got
                        proto = 17 if udp else 50
                if a:
                    lane = lanes.get(spi)
                    if lane is None or lane.dst != dst:
                        if lane is None:
                            if len(dst) == 4:
                                src = mm[start + ip12 : start + ip12 + 4]
                            lane = new_lane(spi, src, dst, proto == 17)
                        else:
                            lane = None
                    if lane is not None:
                        lane.items.append((index, ts, a, b, seq, start))
                        held += 1
                        if held >= batch:
                            flush()
                            held = 0
                        continue
            general(RawFrame(index, ts, linktype, mm[start:off], orig))
            held = 0
    if off != size and (span is None or off < stop):
        return None
    flush()
    return index, ts, off


def walk_span(
    mm: mmap.mmap,
    size: int,
    kind: tuple[str, float],
    sink: Sink,
    fast_udp: bool,
    span: tuple[int, int, int],
) -> tuple[int, float, int] | None:
    """One byte span of a mapped classic pcap of ``size`` bytes (``kind``: its byte order and
    seconds per fraction unit) into ``sink``: the records starting in ``[span[0], span[1])``,
    numbered after ``span[2]`` frames (the ranges of ``--jobs``, ``ikeview.parallel``).
    (frames counted in all, time of the last, offset just past the last record: ``span[1]``
    when the span ends on a record boundary) or None as ``walk_pcap`` says."""
    return _walk(mm, size, kind, sink, fast_udp, None, span)


class _FrameSource:
    """Frames of any iterable where the reader's walk wants a CaptureReader (it uses only
    iteration, and ``stats`` at the end)."""

    stats = None

    def __init__(self, frames: Iterable[RawFrame]) -> None:
        self._frames = frames

    def __iter__(self) -> Iterator[RawFrame]:
        return iter(self._frames)


def walk_frames(frames: Iterable[RawFrame], sink: Sink, fast_udp: bool = True) -> int:
    """Frames already read (a pcapng range of ``--jobs``) into ``sink``, as ``walk_pcap``
    walks a file it reads through ``CaptureReader``; the last frame's number."""
    return _walk_reader(cast(CaptureReader, _FrameSource(frames)), 0, sink, fast_udp, None)[0]


__all__ = [
    "BATCH",
    "Buffer",
    "FastItem",
    "Lane",
    "RecordHeader",
    "Sink",
    "Walked",
    "walk_frames",
    "walk_pcap",
    "walk_span",
]
