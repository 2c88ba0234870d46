"""The inner-packet summary of decrypted ESP (ikeview.dissectors.inner).

Real data first: every ESP packet of the strongSwan lab captures is decrypted through the pipeline
and its summary compared, frame by frame, with what tshark reads from the same frame when it
decrypts it with the tables `ikeview keys --wireshark` writes. Then scapy-made packets cover what
the lab does not carry: IPv6, TCP/UDP ports, extension headers, fragments, transport mode, dummy
packets and every truncation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ikeview.dissectors.inner import InnerSummary, inner_summary
from lab_support import LAB, TSHARK_ESP_SCENARIOS
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    IPv6,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
)
from scapy.layers.sctp import SCTP

from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze, make_decryptor
from ikeview.pipeline.seam import EspOpened

REPO = Path(__file__).resolve().parents[1]
_IKEVIEW = (sys.executable, "-m", "ikeview")
FIELDS = ("frame.number", "ip.src", "ip.dst", "ip.proto", "icmp.type", "icmp.code", "ip.len")


class _Tap:
    """Delegates to the real decryptor and keeps each ESP packet's verdict by frame."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.opened: dict[int, EspOpened] = {}

    def esp(self, packet: object) -> EspOpened:
        opened = self._inner.esp(packet)  # type: ignore[attr-defined]
        self.opened[packet.flow.frame] = opened  # type: ignore[attr-defined]
        return opened

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def _decrypted(name: str) -> dict[int, InnerSummary]:
    """Per ESP frame of a lab capture, the summary of what the pipeline decrypted."""
    d = LAB / name
    tap = _Tap(make_decryptor(load_keys([d / "keys.toml"])))
    analyze(d / "capture.pcap", decryptor=tap)  # type: ignore[arg-type]
    out = {}
    for frame, o in tap.opened.items():
        assert o.decrypted and o.next_header is not None and o.inner is not None, (frame, o)
        out[frame] = inner_summary(o.next_header, o.inner)
    return out


def _tshark(name: str, tmp_path: Path) -> dict[int, tuple[str, ...]]:
    """Per frame tshark decrypted, the innermost value of each field."""
    d = LAB / name
    tables = tmp_path / "wireshark"
    args = [*_IKEVIEW, "keys", str(d / "capture.pcap"), "--keys", str(d / "keys.toml")]
    args += ["--wireshark", str(tables)]
    run = subprocess.run(
        args,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    cmd = ["tshark", "-r", str(d / "capture.pcap"), "-T", "fields", "-E", "occurrence=l"]
    cmd += ["-o", "esp.enable_encryption_decode:TRUE", "-Y", "esp"]
    for f in FIELDS:
        cmd += ["-e", f]
    env = {**os.environ, "WIRESHARK_CONFIG_DIR": str(tables)}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        rows[int(cols[0])] = tuple(cols[1:])
    return rows


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("name", TSHARK_ESP_SCENARIOS)
def test_lab_inner_packets_equal_tsharks(name: str, tmp_path: Path) -> None:
    ours = _decrypted(name)
    theirs = _tshark(name, tmp_path)
    assert ours, "the pipeline decrypted no ESP packet"
    assert set(ours) == set(theirs)
    for frame, (src, dst, proto, icmp_type, icmp_code, ip_len) in theirs.items():
        s = ours[frame]
        assert proto == "1", f"frame {frame}: tshark did not reach the ICMP inside"
        got = (s.src, s.dst, str(s.protocol), str(s.icmp_type), str(s.icmp_code), str(s.length))
        assert got == (src, dst, proto, icmp_type, icmp_code, ip_len), f"frame {frame}"
        assert s.ip_version == 4 and s.error is None and not s.fragment
        assert s.sport is None and s.dport is None


def test_lab_chacha_inner_packets() -> None:
    """tshark 4.0 cannot open ChaCha20-Poly1305 ESP; the lab README says the tunnel carries
    ICMP echo between 198.51.100.1 and 203.0.113.1, so check that instead."""
    texts = {s.text() for s in _decrypted("chacha-x25519").values()}
    assert texts == {
        "IPv4 ICMP 198.51.100.1 > 203.0.113.1 echo-request",
        "IPv4 ICMP 203.0.113.1 > 198.51.100.1 echo-reply",
    }


# ---------------------------------------------------------------- made with scapy


def test_ipv6_udp_tunnel() -> None:
    pkt = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=53, dport=5353) / b"x")
    s = inner_summary(41, pkt)
    assert (s.ip_version, s.protocol, s.src, s.dst) == (6, 17, "2001:db8::1", "2001:db8::2")
    assert (s.sport, s.dport, s.icmp_type, s.length, s.error) == (53, 5353, None, len(pkt), None)
    assert s.text() == "IPv6 UDP [2001:db8::1]:53 > [2001:db8::2]:5353"


def test_ipv6_tcp_after_hop_by_hop() -> None:
    pkt = (
        IPv6(src="2001:db8::a", dst="2001:db8::b")
        / IPv6ExtHdrHopByHop()
        / TCP(sport=1234, dport=443)
    )
    s = inner_summary(41, bytes(pkt))
    assert (s.protocol, s.sport, s.dport) == (6, 1234, 443)
    assert s.text() == "IPv6 TCP [2001:db8::a]:1234 > [2001:db8::b]:443"


