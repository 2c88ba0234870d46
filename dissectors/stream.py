"""The capture dissector: frames in, IKE datagrams / ESP packets / keepalives / errors out.

:func:`dissect` walks a capture once, streaming: link layer -> IP (with fragment reassembly)
-> UDP/TCP/ESP -> records. Memory does not grow with the number of packets; only pending IP
fragments, open IKE-over-TCP streams and a small address-text cache are kept, each bounded.
IKE bytes go to :func:`ikeview.dissectors.ikev2.parse_message` (imported with the first IKE
datagram); nothing else is decoded here.

This is the hot path of ``ikeview summary``: the common cases (Ethernet or raw IPv4, UDP 4500
ESP, ESP over IP) are decoded inline with precompiled structs before falling back to the
general parsers in :mod:`~ikeview.dissectors.net`.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from ikeview.dissectors.capture import CaptureReader, CaptureStats
from ikeview.dissectors.errors import CAPTURE_DAMAGED, DecodeError
from ikeview.dissectors.esp import ESP_HEADER, esp_packet
from ikeview.dissectors.net import (
    IPPROTO_AH,
    IPPROTO_ESP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    ip_text,
    link_to_ip,
    parse_ipv4,
    parse_ipv6,
    skip_ah,
    walk_ipv6_ext,
)
from ikeview.dissectors.reassembly import Reassembler
from ikeview.dissectors.records import (
    EspPacket,
    Flow,
    FrameError,
    IkeDatagram,
    NatKeepalive,
    RawFrame,
    Record,
)
from ikeview.dissectors.transport import (
    IKE_PORT,
    KIND_ESP,
    KIND_IKE,
    NAT_T_PORT,
    NON_ESP_MARKER,
    TCP_HEADER,
    TCP_HEADER_LEN,
    UDP_HEADER,
    UDP_HEADER_LEN,
    TcpStreams,
    classify_encap,
)

if TYPE_CHECKING:
    from ikeview.dissectors.ike_records import IkeMessage

# Reasons a frame is skipped without a record (keys of DissectStats.skipped).
SKIP_NOT_IP = "not IP"
SKIP_OTHER_PROTOCOL = "IP protocol other than UDP, TCP or ESP"
SKIP_OTHER_UDP = "UDP on a port that is neither IKE nor NAT-T"
SKIP_OTHER_TCP = "TCP that is not IKE over TCP"
SKIP_TCP_PARTIAL = "IKE-over-TCP segment that completed no message"
SKIP_FRAGMENT_HELD = "IP fragment held for reassembly"
SKIP_FRAGMENT_CUT = "non-first IP fragment cut short by the capture"
SKIP_EMPTY_ENCAP = "UDP-encapsulation datagram with no payload"

# RFC 791 section 3.1, fast path without options: Version/IHL(1) TOS(1) Total Length(2)
# Identification(2) Flags/Fragment Offset(2) TTL(1) Protocol(1) Checksum(2) Src(4) Dst(4)
_IPV4_FAST = struct.Struct("!xxHxxHxB2x4s4s")
# The fast path reads, in one call from the EtherType on (offset 12 of an Ethernet frame):
# EtherType(2); the RFC 791 header without options: Version/IHL(1) TOS(1) Total Length(2)
# Identification(2) Flags/Fragment Offset(2) TTL(1) Protocol(1) Checksum(2) Src(4) Dst(4);
# then, valid only when Protocol is UDP, RFC 768 Source Port(2) Destination Port(2) Length(2)
# Checksum(2) and RFC 4303 SPI(4) Sequence Number(4).
_ETH_IPV4_UDP_ESP = struct.Struct("!HBxHxxHxBxx4s4sHHHxxII")
_ADDR_CACHE_MAX = 4096


def plain_esp(linktype: int, data: bytes, fast_udp: bool = True) -> bool:
    """True when ``Dissector.run``'s inline fast path takes this frame: it then yields exactly
    one EspPacket and changes no other state, so a reader interested in other packets may skip
    it unseen (``ikeview.parallel`` does, for ESP outside its range). Same tests as that path."""
    if linktype != 1 or len(data) < 50:
        return False
    etype, vihl, total, frag, proto, _s, _d, sport, dport, ulen, spi, _q = (
        _ETH_IPV4_UDP_ESP.unpack_from(data, 12)
    )
    if etype != 0x0800 or vihl != 0x45 or frag & 0x3FFF or total < 36:
        return False
    if proto == 50:
        return True
    return (
        proto == 17
        and fast_udp
        and spi != 0
        and (sport == 4500 or dport == 4500)
        and sport != 500
        and dport != 500
        and ulen >= 16
        and 34 + ulen <= 14 + total
    )


# Record builders for the fast path. A frozen dataclass's generated __init__ sets each field
# through object.__setattr__ looked up by name; calling each slot's descriptor directly builds
# the same object about twice as fast, and the fast path builds two per packet. The field lists
# are spelled out here; test_dissect_stream checks they match the dataclasses.
_NEW = object.__new__
_FLOW_SET = tuple(Flow.__dict__[name].__set__ for name in Flow.__slots__)
_ESP_SET = tuple(EspPacket.__dict__[name].__set__ for name in EspPacket.__slots__)


def _new_flow(
    frame: int,
    ts: float,
    ip_version: int,
    src: str,
    dst: str,
    transport: str,
    sport: int,
    dport: int,
    _s: tuple = _FLOW_SET,
) -> Flow:
    """Same as ``Flow(...)``, faster."""
    obj = _NEW(Flow)
    _s[0](obj, frame)
    _s[1](obj, ts)
    _s[2](obj, ip_version)
    _s[3](obj, src)
    _s[4](obj, dst)
    _s[5](obj, transport)
    _s[6](obj, sport)
    _s[7](obj, dport)
    return obj


def _new_esp(
    flow: Flow,
    spi: int,
    seq: int,
    length: int,
    data: bytes,
    udp_encap: bool,
    error: None,
    _s: tuple = _ESP_SET,
) -> EspPacket:
    """Same as ``EspPacket(...)``, faster."""
    obj = _NEW(EspPacket)
    _s[0](obj, flow)
    _s[1](obj, spi)
    _s[2](obj, seq)
    _s[3](obj, length)
    _s[4](obj, data)
    _s[5](obj, udp_encap)
    _s[6](obj, error)
    return obj


@dataclass(slots=True)
class DissectStats:
    """Running tally of one :func:`dissect` pass (filled in while iterating).

    Pass an instance as ``stats=`` to read it afterwards; it is complete once the iterator is
    exhausted.
    """

    frames: int = 0
    """Frames read from the source."""
    ike: int = 0
    """IkeDatagram records yielded."""
    esp: int = 0
    """EspPacket records yielded."""
    keepalives: int = 0
    """NatKeepalive records yielded."""
    errors: int = 0
    """FrameError records yielded (including the final one for a damaged file)."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Frames that gave no record, by reason (the SKIP_* texts of this module)."""
    fragments_dropped: int = 0
    """Incomplete IP datagrams given up (timeout or memory bound)."""
    tcp_streams_dropped: int = 0
    """IKE-over-TCP stream directions given up (memory bound or bad framing)."""
    truncated: bool = False
    """True when the capture file was damaged or cut short (see ``note``)."""
    note: str | None = None
    """What was wrong with the file, when ``truncated``."""
    capture: CaptureStats | None = None
    """The reader's own statistics when the source was a file."""


