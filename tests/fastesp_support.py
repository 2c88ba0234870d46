"""A generated ESP capture for the batch-path equality tests (self-made bytes: the edge cases
the lab captures do not have all at once).

Several SAs between two hosts, encrypted here with cryptography: AES-GCM-16-128 over IP, AES-CBC
+ HMAC-SHA2-256-128 in UDP 4500, an SA with no keys, an SA carried inside another's tunnel
(ESP in ESP) and one SPI sent to two destinations. Between them: loss, replays, reordering, a
jump, bad ICVs, bad padding, next header 255, packets cut by the snap length, packets too short
for IV and ICV, IP options, IPv6, NAT keepalives, ARP and DNS frames. ``cut`` ends the file in
the middle of a record (the reader then reports damage).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

A, B, C = b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02", b"\x0a\x00\x00\x03"
ETH = bytes.fromhex("020000000002020000000001")
GCM_SPI, CBC_SPI, NOKEY_SPI, INNER_SPI = 0xA0000001, 0xB0000002, 0xC0000003, 0xE0000004


def _ipv4(proto: int, src: bytes, dst: bytes, payload: bytes, options: bytes = b"") -> bytes:
    ihl = 5 + len(options) // 4
    head = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 20 + len(options) + len(payload), 1,
                       0x4000, 64, proto, 0, src, dst) + options  # fmt: skip
    return head + payload


def _inner_udp(rng: random.Random, flow: int, size: int) -> bytes:
    udp = struct.pack("!HHHH", 40000 + flow, 53 if flow % 5 == 0 else 5001, 8 + size, 0)
    return _ipv4(17, b"\xc0\xa8\x00\x01", b"\xc0\xa8\x01\x01", udp + rng.randbytes(size))


class _Sa:
    def __init__(self, spi: int, gcm: bool, rng: random.Random) -> None:
        self.spi, self.gcm = spi, gcm
        self.ekey = rng.randbytes(20 if gcm else 16)
        self.akey = b"" if gcm else rng.randbytes(32)

    def esp(
        self, seq: int, inner: bytes, rng: random.Random, *, nh: int = 4, bad_pad: bool = False
    ) -> bytes:
        head = struct.pack("!II", self.spi, seq)
        block = 4 if self.gcm else 16
        pad = (-(len(inner) + 2)) % block
        padding = bytes(range(1, pad + 1))
        if bad_pad:
            padding = bytes(pad) if pad else b""
            if not pad:
                pad, padding = block, bytes(block)
        plain = inner + padding + bytes([pad, nh])
        if self.gcm:
            iv = rng.randbytes(8)
            return head + iv + AESGCM(self.ekey[:16]).encrypt(self.ekey[16:] + iv, plain, head)
        iv = rng.randbytes(16)
        enc = Cipher(algorithms.AES(self.ekey), modes.CBC(iv)).encryptor()
        body = head + iv + enc.update(plain) + enc.finalize()
        mac = hmac.HMAC(self.akey, hashes.SHA256())
        mac.update(body)
        return body + mac.finalize()[:16]

    def toml(self, src: str, dst: str) -> str:
        lines = ["[[esp]]", f'spi = "{self.spi:08x}"', f'encr_key = "{self.ekey.hex()}"',
                 f'src = "{src}"', f'dst = "{dst}"']  # fmt: skip
        if self.gcm:
            lines += ['encr = "AES_GCM_16_128"', 'integ = "NONE"']
        else:
            lines += [f'integ_key = "{self.akey.hex()}"', 'encr = "AES-CBC-128"',
                      'integ = "HMAC_SHA2_256_128"']  # fmt: skip
        return "\n".join(lines) + "\n"


def _frame(ip: bytes, etype: int = 0x0800) -> bytes:
    return ETH + etype.to_bytes(2, "big") + ip


def _udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    return _ipv4(17, src, dst, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def write_capture(
    path: Path, keys: Path, *, packets: int = 3000, cut: bool = False, seed: int = 4303
) -> None:
    """The capture (classic little-endian microsecond pcap) and its keys.toml; another ``seed``
    draws other keys, packets and mishaps, in the same proportions."""
    rng = random.Random(seed)
    gcm, cbc = _Sa(GCM_SPI, True, rng), _Sa(CBC_SPI, False, rng)
    nokey, inner_sa = _Sa(NOKEY_SPI, True, rng), _Sa(INNER_SPI, True, rng)
    keys.write_text(gcm.toml("10.0.0.1", "10.0.0.2") + cbc.toml("10.0.0.2", "10.0.0.1")
                    + inner_sa.toml("192.168.0.1", "192.168.1.1"))  # fmt: skip
    frames: list[tuple[bytes, int]] = []  # (frame, original length)
    seq = {GCM_SPI: 0, CBC_SPI: 0, NOKEY_SPI: 0, INNER_SPI: 0}
    last: dict[int, bytes] = {}
    for i in range(packets):
        roll = rng.random()
        sa = gcm if roll < 0.45 else cbc if roll < 0.85 else nokey if roll < 0.9 else None
        if sa is None:
            frames.append((_odd_frame(rng, i, gcm, inner_sa, seq), 0))
            continue
        seq[sa.spi] += 1 if rng.random() > 0.02 else rng.randrange(2, 40)  # loss, jumps
        s = seq[sa.spi]
        if rng.random() < 0.02 and sa.spi in last:
            esp = last[sa.spi]  # a replay
        elif rng.random() < 0.02:
            esp = sa.esp(max(s - rng.randrange(1, 30), 1), _inner_udp(rng, i % 7, 40), rng)
        else:
            kind = rng.random()
            esp = sa.esp(s, _inner_udp(rng, i % 11, rng.choice((10, 100, 600))), rng,
                         nh=255 if kind < 0.01 else 4, bad_pad=0.01 <= kind < 0.02)  # fmt: skip
            if 0.02 <= kind < 0.04:
                flipped = bytearray(esp)
                flipped[rng.randrange(8, len(esp))] ^= 0x10
                esp = bytes(flipped)  # a bad ICV
            elif 0.04 <= kind < 0.05:
                esp = esp[:20]  # too short for IV, trailer and ICV
        last[sa.spi] = esp
        if sa is cbc:
            frame = _frame(_udp(B, A, 4500, 4500, esp))
        else:
            frame = _frame(_ipv4(50, A, C if i % 97 == 0 else B, esp))
        if rng.random() < 0.01:
            frames.append((frame[: len(frame) - 10], len(frame)))  # cut by the snap length
        else:
            frames.append((frame, 0))
    _write_pcap(path, frames, cut=cut)


def _odd_frame(rng: random.Random, i: int, gcm: _Sa, inner_sa: _Sa, seq: dict[int, int]) -> bytes:
    """A frame the batch path must leave to the general one (or an ESP-in-ESP packet)."""
    pick = i % 6
    if pick == 0:  # ESP in ESP: the inner SA's packet inside the GCM tunnel
        seq[INNER_SPI] += 1
        nested = inner_sa.esp(seq[INNER_SPI], _inner_udp(rng, 1, 30), rng)
        carrier = _ipv4(50, b"\xc0\xa8\x00\x01", b"\xc0\xa8\x01\x01", nested)
        seq[GCM_SPI] += 1
        return _frame(_ipv4(50, A, B, gcm.esp(seq[GCM_SPI], carrier, rng)))
    if pick == 1:  # NAT keepalive (RFC 3948)
        return _frame(_udp(A, B, 4500, 4500, b"\xff"))
    if pick == 2:  # IPv4 options: not the dissector's inline fast path
        seq[GCM_SPI] += 1
        esp = gcm.esp(seq[GCM_SPI], _inner_udp(rng, 3, 50), rng)
        return _frame(_ipv4(50, A, B, esp, options=b"\x01\x01\x01\x00"))
    if pick == 3:  # DNS
        return _frame(_udp(A, B, 5353, 53, rng.randbytes(30)))
    if pick == 4:  # ARP
        return _frame(rng.randbytes(28), 0x0806)
    ipv6 = struct.pack("!IHBB16s16s", 0x60000000, 24, 50, 64, bytes(15) + b"\x01", bytes(16))
    return _frame(ipv6 + rng.randbytes(24), 0x86DD)


def _write_pcap(path: Path, frames: list[tuple[bytes, int]], *, cut: bool) -> None:
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for n, (frame, orig) in enumerate(frames):
        sec, usec = 1_700_000_000 + n // 1000, (n % 1000) * 1000
        out += struct.pack("<IIII", sec, usec, len(frame), orig or len(frame)) + frame
    if cut:
        out = out[:-7]
    path.write_bytes(bytes(out))


def write_other_sa_keys(path: Path, spi: int = 0x0BADC0DE) -> Path:
    """A keys file of one ESP SA that no test capture carries (keys that open no IKE)."""
    path.write_text(
        f'[[esp]]\nspi = "{spi:08x}"\nsrc = "192.0.2.1"\ndst = "192.0.2.2"\n'
        'encr = "AES_GCM_16_128"\ninteg = "NONE"\nencr_key = "' + "22" * 20 + '"\n'
    )
    return path


def set_times(data: bytearray, times: dict[int, tuple[int, int]]) -> None:
    """Record number -> (seconds, microseconds) written into a little-endian classic pcap."""
    off, index = 24, 0
    while off + 16 <= len(data):
        index += 1
        incl = struct.unpack_from("<I", data, off + 8)[0]
        if index in times:
            struct.pack_into("<II", data, off, *times[index])
        off += 16 + incl
