"""IKE and ESP over TCP (RFC 9329): the "IKETCP" prefix (split across segments), length
framing, Non-ESP Marker, out-of-order and retransmitted segments, the responder's direction
without a prefix; plus the RFC 3948 classifier on its own. tshark 4.0 does not decode
IKETCP, so the oracle here is the real IKE_AUTH message we framed ourselves."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from ikeview.dissectors.records import EspPacket, IkeDatagram, RawFrame, Record
from ikeview.dissectors.stream import (
    SKIP_OTHER_TCP,
    SKIP_TCP_PARTIAL,
    Dissector,
    DissectStats,
    dissect,
)
from ikeview.dissectors.transport import (
    KIND_ESP,
    KIND_IKE,
    KIND_KEEPALIVE,
    TCP_SYN,
    TcpStreams,
    classify_encap,
)
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether


def eth(**kw: int) -> Ether:
    """Ethernet with fixed addresses, so scapy never tries to resolve a neighbour (slow)."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", **kw)


CLIENT = IP(src="192.0.2.1", dst="198.51.100.2")
SERVER = IP(src="198.51.100.2", dst="192.0.2.1")
ESP = b"\xc0\x01\x02\x03\x00\x00\x00\x09" + b"\x42" * 48


@pytest.fixture(scope="module")
def ike_auth(shared_dir: Path) -> bytes:
    recs = list(dissect(shared_dir / "captures/wireshark/ikev2-decrypt-aes256gcm16.pcap"))
    r = recs[2]
    assert isinstance(r, IkeDatagram)
    return r.message.raw


def framed(msg: bytes, ike: bool) -> bytes:
    body = (b"\0\0\0\0" + msg) if ike else msg
    return struct.pack("!H", len(body) + 2) + body


def c2s(seq: int, data: bytes = b"", flags: str = "PA", dport: int = 4500) -> bytes:
    return bytes(eth() / CLIENT / TCP(sport=50000, dport=dport, seq=seq, flags=flags) / data)


def s2c(seq: int, data: bytes = b"", flags: str = "PA") -> bytes:
    return bytes(eth() / SERVER / TCP(sport=4500, dport=50000, seq=seq, flags=flags) / data)


def run(pkts: list[bytes], **kw: object) -> tuple[list[Record], DissectStats]:
    stats = DissectStats()
    frames = [RawFrame(i, float(i), 1, p, len(p)) for i, p in enumerate(pkts, 1)]
    return list(dissect(frames, stats=stats, **kw)), stats  # type: ignore[arg-type]


def test_iketcp_stream_split_prefix_out_of_order_and_reply(ike_auth: bytes) -> None:
    client = b"IKETCP" + framed(ike_auth, True) + framed(ESP, False)
    # Cut so that the prefix itself is split ("IKE" | "TCP...").
    a, b, c = client[:3], client[3:100], client[100:]
    isn = 0xFFFFFFF0  # near the wrap, so sequence arithmetic must be modular
    pkts = [
        c2s(isn, flags="S"),
        s2c(7000, flags="SA"),
        c2s((isn + 1 + 3) & 0xFFFFFFFF, b),  # arrives before the first 3 bytes
        c2s(isn + 1, a),
        c2s((isn + 1) & 0xFFFFFFFF, a + b[:10]),  # retransmission overlapping old bytes
        c2s((isn + 1 + 3 + len(b)) & 0xFFFFFFFF, c),
        s2c(7001, framed(ike_auth, True)),
        c2s((isn + 1 + len(client)) & 0xFFFFFFFF, flags="FA"),
    ]
    records, stats = run(pkts)
    assert [type(r) for r in records] == [IkeDatagram, EspPacket, IkeDatagram]
    ike1, esp, ike2 = records
    assert ike1.message.raw == ike_auth  # type: ignore[union-attr]
    assert ike1.flow.frame == 6 and ike1.flow.transport == "tcp"
    assert (esp.spi, esp.seq, esp.data, esp.udp_encap) == (0xC0010203, 9, ESP, True)  # type: ignore[union-attr]
    assert esp.flow.frame == 6
    assert ike2.message.raw == ike_auth and ike2.flow.sport == 4500  # type: ignore[union-attr]
    assert stats.ike == 2 and stats.esp == 1
    assert stats.skipped == {SKIP_TCP_PARTIAL: 6}  # SYNs, FIN, early and repeated segments