def _parse_ike(data: bytes) -> IkeMessage:
    """``ikev2.parse_message``, imported with the first IKE datagram: a capture of ESP alone
    never loads the IKE payload parsers and their records."""
    from ikeview.dissectors.ikev2 import parse_message

    return parse_message(data)


class Dissector:
    """State of one pass: fragment reassembly, TCP streams, caches and statistics.

    Use :func:`dissect` unless you feed frames yourself; one Dissector per capture.
    """

    def __init__(
        self,
        *,
        extra_ports: Iterable[int] = (),
        stats: DissectStats | None = None,
        ike: bool = True,
    ) -> None:
        """``ike=False``: IKE datagrams are recognised (fragments and streams reassembled as
        ever) but not parsed, and give no record: for a reader that wants only the ESP around
        them (a later range of ``--jobs`` without keys, whose IKE frames another process
        reads), and then never loads the IKE parser."""
        self.stats = stats if stats is not None else DissectStats()
        self._ike = ike
        self.extra_ports = frozenset(int(p) for p in extra_ports) - {IKE_PORT}
        # RFC 3948 UDP encapsulation and RFC 9329 TCP share port 4500 (and the extra ports).
        self._encap_ports = self.extra_ports | {NAT_T_PORT}
        self._frag = Reassembler()
        self._tcp = TcpStreams()
        self._addr: dict[bytes, str] = {}
        self._extra: list[Record] = []
        self.last_ts = 0.0
        """Capture time of the last frame seen (for the FrameError of a damaged file)."""

    def run(
        self, frames: Iterable[RawFrame], reader: CaptureReader | None = None
    ) -> Iterator[Record]:
        """Dissect every frame, yielding records in capture order.

        With ``reader`` (the source of ``frames``), a damaged file ends with a FrameError.
        """
        stats = self.stats
        extra = self._extra
        general = self._frame
        addr = self._addr
        text = self._text
        eth_ip4_udp_esp = _ETH_IPV4_UDP_ESP.unpack_from
        new_flow = _new_flow
        new_esp = _new_esp
        esp_hdr = ESP_HEADER.unpack_from
        # Extra ports may carry bare IKE, which only the general path recognises.
        fast_udp = not self.extra_ports
        n = 0
        ike = esp = 0
        ts = self.last_ts
        try:
            for index, ts, linktype, data, _orig_len in frames:
                n += 1
                # Fast path, inline because it is most of any IPsec capture: Ethernet, IPv4
                # without options or fragmentation, ESP in UDP 4500 or ESP over IP.
                if linktype == 1 and len(data) >= 50:
                    (etype, vihl, total, frag, proto, src, dst, sport, dport, ulen, spi, seq) = (
                        eth_ip4_udp_esp(data, 12)
                    )
                    if etype == 0x0800 and vihl == 0x45 and not frag & 0x3FFF and total >= 36:
                        wire_end = 14 + total
                        end = wire_end if wire_end <= len(data) else len(data)
                        if proto == 17:
                            # SPI 0 is the Non-ESP Marker (IKE); ulen < 16 cannot be ESP.
                            if (
                                fast_udp
                                and spi
                                and (sport == 4500 or dport == 4500)
                                and sport != 500
                                and dport != 500
                                and ulen >= 16
                                and 34 + ulen <= wire_end
                            ):
                                pend = 34 + ulen if 34 + ulen <= end else end
                                flow = new_flow(
                                    index,
                                    ts,
                                    4,
                                    addr.get(src) or text(src),
                                    addr.get(dst) or text(dst),
                                    "udp",
                                    sport,
                                    dport,
                                )
                                esp += 1
                                yield new_esp(flow, spi, seq, ulen - 8, data[42:pend], True, None)
                                continue
                        elif proto == 50:
                            spi, seq = esp_hdr(data, 34)
                            flow = new_flow(
                                index,
                                ts,
                                4,
                                addr.get(src) or text(src),
                                addr.get(dst) or text(dst),
                                "ip",
                                0,
                                0,
                            )
                            esp += 1
                            yield new_esp(flow, spi, seq, total - 20, data[34:end], False, None)
                            continue
                try:
                    rec = general(index, ts, linktype, data)
                except DecodeError as exc:
                    rec = FrameError(index, ts, exc.offset, exc.reason)
                    stats.errors += 1
                if rec is not None:
                    cls = type(rec)
                    if cls is EspPacket:
                        esp += 1
                    elif cls is IkeDatagram:
                        ike += 1
                    yield rec
                if extra:
                    for r in extra:
                        if type(r) is IkeDatagram:
                            ike += 1
                        elif type(r) is EspPacket:
                            esp += 1
                    yield from extra
                    extra.clear()
        finally:
            self.last_ts = ts
            stats.frames += n
            stats.ike += ike
            stats.esp += esp
            stats.fragments_dropped = self._frag.dropped
            stats.tcp_streams_dropped = self._tcp.dropped
        if reader is not None:
            tail = self.finish(reader.stats, reader.stats.frames, ts)
            if tail is not None:
                yield tail

    def idle(self) -> bool:
        """Nothing held between frames (no IP fragment, no TCP stream, none given up): the next
        frames dissect the same whatever came before. ``--jobs`` dissects byte ranges apart
        only when each one leaves its dissector idle."""
        return not (len(self._frag) or len(self._tcp) or self._frag.dropped or self._tcp.dropped)

    def _text(self, addr: bytes) -> str:
        cache = self._addr
        s = cache.get(addr)
        if s is None:
            if len(cache) >= _ADDR_CACHE_MAX:
                cache.clear()
            s = cache[addr] = ip_text(addr)
        return s

    def _skip(self, reason: str) -> None:
        skipped = self.stats.skipped
        skipped[reason] = skipped.get(reason, 0) + 1

    def _frame(self, index: int, ts: float, linktype: int, data: bytes) -> Record | None:
        """Decode one frame; returns its record (more go to self._extra) or None if skipped."""
        # Fast path: Ethernet (or raw IP) + IPv4 without options or fragmentation.
        if linktype == 1 and data[12:14] == b"\x08\x00":
            off = 14
        elif linktype == 101 or linktype == 228:
            off = 0
        else:
            off = -1
        if off >= 0 and len(data) >= off + 20 and data[off] == 0x45:
            total, frag, proto, src, dst = _IPV4_FAST.unpack_from(data, off)
            if not frag & 0x3FFF and total >= 20:
                start = off + 20
                wire_end = off + total
                end = wire_end if wire_end <= len(data) else len(data)
                if proto == IPPROTO_UDP:
                    return self._udp(index, ts, 4, src, dst, data, start, end, wire_end)
                if proto == IPPROTO_ESP:
                    cache = self._addr
                    flow = Flow(
                        index,
                        ts,
                        4,
                        cache.get(src) or self._text(src),
                        cache.get(dst) or self._text(dst),
                        "ip",
                        0,
                        0,
                    )
                    if end - start >= 8:
                        spi, seq = ESP_HEADER.unpack_from(data, start)
                        return EspPacket(flow, spi, seq, wire_end - start, data[start:end], False)
                    return esp_packet(flow, data[start:end], wire_end - start, False)
        return self._slow(index, ts, linktype, data)

    def _slow(self, index: int, ts: float, linktype: int, data: bytes) -> Record | None:
        """Every case the fast path does not take: other links, options, IPv6, fragments."""
        version, off = link_to_ip(linktype, data)
        if version == 4:
            ip = parse_ipv4(data, off)
        elif version == 6:
            ip = parse_ipv6(data, off)
        else:
            self._skip(SKIP_NOT_IP)
            return None
        proto, start, end, wire_end = ip.proto, ip.start, ip.end, ip.wire_end
        if ip.frag_id >= 0:
            if wire_end > end:
                if ip.frag_offset:
                    self._skip(SKIP_FRAGMENT_CUT)
                    return None
                # A first fragment the capture cut short can never be reassembled; like
                # Wireshark, decode what there is of it.
            else:
                key = (ip.src, ip.dst, proto if version == 4 else -1, ip.frag_id)
                done = self._frag.add(
                    key, ip.frag_offset, ip.more_fragments, data[start:end], ts, proto
                )
                if done is None:
                    self._skip(SKIP_FRAGMENT_HELD)
                    return None
                # The meta handed back is the int protocol given with the offset-0 fragment.
                data, proto = done[0], cast(int, done[1])
                start, end = 0, len(data)
                wire_end = end
                if version == 6:
                    proto, start, _ = walk_ipv6_ext(proto, data, 0, end)
                elif proto == IPPROTO_AH:
                    proto, start = skip_ah(data, 0, end)
        if proto == IPPROTO_UDP:
            return self._udp(index, ts, version, ip.src, ip.dst, data, start, end, wire_end)
        if proto == IPPROTO_ESP:
            flow = Flow(index, ts, version, self._text(ip.src), self._text(ip.dst), "ip", 0, 0)
            return esp_packet(flow, data[start:end], wire_end - start, False)
        if proto == IPPROTO_TCP:
            return self._tcp_segment(index, ts, version, ip.src, ip.dst, data, start, end)
        self._skip(SKIP_OTHER_PROTOCOL)
        return None

    def _udp(
        self,
        index: int,
        ts: float,
        version: int,
        src: bytes,
        dst: bytes,
        data: bytes,
        start: int,
        end: int,
        wire_end: int,
    ) -> Record | None:
        """UDP (RFC 768): port 500 is IKE; 4500 and the extra ports are RFC 3948 encapsulation."""
        if end - start < UDP_HEADER_LEN:
            raise DecodeError(start, f"UDP header cut short ({end - start} of 8 bytes)")
        sport, dport, ulen = UDP_HEADER.unpack_from(data, start)
        pstart = start + UDP_HEADER_LEN
        # The UDP length bounds the payload (Ethernet may pad); the IP length bounds the UDP.
        wire = ulen - UDP_HEADER_LEN if ulen >= UDP_HEADER_LEN else wire_end - pstart
        if pstart + wire > wire_end:
            wire = wire_end - pstart
        pend = pstart + wire
        if pend > end:
            pend = end
        if sport == IKE_PORT or dport == IKE_PORT:
            kind, moff = KIND_IKE, 0
        elif sport in self._encap_ports or dport in self._encap_ports:
            if (
                wire > 1
                and pend - pstart >= 8
                and data[pstart : pstart + 4] != NON_ESP_MARKER
                and not self.extra_ports
            ):
                kind, moff = KIND_ESP, 0  # the common ESP-in-UDP case, without a copy
            else:
                if pend <= pstart:
                    self._skip(SKIP_EMPTY_ENCAP)
                    return None
                bare = (sport in self.extra_ports or dport in self.extra_ports) and not (
                    sport == NAT_T_PORT or dport == NAT_T_PORT
                )
                kind, moff = classify_encap(data[pstart:pend], wire, bare)
        else:
            self._skip(SKIP_OTHER_UDP)
            return None
        cache = self._addr
        flow = Flow(
            index,
            ts,
            version,
            cache.get(src) or self._text(src),
            cache.get(dst) or self._text(dst),
            "udp",
            sport,
            dport,
        )
        if kind == KIND_ESP:
            if pend - pstart >= 8:
                spi, seq = ESP_HEADER.unpack_from(data, pstart)
                return EspPacket(flow, spi, seq, wire, data[pstart:pend], True)
            return esp_packet(flow, data[pstart:pend], wire, True)
        if kind == KIND_IKE:
            if not self._ike:
                return None
            return IkeDatagram(flow, _parse_ike(data[pstart + moff : pend]))
        self.stats.keepalives += 1
        return NatKeepalive(flow)

    def _tcp_segment(
        self,
        index: int,
        ts: float,
        version: int,
        src: bytes,
        dst: bytes,
        data: bytes,
        start: int,
        end: int,
    ) -> Record | None:
        """TCP (RFC 9293) on the NAT-T/extra ports: feed RFC 9329 stream reassembly."""
        if end - start < TCP_HEADER_LEN:
            raise DecodeError(start, f"TCP header cut short ({end - start} of 20 bytes)")
        sport, dport, seq, doff, flags = TCP_HEADER.unpack_from(data, start)
        if sport not in self._encap_ports and dport not in self._encap_ports:
            self._skip(SKIP_OTHER_TCP)
            return None
        hlen = (doff >> 4) * 4
        if hlen < TCP_HEADER_LEN or start + hlen > end:
            raise DecodeError(start + 12, f"TCP header length {hlen} does not fit the segment")
        payload = data[start + hlen : end]
        msgs = self._tcp.add(
            (src, sport, dst, dport), (dst, dport, src, sport), seq, flags, payload
        )
        if not msgs:
            self._skip(SKIP_OTHER_TCP if msgs is None else SKIP_TCP_PARTIAL)
            return None
        flow = Flow(index, ts, version, self._text(src), self._text(dst), "tcp", sport, dport)
        out: list[Record] = []
        for m in msgs:
            if m.kind != KIND_IKE:
                out.append(esp_packet(flow, m.data, len(m.data), True))
            elif self._ike:
                out.append(IkeDatagram(flow, _parse_ike(m.data)))
        if not out:
            return None
        self._extra.extend(out[1:])
        return out[0]

    def finish(
        self, capture: CaptureStats | None, last_index: int, last_ts: float
    ) -> Record | None:
        """After the last frame: copy the reader's verdict; a damaged file gives a FrameError."""
        stats = self.stats
        stats.capture = capture
        if capture is None or not (capture.truncated or capture.clamped_times):
            return None
        stats.errors += 1
        # Impossible time stamps (before 1970, after 9999) were shown as the nearest limit:
        # said once, so that a time in the report is never silently made up.
        clamped = (
            f"{capture.clamped_times} time stamps outside 1970..9999 shown as the nearest limit"
            if capture.clamped_times
            else ""
        )
        if not capture.truncated:
            return FrameError(last_index + 1, last_ts, 0, f"{CAPTURE_DAMAGED}: {clamped}")
        stats.truncated = True
        stats.note = capture.note
        offset = max(capture.damage_offset, 0)
        text = f"{CAPTURE_DAMAGED}: {capture.note}" + (f"; {clamped}" if clamped else "")
        return FrameError(last_index + 1, last_ts, offset, text)


def dissect(
    source: str | os.PathLike[str] | Iterable[RawFrame],
    *,
    extra_ports: Iterable[int] = (),
    stats: DissectStats | None = None,
) -> Iterator[Record]:
    """Dissect a capture file (pcap/pcapng, plain or gzip) or an iterable of RawFrame.

    One pass, streaming. Bad bytes give FrameError records (or records whose ``error`` is set),
    never an exception; a damaged file ends with one FrameError whose ``offset`` is the file
    offset of the damage. A file that is no capture at all raises
    :class:`~ikeview.dissectors.capture.CaptureError` here, before iteration starts.
    ``extra_ports`` are UDP/TCP ports to treat like 4500 (see :mod:`.transport`).
    Pass ``stats`` to receive a :class:`DissectStats` tally.
    """
    dissector = Dissector(extra_ports=extra_ports, stats=stats)
    if isinstance(source, str | os.PathLike):
        reader = CaptureReader(source)
        return dissector.run(reader, reader)
    return dissector.run(source)
