"""esp.py on real captures: Wireshark's esp-bug-12671 (AES-CBC-128 + HMAC-SHA1-96, keys from its
esp_sa.tmpl) and tcpdump's ESP captures (3DES and AES-256-CBC, keys from esp-secrets.txt and the
Wireshark-format tables next to it; their ICVs cannot be checked: no authentication key)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.ipsec import ESP
from scapy.utils import rdpcap

from ikeview.crypto.esp import EspSa
from ikeview.crypto.transforms import TransformType, by_wireshark_label, lookup

ENCR, INTEG = TransformType.ENCR, TransformType.INTEG
ICMP_PAYLOAD_START = bytes.fromhex("08090a0b0c0d0e0f1011121314151617")


def esp_packets(path: Path) -> list[tuple[str, bytes]]:
    """(destination, ESP bytes SPI..ICV) per ESP packet, raw or UDP-encapsulated (RFC 3948)."""
    out = []
    for pkt in rdpcap(str(path)):
        if IP not in pkt:
            continue
        ip = pkt[IP]
        if ip.proto == 50:
            out.append((ip.dst, bytes(ip.payload)[: ip.len - ip.ihl * 4]))
        elif UDP in pkt and 4500 in (pkt[UDP].sport, pkt[UDP].dport):
            data = bytes(pkt[UDP].payload)
            if data[:4] != bytes(4) and data != b"\xff":
                out.append((ip.dst, data))
    return out


def sa_from_uat_row(row: list[str]) -> tuple[int, EspSa]:
    """An EspSa from a Wireshark esp_sa row: protocol, src, dst, spi, enc, key, auth, key."""
    _proto, _src, _dst, spi, enc_label, enc_key, auth_label, auth_key = row
    key = bytes.fromhex(enc_key.removeprefix("0x"))
    candidates = by_wireshark_label(ENCR, enc_label, esp=True)
    (encr,) = [c for c in candidates if c.keymat_len == len(key)]
    if auth_label.startswith("ANY 96 bit"):
        # No checking: any 12-octet-ICV transform, with no key.
        integ, integ_key = lookup(INTEG, 2), None
    else:
        (integ,) = by_wireshark_label(INTEG, auth_label, esp=True)
        integ_key = bytes.fromhex(auth_key.removeprefix("0x"))
    return int(spi, 16), EspSa(encr, key, integ, integ_key)


def _uat(path: Path) -> dict[int, EspSa]:
    rows = [r for r in csv.reader(path.read_text().splitlines()) if r and not r[0].startswith("#")]
    return dict(sa_from_uat_row(r) for r in rows)


def test_wireshark_esp_bug_12671(shared_dir: Path) -> None:
    sas = _uat(shared_dir / "captures/wireshark/esp_sa.tmpl")
    packets = esp_packets(shared_dir / "captures/wireshark/esp-bug-12671.pcapng.gz")
    assert len(packets) == 6
    for _dst, data in packets:
        r = sas[int.from_bytes(data[:4])].decrypt(data)
        assert r.integrity_ok is True and r.error is None
        assert r.next_header == 4 and r.pad_len == 10  # tunnel mode, IPv4 inside
        inner = IP(r.payload)
        assert inner[ICMP].type in (0, 8)
        # ping data: an 8-octet timestamp, then 08 09 0a ... 37
        assert bytes(inner[ICMP].payload)[8:] == bytes(range(8, 0x38))
        assert ICMP_PAYLOAD_START in r.payload
    # A wrong authentication key: every ICV fails, the payload still decrypts (right ENCR key).
    spi = next(iter(sas))
    bad = EspSa(lookup(ENCR, 12, 128), _key_of(shared_dir, spi), lookup(INTEG, 2), bytes(20))
    own = [d for _, d in packets if int.from_bytes(d[:4]) == spi]
    assert own and all(bad.decrypt(d).integrity_ok is False for d in own)
    assert all("ICV does not verify" in bad.decrypt(d).error for d in own)


def _key_of(shared_dir: Path, spi: int) -> bytes:
    for row in csv.reader((shared_dir / "captures/wireshark/esp_sa.tmpl").read_text().splitlines()):
        if int(row[3], 16) == spi:
            return bytes.fromhex(row[5][2:])
    raise KeyError(spi)


def _secrets(shared_dir: Path) -> dict[tuple[int, str], bytes]:
    """tcpdump -E lines: ``0xSPI@dst algo:0xkey``."""
    out = {}
    for line in (shared_dir / "captures/tcpdump/esp-secrets.txt").read_text().splitlines():
        if line.startswith("0x"):
            where, algo = line.split()
            spi, dst = where.split("@")
            out[(int(spi, 16), dst)] = bytes.fromhex(algo.split(":0x")[1])
    return out


def _check_icmp_echoes(results) -> None:
    assert len(results) == 8
    for r in results:
        assert r.integrity_ok is None  # no authentication key in the secrets
        assert r.error is None and r.next_header == 4
        assert IP(r.payload)[ICMP].type == 8


@pytest.mark.parametrize("capture", ["02-sunrise-sunset-esp", "08-sunrise-sunset-aes", "espudp1"])
def test_tcpdump_single_layer(shared_dir: Path, capture: str) -> None:
    sas = _uat(shared_dir / f"captures/tcpdump/wireshark_uat/esp_sa.{capture}")
    packets = esp_packets(shared_dir / f"captures/tcpdump/{capture}.pcap")
    _check_icmp_echoes([sas[int.from_bytes(d[:4])].decrypt(d) for _, d in packets])


def test_tcpdump_aes_key_from_secrets_file(shared_dir: Path) -> None:
    key = _secrets(shared_dir)[(0xD1234567, "192.1.2.45")]  # aes256-cbc-hmac96
    sa = EspSa(lookup(ENCR, 12, 256), key, lookup(INTEG, 2), None)
    packets = esp_packets(shared_dir / "captures/tcpdump/08-sunrise-sunset-aes.pcap")
    _check_icmp_echoes([sa.decrypt(d) for _, d in packets])


def test_tcpdump_nested_esp(shared_dir: Path) -> None:
    """08-sunrise-sunset-esp2: ESP inside ESP, both 3DES, keys from esp-secrets.txt."""
    secrets = _secrets(shared_dir)
    outer = EspSa(lookup(ENCR, 3), secrets[(0x12345678, "192.1.2.45")], lookup(INTEG, 2), None)
    inner = EspSa(lookup(ENCR, 3), secrets[(0xABCDABCD, "192.0.1.1")], lookup(INTEG, 2), None)
    packets = esp_packets(shared_dir / "captures/tcpdump/08-sunrise-sunset-esp2.pcap")
    results = []
    for _, data in packets:
        r = outer.decrypt(data)
        assert r.error is None and r.next_header == 4
        ip = IP(r.payload)
        assert ip.proto == 50 and ESP in ip and ip.dst == "192.0.1.1"
        results.append(inner.decrypt(bytes(ip.payload)))
    _check_icmp_echoes(results)


def test_wrong_3des_key_is_caught_by_padding(shared_dir: Path) -> None:
    """No ICV to check: a wrong key shows up as bad padding / pad length."""
    sa = EspSa(lookup(ENCR, 3), bytes(range(24)), lookup(INTEG, 2), None)
    packets = esp_packets(shared_dir / "captures/tcpdump/02-sunrise-sunset-esp.pcap")
    assert all(sa.decrypt(d).error for _, d in packets)
