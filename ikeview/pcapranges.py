"""An uncompressed pcap or pcapng file read in place through ``mmap``, whole or by byte ranges.

``--jobs N`` cuts such a file into N byte ranges; a range owns the records (pcapng: blocks)
whose header starts inside it. A process finds the first record of its range without reading
what comes before (:func:`resync`: the first offset from which a chain of plausible record
headers follows; for pcapng, blocks whose trailing length repeats the leading one), then walks
the headers with ``struct.unpack_from`` (:func:`scan`). Nothing here trusts the guess: range
``r`` ends at the first record at or past its end, found by walking real headers from a start
that is itself checked the same way, so the caller accepts the split only if every range ends
exactly where the next one starts (:func:`chained`); range 0 starts at the first record, so by
induction every start is a true record boundary.

The walk classifies each frame as ESP that the dissector makes one EspPacket of and nothing
else (Ethernet, IPv4 without options or fragments, ESP over IP or in UDP 4500, as the inline
fast path and ``dissectors.stream.plain_esp`` say; or ESP right behind an IPv6 header) or
anything else ("other": IKE, keepalives, fragments, damage...). Fast-path ESP can be counted in
place with no record built (``summary``); other frames are handed to a callback by (frame
number, file offset), for the dissector. The walk gives up (returns None) at anything
``CaptureReader`` would report (an impossible length, a zero header, a cut last record,
trailing bytes, a time to clamp) and at pcapng blocks that change the interfaces: the caller
then reads the file the ordinary way, so diagnostics of damaged files always come from the one
reader. A pcapng file's interfaces are those declared before its first packet block.
"""

from __future__ import annotations

import itertools
import mmap
import os
import re
import stat
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ikeview.dissectors.capture import PCAP_KINDS
from ikeview.dissectors.records import RawFrame

HEADER = 24
"""Bytes of the pcap file header: the first record starts here."""
_NG_SHB_MAGIC = b"\x0a\x0d\x0d\x0a"
_NG_HEAD = 1 << 16
"""Bytes read for a pcapng file's section header and interfaces."""
_NG_IDB, _NG_EPB = 1, 6
_NG_STOP = frozenset({0x0A0D0D0A, 1, 2, 3})
"""pcapng blocks a range walk does not take: a new section, a new interface, the obsolete and
the simple packet blocks (rare; CaptureReader reads such files in one process)."""
_MAX_TS = 253_402_300_799.0  # as CaptureReader: later times are clamped
_MAX_FRAME = 1 << 24  # as CaptureReader: a larger record length is damage
_DROP = 8 << 20
_CHAIN = 8
"""Record headers that must follow one another from a resync candidate."""
_RESYNC_SPAN = 1 << 19
"""How far past a range's first byte a record start is looked for (larger records are rare)."""
_CHAIN_SECONDS = 86_400
"""Most seconds between neighbouring records in a resync chain (a plausibility bound)."""

# From the EtherType on, as Dissector.run's fast path reads it: EtherType, the RFC 791 header
# without options, then (valid for UDP only) the RFC 768 header, then the RFC 4303 SPI and
# Sequence Number (for ESP over IP the SPI/seq sit where the UDP header is: read separately).
_ETH_IPV4_UDP_ESP = struct.Struct("!HBxHxxHxBxx4s4sHHHxxII").unpack_from
_ESP_HEADER = struct.Struct("!II").unpack_from
# EtherType, version/traffic class, Payload Length, Next Header, addresses (RFC 8200), then the
# ESP SPI and Sequence Number.
_ETH_IPV6_ESP = struct.Struct("!HB3xHBx16s16sII").unpack_from

EspAcc = dict[tuple[int, bytes, bytes], list[Any]]
"""(spi, src, dst as 4 raw bytes) -> [packets, bytes, first ts, last ts, first seq, last seq,
udp_encap (0/1), first frame, last frame]: fast-path ESP counted in place."""

Other = Callable[[int, int], None]
"""Called with (frame number, file offset of its record header) for every other frame."""


