"""ESP throughput through KeyringDecryptor.esp() vs a bare cryptography loop and vs tshark.

For AES-GCM-16-128 and AES-CBC-128 + HMAC-SHA2-256-128 it builds one capture of N ESP packets
(Ethernet/IPv4/ESP, tunnel mode, inner packet sizes from a fixed-seed mix), then times:
  pipeline  KeyringDecryptor.esp() on pre-dissected EspPacket records (SA lookup, ESN-free
            sequence handling, cipher objects keyed once, EspOpened result);
  bare      the least a decoder does with cryptography alone (keyed objects reused: verify,
            decrypt, cut the trailer off; no lookup, no padding check, no result record);
            for CBC also with one reused CBC context (esp.py's trick), the stricter baseline;
  file      ikeview end to end on the pcap: read + dissect + esp();
  tshark    TShark decrypting the same pcap (esp_sa table, ESP decryption and ICV check on,
            -T fields), wall time including its ~0.12 s start-up.
Prints packets/s and the ratios pipeline/bare (target >= 0.7) and file/tshark (target >= 10).
Run: python bench/bench_esp_pipeline.py [packets]      (default 100000)
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import constant_time, hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from ikeview.dissectors.records import EspPacket, Flow
from ikeview.dissectors.stream import dissect

from ikeview.keys.model import EspKeys, KeyRing, SourceRef
from ikeview.keys.wireshark import save_wireshark_config
from ikeview.pcapwrite import PcapWriter
from ikeview.pipeline.decrypt import KeyringDecryptor

SEED = 4303
ROUNDS = 3
SIZES = (64, 128, 256, 576, 1024, 1400)
WEIGHTS = (25, 20, 20, 15, 10, 10)
SRC, DST = "192.0.2.1", "192.0.2.2"
SPI = 0xC0FFEE01
ETH = bytes.fromhex("020000000002020000000001") + b"\x08\x00"


def _ipv4(proto: int, payload_len: int) -> bytes:
    s = bytes(int(x) for x in SRC.split("."))
    d = bytes(int(x) for x in DST.split("."))
    head = bytearray(
        b"\x45\x00"
        + (20 + payload_len).to_bytes(2, "big")
        + b"\x00\x00\x40\x00\x40"
        + bytes([proto])
        + b"\x00\x00"
        + s
        + d
    )
    total = sum(int.from_bytes(head[i : i + 2], "big") for i in range(0, 20, 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    head[10:12] = (~total & 0xFFFF).to_bytes(2, "big")
    return bytes(head)


def _inner(rng: random.Random) -> bytes:
    size = rng.choices(SIZES, WEIGHTS)[0]
    return _ipv4(1, size - 20) + rng.randbytes(size - 20)


def _trailer(payload: bytes, block: int) -> bytes:
    # RFC 4303 section 2.4: monotonic padding to the block (4 for GCM), pad length, next header.
    pad = (-(len(payload) + 2)) % block
    return payload + bytes(range(1, pad + 1)) + bytes([pad, 4])


class Suite:
    """One ESP transform pair: how to build packets and the bare decrypt loop."""

    def __init__(self, name: str, rng: random.Random) -> None:
        self.name = name
        self.gcm = name.startswith("AES-GCM")
        self.ekey = rng.randbytes(20 if self.gcm else 16)
        self.akey = b"" if self.gcm else rng.randbytes(32)

    def keys(self) -> EspKeys:
        return EspKeys(
            spi=SPI,
            encr_key=self.ekey,
            integ_key=self.akey or None,
            src=SRC,
            dst=DST,
            encr=20 if self.gcm else 12,
            encr_key_bits=128,
            integ=0 if self.gcm else 12,
            icv_unchecked=None,
            source=SourceRef("bench", 0),
        )

    def encrypt(self, seq: int, inner: bytes, rng: random.Random) -> bytes:
        head = SPI.to_bytes(4, "big") + seq.to_bytes(4, "big")
        if self.gcm:
            iv = rng.randbytes(8)
            ct = AESGCM(self.ekey[:16]).encrypt(self.ekey[16:] + iv, _trailer(inner, 4), head)
            return head + iv + ct
        iv = rng.randbytes(16)
        enc = Cipher(algorithms.AES(self.ekey), modes.CBC(iv)).encryptor()
        body = head + iv + enc.update(_trailer(inner, 16)) + enc.finalize()
        mac = hmac.HMAC(self.akey, hashes.SHA256())
        mac.update(body)
        return body + mac.finalize()[:16]

    def bare(self) -> Callable[[bytes], bytes]:
        if self.gcm:
            aead, salt = AESGCM(self.ekey[:16]), self.ekey[16:]

            def run_gcm(data: bytes) -> bytes:
                pt = aead.decrypt(salt + data[8:16], data[16:], data[:8])
                return pt[: -2 - pt[-2]]

            return run_gcm
        aes, base = algorithms.AES(self.ekey), hmac.HMAC(self.akey, hashes.SHA256())

        def run_cbc(data: bytes) -> bytes:
            h = base.copy()
            h.update(data[:-16])
            if not constant_time.bytes_eq(h.finalize()[:16], data[-16:]):
                raise ValueError("bad ICV")
            dec = Cipher(aes, modes.CBC(data[8:24])).decryptor()
            pt = dec.update(data[24:-16]) + dec.finalize()
            return pt[: -2 - pt[-2]]

        return run_cbc

    def bare_chained(self) -> Callable[[bytes], bytes] | None:
        """CBC only: the bare loop with one reused CBC context (IV block fed first, its output
        dropped), the trick esp.py uses; a stricter baseline than a new context per packet."""
        if self.gcm:
            return None
        chain = Cipher(algorithms.AES(self.ekey), modes.CBC(bytes(16))).decryptor().update
        base = hmac.HMAC(self.akey, hashes.SHA256())

        def run_cbc_chained(data: bytes) -> bytes:
            h = base.copy()
            h.update(data[:-16])
            if not constant_time.bytes_eq(h.finalize()[:16], data[-16:]):
                raise ValueError("bad ICV")
            pt = chain(data[8:-16])[16:]
            return pt[: -2 - pt[-2]]

        return run_cbc_chained


def _best(fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _tshark_seconds(capture: Path, config: Path) -> float | None:
    if shutil.which("tshark") is None:
        return None
    env = {**os.environ, "WIRESHARK_CONFIG_DIR": str(config)}
    cmd = [
        "tshark", "-r", str(capture), "-o", "esp.enable_encryption_decode:TRUE",
        "-o", "esp.enable_authentication_check:TRUE", "-T", "fields", "-e", "esp.icv_good",
    ]  # fmt: skip
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - t0)
    good = sum(1 for line in run.stdout.splitlines() if line.strip() == "1")
    print(f"    tshark verified {good} ICVs")
    return best


def bench(suite: Suite, n: int, workdir: Path) -> None:
    rng = random.Random(SEED)
    packets: list[bytes] = [suite.encrypt(i + 1, _inner(rng), rng) for i in range(n)]
    capture = workdir / f"{suite.name}.pcap"
    with capture.open("wb") as fh:
        writer = PcapWriter(fh, 1)
        for i, esp in enumerate(packets):
            writer.write(1_700_000_000 + i / 1000, ETH + _ipv4(50, len(esp)) + esp)
    records = [
        EspPacket(Flow(i + 1, 0.0, 4, SRC, DST, "ip", 0, 0), SPI, i + 1, len(p), p, False)
        for i, p in enumerate(packets)
    ]
    ring = KeyRing(esp_sas=(suite.keys(),))
    dec = KeyringDecryptor(ring)
    bare = suite.bare()
    # Both loops must produce the same inner packets.
    assert all(dec.esp(r).inner == bare(r.data) for r in records[:1000])

    def pipeline() -> None:
        esp = dec.esp
        for r in records:
            esp(r)

    def bare_loop() -> None:
        for p in packets:
            bare(p)

    def end_to_end() -> None:
        d = KeyringDecryptor(ring)
        ok = 0
        for rec in dissect(str(capture)):
            if isinstance(rec, EspPacket) and d.esp(rec).decrypted:
                ok += 1
        assert ok == n, ok

    t_pipe, t_bare, t_file = _best(pipeline), _best(bare_loop), _best(end_to_end)
    chained = suite.bare_chained()
    t_chained = None
    if chained is not None:
        assert all(chained(p) == bare(p) for p in packets[:1000])

        def chained_loop() -> None:
            for p in packets:
                chained(p)

        t_chained = _best(chained_loop)
    config = workdir / f"ws-{suite.name}"
    save_wireshark_config(config, ring)
    t_tshark = _tshark_seconds(capture, config)
    mb = sum(len(p) for p in packets) / 1e6
    print(f"{suite.name}: {n} packets, {mb:.1f} MB of ESP")
    print(f"    pipeline esp()   {n / t_pipe:>10,.0f} pkt/s  ({mb / t_pipe:.0f} MB/s)")
    print(f"    bare crypto loop {n / t_bare:>10,.0f} pkt/s  ({mb / t_bare:.0f} MB/s)")
    print(f"    ikeview file     {n / t_file:>10,.0f} pkt/s  (read + dissect + esp())")
    if t_chained is not None:
        print(f"    bare, one CBC ctx{n / t_chained:>10,.0f} pkt/s  ({mb / t_chained:.0f} MB/s)")
    print(f"    ratio pipeline/bare = {t_bare / t_pipe:.2f}x  (target >= 0.7x)")
    if t_chained is not None:
        print(f"    ratio pipeline/bare with one CBC ctx = {t_chained / t_pipe:.2f}x")
    if t_tshark is not None:
        print(f"    tshark           {n / t_tshark:>10,.0f} pkt/s  (wall {t_tshark:.2f} s)")
        print(f"    ratio file/tshark = {t_tshark / t_file:.2f}x, "
              f"esp()/tshark = {t_tshark / t_pipe:.2f}x  (target >= 10x)")  # fmt: skip


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="ikeview-bench-") as tmp:
        for name in ("AES-GCM-16-128", "AES-CBC-128+HMAC-SHA2-256-128"):
            bench(Suite(name, rng), n, Path(tmp))


if __name__ == "__main__":
    main()
