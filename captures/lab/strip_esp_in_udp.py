#!/usr/bin/env python3
"""Derive a raw-ESP capture from a capture with UDP-encapsulated ESP (RFC 3948).

Usage: strip_esp_in_udp.py IN.pcap OUT.pcap

Every IPv4 packet carrying UDP port 4500 whose payload starts with a non-zero SPI (that is,
ESP, not IKE behind the four-byte non-ESP marker and not a one-byte NAT-keepalive) is rewritten
as IP protocol 50: the 8-byte UDP header is removed, the IP protocol, total length and header
checksum are fixed up. The ESP bytes are untouched, so the keys in truth.json still apply.
IKE packets, keepalives and everything else are copied unchanged. Standard library only.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

# Link-layer header length per pcap LINKTYPE: Ethernet, raw IPv4, Linux cooked (SLL).
LINK_HEADER = {1: 14, 101: 0, 228: 0, 113: 16}
NAT_T_PORT = 4500
IPPROTO_UDP = 17
IPPROTO_ESP = 50


def ip_checksum(header: bytes) -> int:
    """RFC 1071 one's complement sum over the IPv4 header (checksum field zeroed)."""
    if len(header) % 2:
        header += b"\0"
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def strip_packet(frame: bytes, link_len: int) -> bytes | None:
    """Return the rewritten frame if it is ESP-in-UDP, else None."""
    ip = frame[link_len:]
    if len(ip) >= 56 and ip[0] >> 4 == 6:
        return strip_packet6(frame, link_len)
    if len(ip) < 20 or ip[0] >> 4 != 4:
        return None
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != IPPROTO_UDP or len(ip) < ihl + 8 + 8:
        return None
    # Fragmented datagrams cannot be rewritten packet by packet.
    if struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
        return None
    sport, dport = struct.unpack("!HH", ip[ihl : ihl + 4])
    if NAT_T_PORT not in (sport, dport):
        return None
    payload = ip[ihl + 8 :]
    # RFC 3948 section 2.2: a zero first word is the non-ESP marker (IKE follows).
    if payload[:4] == b"\0\0\0\0":
        return None
    header = bytearray(ip[:ihl])
    header[9] = IPPROTO_ESP
    struct.pack_into("!H", header, 2, ihl + len(payload))
    struct.pack_into("!H", header, 10, 0)
    struct.pack_into("!H", header, 10, ip_checksum(bytes(header)))
    return frame[:link_len] + bytes(header) + payload


def strip_packet6(frame: bytes, link_len: int) -> bytes | None:
    """The IPv6 form (ipv6-outer): UDP right after the fixed header (no extension headers)."""
    ip = frame[link_len:]
    if ip[6] != IPPROTO_UDP:
        return None
    sport, dport = struct.unpack("!HH", ip[40:44])
    payload = ip[48:]
    if NAT_T_PORT not in (sport, dport) or payload[:4] == b"\0\0\0\0":
        return None
    header = bytearray(ip[:40])
    header[6] = IPPROTO_ESP
    struct.pack_into("!H", header, 4, len(payload))
    return frame[:link_len] + bytes(header) + payload


def convert(src: Path, dst: Path) -> int:
    """Copy src to dst with ESP-in-UDP rewritten; returns the number of rewritten packets."""
    data = src.read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise SystemExit(f"{src}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    if linktype not in LINK_HEADER:
        raise SystemExit(f"{src}: unsupported link type {linktype}")
    link_len = LINK_HEADER[linktype]
    out = bytearray(data[:24])
    pos = 24
    rewritten = 0
    while pos + 16 <= len(data):
        ts_sec, ts_frac, incl, orig = struct.unpack(endian + "IIII", data[pos : pos + 16])
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        new = strip_packet(frame, link_len) if incl == orig else None
        if new is None:
            out += struct.pack(endian + "IIII", ts_sec, ts_frac, incl, orig) + frame
        else:
            rewritten += 1
            out += struct.pack(endian + "IIII", ts_sec, ts_frac, len(new), len(new)) + new
    if rewritten:
        dst.write_bytes(bytes(out))
    else:
        # No ESP in this capture (e.g. a failed negotiation): no derived copy.
        dst.unlink(missing_ok=True)
    return rewritten


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    n = convert(Path(argv[1]), Path(argv[2]))
    print(f"{argv[2]}: {n} ESP-in-UDP packets rewritten as IP protocol 50")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
