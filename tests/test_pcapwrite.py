"""decrypt output: ESP frames replaced by their inner packets, readable by tshark and tcpdump."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastesp_support import write_other_sa_keys
from lab_support import Lab
from test_pipeline_decrypt_support import read, run_capture

from ikeview.keys.model import EspKeys, KeyRing, SourceRef
from ikeview.keys.wireshark import read_esp_sa, read_ikev2_table
from ikeview.pcapfile import PcapWriter
from ikeview.pcapwrite import write_decrypted
from ikeview.pipeline.decrypt import KeyringDecryptor

_TOOLS_MISSING = shutil.which("tshark") is None or shutil.which("tcpdump") is None


def needs_tools(test: Callable[..., None]) -> Callable[..., None]:
    """Marked ``tshark``; skipped where tshark or tcpdump is not installed."""
    marked = pytest.mark.tshark(test)
    return pytest.mark.skipif(_TOOLS_MISSING, reason="tshark/tcpdump not installed")(marked)


def _no_correlator(_dec: KeyringDecryptor) -> None:
    return None


def _tshark(path: Path, *fields: str) -> list[list[str]]:
    cmd = ["tshark", "-r", str(path), "-T", "fields", *(a for f in fields for a in ("-e", f))]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)
    return [line.split("\t") for line in run.stdout.splitlines()]


def _tcpdump(path: Path) -> list[str]:
    run = subprocess.run(
        ["tcpdump", "-nr", str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    return run.stdout.splitlines()


@needs_tools
def test_wireshark_esp_capture_becomes_plain_icmp(shared_dir: Path, tmp_path: Path) -> None:
    wsdir = shared_dir / "captures" / "wireshark"
    ring = KeyRing.of(read_esp_sa((wsdir / "esp_sa.tmpl").read_text(), "esp_sa"))
    out = tmp_path / "out.pcap"
    stats = write_decrypted(wsdir / "esp-bug-12671.pcapng.gz", ring, out, correlator=_no_correlator)
    assert (stats.frames, stats.written, stats.esp, stats.replaced) == (6, 6, 6, 6)
    assert (
        str(stats)
        == "6 frames read, 6 written; 6 ESP packets: 6 decrypted, 0 failed, 0 without keys"
    )
    rows = _tshark(out, "frame.protocols", "ip.src", "icmp.type", "esp.spi")
    assert len(rows) == 6
    for protocols, src, icmp, esp in rows:
        assert protocols == "eth:ethertype:ip:icmp:data" and esp == ""
        assert src in ("10.1.1.1", "10.1.0.10") and icmp in ("0", "8")
    lines = _tcpdump(out)
    assert len(lines) == 6 and all("ICMP echo" in line for line in lines)


@needs_tools
@pytest.mark.parametrize("name", ["natt", "gcm16-ecp256"])
def test_lab_capture_with_derived_keys(
    name: str, tmp_path: Path, lab: Callable[[str], Lab]
) -> None:
    sc = lab(name)
    ring = sc.keyring
    dec = KeyringDecryptor(ring)
    run_capture(dec, read(sc.capture))
    out = tmp_path / "out.pcap"
    stats = write_decrypted(sc.capture, ring, out, decryptor=dec, correlator=_no_correlator)
    assert stats.esp > 0 and stats.replaced == stats.esp and stats.written == stats.frames
    rows = _tshark(out, "esp.spi", "icmp.type", "isakmp.ispi")
    assert not any(r[0] for r in rows)  # no ESP left
    assert sum(1 for r in rows if r[1]) == stats.esp  # each became an ICMP packet
    assert sum(1 for r in rows if r[2]) == sum(
        1 for r in _tshark(sc.capture, "isakmp.ispi") if r[0]
    )
    assert len(_tcpdump(out)) == stats.frames


def _transport_capture(path: Path) -> bytes:
    """One Ethernet/IPv4/ESP (ENCR_NULL, no ICV) frame in transport mode carrying UDP."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    udp = bytes(UDP(sport=1234, dport=53) / b"hello ikeview")
    # RFC 4303 section 2.4: padding 1, 2, ... to a 4-octet boundary, Pad Length, Next Header.
    pad = bytes(range(1, 1 + (-(len(udp) + 2) % 4)))
    esp = (0x1000).to_bytes(4, "big") + (1).to_bytes(4, "big") + udp + pad + bytes([len(pad), 17])
    frame = bytes(Ether() / IP(src="192.0.2.1", dst="192.0.2.2", proto=50) / esp)
    with path.open("wb") as fh:
        PcapWriter(fh, 1).write(1_700_000_000.25, frame)
    return udp


