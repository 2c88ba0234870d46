"""Link layer and IP: from a captured frame to the IP header fields and the IP payload bounds.

Parsers raise :class:`~ikeview.dissectors.errors.DecodeError` (offset within the frame);
the stream dissector turns that into a ``FrameError`` record. Non-IP frames (ARP, LLDP, ...)
are not errors: :func:`link_to_ip` reports them with version 0 so they are skipped quietly.
"""

from __future__ import annotations

import struct

# The C module behind ``socket``, for its two address formatters (the same functions):
# importing ``socket`` itself (selectors, IntEnum conversions) costs ~2 ms of start-up.
from _socket import AF_INET6, inet_ntoa, inet_ntop
from typing import NamedTuple

from ikeview.dissectors.errors import DecodeError

# LINKTYPE_* numbers (https://www.tcpdump.org/linktypes.html) that carry IP and that we decode.
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
# DLT_RAW's value differs by platform (12 on most, 14 on OpenBSD); old writers put the DLT
# value into the file instead of LINKTYPE_RAW, so both are read as raw IP, as Wireshark does.
LINKTYPE_DLT_RAW_12 = 12
LINKTYPE_DLT_RAW_14 = 14
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

LINKTYPE_NAMES: dict[int, str] = {
    0: "NULL",
    1: "ETHERNET",
    6: "IEEE802_5",
    8: "SLIP",
    9: "PPP",
    10: "FDDI",
    12: "RAW",
    14: "RAW",
    50: "PPP_HDLC",
    51: "PPP_ETHER",
    101: "RAW",
    104: "C_HDLC",
    105: "IEEE802_11",
    107: "FRELAY",
    108: "LOOP",
    113: "LINUX_SLL",
    119: "PRISM_HEADER",
    127: "IEEE802_11_RADIOTAP",
    147: "USER0",
    195: "IEEE802_15_4_WITHFCS",
    201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    220: "USB_LINUX_MMAPPED",
    228: "IPV4",
    229: "IPV6",
    239: "NFLOG",
    249: "NETANALYZER_TRANSPARENT",
    252: "WIRESHARK_UPPER_PDU",
    263: "IPNET",
    276: "LINUX_SLL2",
}


def linktype_name(linktype: int) -> str:
    """Name of a LINKTYPE_* number; never raises."""
    return LINKTYPE_NAMES.get(linktype, "unknown")


# EtherTypes (IEEE 802.3 / IANA).
ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLAN = 0x8100  # IEEE 802.1Q C-tag
ETH_QINQ = 0x88A8  # IEEE 802.1ad S-tag
ETH_QINQ_OLD = 0x9100  # pre-standard QinQ S-tag still sent by some switches
_VLAN_TAGS = frozenset((ETH_VLAN, ETH_QINQ, ETH_QINQ_OLD))
_ETHERTYPE_VERSION = {ETH_IPV4: 4, ETH_IPV6: 6}

# BSD loopback address families: AF_INET is 2 everywhere, AF_INET6 differs per OS
# (24 NetBSD/OpenBSD/BSD/OS, 28 FreeBSD/DragonFly, 30 Darwin, 10 Linux).
_AF_VERSION = {2: 4, 10: 6, 24: 6, 28: 6, 30: 6}

_U16 = struct.Struct("!H")
_U32_LE = struct.Struct("<I")
_U32_BE = struct.Struct("!I")