def test_icmpv6_types_and_codes() -> None:
    base = IPv6(src="2001:db8::1", dst="2001:db8::2")
    s = inner_summary(41, bytes(base / ICMPv6EchoReply()))
    assert (s.protocol, s.icmp_type, s.icmp_code) == (58, 129, 0)
    assert s.text() == "IPv6 ICMPv6 2001:db8::1 > 2001:db8::2 echo-reply"
    s = inner_summary(41, bytes(base / ICMPv6DestUnreach(code=4)))
    assert s.text().endswith("dest-unreachable code 4")


def test_ipv4_tcp_with_options_and_sctp() -> None:
    pkt = IP(src="10.0.0.1", dst="10.0.0.2", options=b"\x01" * 4) / TCP(sport=22, dport=40000)
    s = inner_summary(4, bytes(pkt))
    assert s.text() == "IPv4 TCP 10.0.0.1:22 > 10.0.0.2:40000"
    s = inner_summary(4, bytes(IP(src="10.0.0.1", dst="10.0.0.2") / SCTP(sport=1, dport=2)))
    assert (s.protocol, s.sport, s.dport) == (132, 1, 2)


def test_ipv4_icmp_unreachable_code() -> None:
    pkt = IP(src="198.51.100.1", dst="203.0.113.1") / ICMP(type=3, code=3)
    assert inner_summary(4, bytes(pkt)).text() == (
        "IPv4 ICMP 198.51.100.1 > 203.0.113.1 dest-unreachable code 3"
    )


def test_fragments_only_first_has_ports() -> None:
    udp = UDP(sport=9, dport=10)
    whole = bytes(IP(src="1.1.1.1", dst="2.2.2.2") / udp / (b"a" * 64))
    first = bytes(IP(src="1.1.1.1", dst="2.2.2.2", flags="MF", id=7) / udp / (b"a" * 32))
    later = bytes(IP(src="1.1.1.1", dst="2.2.2.2", frag=5, id=7, proto=17) / (b"a" * 32))
    s = inner_summary(4, first)
    assert (s.fragment, s.sport, s.dport) == (True, 9, 10)
    s = inner_summary(4, later)
    assert (s.fragment, s.sport, s.dport, s.error) == (True, None, None, None)
    assert s.text() == "IPv4 UDP 1.1.1.1 > 2.2.2.2 fragment"
    assert not inner_summary(4, whole).fragment
    v6 = IPv6(src="::1", dst="::2") / IPv6ExtHdrFragment(offset=8, m=0, id=1, nh=6) / (b"b" * 8)
    s = inner_summary(41, bytes(v6))
    assert (s.fragment, s.protocol, s.sport) == (True, 6, None)


@pytest.mark.parametrize(
    ("nh", "layer", "text"),
    [
        (6, TCP(sport=4000, dport=80), "transport TCP port 4000 > 80"),
        (17, UDP(sport=500, dport=4500), "transport UDP port 500 > 4500"),
        (1, ICMP(type=8), "transport ICMP echo-request"),
    ],
)
def test_transport_mode(nh: int, layer: object, text: str) -> None:
    s = inner_summary(nh, bytes(layer))  # type: ignore[arg-type]
    assert (s.ip_version, s.src, s.dst, s.protocol, s.error) == (None, None, None, nh, None)
    assert s.text() == text


def test_dummy_and_unknown_next_header() -> None:
    assert inner_summary(59, b"").text() == "dummy packet (no next header)"
    s = inner_summary(47, b"\x00" * 8)
    assert (s.protocol, s.sport, s.icmp_type, s.error) == (47, None, None, None)
    assert s.text() == "transport GRE"
    assert inner_summary(200, b"").text() == "transport proto 200"


def test_version_mismatch_is_an_error() -> None:
    s = inner_summary(4, bytes(IPv6() / UDP()))
    assert s.error is not None and s.error.offset == 0 and s.ip_version is None
    assert s.text() == "IPv4 [IP version 6 where 4 was expected]"
    s = inner_summary(41, b"\x60" * 10)
    assert s.text() == "IPv6 [IPv6 header cut short (10 of 40 bytes)]"


REAL_V4 = bytes(IP(src="198.51.100.1", dst="203.0.113.1") / UDP(sport=53, dport=1053) / b"q")
REAL_V6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() / TCP())


@pytest.mark.parametrize(("nh", "pkt"), [(4, REAL_V4), (41, REAL_V6), (17, REAL_V4[20:])])
def test_every_truncation_gives_a_record(nh: int, pkt: bytes) -> None:
    """Each prefix gives a record (never an exception); ports appear only once all 4 bytes
    are there, and an error is set exactly when the headers needed are cut."""
    full = inner_summary(nh, pkt)
    assert full.error is None and full.sport is not None
    for n in range(len(pkt)):
        s = inner_summary(nh, pkt[:n])
        assert s.length == n
        if s.error is None:
            assert s.key == full.key
        else:
            assert s.sport is None and 0 <= s.error.offset <= n
            assert s.text().endswith(f"[{s.error.reason}]")


def test_garbage_never_raises() -> None:
    for nh in (1, 4, 6, 17, 41, 58, 59, 132, 255):
        for size in range(0, 64):
            inner_summary(nh, bytes(range(size)))
            inner_summary(nh, b"\xff" * size)
            inner_summary(nh, b"\x45" + b"\xff" * size)
            inner_summary(nh, b"\x60" + b"\x00" * size)
