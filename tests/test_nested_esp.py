"""ESP inside ESP (tcpdump's 08-sunrise-sunset-esp2.pcap): both layers decrypted, frame by frame
as tshark decrypts them with the capture's own keys (esp-secrets.txt, the first two lines; the
same keys as wireshark_uat/esp_sa.08-sunrise-sunset-esp2)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP

from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.decrypt import KeyringDecryptor
from ikeview.pipeline.seam import EspOpened

pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]

OUTER, INNER = 0x12345678, 0xABCDABCD


def _paths(shared_dir: Path) -> tuple[Path, Path, Path]:
    t = shared_dir / "captures" / "tcpdump"
    return (
        t / "08-sunrise-sunset-esp2.pcap",
        t / "esp-secrets.txt",
        t / "wireshark_uat" / "esp_sa.08-sunrise-sunset-esp2",
    )


def _tshark_rows(capture: Path, uat: Path, tmp: Path) -> dict[int, tuple[str, ...]]:
    """Per frame: every ESP SPI, every IP src/dst, the ICMP type and sequence (all layers)."""
    cfg = tmp / "cfg"
    cfg.mkdir()
    shutil.copy(uat, cfg / "esp_sa")
    fields = ("frame.number", "esp.spi", "ip.src", "ip.dst", "icmp.type", "icmp.seq")
    cmd = ["tshark", "-r", str(capture), "-o", "esp.enable_encryption_decode:TRUE", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    env = {"WIRESHARK_CONFIG_DIR": str(cfg), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    return {int(c[0]): tuple(c[1:]) for c in (ln.split("\t") for ln in out.splitlines())}


class _Recording:
    """The real decryptor, noting per frame which SPIs the analysis opened and what came out."""

    def __init__(self, inner: KeyringDecryptor) -> None:
        self._inner = inner
        self.seen: dict[int, list[tuple[int, EspOpened]]] = {}

    def esp(self, packet: object) -> EspOpened:
        opened = self._inner.esp(packet)
        self.seen.setdefault(packet.flow.frame, []).append((packet.spi, opened))
        return opened

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_both_layers_decrypt_as_tshark_does(shared_dir: Path, tmp_path: Path) -> None:
    capture, secrets, uat = _paths(shared_dir)
    theirs = _tshark_rows(capture, uat, tmp_path)
    assert len(theirs) == 8
    rec = _Recording(KeyringDecryptor(load_keys([secrets])))
    a = analyze(capture, decryptor=rec)
    for frame, (spis, srcs, dsts, icmp_type, icmp_seq) in theirs.items():
        # tshark: outer 0x12345678 -> 192.1.2.45, then 0xabcdabcd -> 192.0.1.1, then ICMP.
        assert spis == "0x12345678,0xabcdabcd"
        layers = rec.seen[frame]
        assert [f"0x{spi:08x}" for spi, _ in layers] == spis.split(",")
        assert all(o.decrypted and o.next_header == 4 for _, o in layers)
        ip = IP(layers[-1][1].inner)
        assert ip.src == srcs.split(",")[-1] and ip.dst == dsts.split(",")[-1]
        assert (str(ip[ICMP].type), str(ip[ICMP].seq)) == (icmp_type, icmp_seq)
    stats = {s.spi: s for s in a.unassociated_esp}
    assert set(stats) == {OUTER, INNER}
    assert (stats[OUTER].dst, stats[OUTER].packets, stats[OUTER].decrypted) == ("192.1.2.45", 8, 8)
    assert (stats[INNER].src, stats[INNER].dst) == ("192.1.2.23", "192.0.1.1")
    assert (stats[INNER].packets, stats[INNER].decrypted) == (8, 8)
    (flow,) = stats[INNER].inner_flows
    assert (flow.src, flow.dst, flow.protocol, flow.packets) == ("192.0.2.1", "192.0.1.1", 1, 8)


def test_inner_layer_without_keys_is_counted(shared_dir: Path, tmp_path: Path) -> None:
    capture, secrets, _ = _paths(shared_dir)
    only_outer = tmp_path / "outer.txt"
    only_outer.write_text(secrets.read_text().splitlines()[2] + "\n")  # 0x12345678 only
    a = analyze(capture, load_keys([only_outer]))
    stats = {s.spi: s for s in a.unassociated_esp}
    assert stats[OUTER].decrypted == 8
    assert (stats[INNER].packets, stats[INNER].decrypted) == (8, 0)
    assert stats[INNER].problem is not None and "no keys" in stats[INNER].problem


def test_decrypt_writes_the_innermost_packet_as_tshark_reads_it(
    shared_dir: Path, tmp_path: Path
) -> None:
    capture, secrets, uat = _paths(shared_dir)
    theirs = _tshark_rows(capture, uat, tmp_path)
    out = tmp_path / "out.pcap"
    run = subprocess.run(
        [sys.executable, "-m", "ikeview", "decrypt", str(capture), "--keys", str(secrets),
         "-o", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    fields = ("frame.number", "ip.src", "ip.dst", "icmp.type", "icmp.seq")
    cmd = ["tshark", "-r", str(out), "-T", "fields"] + [x for f in fields for x in ("-e", f)]
    ours = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in ours.splitlines():
        frame, src, dst, icmp_type, icmp_seq = line.split("\t")
        _, srcs, dsts, t_type, t_seq = theirs[int(frame)]
        assert (src, dst) == (srcs.split(",")[-1], dsts.split(",")[-1])
        assert (icmp_type, icmp_seq) == (t_type, t_seq)
    assert len(ours.splitlines()) == 8
