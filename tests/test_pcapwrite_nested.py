"""decrypt output for ESP carried inside a decrypted tunnel (ESP in ESP): the innermost content."""

from __future__ import annotations

from pathlib import Path

from ikeview.keys.model import EspKeys, KeyRing, SourceRef
from ikeview.pcapfile import PcapWriter
from ikeview.pcapwrite import write_decrypted

_OUTER_SPI = 0x1111
_INNER_SPI = 0x2222


def _no_correlator(_dec: object) -> None:
    return None


def _esp(spi: int, payload: bytes, next_header: int) -> bytes:
    """ENCR_NULL without ICV; RFC 4303 section 2.4: padding 1, 2, ... to 4 octets, Pad Length,
    Next Header."""
    pad = bytes(range(1, 1 + (-(len(payload) + 2) % 4)))
    return (
        spi.to_bytes(4, "big")
        + (1).to_bytes(4, "big")
        + payload
        + pad
        + bytes([len(pad), next_header])
    )


def _null_keys(spi: int) -> EspKeys:
    return EspKeys(spi, b"", None, None, None, 11, None, 0, None, SourceRef("t", 1))


def _capture(path: Path, *, inner_next_header: int) -> bytes:
    """Ethernet/IPv4/ESP(tunnel) -> IPv4/ESP -> the returned innermost bytes."""
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.layers.l2 import Ether

    if inner_next_header == 4:
        innermost = bytes(IP(src="10.9.0.1", dst="10.9.0.2") / ICMP() / b"ping")
    else:
        innermost = bytes(UDP(sport=1000, dport=53) / b"query")
    middle = bytes(
        IP(src="10.0.0.1", dst="10.0.0.2", proto=50)
        / _esp(_INNER_SPI, innermost, inner_next_header)
    )
    frame = bytes(
        Ether() / IP(src="192.0.2.1", dst="192.0.2.2", proto=50) / _esp(_OUTER_SPI, middle, 4)
    )
    with path.open("wb") as fh:
        PcapWriter(fh, 1).write(1_700_000_000.0, frame)
    return innermost


def _written_ip(out: Path) -> bytes:
    return out.read_bytes()[24 + 16 + 14 :]  # file header, record header, Ethernet


def test_tunnel_inside_tunnel_writes_the_innermost_packet(tmp_path: Path) -> None:
    src, out = tmp_path / "in.pcap", tmp_path / "out.pcap"
    innermost = _capture(src, inner_next_header=4)
    ring = KeyRing(esp_sas=(_null_keys(_OUTER_SPI), _null_keys(_INNER_SPI)))
    stats = write_decrypted(src, ring, out, correlator=_no_correlator)
    assert (stats.esp, stats.replaced) == (1, 1)
    assert _written_ip(out) == innermost


def test_transport_inside_tunnel_gets_the_tunnel_header(tmp_path: Path) -> None:
    from scapy.layers.inet import IP

    src, out = tmp_path / "in.pcap", tmp_path / "out.pcap"
    udp = _capture(src, inner_next_header=17)
    ring = KeyRing(esp_sas=(_null_keys(_OUTER_SPI), _null_keys(_INNER_SPI)))
    stats = write_decrypted(src, ring, out, correlator=_no_correlator)
    assert stats.replaced == 1
    ip = IP(_written_ip(out))
    assert (ip.src, ip.dst, ip.proto, ip.len) == ("10.0.0.1", "10.0.0.2", 17, 20 + len(udp))
    assert bytes(ip.payload) == udp


def test_nested_esp_without_keys_keeps_the_outer_content(tmp_path: Path) -> None:
    src, out = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _capture(src, inner_next_header=4)
    stats = write_decrypted(
        src, KeyRing(esp_sas=(_null_keys(_OUTER_SPI),)), out, correlator=_no_correlator
    )
    assert stats.replaced == 1
    assert any(p.startswith(f"no keys for ESP SPI 0x{_INNER_SPI:08x}") for p in stats.problems)
    written = _written_ip(out)
    assert written[9] == 50 and written[20:24] == _INNER_SPI.to_bytes(4, "big")