@dataclass(frozen=True, slots=True)
class Layout:
    """What the file's header says, and the file's size."""

    endian: str
    scale: float
    """Seconds per fraction unit (classic pcap)."""
    linktype: int
    """Classic pcap: the file's link type; pcapng: the first frame's (a decrypted capture's)."""
    size: int
    first: int = HEADER
    """Offset of the first record (classic pcap) or of the first packet block (pcapng)."""
    ifaces: tuple[tuple[int, int, int], ...] = ()
    """pcapng only: (link type, time units per second, time offset) of each interface, from
    the Interface Description Blocks before the first packet block."""

    @property
    def ng(self) -> bool:
        return bool(self.ifaces)


@dataclass(frozen=True, slots=True)
class Walked:
    """What :func:`scan` found in one range."""

    start: int
    end: int
    """File offset just past the range's last record (where the next range must start)."""
    frames: int


def layout(path: str) -> Layout | None:
    """The layout of an uncompressed pcap or pcapng regular file; None for anything else
    (and for a pcapng file whose first section does not start with its interfaces)."""
    try:
        # Look before opening: opening a FIFO or /dev/stdin would take bytes (or block) that
        # the ordinary reader, which takes over for anything not a regular file, then misses.
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            head = fh.read(_NG_HEAD)
            size = os.fstat(fh.fileno()).st_size
    except (OSError, ValueError):
        return None
    if head[:4] == _NG_SHB_MAGIC:
        return _ng_layout(head, size)
    kind = PCAP_KINDS.get(head[:4])
    if kind is None or len(head) < HEADER:
        return None
    endian, scale = kind
    linktype = struct.unpack_from(endian + "I", head, 20)[0] & 0xFFFF
    return Layout(endian, scale, linktype, size)


def open_map(path: str) -> mmap.mmap:
    """The file mapped read-only (the mapping stays valid after the file is closed)."""
    with open(path, "rb") as fh:
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)


