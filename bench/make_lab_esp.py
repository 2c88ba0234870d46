"""A large capture whose ESP keys only IKE gives: a real strongSwan session with N ESP packets.

``--jobs`` locates ranges first when the keys open IKE (a pre-shared key, DH secrets, IKE SA
keys: the common case), and reads them at once when they do not (``[[esp]]`` keys); the other
benches use the second kind. This one takes captures/lab/gcm16-ecp256 (strongSwan 5.9.8,
IKE_SA_INIT and IKE_AUTH with a PSK and ECP-256, one child SA with AES-GCM-16-256 in UDP 4500,
three ESP packets each way, then an INFORMATIONAL exchange) and puts N more ESP packets of that
child SA before the INFORMATIONAL, alternating directions, sequence numbers going on from the
capture's. They are encrypted with the ESP keys strongSwan logged (the scenario's truth.json,
from charon's logs), so nothing here comes from ikeview; the keys file is the scenario's own
(its PSK and DH shared secret): ikeview must derive every ESP key from the IKE exchanges.
Each direction's Ethernet header and addresses are those of the capture's own ESP frames.

Usage: python bench/make_lab_esp.py [--packets N] [--out PATH]   (prints the keys file's path)
"""

from __future__ import annotations

import argparse
import json
import random
import struct
from pathlib import Path

from bench_decrypt_file import FLOWS, SIZES, WEIGHTS
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from ikeview.dissectors.capture import read_capture
from make_capture import _ipv4, _udp

from ikeview.pcapfile import PcapWriter

HERE = Path(__file__).resolve().parent
LAB = HERE.parent / "captures" / "lab" / "gcm16-ecp256"
KEYS = LAB / "keys.toml"
"""The scenario's own keys file: its PSK and DH shared secret."""
SEED = 5996
INTERVAL_US = 10
"""Microseconds between two generated packets."""
_OUTER = 14 + 20 + 8  # Ethernet, IPv4 without options, UDP (RFC 3948: ESP in UDP 4500)


def _is_esp_in_udp(frame: bytes) -> bool:
    """UDP to port 4500 without the Non-ESP Marker (RFC 3948), behind a 20-octet IPv4 header."""
    return (
        len(frame) > _OUTER + 8
        and frame[23] == 17
        and frame[36:38] == (4500).to_bytes(2, "big")
        and frame[_OUTER : _OUTER + 4] != bytes(4)
    )


def _frame(template: bytes, esp: bytes) -> bytes:
    """``esp`` in UDP 4500 between ``template``'s addresses, behind its Ethernet header."""
    src, dst = (".".join(map(str, template[at : at + 4])) for at in (26, 30))
    return template[:14] + _ipv4(src, dst, 17, 8 + len(esp)) + _udp(4500, 4500, len(esp)) + esp


def _inner_udp(rng: random.Random, i: int, src: str, dst: str) -> bytes:
    """An inner IPv4/UDP packet between the child SA's traffic selectors (one of FLOWS flows)."""
    size = rng.choices(SIZES, WEIGHTS)[0]
    udp = _udp(40000 + i % FLOWS, 5001, size - 28)
    return _ipv4(src, dst, 17, size - 20) + udp + rng.randbytes(size - 28)


def _trailer(inner: bytes) -> bytes:
    """RFC 4303 padding to 4 octets, Pad Length, Next Header 4 (IPv4, tunnel mode)."""
    pad = (-(len(inner) + 2)) % 4
    return inner + bytes(range(1, pad + 1)) + bytes([pad, 4])


def write_capture(n: int, out: Path) -> None:
    """The capture with ``n`` more ESP packets at ``out`` (read it with :data:`KEYS`)."""
    with read_capture(LAB / "capture.pcap") as reader:
        # (microseconds since the epoch, frame): the lab capture has microsecond times.
        records = [(round(raw.ts * 1_000_000), raw.data) for raw in reader]
    truth = json.loads((LAB / "truth.json").read_text())
    child = truth["child_sas"][0]
    assert child["proposal"] == "ESP:AES_GCM_16_256/NO_EXT_SEQ"
    esp_at = [i for i, (_t, f) in enumerate(records) if _is_esp_in_udp(f)]
    last = esp_at[-1]
    sas = []
    for sa in child["esp"]:
        spi = bytes.fromhex(sa["spi"])
        frames = [records[i][1] for i in esp_at if records[i][1][_OUTER : _OUTER + 4] == spi]
        seq = max(struct.unpack_from("!I", f, _OUTER + 4)[0] for f in frames)
        key = bytes.fromhex(sa["encr_key"])  # AES-256 key, then the 4-octet salt (RFC 4106)
        # Inside: the traffic selectors (TSi 198.51.100.1, TSr 203.0.113.1), by direction.
        ts = ["198.51.100.1", "203.0.113.1"]
        inside = ts if sa["sender"] == "initiator" else ts[::-1]
        sas.append((spi, AESGCM(key[:32]), key[32:], frames[0], seq, inside))
    rng = random.Random(SEED)
    start = records[last][0]
    with out.open("wb") as fh:
        writer = PcapWriter(fh, 1)

        def put(t_us: int, frame: bytes) -> None:
            writer.write_record(*divmod(t_us, 1_000_000), frame)

        for t_us, frame in records[: last + 1]:
            put(t_us, frame)
        for i in range(n):
            spi, aead, salt, template, seq, (src, dst) = sas[i % 2]
            seq += i // 2 + 1
            head = spi + seq.to_bytes(4, "big")
            iv = rng.randbytes(8)
            inner = _inner_udp(rng, i // 2, src, dst)
            esp = head + iv + aead.encrypt(salt + iv, _trailer(inner), head)
            put(start + (i + 1) * INTERVAL_US, _frame(template, esp))
        shift = (n + 1) * INTERVAL_US
        for t_us, frame in records[last + 1 :]:
            put(t_us + shift, frame)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "lab-esp-1M.pcap")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_capture(args.packets, args.out)
    print(KEYS)


if __name__ == "__main__":
    main()
