"""Write the benchmark capture: 1,000,000 packets, mostly ESP, fixed seed, to bench/out/.

Mix (per packet, decided by a seeded RNG so every run writes the same bytes):
- ~57% ESP in UDP 4500 (RFC 3948) over IPv4, 4 SPIs (two SAs, both directions);
- ~38% ESP over IP protocol 50, IPv4, 4 SPIs; ~4% ESP over IPv6, 2 SPIs;
- one IKE message every 997 packets, copied round-robin from the real shared captures
  (Wireshark's IKEv2 decryption tests and tcpdump's ikev2four), on UDP 500 or on 4500
  behind the Non-ESP Marker; one NAT-keepalive every 499 packets.
ESP bodies are random bytes of realistic sizes with per-SPI increasing sequence numbers.

Usage: python bench/make_capture.py [--packets N] [--out PATH]
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared" / "captures"
DEFAULT_OUT = HERE / "out" / "bench-1M.pcap"
SEED = 20261127

IKE_SOURCES = [
    "wireshark/ikev2-decrypt-aes256gcm16.pcap",
    "wireshark/ikev2-decrypt-aes192ctr.pcap",
    "wireshark/ikev2-decrypt-aes256cbc.pcapng",
    "tcpdump/ikev2four.pcap",
]
SIZES = [96, 128, 160, 256, 576, 1024, 1420]
SIZE_WEIGHTS = [20, 20, 15, 15, 10, 10, 10]

MAC = bytes.fromhex("020000000001020000000002")


def _checksum(header: bytes) -> int:
    """RFC 1071 Internet checksum of an IPv4 header."""
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv4(src: str, dst: str, proto: int, payload_len: int) -> bytes:
    """RFC 791 header, DF set, no options, correct checksum."""
    s = bytes(int(x) for x in src.split("."))
    d = bytes(int(x) for x in dst.split("."))
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 0, 0x4000, 64, proto, 0, s, d)
    return head[:10] + struct.pack("!H", _checksum(head)) + head[12:]


def _ipv6(src: bytes, dst: bytes, nh: int, payload_len: int) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, payload_len, nh, 64, src, dst)


def _udp(sport: int, dport: int, payload_len: int) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + payload_len, 0)  # checksum 0: none (v4)


def _ike_messages() -> list[bytes]:
    sys.path.insert(0, str(REPO))
    from ikeview.dissectors.records import IkeDatagram
    from ikeview.dissectors.stream import dissect

    msgs = []
    for name in IKE_SOURCES:
        msgs += [r.message.raw for r in dissect(SHARED / name) if isinstance(r, IkeDatagram)]
    if not msgs:
        raise SystemExit(f"no IKE messages found under {SHARED}")
    return msgs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    rng = random.Random(SEED)
    ike = _ike_messages()
    pool = rng.randbytes(1 << 16)

    # (link+IP+UDP header template per size, SPI) for each ESP flow.
    v6a = bytes.fromhex("20010db8000000000000000000000001")
    v6b = bytes.fromhex("20010db8000000000000000000000002")
    flows: list[tuple[str, int, str, str]] = [
        ("udp", 0xC1000001, "192.0.2.10", "198.51.100.20"),
        ("udp", 0xC2000002, "198.51.100.20", "192.0.2.10"),
        ("udp", 0xC3000003, "192.0.2.11", "198.51.100.20"),
        ("udp", 0xC4000004, "198.51.100.20", "192.0.2.11"),
        ("ip", 0xD1000001, "203.0.113.1", "203.0.113.2"),
        ("ip", 0xD2000002, "203.0.113.2", "203.0.113.1"),
        ("ip", 0xD3000003, "203.0.113.5", "203.0.113.6"),
        ("ip", 0xD4000004, "203.0.113.6", "203.0.113.5"),
        ("ip6", 0xE1000001, "", ""),
        ("ip6", 0xE2000002, "", ""),
    ]
    flow_weights = [15, 15, 14, 13, 10, 10, 9, 9, 2, 2]
    templates: list[dict[int, bytes]] = []
    for kind, _spi, src, dst in flows:
        per_size = {}
        for size in SIZES:
            if kind == "udp":
                l3 = _ipv4(src, dst, 17, 8 + size) + _udp(4500, 4500, size)
                per_size[size] = MAC + b"\x08\x00" + l3
            elif kind == "ip":
                per_size[size] = MAC + b"\x08\x00" + _ipv4(src, dst, 50, size)
            else:
                a, b = (v6a, v6b) if len(templates) % 2 == 0 else (v6b, v6a)
                per_size[size] = MAC + b"\x86\xdd" + _ipv6(a, b, 50, size)
        templates.append(per_size)
    seqs = [0] * len(flows)

    rec = struct.Struct("<IIII")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ts_us = 1_790_000_000 * 1_000_000
    n_ike = n_keep = 0
    with args.out.open("wb", buffering=1 << 20) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        flow_choice = rng.choices(range(len(flows)), flow_weights, k=args.packets)
        size_choice = rng.choices(SIZES, SIZE_WEIGHTS, k=args.packets)
        for i in range(args.packets):
            ts_us += rng.randrange(1, 100)
            if i % 997 == 500:
                msg = ike[n_ike % len(ike)]
                n_ike += 1
                if n_ike % 2:
                    body = _udp(500, 500, len(msg)) + msg
                else:
                    body = _udp(4500, 4500, len(msg) + 4) + b"\0\0\0\0" + msg
                frame = MAC + b"\x08\x00" + _ipv4("192.0.2.10", "198.51.100.20", 17, len(body))
                frame += body
            elif i % 499 == 250:
                n_keep += 1
                frame = MAC + b"\x08\x00" + _ipv4("192.0.2.10", "198.51.100.20", 17, 9)
                frame += _udp(4500, 4500, 1) + b"\xff"
            else:
                f = flow_choice[i]
                size = size_choice[i]
                seqs[f] += 1
                off = (i * 7919) & 0x7FFF
                frame = (
                    templates[f][size]
                    + struct.pack("!II", flows[f][1], seqs[f])
                    + pool[off : off + size - 8]
                )
            out.write(rec.pack(ts_us // 1_000_000, ts_us % 1_000_000, len(frame), len(frame)))
            out.write(frame)
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.0f} MB): {args.packets} packets, "
        f"{n_ike} IKE, {n_keep} keepalives, {args.packets - n_ike - n_keep} ESP"
    )


if __name__ == "__main__":
    main()