@needs_tools
def test_transport_mode_gets_a_rebuilt_ip_header(tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    src = tmp_path / "in.pcap"
    udp = _transport_capture(src)
    ring = KeyRing(
        esp_sas=(EspKeys(0x1000, b"", None, None, None, 11, None, 0, None, SourceRef("t", 1)),)
    )
    out = tmp_path / "out.pcap"
    stats = write_decrypted(src, ring, out, correlator=_no_correlator)
    assert stats.replaced == 1
    data = out.read_bytes()[24 + 16 :]
    pkt = Ether(data)
    assert pkt[IP].proto == 17 and pkt[IP].len == 20 + len(udp)
    fresh = IP(bytes(pkt[IP]))
    del fresh.chksum  # scapy recomputes it on build
    assert IP(bytes(fresh)).chksum == pkt[IP].chksum
    assert bytes(pkt[UDP]) == udp
    rows = _tshark(out, "udp.dstport", "ip.proto", "frame.time_epoch")
    assert rows[0][0] == "53"
    assert rows[0][2].startswith("1700000000.25")
    assert "192.0.2.1.1234 > 192.0.2.2.53" in _tcpdump(out)[0]


def test_unknown_spis_are_copied_and_counted(shared_dir: Path, tmp_path: Path) -> None:
    src = shared_dir / "captures" / "wireshark" / "esp-bug-12671.pcapng.gz"
    out = tmp_path / "out.pcap"
    stats = write_decrypted(src, KeyRing(), out, correlator=_no_correlator)
    assert (stats.replaced, stats.no_keys, stats.written) == (0, 6, 6)
    assert stats.problems[0].startswith("no keys for ESP SPI 0x")


@needs_tools
@pytest.mark.parametrize("name", ["aes256gcm16", "aes192ctr", "3des-sha1_160"])
def test_wireshark_ikev2_capture_is_written_in_clear(
    shared_dir: Path, tmp_path: Path, name: str
) -> None:
    vectors = json.loads(
        (shared_dir / "vectors" / "wireshark-ikev2-decrypt-captures.json").read_text()
    )
    vec = next(c for c in vectors["captures"] if f"decrypt-{name}." in c["file"])
    table = shared_dir / "captures" / "wireshark" / "ikev2_decryption_table.tmpl"
    ring = KeyRing.of(read_ikev2_table(table.read_text(), "ikev2_decryption_table"))
    out = tmp_path / "out.pcap"
    stats = write_decrypted((shared_dir / "vectors" / vec["file"]).resolve(), ring, out)
    assert stats.ike_replaced == stats.frames - 2  # all but the IKE_SA_INIT pair
    # tshark without any keys now sees the AUTH payloads, with good UDP/IP checksums.
    cmd = [
        "tshark",
        "-r",
        str(out),
        "-o",
        "udp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
    ]
    cmd += [
        "-T",
        "fields",
        "-e",
        "isakmp.auth.data",
        "-e",
        "udp.checksum.status",
        "-e",
        "ip.checksum.status",
    ]
    rows = [
        line.split("\t")
        for line in subprocess.run(
            cmd, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    ]
    assert vec["expected_isakmp_auth_data"] in {r[0] for r in rows}
    assert all(r[1] in ("1", "2") and r[2] in ("1", "2") for r in rows[2:])
    assert any("ikev2_auth" in line for line in _tcpdump(out))


def _decrypt_cli(capture: Path, keys: Path, out: Path, *extra: str) -> list[str]:
    """``ikeview decrypt`` as a user runs it: its stderr lines."""
    run = subprocess.run(
        [sys.executable, "-m", "ikeview", "decrypt", str(capture), "--keys", str(keys),
         "-o", str(out), *extra],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run.stderr.splitlines()


@pytest.mark.parametrize("fast", [[], ["--no-fast"]])
def test_decrypt_names_the_spis_it_had_no_keys_for(tmp_path: Path, fast: list[str]) -> None:
    """The lab's NAT-T capture with keys for another SA: under the counts, one line per SPI
    (strongSwan logged both: truth.json's child SA, 027380cc and def9e166)."""
    lab = Path(__file__).resolve().parents[1] / "captures" / "lab" / "natt"
    spis = [e["spi"] for e in json.loads((lab / "truth.json").read_text())["child_sas"][0]["esp"]]
    keys = write_other_sa_keys(tmp_path / "other.toml")
    lines = _decrypt_cli(lab / "capture.pcap", keys, tmp_path / "o.pcap", *fast)
    assert "0 decrypted" in lines[0] and " 0 without keys" not in lines[0]
    assert sorted(lines[1:]) == sorted(f"  no keys for ESP SPI 0x{spi}" for spi in spis)


@pytest.mark.parametrize("suffix", [".pcap", ".pcapng.gz"])
def test_decrypt_says_where_a_damaged_capture_stopped(tmp_path: Path, suffix: str) -> None:
    """A capture cut inside its last record (classic pcap: the mapped walk gives up and the
    record path reads it; pcapng in gzip: the reader's walk): the frames before it are written
    and stderr says where reading stopped, as ``report`` does."""
    import gzip

    lab = Path(__file__).resolve().parents[1] / "captures" / "lab" / "natt"
    data = (lab / "capture.pcap").read_bytes()[:-5]
    cap = tmp_path / f"cut{suffix}"
    if suffix == ".pcap":
        cap.write_bytes(data)
    else:
        if shutil.which("editcap") is None:
            pytest.skip("editcap not installed")
        (tmp_path / "cut.pcap").write_bytes(data)
        ng = tmp_path / "cut.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", str(tmp_path / "cut.pcap"), str(ng)],
                       check=True, capture_output=True)  # fmt: skip
        cap.write_bytes(gzip.compress(ng.read_bytes()[:-5]))
    lines = _decrypt_cli(cap, lab / "keys.toml", tmp_path / "o.pcap")
    report = subprocess.run(
        [sys.executable, "-m", "ikeview", "report", str(cap), "--keys", str(lab / "keys.toml")],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    damage = [ln.strip() for ln in lines[1:] if "capture file damaged" in ln]
    assert len(damage) == 1 and "reading stopped there" in damage[0]
    # The same words as report's warning for that frame.
    assert damage[0] in report.replace("warning ", "")


def test_write_many_equals_write_record_by_record() -> None:
    """``write_many`` joins WRITE_RUN records per write() call: across several runs (a partial
    last one included) the bytes are those of ``write`` per record, times rounded the same."""
    import io

    from ikeview import pcapfile

    records = [
        (1_700_000_000 + i * 0.0000013, bytes([i % 256]) * 14, bytes(i % 97)) for i in range(300)
    ]
    records += [(-1.0, b"h", b"d"), (5e9, b"h", b"")]  # before 1970, past 2106: clamped
    assert len(records) > 2 * pcapfile.WRITE_RUN
    one, many = io.BytesIO(), io.BytesIO()
    writer = PcapWriter(one, 1)
    for ts, head, data in records:
        writer.write(ts, head + data)
    PcapWriter(many, 1).write_many(records)
    assert many.getvalue() == one.getvalue()
