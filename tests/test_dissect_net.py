"""Link layers, IPv4/IPv6 (options, extension headers, AH), fragment reassembly and UDP
encapsulation, on frames built with scapy around a real IKE_AUTH message from the shared
captures. Frames go straight into dissect() as RawFrame tuples."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from ikeview.dissectors.net import LINKTYPE_NAMES, link_to_ip, linktype_name
from ikeview.dissectors.reassembly import Reassembler
from ikeview.dissectors.records import (
    EspPacket,
    FrameError,
    IkeDatagram,
    NatKeepalive,
    RawFrame,
    Record,
)
from ikeview.dissectors.stream import (
    SKIP_FRAGMENT_HELD,
    SKIP_NOT_IP,
    SKIP_OTHER_UDP,
    DissectStats,
    dissect,
)
from scapy.layers.inet import IP, UDP, IPOption_RR, fragment
from scapy.layers.inet6 import (
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    fragment6,
)
from scapy.layers.ipsec import AH
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.packet import Packet, Raw


def eth(**kw: int) -> Ether:
    """Ethernet with fixed addresses, so scapy never tries to resolve a neighbour (slow)."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", **kw)


V4 = IP(src="192.0.2.1", dst="198.51.100.2")
V6 = IPv6(src="2001:db8::1", dst="2001:db8::2")


@pytest.fixture(scope="module")
def ike_auth(shared_dir: Path) -> bytes:
    """The IKE_AUTH request of Wireshark's 3des-sha1_160 capture (frame 3), as bytes."""
    recs = list(dissect(shared_dir / "captures/wireshark/ikev2-decrypt-3des-sha1_160.pcap"))
    r = recs[2]
    assert isinstance(r, IkeDatagram) and r.flow.frame == 3
    raw = r.message.raw
    assert raw[18] == 35  # exchange type IKE_AUTH
    return raw


def frames(pkts: list[Packet | bytes], linktype: int = 1) -> list[RawFrame]:
    out = []
    for i, p in enumerate(pkts, 1):
        data = bytes(p)
        out.append(RawFrame(i, 1000.0 + i, linktype, data, len(data)))
    return out


def run(
    pkts: list[Packet | bytes], linktype: int = 1, **kw: object
) -> tuple[list[Record], DissectStats]:
    stats = DissectStats()
    return list(dissect(frames(pkts, linktype), stats=stats, **kw)), stats  # type: ignore[arg-type]


def only(records: list[Record]) -> Record:
    assert len(records) == 1, records
    return records[0]


# -- link layers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        eth() / V4,
        eth() / Dot1Q(vlan=10) / V4,
        eth() / Dot1AD(vlan=100) / Dot1Q(vlan=10) / V4,  # QinQ, 802.1ad S-tag
        eth(type=0x9100) / Dot1Q(vlan=100) / V4,  # pre-standard QinQ tag
        eth() / Dot1Q(vlan=10) / V6,
    ],
    ids=["plain", "vlan", "qinq-88a8", "qinq-9100", "vlan-ipv6"],
)
def test_ethernet_and_vlan_tags(frame: Packet, ike_auth: bytes) -> None:
    rec = only(run([frame / UDP(sport=500, dport=500) / Raw(ike_auth)])[0])
    assert isinstance(rec, IkeDatagram)
    assert rec.message.raw == ike_auth
    assert (rec.flow.sport, rec.flow.dport, rec.flow.transport) == (500, 500, "udp")


@pytest.mark.parametrize(
    ("linktype", "head", "ip"),
    [
        (113, bytes(CookedLinux(proto=0x0800)), V4),
        (113, bytes(CookedLinux(proto=0x86DD)), V6),
        (276, bytes(CookedLinuxV2(proto=0x0800)), V4),
        (276, bytes(CookedLinuxV2(proto=0x86DD)), V6),
        (0, b"\x02\x00\x00\x00", V4),  # NULL written little-endian (AF_INET)
        (0, b"\x00\x00\x00\x02", V4),  # NULL written big-endian
        (0, b"\x1e\x00\x00\x00", V6),  # NULL, Darwin AF_INET6 = 30
        (0, b"\x00\x00\x00\x18", V6),  # NULL, BSD AF_INET6 = 24, big-endian
        (108, b"\x00\x00\x00\x02", V4),  # LOOP: always network byte order
        (101, b"", V4),
        (101, b"", V6),
        (12, b"", V4),
        (14, b"", V6),
        (228, b"", V4),
        (229, b"", V6),
    ],
)
def test_other_link_types(linktype: int, head: bytes, ip: Packet, ike_auth: bytes) -> None:
    pkt = head + bytes(ip / UDP(sport=500, dport=500) / Raw(ike_auth))
    rec = only(run([pkt], linktype)[0])
    assert isinstance(rec, IkeDatagram)
    assert rec.message.raw == ike_auth
    assert rec.flow.ip_version == ip.version