def test_iketcp_stream_without_parsing_ike(ike_auth: bytes) -> None:
    """``Dissector(ike=False)`` (a later range of ``--jobs`` without keys): the same stream
    reassembled, its ESP at the same frame, no IKE record; stream state as with parsing."""
    client = b"IKETCP" + framed(ike_auth, True) + framed(ESP, False)
    pkts = [
        c2s(0, flags="S"),
        s2c(7000, flags="SA"),
        c2s(1, client[:100]),
        c2s(101, client[100:]),
        s2c(7001, framed(ike_auth, True)),
    ]
    frames = [RawFrame(i, float(i), 1, p, len(p)) for i, p in enumerate(pkts, 1)]
    parsed, skipped = Dissector(), Dissector(ike=False)
    every = list(parsed.run(frames))
    esp_only = list(skipped.run(frames))
    assert [type(r) for r in every] == [IkeDatagram, EspPacket, IkeDatagram]
    assert esp_only == [every[1]] and esp_only[0].flow.frame == 4
    assert skipped.idle() == parsed.idle()


def test_tcp_without_prefix_and_other_ports_are_skipped(ike_auth: bytes) -> None:
    pkts = [
        c2s(1, b"GET / HTTP/1.1\r\n\r\n"),
        c2s(1, b"IKETCP" + framed(ike_auth, True), dport=443),
    ]
    records, stats = run(pkts)
    assert records == []
    assert stats.skipped == {SKIP_OTHER_TCP: 2}
    records, _ = run(pkts[1:], extra_ports=[443])
    assert [type(r) for r in records] == [IkeDatagram]


def test_tcp_memory_is_bounded() -> None:
    t = TcpStreams(max_streams=8, max_ahead=4)
    for port in range(100):
        t.add((b"a", port), (b"b", port), 1, 0, b"IKETCP")
    assert t.dropped == 92
    # A stream with too many gaps is given up, not grown without end.
    t.add(("g",), ("r",), 1, 0, b"IKETCP")
    for i in range(10):
        t.add(("g",), ("r",), 1000 + 10 * i, 0, b"x")
    assert t.dropped == 92 + 1 + 1  # one more evicted for "g", then "g" itself given up
    # Directions that are not IKE over TCP make room without counting as given up.
    t = TcpStreams(max_streams=8)
    for port in range(100):
        assert t.add((b"h", port), (b"s", port), 1, 0, b"GET / HTTP/1.1\r\n") is None
    assert t.dropped == 0 and len(t._streams) == 8


def test_tcp_gap_before_the_prefix_is_bounded() -> None:
    """The SYN was seen but the first data segment was not: later segments wait in order
    for a prefix that never comes, and the wait is bounded like any other gap."""
    t = TcpStreams(max_ahead=4)
    assert t.add(("g",), ("r",), 1, TCP_SYN, b"") == []
    for i in range(4):
        assert t.add(("g",), ("r",), 100 + 10 * i, 0, b"x") == []
    assert t.dropped == 0
    assert t.add(("g",), ("r",), 140, 0, b"x") is None  # a fifth held segment is too many
    assert t.dropped == 1
    assert t.add(("g",), ("r",), 150, 0, b"x") is None  # ignored from now on, holds nothing
    assert t.dropped == 1


def test_bad_frame_length_stops_the_stream() -> None:
    t = TcpStreams()
    assert t.add(("k",), ("r",), 1, 0, b"IKETCP\x00\x01zzz") is None
    assert t.dropped == 1  # given up, and counted as such
    assert t.add(("k",), ("r",), 13, 0, b"\x00\x0a" + b"\0" * 8) is None
    assert t.dropped == 1
    assert t.add(("m",), ("r",), 1, 0, b"IKETCP\x00\x20zzz") == []  # waiting for more


@pytest.mark.parametrize(
    ("payload", "wire", "bare", "want"),
    [
        (b"\xff", 1, False, (KIND_KEEPALIVE, 0)),
        (b"\0\0\0\0" + b"x" * 30, 34, False, (KIND_IKE, 4)),
        (b"\x01\x02\x03\x04\0\0\0\1", 8, False, (KIND_ESP, 0)),
        (b"\xff\xff", 2, False, (KIND_ESP, 0)),
        (b"\xff", 300, False, (KIND_ESP, 0)),  # cut by the snap length: not a keepalive
    ],
)
def test_classify_encap(payload: bytes, wire: int, bare: bool, want: tuple[int, int]) -> None:
    assert classify_encap(payload, wire, bare) == want


def test_classify_bare_ike_only_on_extra_ports(ike_auth: bytes) -> None:
    assert classify_encap(ike_auth, len(ike_auth), True) == (KIND_IKE, 0)
    assert classify_encap(ike_auth, len(ike_auth), False) == (KIND_ESP, 0)
    assert classify_encap(ike_auth, len(ike_auth) + 1, True) == (KIND_ESP, 0)
