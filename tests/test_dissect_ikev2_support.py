"""Shared helpers for the IKEv2 dissector tests (no tests here): IKE bytes out of real captures.

Scapy reads the captures (tests may use it; the dissectors may not).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from scapy.all import IP, UDP, Raw, rdpcap

IKE_PORTS = (500, 4500)
NON_ESP_MARKER = b"\x00\x00\x00\x00"


@cache
def ike_messages(path: Path) -> tuple[tuple[int, bytes], ...]:
    """(1-based frame number, IKE message bytes) for every IKE datagram in a capture.

    UDP 4500 datagrams count only with the RFC 3948 Non-ESP marker, which is stripped;
    NAT-keepalives and ESP-in-UDP are skipped.
    """
    packets = rdpcap(str(path))  # scapy reads .gz captures itself
    out: list[tuple[int, bytes]] = []
    parts: dict[tuple, dict[int, bytes]] = {}
    for number, packet in enumerate(packets, 1):
        if IP in packet and (packet[IP].flags.MF or packet[IP].frag):
            # An IP fragment (lab frag-drop): like tshark, the datagram counts at the frame
            # of the fragment that completes it.
            packet = _reassemble(packet[IP], parts)
            if packet is None:
                continue
        if UDP not in packet:
            continue
        udp = packet[UDP]
        if udp.sport not in IKE_PORTS and udp.dport not in IKE_PORTS:
            continue
        data = bytes(udp.payload)
        if 4500 in (udp.sport, udp.dport):
            if not data.startswith(NON_ESP_MARKER):
                continue
            data = data[len(NON_ESP_MARKER) :]
        out.append((number, data))
    return tuple(out)


def _reassemble(ip: IP, parts: dict[tuple, dict[int, bytes]]) -> IP | None:
    """The whole datagram once every fragment of it has been seen, else None."""
    key = (ip.src, ip.dst, ip.id, ip.proto)
    got = parts.setdefault(key, {})
    got[ip.frag * 8] = bytes(ip.payload)[: ip.len - ip.ihl * 4]
    if not ip.flags.MF:
        got[-1] = b""  # marks that the last fragment is in
    if -1 not in got:
        return None
    data = b""
    for off in sorted(k for k in got if k >= 0):
        if off != len(data):
            return None  # a hole: wait for the missing fragment
        data += got[off]
    del parts[key]
    # Rebuilt and parsed again so that scapy dissects the UDP header and payload.
    return IP(bytes(IP(src=ip.src, dst=ip.dst, proto=ip.proto) / Raw(data)))


def all_captures(shared: Path) -> list[Path]:
    """Every capture file under shared/captures, sorted."""
    root = shared / "captures"
    return sorted(p for p in root.rglob("*") if p.name.endswith((".pcap", ".pcapng", ".pcapng.gz")))


def test_helper_finds_ike_in_every_kind_of_capture(shared_dir: Path) -> None:
    """The helper itself: UDP 500, UDP 4500 with the Non-ESP marker stripped, pcapng, .gz."""
    names = {p.name: p for p in all_captures(shared_dir)}
    assert len(ike_messages(names["ikev2-decrypt-aes256gcm16.pcap"])) == 6
    natt = ike_messages(names["isakmp4500.pcap"])
    assert natt and all(data[17] >> 4 == 1 for _, data in natt)  # IKEv1 headers, marker gone
    assert len(ike_messages(names["ikev1-bug-12610.pcapng.gz"])) == 16
    assert ike_messages(names["esp-bug-12671.pcapng.gz"]) == ()