def test_unsupported_link_type_names_number_and_name() -> None:
    rec = only(run([b"\x00" * 60], 105)[0])
    assert isinstance(rec, FrameError)
    assert "105" in rec.reason and "IEEE802_11" in rec.reason
    assert linktype_name(999) == "unknown"
    assert LINKTYPE_NAMES[276] == "LINUX_SLL2"


def test_non_ip_is_skipped_quietly() -> None:
    records, stats = run([eth(type=0x0806) / Raw(b"\0" * 28)])
    assert records == []
    assert stats.skipped == {SKIP_NOT_IP: 1}


def test_link_header_cut_short_is_a_frame_error() -> None:
    rec = only(run([b"\x00" * 10], 1)[0])
    assert isinstance(rec, FrameError) and rec.offset == 10
    with pytest.raises(Exception, match="Linux cooked"):
        link_to_ip(113, b"\0" * 5)


# -- IP --------------------------------------------------------------------------------------


def test_ipv4_options_and_ah(ike_auth: bytes) -> None:
    opt = eth() / IP(src="192.0.2.1", dst="198.51.100.2", options=[IPOption_RR()])
    with_ah = (
        eth() / V4 / AH(nh=17, payloadlen=4, spi=1, icv=b"\0" * 12) / UDP(sport=500, dport=500)
    )
    records, _ = run([opt / UDP(sport=500, dport=500) / Raw(ike_auth), with_ah / Raw(ike_auth)])
    assert [type(r) for r in records] == [IkeDatagram, IkeDatagram]
    assert all(r.message.raw == ike_auth for r in records)  # type: ignore[union-attr]


def test_ipv6_extension_headers(ike_auth: bytes) -> None:
    chain = (
        V6
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrRouting(addresses=["2001:db8::99"], segleft=0)
        / IPv6ExtHdrDestOpt()
        / AH(nh=17, payloadlen=4, spi=7, icv=b"\0" * 12)
        / UDP(sport=500, dport=500)
        / Raw(ike_auth)
    )
    rec = only(run([eth() / chain])[0])
    assert isinstance(rec, IkeDatagram)
    assert rec.message.raw == ike_auth
    assert (rec.flow.src, rec.flow.dst, rec.flow.ip_version) == ("2001:db8::1", "2001:db8::2", 6)


def test_ipv4_header_cut_short_is_frame_error() -> None:
    data = bytes(eth() / V4 / UDP(sport=500, dport=500))[:25]
    rec = only(run([data])[0])
    assert isinstance(rec, FrameError) and "IPv4 header cut short" in rec.reason


def test_ethernet_padding_does_not_leak_into_payload() -> None:
    # A NAT-keepalive is 29 bytes of IP; Ethernet pads the frame to 60 with zeros.
    pkt = bytes(eth() / V4 / UDP(sport=4500, dport=4500) / Raw(b"\xff"))
    records, stats = run([pkt + b"\0" * (60 - len(pkt))])
    assert isinstance(only(records), NatKeepalive)
    assert stats.keepalives == 1


# -- fragments -------------------------------------------------------------------------------


def test_ipv4_fragmented_ike_auth_out_of_order(ike_auth: bytes) -> None:
    pkt = IP(src="192.0.2.1", dst="198.51.100.2", id=4242) / UDP(sport=500, dport=500)
    frags = fragment(pkt / Raw(ike_auth), fragsize=64)
    assert len(frags) >= 4
    order = list(reversed(frags))
    random.Random(7).shuffle(order)
    records, stats = run([eth() / f for f in order])
    rec = only(records)
    assert isinstance(rec, IkeDatagram)
    assert rec.message.raw == ike_auth
    assert rec.flow.frame == len(frags)  # the frame that completed the datagram, like tshark
    assert stats.skipped == {SKIP_FRAGMENT_HELD: len(frags) - 1}


def test_ipv6_fragmented_ike_auth_out_of_order(ike_auth: bytes) -> None:
    pkt = V6 / IPv6ExtHdrFragment(id=99) / UDP(sport=500, dport=500) / Raw(ike_auth)
    frags = fragment6(pkt, 120)
    assert len(frags) >= 3
    records, _ = run([eth() / f for f in reversed(frags)])
    rec = only(records)
    assert isinstance(rec, IkeDatagram)
    assert rec.message.raw == ike_auth
    assert rec.flow.ip_version == 6