def link_to_ip(linktype: int, data: bytes) -> tuple[int, int]:
    """Return (IP version, offset of the IP header), or (0, offset) for a non-IP frame.

    Raises DecodeError for an unsupported link type or a link header cut short.
    """
    n = len(data)
    if linktype == LINKTYPE_ETHERNET:
        # IEEE 802.3: dst(6) src(6) EtherType(2); 802.1Q/802.1ad tags insert TPID(2) TCI(2).
        off = 12
        if n < 14:
            raise DecodeError(n, f"Ethernet header cut short ({n} of 14 bytes)")
        etype = _U16.unpack_from(data, off)[0]
        while etype in _VLAN_TAGS:
            off += 4
            if n < off + 2:
                raise DecodeError(n, "VLAN tag cut short")
            etype = _U16.unpack_from(data, off)[0]
        return _ETHERTYPE_VERSION.get(etype, 0), off + 2
    if linktype in (LINKTYPE_RAW, LINKTYPE_DLT_RAW_12, LINKTYPE_DLT_RAW_14):
        # Raw IP: the version nibble tells v4 from v6.
        if n < 1:
            raise DecodeError(0, "empty raw IP frame")
        version = data[0] >> 4
        return (version if version in (4, 6) else 0), 0
    if linktype == LINKTYPE_IPV4:
        return 4, 0
    if linktype == LINKTYPE_IPV6:
        return 6, 0
    if linktype == LINKTYPE_LINUX_SLL:
        # Linux cooked v1: packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2).
        if n < 16:
            raise DecodeError(n, f"Linux cooked header cut short ({n} of 16 bytes)")
        return _ETHERTYPE_VERSION.get(_U16.unpack_from(data, 14)[0], 0), 16
    if linktype == LINKTYPE_LINUX_SLL2:
        # Linux cooked v2: protocol(2) reserved(2) ifindex(4) ARPHRD(2) pkttype(1)
        # addr len(1) addr(8).
        if n < 20:
            raise DecodeError(n, f"Linux cooked v2 header cut short ({n} of 20 bytes)")
        return _ETHERTYPE_VERSION.get(_U16.unpack_from(data, 0)[0], 0), 20
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP):
        # 4-byte address family: host byte order of the capturing machine for NULL (unknown
        # to us, so try both), network byte order for LOOP.
        if n < 4:
            raise DecodeError(n, f"loopback header cut short ({n} of 4 bytes)")
        if linktype == LINKTYPE_LOOP:
            family = _U32_BE.unpack_from(data, 0)[0]
        else:
            family = _U32_LE.unpack_from(data, 0)[0]
            if family > 0xFFFF:
                family = _U32_BE.unpack_from(data, 0)[0]
        return _AF_VERSION.get(family, 0), 4
    if linktype < 0:
        raise DecodeError(0, f"packet refers to interface {-1 - linktype}, not described in file")
    raise DecodeError(
        0, f"unsupported link type {linktype} ({linktype_name(linktype)}): cannot find IP"
    )


class IpPacket(NamedTuple):
    """The IP header fields the dissector needs (a tuple: one is made per frame)."""

    version: int
    """4 or 6."""
    src: bytes
    """Source address, 4 or 16 bytes."""
    dst: bytes
    """Destination address, 4 or 16 bytes."""
    proto: int
    """Protocol / Next Header of the payload (after extension headers and AH)."""
    start: int
    """Offset of the payload in the frame."""
    end: int
    """End of the payload in the frame (bounded by the IP length and by what was captured)."""
    wire_end: int
    """End of the payload per the IP length field (> end when the capture cut the frame)."""
    frag_id: int
    """Fragment identification, or -1 when the packet is not a fragment."""
    frag_offset: int
    """Fragment offset in bytes."""
    more_fragments: bool
    """More Fragments flag."""


# RFC 791 section 3.1: Version/IHL(1) TOS(1) Total Length(2) Identification(2)
# Flags/Fragment Offset(2) TTL(1) Protocol(1) Checksum(2) Source(4) Destination(4) [options]
_IPV4 = struct.Struct("!BxHHHxBxx4s4s")
# RFC 8200 section 3: Version/TC/Flow(4) Payload Length(2) Next Header(1) Hop Limit(1)
# Source(16) Destination(16)
_IPV6 = struct.Struct("!4xHBx16s16s")
# RFC 8200 section 4.5: Next Header(1) Reserved(1) Offset/Res/M(2) Identification(4)
_IPV6_FRAG = struct.Struct("!BxHI")

IPPROTO_HOPOPTS = 0
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_ROUTING = 43
IPPROTO_FRAGMENT = 44
IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_NONE = 59
IPPROTO_DSTOPTS = 60
_EXT_8 = frozenset((IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS))


