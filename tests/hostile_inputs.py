"""Crafted hostile inputs for tests/test_hostile.py and the fuzz seed corpus.

Every builder returns bytes made here by hand (no capture is needed): each is the smallest
input that showed one defect of issue 15, built from the RFC layouts named beside it.
"""

from __future__ import annotations

import gzip
import struct
import zlib

# libpcap file header (little-endian, microseconds, Ethernet) and record header.
_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)


def pcap(frames: list[bytes], *, ts: int = 1_700_000_000, linktype: int = 1) -> bytes:
    """A pcap holding ``frames`` (whole link-layer frames), all at time ``ts``."""
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)
    body = b"".join(struct.pack("<IIII", ts, 0, len(f), len(f)) + f for f in frames)
    return head + body


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(payload: bytes, sport: int = 500, dport: int = 500) -> bytes:
    """Ethernet / IPv4 10.0.0.1 -> 10.0.0.2 / UDP carrying ``payload`` (up to 65507 bytes)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
        bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]),
    )  # fmt: skip
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + udp


def ike_message(first_payload: int, payloads: bytes, *, exchange: int = 37, mid: int = 1) -> bytes:
    """RFC 7296 3.1 header (IKEv2, initiator) before an already-chained payload list."""
    length = 28 + len(payloads)
    head = struct.pack(
        "!8s8sBBBBII", b"\x11" * 8, b"\x22" * 8, first_payload, 0x20, exchange, 0x08, mid, length
    )
    return head + payloads


def delete_bomb_message(size: int = 65_000) -> bytes:
    """An INFORMATIONAL message of back-to-back Delete payloads (RFC 7296 3.11), each 8 bytes:
    Protocol ESP, SPI Size 0, Num of SPIs 65535 (issue 15 item 1)."""
    n = (size - 28) // 8
    body = b"".join(
        struct.pack("!BBHBBH", 42 if i < n - 1 else 0, 0, 8, 3, 0, 65535) for i in range(n)
    )
    return ike_message(42, body)


def delete_bomb_pcap(frames: int = 3) -> bytes:
    return pcap([udp_frame(delete_bomb_message())] * frames)


def zero_body_gzip(zeros: int = 100 << 20) -> bytes:
    """A gzip of a pcap header then ``zeros`` zero bytes (issue 15 item 4). Built as one gzip
    member per MiB (RFC 1952 2.2: members concatenate), so a GiB costs milliseconds to make."""
    member = gzip.compress(bytes(1 << 20), 9)
    whole, rest = divmod(zeros, 1 << 20)
    tail = gzip.compress(bytes(rest), 9) if rest else b""
    return gzip.compress(_PCAP_HEADER, 9) + member * whole + tail


def repeated_frame_gzip(count: int = 2_000_000) -> bytes:
    """A gzip of one valid small IKE-less UDP frame repeated ``count`` times: a bomb made of
    well-formed records rather than zeros."""
    frame = udp_frame(b"x" * 8, 1234, 80)
    rec = struct.pack("<IIII", 1_700_000_000, 0, len(frame), len(frame)) + frame
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [comp.compress(_PCAP_HEADER)]
    block = rec * 4096
    for _ in range(count // 4096):
        out.append(comp.compress(block))
    out.append(comp.flush())
    return b"".join(out)


def _shb() -> bytes:
    body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    return struct.pack("<II", 0x0A0D0D0A, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def _idb(options: bytes) -> bytes:
    body = struct.pack("<HHI", 1, 0, 262144) + options + b"\0\0\0\0"
    return struct.pack("<II", 1, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def _epb(frame: bytes, ts: int) -> bytes:
    pad = b"\0" * (-len(frame) % 4)
    body = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame + pad
    return struct.pack("<II", 6, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def _opt(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def pcapng_odd_time(
    *, tsresol: int | None = None, tsoffset: int | None = None, ts: int = 1_700_000_000_000_000
) -> bytes:
    """pcapng with one IKE frame and a hostile if_tsresol (option 9) or if_tsoffset (14)."""
    opts = b""
    if tsresol is not None:
        opts += _opt(9, bytes([tsresol]))
    if tsoffset is not None:
        opts += _opt(14, struct.pack("<q", tsoffset))
    frame = udp_frame(ike_message(0, b""))
    return _shb() + _idb(opts) + _epb(frame, ts)


def pcap_max_time() -> bytes:
    """A pcap record with seconds 0xffffffff and microseconds 0xffffffff (issue 15 item 5)."""
    frame = udp_frame(ike_message(0, b""))
    rec = struct.pack("<IIII", 0xFFFFFFFF, 0xFFFFFFFF, len(frame), len(frame))
    return _PCAP_HEADER + rec + frame


def gzip_of(data: bytes) -> bytes:
    return gzip.compress(data, 6)


def escape_identity_pcap() -> bytes:
    """An IKE_SA_INIT-less message whose plaintext IDi (RFC 7296 3.5, ID_FQDN) holds terminal
    escape sequences: set the window title, clear the screen, turn text red."""
    ident = b"\x1b]0;pwned\x07\x1b[2J\x1b[31mevil\x9b31m"
    idi = struct.pack("!BBH", 0, 0, 8 + len(ident)) + struct.pack("!B3x", 2) + ident
    return pcap([udp_frame(ike_message(35, idi, exchange=35))])


def tiny_payloads_pcap(messages: int = 100) -> bytes:
    """``messages`` datagrams of 65 KB, each a chain of 16,243 empty Vendor ID payloads (the
    4-byte generic header alone, RFC 7296 3.2), each from its own IKE SA: without a per-message
    bound the kept records cost about 40 times the bytes that carry them."""
    n = (65_000 - 28) // 4
    body = b"".join(struct.pack("!BBH", 43 if i < n - 1 else 0, 0, 4) for i in range(n))
    frames = []
    for k in range(messages):
        msg = bytearray(ike_message(43, body, mid=k))
        msg[0:8] = struct.pack("!Q", k + 1)
        frames.append(udp_frame(bytes(msg)))
    return pcap(frames)