def test_interleaved_fragments_of_two_datagrams(ike_auth: bytes) -> None:
    a = fragment(V4 / UDP(sport=500, dport=500) / Raw(ike_auth), fragsize=200)
    b = fragment(
        IP(src="192.0.2.9", dst="198.51.100.2", id=5)
        / UDP(sport=4500, dport=4500)
        / Raw(b"\0\0\0\0" + ike_auth),
        fragsize=200,
    )
    mixed = [x for pair in zip(a, b, strict=False) for x in pair]
    records, _ = run([eth() / f for f in mixed])
    assert [(type(r), r.message.raw) for r in records] == [  # type: ignore[union-attr]
        (IkeDatagram, ike_auth),
        (IkeDatagram, ike_auth),
    ]


def test_reassembler_memory_is_bounded() -> None:
    r = Reassembler(max_datagrams=16, timeout=5.0)
    for i in range(1000):
        assert r.add(("a", "b", 17, i), 0, True, b"x" * 100, 0.0) is None
        assert len(r) <= 16
    assert r.dropped == 1000 - 16
    # A fragment arriving much later expires everything older than the timeout.
    r.add(("late",), 0, True, b"y", 100.0)
    assert len(r) == 1
    # Overlaps and duplicates still complete.
    r2 = Reassembler()
    assert r2.add("k", 8, False, b"BBBBBBBB", 0.0) is None
    assert r2.add("k", 0, True, b"AAAAAAAAAAAA", 0.0) == (b"AAAAAAAAAAAABBBB", None)


# -- UDP encapsulation -----------------------------------------------------------------------


def test_nat_t_marker_keepalive_and_esp(ike_auth: bytes) -> None:
    esp = b"\x12\x34\x56\x78\x00\x00\x00\x05" + b"\xaa" * 40
    esp_over_ip6 = bytes(eth() / IPv6(src="2001:db8::1", dst="2001:db8::2", nh=50)) + esp
    records, stats = run(
        [
            eth() / V4 / UDP(sport=4500, dport=4500) / Raw(b"\0\0\0\0" + ike_auth),
            eth() / V4 / UDP(sport=4500, dport=4500) / Raw(b"\xff"),
            eth() / V4 / UDP(sport=4500, dport=4500) / Raw(esp),
            eth() / V6 / UDP(sport=4500, dport=4500) / Raw(esp),
            esp_over_ip6,
        ]
    )
    ike, keep, e4, e6, e6ip = records
    assert isinstance(ike, IkeDatagram) and ike.message.raw == ike_auth
    assert isinstance(keep, NatKeepalive)
    for e in (e4, e6, e6ip):
        assert isinstance(e, EspPacket)
        assert (e.spi, e.seq, e.length, e.data) == (0x12345678, 5, len(esp), esp)
    assert e4.udp_encap and e6.udp_encap and not e6ip.udp_encap  # type: ignore[union-attr]
    assert e6ip.flow.transport == "ip"  # type: ignore[union-attr]
    assert (stats.ike, stats.esp, stats.keepalives) == (1, 3, 1)


def test_extra_ports(ike_auth: bytes) -> None:
    esp = b"\x00\x00\x10\x01\x00\x00\x00\x02" + b"\x55" * 32
    pkts = [
        eth() / V4 / UDP(sport=30000, dport=4501) / Raw(b"\0\0\0\0" + ike_auth),
        eth() / V4 / UDP(sport=30000, dport=4501) / Raw(ike_auth),  # bare IKE
        eth() / V4 / UDP(sport=30000, dport=4501) / Raw(esp),
        eth() / V4 / UDP(sport=30000, dport=4501) / Raw(b"\xff"),
    ]
    records, _ = run(pkts, extra_ports=[4501])
    kinds = [type(r) for r in records]
    assert kinds == [IkeDatagram, IkeDatagram, EspPacket, NatKeepalive]
    assert records[0].message.raw == ike_auth == records[1].message.raw  # type: ignore[union-attr]
    none, stats = run(pkts)
    assert none == [] and stats.skipped == {SKIP_OTHER_UDP: 4}


def test_udp_500_truncated_ike_still_gives_a_record(ike_auth: bytes) -> None:
    data = bytes(eth() / V4 / UDP(sport=500, dport=500) / Raw(ike_auth))[:80]
    rec = only(run([data])[0])
    assert isinstance(rec, IkeDatagram)
    assert rec.message.raw == ike_auth[: 80 - 42]
    assert rec.message.error is not None


def test_overlapping_fragments_cannot_pile_up() -> None:
    """Fragments at ever new offsets that overlap each other are given up, not held without end
    (a crafted capture could otherwise make one datagram hold hundreds of MB)."""
    from ikeview.dissectors.reassembly import Reassembler

    r = Reassembler()
    chunk = bytes(2000)
    for off in range(0, 63000, 8):
        assert r.add("k", off, True, chunk, 0.0) is None
        assert r._bytes <= 2 * 65535 + len(chunk)
    assert r.dropped >= 1