def parse_ipv4(data: bytes, off: int) -> IpPacket:
    """Decode an IPv4 header (options skipped) at ``off``; AH after it is skipped too."""
    n = len(data)
    if n < off + 20:
        raise DecodeError(n, f"IPv4 header cut short ({n - off} of 20 bytes)")
    vihl, total, ident, frag, proto, src, dst = _IPV4.unpack_from(data, off)
    if vihl >> 4 != 4:
        raise DecodeError(off, f"IP version {vihl >> 4} where 4 was expected")
    hlen = (vihl & 0x0F) * 4
    if hlen < 20:
        raise DecodeError(off, f"IPv4 header length {hlen} < 20")
    start = off + hlen
    # Total Length 0 happens with TCP segmentation offload: trust the captured length.
    wire_end = off + total if total else n
    if total and total < hlen:
        raise DecodeError(off + 2, f"IPv4 total length {total} < header length {hlen}")
    end = wire_end if wire_end <= n else n
    if start > n:
        raise DecodeError(n, f"IPv4 options cut short ({n - off} of {hlen} bytes)")
    more = bool(frag & 0x2000)
    foff = (frag & 0x1FFF) * 8
    frag_id = ident if (more or foff) else -1
    if proto == IPPROTO_AH and frag_id < 0:
        proto, start = skip_ah(data, start, end)
    return IpPacket(4, src, dst, proto, start, end, wire_end, frag_id, foff, more)


def parse_ipv6(data: bytes, off: int) -> IpPacket:
    """Decode an IPv6 header and walk its extension headers up to the upper layer or fragment."""
    n = len(data)
    if n < off + 40:
        raise DecodeError(n, f"IPv6 header cut short ({n - off} of 40 bytes)")
    if data[off] >> 4 != 6:
        raise DecodeError(off, f"IP version {data[off] >> 4} where 6 was expected")
    plen, nh, src, dst = _IPV6.unpack_from(data, off)
    start = off + 40
    # Payload Length 0 is a jumbogram (RFC 2675) or offload: trust the captured length.
    wire_end = start + plen if plen else n
    end = wire_end if wire_end <= n else n
    nh, start, frag = walk_ipv6_ext(nh, data, start, end)
    if frag is None:
        return IpPacket(6, src, dst, nh, start, end, wire_end, -1, 0, False)
    ident, foff, more = frag
    return IpPacket(6, src, dst, nh, start, end, wire_end, ident, foff, more)


def walk_ipv6_ext(
    nh: int, data: bytes, off: int, end: int
) -> tuple[int, int, tuple[int, int, bool] | None]:
    """Skip IPv6 extension headers (RFC 8200 section 4) and AH (RFC 4302) from ``off``.

    Returns (upper-layer protocol, its offset, fragment info or None). At a Fragment header
    it stops and returns (Next Header of the fragment, offset after it, (id, offset, more)).
    """
    while True:
        if nh in _EXT_8:
            # Hop-by-Hop, Routing, Destination Options: Next Header(1) Hdr Ext Len(1) in
            # 8-octet units not counting the first 8.
            if off + 2 > end:
                raise DecodeError(off, "IPv6 extension header cut short")
            nh, hlen = data[off], (data[off + 1] + 1) * 8
            off += hlen
            if off > end:
                raise DecodeError(off - hlen, "IPv6 extension header runs past the packet")
        elif nh == IPPROTO_FRAGMENT:
            if off + 8 > end:
                raise DecodeError(off, "IPv6 fragment header cut short")
            nh, offres, ident = _IPV6_FRAG.unpack_from(data, off)
            foff = offres & 0xFFF8
            more = bool(offres & 1)
            if not foff and not more:
                # An atomic fragment (RFC 6946): not really fragmented, keep going.
                off += 8
                continue
            return nh, off + 8, (ident, foff, more)
        elif nh == IPPROTO_AH:
            nh, off = skip_ah(data, off, end)
        else:
            return nh, off, None


def skip_ah(data: bytes, off: int, end: int) -> tuple[int, int]:
    """Skip an Authentication Header (RFC 4302 section 2: Next Header(1) Payload Len(1) in
    32-bit words minus 2, ...). Returns (next protocol, offset after AH)."""
    if off + 2 > end:
        raise DecodeError(off, "AH header cut short")
    nh, plen = data[off], (data[off + 1] + 2) * 4
    if off + plen > end:
        raise DecodeError(off, f"AH length {plen} runs past the packet")
    return nh, off + plen


def ip_text(addr: bytes) -> str:
    """Text form of a 4- or 16-byte address."""
    if len(addr) == 4:
        return inet_ntoa(addr)
    return inet_ntop(AF_INET6, addr)