def cuts(lay: Layout, jobs: int, short: float = 0.0) -> list[int]:
    """Byte offsets where ranges 0..N-1 begin, and the file size last. ``short``: range 0 is
    that fraction of an equal share shorter, the later ranges sharing the rest equally (its
    process has more to do after its range, or besides it)."""
    body = lay.size - lay.first
    if not short or jobs < 2:
        return [lay.first + body * r // jobs for r in range(jobs)] + [lay.size]
    first = lay.first + int(body * (1 - short) / jobs)
    rest = lay.size - first
    return [lay.first, *(first + rest * r // (jobs - 1) for r in range(jobs - 1)), lay.size]


def resync(mm: mmap.mmap, lay: Layout, lo: int) -> int | None:
    """The first offset at or past ``lo`` from which :data:`_CHAIN` plausible record headers
    (pcapng: blocks) follow one another (or reach the end of the file exactly); the file size
    when the rest of the file holds none; None when none is found within :data:`_RESYNC_SPAN`
    bytes. A guess: :func:`chained` checks it."""
    size = lay.size
    plausible = _ng_plausible(mm, lay) if lay.ng else _pcap_plausible(mm, lay)
    end = min(size, lo + _RESYNC_SPAN)
    # pcapng blocks are multiples of 4 bytes from the section header at 0 on.
    candidates = range(lo + (-lo) % 4, end, 4) if lay.ng else _pcap_candidates(mm, lay, lo, end)
    for p in candidates:
        off, links, prev = p, 0, -1
        while links < _CHAIN and off < size:
            nxt, prev = plausible(off, prev)
            if nxt < 0:
                break
            off, links = nxt, links + 1
        if links == _CHAIN or (links and off == size):
            return p
    return size if lo + _RESYNC_SPAN >= size else None


_LENGTHS_TOP = {
    "<": re.compile(rb"(?=.{11}[\x00\x01].{3}[\x00\x01])", re.DOTALL),
    ">": re.compile(rb"(?=.{8}[\x00\x01].{3}[\x00\x01])", re.DOTALL),
}
"""A classic pcap record header's two lengths (captured, original) are at most
:data:`_MAX_FRAME`, 2**24: the most significant octet of each is 0 or 1. By byte order, where
those two octets lie from the header's start."""


def _pcap_candidates(mm: mmap.mmap, lay: Layout, lo: int, end: int) -> Iterator[int]:
    """The offsets in ``[lo, end)`` where a record header could start, by the octets
    :data:`_LENGTHS_TOP` tests, in order: every offset the plausibility check could accept,
    and few others. The search runs in ``re``'s C loop: with the check itself, one Python call
    an offset, the 120 stripe starts of ``decrypt -o --jobs 2`` on 1M packets of ~500 octets
    (~250 offsets tried each) took 14 ms of CPU; 1.8 ms so (2026-12-05)."""
    # A header wholly before ``end + 15`` is all the last offset needs: the pattern looks at
    # 16 octets, and a header past the file's end fails the check anyway.
    for m in _LENGTHS_TOP[lay.endian].finditer(mm, lo, min(lay.size, end + 15)):
        p = m.start()
        if p >= end:
            return
        yield p


Plausible = Callable[[int, int], tuple[int, int]]
"""(offset, seconds of the previous link or -1) -> (offset of the next record or -1, seconds)."""


def _pcap_plausible(mm: mmap.mmap, lay: Layout) -> Plausible:
    record = struct.Struct(lay.endian + "IIII").unpack_from
    size = lay.size
    frac_max = 1_000_000 if lay.scale == 1e-6 else 1_000_000_000

    def check(off: int, prev: int) -> tuple[int, int]:
        if off + 16 > size:
            return -1, prev
        sec, frac, incl, orig = record(mm, off)
        if (
            incl > _MAX_FRAME
            or orig < incl
            or orig > _MAX_FRAME
            or frac >= frac_max
            or not (sec or frac or incl)
            or (prev >= 0 and abs(sec - prev) > _CHAIN_SECONDS)
            or off + 16 + incl > size
        ):
            return -1, prev
        return off + 16 + incl, sec

    return check


def _ng_plausible(mm: mmap.mmap, lay: Layout) -> Plausible:
    head = struct.Struct(lay.endian + "II").unpack_from
    tail = struct.Struct(lay.endian + "I").unpack_from
    epb = struct.Struct(lay.endian + "IIII").unpack_from
    size, nif = lay.size, len(lay.ifaces)

    def check(off: int, prev: int) -> tuple[int, int]:
        if off + 12 > size:
            return -1, prev
        btype, blen = head(mm, off)
        if blen < 12 or blen & 3 or blen > _MAX_FRAME or off + blen > size:
            return -1, prev
        if tail(mm, off + blen - 4)[0] != blen:
            return -1, prev
        if btype == _NG_EPB:
            if blen < 32:
                return -1, prev
            iface, _, _, caplen = epb(mm, off + 8)
            if iface >= nif or 28 + caplen > blen - 4:
                return -1, prev
        return off + blen, prev

    return check


def chained(walked: list[Walked | None], lay: Layout) -> list[Walked] | None:
    """The ranges when they tile the file's records exactly (see the module doc), else None."""
    out = [w for w in walked if w is not None]
    if len(out) != len(walked) or not out or out[0].start != lay.first or out[-1].end != lay.size:
        return None
    for a, b in itertools.pairwise(out):
        if a.end != b.start:
            return None
    return out


def scan(
    mm: mmap.mmap,
    lay: Layout,
    start: int,
    stop: int,
    esp: EspAcc | None,
    other: Other,
    fast_udp: bool = True,
) -> Walked | None:
    """Walk the records that start in ``[start, stop)``, numbering them from 1: fast-path ESP
    is counted into ``esp`` (or just skipped when it is None), every other frame goes to
    ``other``. None at anything CaptureReader would report (see the module doc), and in a
    pcapng file at a new section or interface or an old kind of packet block (one process
    then reads the file, as CaptureReader does)."""
    # Measured hot loop (one iteration per frame): one function, locals only; the pcapng
    # branch costs a classic pcap one test per frame.
    size = lay.size
    record = struct.Struct(lay.endian + "IIII").unpack_from
    ng_head = struct.Struct(lay.endian + "II").unpack_from
    ng_epb = struct.Struct(lay.endian + "IIIII").unpack_from
    ng, ifaces, nif = lay.ng, lay.ifaces, len(lay.ifaces)
    scale = lay.scale
    div = 1
    unpack, esp_header = _ETH_IPV4_UDP_ESP, _ESP_HEADER
    eth = lay.linktype == 1
    drop = _Dropper(mm, start)
    next_drop = drop.next
    off, index = start, 0
    if esp is None and not ng and eth and lay.endian == "<":
        # Only the other frames wanted, in the usual byte order: the lean walk below, up to
        # the last few bytes of the file.
        got = _others_le(mm, size, start, stop, other, fast_udp, drop)
        if got is None:
            return None
        off, index = got
        next_drop = drop.next
    while off < stop:
        if off >= next_drop:
            next_drop = drop(off)
        if ng:
            if off + 12 > size:
                return None
            btype, blen = ng_head(mm, off)
            nxt = off + blen
            if blen < 12 or blen & 3 or blen > _MAX_FRAME or nxt > size or not (btype or blen):
                return None
            if btype != _NG_EPB:
                if btype in _NG_STOP:
                    return None
                off = nxt  # statistics, name resolution, secrets...: no frame
                continue
            if blen < 32:
                return None
            iface, tsh, tsl, incl, orig = ng_epb(mm, off + 8)
            if 28 + incl > blen - 4 or iface >= nif:
                return None
            linktype, div, tsoff = ifaces[iface]
            sec, frac = divmod((tsh << 32) | tsl, div)
            sec += tsoff
            if not 0 <= sec <= _MAX_TS:
                return None  # CaptureReader would clamp it, and say so
            begin = off + 28
            eth = linktype == 1
        else:
            if off + 16 > size:
                return None
            sec, frac, incl, orig = record(mm, off)
            begin = off + 16
            nxt = begin + incl
            if incl > _MAX_FRAME or nxt > size or not (incl or sec or frac or orig):
                return None
        index += 1
        if eth and incl >= 50:
            etype, vihl, total, frag, proto, src, dst, sport, dport, ulen, spi, seq = unpack(
                mm, begin + 12
            )
            length = -1
            if etype == 0x0800 and vihl == 0x45 and not frag & 0x3FFF and total >= 36:
                if proto == 50:
                    spi, seq = esp_header(mm, begin + 34)
                    length = total - 20
                elif (
                    proto == 17
                    and fast_udp
                    and spi
                    and (sport == 4500 or dport == 4500)
                    and sport != 500
                    and dport != 500
                    and ulen >= 16
                    and 34 + ulen <= 14 + total
                ):
                    length = ulen - 8
            elif etype == 0x86DD and incl >= 62:
                # ESP right behind an RFC 8200 header (no extension headers): what the
                # dissector's general path makes one EspPacket of, its length the Payload
                # Length, and nothing else (no fragment, no state).
                _, vtc, plen, proto, src, dst, spi, seq = _ETH_IPV6_ESP(mm, begin + 12)
                if proto == 50 and vtc >> 4 == 6 and plen >= 8:
                    length = plen
            if length >= 0:
                if esp is not None:
                    # The readers' own arithmetic, for the same floats.
                    ts = sec + frac / div if ng else sec + frac * scale
                    key = (spi, src, dst)
                    acc = esp.get(key)
                    if acc is None:
                        esp[key] = [1, length, ts, ts, seq, seq, proto == 17, index, index]
                    else:
                        acc[0] += 1
                        acc[1] += length
                        acc[3] = ts
                        acc[5] = seq
                        acc[8] = index
                off = nxt
                continue
        other(index, off)
        off = nxt
    return Walked(start, off, index)


# A little-endian classic record header and, from the frame's EtherType on, the RFC 791 fields
# the walk tests, read in one call: the network-order fields come out byte-swapped (compared
# with swapped constants: EtherType 0x0800 reads 0x0008, 0x86DD reads 0xDD86; the fragment
# mask 0x3FFF reads 0xFF3F; Total Length is swapped back).
_LE_STRUCT = struct.Struct("<IIII12xHBxH2xHxB")
_LE_RECORD_IPV4, _LE_LEAD = _LE_STRUCT.unpack_from, _LE_STRUCT.size
_UDP_ESP = struct.Struct("!HHHxxI").unpack_from


def _others_le(
    mm: mmap.mmap, size: int, start: int, stop: int, other: Other, fast_udp: bool, drop: _Dropper
) -> tuple[int, int] | None:
    """:func:`scan` without counters, for a little-endian Ethernet pcap: the same tests with
    one unpack a frame (~30% less time a frame). Stops where a record header and its IPv4
    fields could run past the end of the file, and says where: (offset, frames so far); None
    at damage, as :func:`scan`."""
    # Measured hot loop (one iteration per frame): locals only.
    record, udp, v6 = _LE_RECORD_IPV4, _UDP_ESP, _ETH_IPV6_ESP
    last, next_drop = size - _LE_LEAD, drop.next
    off, index = start, 0
    while off < stop and off <= last:
        if off >= next_drop:
            next_drop = drop(off)
        sec, frac, incl, orig, etype, vihl, total, frag, proto = record(mm, off)
        nxt = off + 16 + incl
        if incl > _MAX_FRAME or nxt > size or not (incl or sec or frac or orig):
            return None
        index += 1
        if incl >= 50:
            total = (total & 0xFF) << 8 | total >> 8
            if etype == 0x0008 and vihl == 0x45 and not frag & 0xFF3F and total >= 36:
                if proto == 50:
                    off = nxt
                    continue
                if proto == 17 and fast_udp:
                    sport, dport, ulen, spi = udp(mm, off + 50)
                    if (
                        spi
                        and (sport == 4500 or dport == 4500)
                        and sport != 500
                        and dport != 500
                        and ulen >= 16
                        and 34 + ulen <= 14 + total
                    ):
                        off = nxt
                        continue
            elif etype == 0xDD86 and incl >= 62:
                _, vtc, plen, nh, _s, _d, _spi, _seq = v6(mm, off + 28)
                if nh == 50 and vtc >> 4 == 6 and plen >= 8:
                    off = nxt
                    continue
        other(index, off)
        off = nxt
    return off, index


def frame_at(fd: int, lay: Layout, index: int, off: int) -> RawFrame:
    """The frame whose record (pcapng: packet block) is at ``off``, numbered ``index``, as
    CaptureReader gives it (a range :func:`scan` accepted: no time to clamp). Read with
    ``pread`` rather than through the map: these frames are scattered over the file, and
    touching the map there would make most of the file resident in this process."""
    if lay.ng:
        _, _, iface, tsh, tsl, incl, orig = struct.unpack(lay.endian + "7I", os.pread(fd, 28, off))
        linktype, div, tsoff = lay.ifaces[iface]
        sec, frac = divmod((tsh << 32) | tsl, div)
        data = os.pread(fd, incl, off + 28)
        return RawFrame(index, sec + tsoff + frac / div, linktype, data, orig)
    sec, frac, incl, orig = struct.unpack(lay.endian + "IIII", os.pread(fd, 16, off))
    data = os.pread(fd, incl, off + 16)
    return RawFrame(index, sec + frac * lay.scale, lay.linktype, data, orig)


def frames(mm: mmap.mmap, lay: Layout, start: int, end: int, first: int) -> Iterator[RawFrame]:
    """Every frame of the records in ``[start, end)`` (a range :func:`scan` accepted), numbered
    from ``first``."""
    if lay.ng:
        yield from _ng_frames(mm, lay, start, end, first)
        return
    record = struct.Struct(lay.endian + "IIII").unpack_from
    scale, linktype = lay.scale, lay.linktype
    new_frame = tuple.__new__  # as CaptureReader: C, not RawFrame's Python __new__
    drop = _Dropper(mm, start)
    next_drop = drop.next
    off, index = start, first
    while off < end:
        if off >= next_drop:
            next_drop = drop(off)
        sec, frac, incl, orig = record(mm, off)
        begin = off + 16
        off = begin + incl
        yield new_frame(RawFrame, (index, sec + frac * scale, linktype, mm[begin:off], orig))
        index += 1


def _ng_frames(mm: mmap.mmap, lay: Layout, start: int, end: int, first: int) -> Iterator[RawFrame]:
    head = struct.Struct(lay.endian + "II").unpack_from
    epb = struct.Struct(lay.endian + "IIIII").unpack_from
    ifaces = lay.ifaces
    drop = _Dropper(mm, start)
    next_drop = drop.next
    off, index = start, first
    while off < end:
        if off >= next_drop:
            next_drop = drop(off)
        btype, blen = head(mm, off)
        if btype == _NG_EPB:
            iface, tsh, tsl, incl, orig = epb(mm, off + 8)
            linktype, div, tsoff = ifaces[iface]
            sec, frac = divmod((tsh << 32) | tsl, div)
            data = mm[off + 28 : off + 28 + incl]
            yield RawFrame(index, sec + tsoff + frac / div, linktype, data, orig)
            index += 1
        off += blen


def _ng_layout(head: bytes, size: int) -> Layout | None:
    """A pcapng file's interfaces and first packet block, from its first bytes: the section
    header, then Interface Description Blocks (and blocks without frames) up to the first
    Enhanced Packet Block."""
    from ikeview.dissectors.capture import CaptureReader

    bom = head[8:12]
    endian = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}.get(bom)
    if endian is None or len(head) < 12:
        return None
    u32 = struct.Struct(endian + "I").unpack_from
    ifaces: list[tuple[int, int, int]] = []
    off = 0
    while off + 12 <= len(head):
        btype, blen = u32(head, off)[0], u32(head, off + 4)[0]
        if blen < 12 or blen & 3 or blen > _MAX_FRAME or off + blen > len(head):
            return None
        if btype == _NG_EPB:
            if not ifaces or blen < 32:
                return None
            first_iface = u32(head, off + 8)[0]
            if first_iface >= len(ifaces):
                return None
            return Layout(endian, 0.0, ifaces[first_iface][0], size, off, tuple(ifaces))
        if btype == _NG_IDB:
            # The reader's own parser of link type and time options, for the same times.
            i = CaptureReader._idb(head, off, blen, endian)
            ifaces.append((i.linktype, i.divisor, i.offset))
        elif btype in _NG_STOP and off:
            return None
        off += blen
    return None


class _Dropper:
    """Lets go of the pages read so far every :data:`_DROP` bytes: they stay in the page cache
    but leave this process's resident set, so it stays flat however large the file."""

    def __init__(self, mm: mmap.mmap, start: int) -> None:
        self.mm = mm
        self.can = hasattr(mmap, "MADV_DONTNEED") and hasattr(mm, "madvise")
        self.dropped = start - start % mmap.PAGESIZE
        self.next = start + _DROP if self.can else 1 << 62
        if self.can and hasattr(mmap, "MADV_SEQUENTIAL"):
            mm.madvise(mmap.MADV_SEQUENTIAL)

    def __call__(self, off: int) -> int:
        upto = off - off % mmap.PAGESIZE
        if upto > self.dropped:
            self.mm.madvise(mmap.MADV_DONTNEED, self.dropped, upto - self.dropped)
            self.dropped = upto
        self.next = off + _DROP
        return self.next


__all__ = [
    "HEADER",
    "EspAcc",
    "Layout",
    "Other",
    "Walked",
    "chained",
    "cuts",
    "frame_at",
    "frames",
    "layout",
    "open_map",
    "resync",
    "scan",
]
