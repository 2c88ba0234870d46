"""``ikeview summary`` without a record per ESP packet: the same ``Summary`` as
``summary.summarize``, counted straight from the frame bytes.

Most frames of an IPsec capture are ESP that the dissector's inline fast path takes (Ethernet,
IPv4 without options or fragments, ESP over IP or in UDP 4500: ``dissectors.stream.plain_esp``).
Such a frame yields one EspPacket and changes nothing else, so here its SPI, sequence number,
length and addresses are read with one ``struct.unpack_from`` and added to the per-SPI counters
without building the Flow and EspPacket records (about half the cost of a frame). Every other
frame goes through the dissector, in order, so IKE, keepalives, fragments, TCP and damage are
handled by the one general path. ``summary.summarize`` stays the reference;
tests/test_fastsummary.py checks the two agree on every capture in the repository.
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
from collections.abc import Iterable

from ikeview.dissectors.capture import CaptureReader
from ikeview.dissectors.net import ip_text
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, NatKeepalive, RawFrame
from ikeview.dissectors.stream import Dissector, DissectStats
from ikeview.summary import EspLine, Summary, ike_line

# From the EtherType on, as Dissector.run's fast path reads it: EtherType, the RFC 791 header
# without options, then (valid for UDP only) the RFC 768 header, then the RFC 4303 SPI and
# Sequence Number (for ESP over IP the SPI/seq sit where the UDP header is: read separately).
_ETH_IPV4_UDP_ESP = struct.Struct("!HBxHxxHxBxx4s4sHHHxxII").unpack_from
_ESP_HEADER = struct.Struct("!II").unpack_from
_ADDR_CACHE_MAX = 4096


def summarize_fast(source: str | os.PathLike[str], *, extra_ports: Iterable[int] = ()) -> Summary:
    """``summary.summarize(source)``, faster (same result; see the module doc)."""
    ports = tuple(extra_ports)
    mapped = _mapped(source, ports)
    if mapped is not None:
        return mapped
    reader = CaptureReader(source)
    dissector = Dissector(extra_ports=ports, stats=DissectStats())
    fast_udp = not ports  # extra ports may carry bare IKE: only the general path knows
    tally = _Tally()
    esp, general = tally.esp, tally.add
    names: dict[bytes, str] = {}
    unpack, esp_header, run = _ETH_IPV4_UDP_ESP, _ESP_HEADER, dissector.run
    ts = 0.0
    for frame in reader:
        ts, data = frame[1], frame[3]
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
                    s = names.get(src) or _name(names, src)
                    d = names.get(dst) or _name(names, dst)
                    key = (spi, s, d)
                    acc = esp.get(key)
                    if acc is None:
                        esp[key] = [1, length, ts, ts, seq, seq, udp]
                    else:
                        acc[0] += 1
                        acc[1] += length
                        acc[3] = ts
                        acc[5] = seq
                    continue
        for rec in run((frame,)):
            general(rec)
    stats = reader.stats
    tail = dissector.finish(stats, stats.frames, ts)
    if tail is not None:
        tally.errors.append(tail)
    esp_lines = tuple(
        EspLine(spi, src, dst, bool(a[6]), a[0], a[1], a[2], a[3], a[4], a[5])
        for (spi, src, dst), a in sorted(esp.items(), key=lambda kv: kv[1][2])
    )
    return Summary(str(source), tuple(tally.ike), esp_lines, tally.keepalives, tuple(tally.errors))


class _Tally:
    """What the records of the general path add, as ``summary.summarize`` adds them."""

    def __init__(self) -> None:
        self.ike: list = []
        self.errors: list = []
        self.keepalives = 0
        self.esp: dict[tuple[int, str, str], list] = {}
        """(spi, src, dst) -> [packets, bytes, first, last, first_seq, last_seq, udp_encap]"""

    def add(self, rec: object) -> None:
        # Exact type tests, ESP first, on this hot path (bench/bench_summary.py); mypy narrows
        # on them as on isinstance.
        if type(rec) is EspPacket:
            f = rec.flow
            key = (rec.spi, f.src, f.dst)
            acc = self.esp.get(key)
            if acc is None:
                self.esp[key] = [1, rec.length, f.ts, f.ts, rec.seq, rec.seq, rec.udp_encap]
            else:
                acc[0] += 1
                acc[1] += rec.length
                acc[3] = f.ts
                acc[5] = rec.seq
        elif type(rec) is IkeDatagram:
            self.ike.append(ike_line(rec))
        elif type(rec) is NatKeepalive:
            self.keepalives += 1
        elif type(rec) is FrameError:
            self.errors.append(rec)


# Classic pcap (RFC draft-ietf-opsawg-pcap): magic -> (byte order, seconds per fraction unit).
_PCAP = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
_MAX_FRAME = 1 << 24  # as CaptureReader: a larger record length is damage
_MAX_TS = 253_402_300_799.0  # as CaptureReader: later times are clamped
_DROP = 8 << 20


def _mapped(source: str | os.PathLike[str], ports: tuple[int, ...]) -> Summary | None:
    """The summary of an uncompressed classic pcap read through mmap, record headers and ESP
    headers unpacked in place (no RawFrame, no bytes copy for fast-path ESP). None for anything
    else or at the first thing CaptureReader would report (damage, a zero header, a time to
    clamp, a cut last record): the caller then reads the file the ordinary way, so the result
    and its diagnostics are always CaptureReader's."""
    try:
        # Look before opening: opening a FIFO or /dev/stdin would take bytes (or block) that
        # the ordinary reader, which takes over for anything not a regular file, then misses.
        if not stat.S_ISREG(os.stat(source).st_mode):
            return None
        with open(source, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size < 24 or not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                return _walk(mm, size, source, ports)
    except (OSError, ValueError):
        return None


def _walk(mm: mmap.mmap, size: int, source: object, ports: tuple[int, ...]) -> Summary | None:
    kind = _PCAP.get(mm[:4])
    if kind is None:
        return None
    endian, scale = kind
    linktype = struct.unpack_from(endian + "I", mm, 20)[0] & 0xFFFF
    record = struct.Struct(endian + "IIII").unpack_from
    unpack, esp_header = _ETH_IPV4_UDP_ESP, _ESP_HEADER
    dissector = Dissector(extra_ports=ports, stats=DissectStats())
    run, fast_udp, eth = dissector.run, not ports, linktype == 1
    tally = _Tally()
    esp, general = tally.esp, tally.add
    names: dict[bytes, str] = {}
    off = 24
    index = 0
    # Pages of the file read so far are let go every _DROP bytes: they stay in the page cache
    # but leave this process's resident set, so its RSS stays flat however large the file.
    can_drop = hasattr(mmap, "MADV_DONTNEED") and hasattr(mm, "madvise")
    dropped, next_drop = 0, (_DROP if can_drop else size + 1)
    if can_drop and hasattr(mmap, "MADV_SEQUENTIAL"):
        mm.madvise(mmap.MADV_SEQUENTIAL)
    while off + 16 <= size:
        if off >= next_drop:
            upto = off - off % mmap.PAGESIZE
            mm.madvise(mmap.MADV_DONTNEED, dropped, upto - dropped)
            dropped, next_drop = upto, off + _DROP
        sec, frac, incl, orig = record(mm, off)
        start, off = off + 16, off + 16 + incl
        if incl > _MAX_FRAME or off > size or not (incl or sec or frac or orig):
            return None
        index += 1
        ts = sec + frac * scale
        if ts > _MAX_TS:
            return None
        if eth and incl >= 50:
            etype, vihl, total, frag, proto, src, dst, sport, dport, ulen, spi, seq = unpack(
                mm, start + 12
            )
            if etype == 0x0800 and vihl == 0x45 and not frag & 0x3FFF and total >= 36:
                length = -1
                if proto == 50:
                    spi, seq = esp_header(mm, start + 34)
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
                if length >= 0:
                    key = (
                        spi,
                        names.get(src) or _name(names, src),
                        names.get(dst) or _name(names, dst),
                    )
                    acc = esp.get(key)
                    if acc is None:
                        esp[key] = [1, length, ts, ts, seq, seq, proto == 17]
                    else:
                        acc[0] += 1
                        acc[1] += length
                        acc[3] = ts
                        acc[5] = seq
                    continue
        for rec in run((RawFrame(index, ts, linktype, mm[start:off], orig),)):
            general(rec)
    if off != size:
        return None
    return _result(source, tally)


def _result(source: object, tally: _Tally) -> Summary:
    esp_lines = tuple(
        EspLine(spi, src, dst, bool(a[6]), a[0], a[1], a[2], a[3], a[4], a[5])
        for (spi, src, dst), a in sorted(tally.esp.items(), key=lambda kv: kv[1][2])
    )
    return Summary(str(source), tuple(tally.ike), esp_lines, tally.keepalives, tuple(tally.errors))


def _name(cache: dict[bytes, str], addr: bytes) -> str:
    if len(cache) >= _ADDR_CACHE_MAX:
        cache.clear()
    text = cache[addr] = ip_text(addr)
    return text


__all__ = ["summarize_fast"]
