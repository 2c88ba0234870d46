"""The four fuzz targets and the invariant each one holds.

Each target takes the fuzzer's bytes and either returns or raises :class:`Broken` (a real
finding); any other exception is a finding too. Invariants (issue 15, COMMON.md):

- ``capture``: bytes as a capture file (pcap, pcapng, gzip): opening raises only CaptureError;
  iterating and dissecting every frame raise nothing.
- ``ikev2``: bytes as one IKE message and as a decrypted payload chain: never raises, and never
  reports an "internal dissector error" (that text means a parser bug was caught).
- ``keys``: bytes as a keys file of any format: loading raises only KeysFileError.
- ``decrypt``: bytes as plaintext that *does* decrypt: an ESP packet and an IKE SK payload are
  sealed with AES-GCM-16 under keys given in a keys file, so the decryptor authenticates them
  and the dissectors behind it (ESP trailer, inner packet, IKE payload chain) see fuzzed bytes.
  The whole pipeline (dissect, correlate, decrypt, model) must not raise.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Everything at the top: atheris instruments only what is imported inside its block (run.py).
from ikeview.dissectors.capture import CaptureError, CaptureReader
from ikeview.dissectors.ikev2 import parse_message, parse_payloads
from ikeview.dissectors.records import RawFrame
from ikeview.dissectors.stream import dissect

from ikeview.keys.errors import KeysFileError
from ikeview.keys.loader import load_text
from ikeview.keys.model import KeyRing
from ikeview.pipeline.analyze import analyze


class Broken(AssertionError):
    """An invariant did not hold."""


class _MemFile:
    """One in-memory file reused for every input (a path the capture reader can open)."""

    def __init__(self) -> None:
        self.fd = os.memfd_create("ikeview-fuzz")
        self.path = f"/proc/self/fd/{self.fd}"

    def put(self, data: bytes) -> str:
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)
        return self.path


_FILE: list[_MemFile] = []


def fuzz_capture(data: bytes) -> None:
    if not _FILE:
        _FILE.append(_MemFile())
    path = _FILE[0].put(data)
    try:
        reader = CaptureReader(path)
    except CaptureError:
        return
    with reader:
        for _ in dissect(reader):
            pass


def fuzz_ikev2(data: bytes) -> None:
    msg = parse_message(data)
    if msg.error is not None and "internal dissector error" in msg.error.reason:
        raise Broken(msg.error.reason)
    if data:
        _, problem = parse_payloads(data[0], data[1:], 28)
        if problem is not None and "internal dissector error" in problem.reason:
            raise Broken(problem.reason)


def fuzz_keys(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    with contextlib.suppress(KeysFileError):
        load_text(text, "fuzz.keys")


# ---------------------------------------------------------------- decrypt with fitting keys

_ESP_KEY = bytes(range(16)) + b"SALT"
_SK_EI = bytes(range(32, 48)) + b"salt"
_SPI_I, _SPI_R = bytes.fromhex("0102030405060708"), bytes.fromhex("1112131415161718")
_KEYS_TOML = f"""
[[esp]]
spi = "c0ffee01"
encr = "aes-gcm-16"
key_bits = 128
encr_key = "{_ESP_KEY.hex()}"

[[ike_sa]]
spi_i = "{_SPI_I.hex()}"
spi_r = "{_SPI_R.hex()}"
encr = "aes-gcm-16"
key_bits = 128
prf = "prf-hmac-sha2-256"
sk_ei = "{_SK_EI.hex()}"
sk_er = "{_SK_EI.hex()}"
"""


def _ip_frame(proto: int, payload: bytes) -> bytes:
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
        bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]),
    )  # fmt: skip
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + payload


def _esp_packet(plain: bytes, next_header: int) -> bytes:
    pad = (-(len(plain) + 2)) % 4
    body = plain + bytes(range(1, pad + 1)) + bytes([pad, next_header])
    head = bytes.fromhex("c0ffee01") + struct.pack("!I", 1)
    iv = b"\x00" * 7 + b"\x01"
    sealed = AESGCM(_ESP_KEY[:16]).encrypt(_ESP_KEY[16:] + iv, body, head)
    return head + iv + sealed


def _ike_sk_message(inner: bytes, first_inner: int) -> bytes:
    iv = b"\x00" * 7 + b"\x02"
    plain = inner + b"\x00"  # Pad Length 0 (RFC 7296 3.14)
    sk_len = 4 + len(iv) + len(plain) + 16
    total = 28 + sk_len
    header = _SPI_I + _SPI_R + struct.pack("!BBBBII", 46, 0x20, 37, 0x08, 2, total)
    sk_head = struct.pack("!BBH", first_inner, 0, sk_len)
    sealed = AESGCM(_SK_EI[:16]).encrypt(_SK_EI[16:] + iv, plain, header + sk_head)
    return header + sk_head + iv + sealed


_RING: list[KeyRing] = []


def fuzz_decrypt(data: bytes) -> None:
    if not _RING:
        _RING.append(load_text(_KEYS_TOML, "fuzz-keys.toml"))
    if len(data) < 2:
        return
    selector, body = data[0], data[1:]
    udp_ike = _ike_sk_message(body, selector)
    udp = struct.pack("!HHHH", 500, 500, 8 + len(udp_ike), 0) + udp_ike
    frames = [
        RawFrame(1, 1.0, 1, _ip_frame(17, udp), 14 + 20 + len(udp)),
        RawFrame(2, 2.0, 1, _ip_frame(50, _esp_packet(body, selector)), 0),
    ]
    analyze(frames, _RING[0])


TARGETS: dict[str, Callable[[bytes], None]] = {
    "capture": fuzz_capture,
    "ikev2": fuzz_ikev2,
    "keys": fuzz_keys,
    "decrypt": fuzz_decrypt,
}
