"""ESP decryption cross-checked with Wireshark frame by frame.

ikeview derives the ESP keys from the DH secret and PSK alone, writes them as Wireshark tables
(`ikeview keys --wireshark`), and writes its own decryption (`ikeview decrypt`). tshark then
decrypts the original capture with our tables, and reads our output: for every ESP frame the
inner packet must be the same (addresses, protocol, ICMP type/sequence, payload bytes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lab_support import LAB, TSHARK_ESP_SCENARIOS

REPO = Path(__file__).resolve().parents[1]
FIELDS = ("frame.number", "ip.src", "ip.dst", "ip.proto", "icmp.type", "icmp.seq", "data.data")

pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]


def _ikeview(*args: str | Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "ikeview", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def _tshark(capture: Path, config: Path | None = None) -> dict[int, tuple[str, ...]]:
    """Per frame, the last (innermost) value of each field."""
    cmd = ["tshark", "-r", str(capture), "-T", "fields", "-E", "occurrence=l"]
    env = None
    if config is not None:
        env = {**os.environ, "WIRESHARK_CONFIG_DIR": str(config)}
        cmd += ["-o", "esp.enable_encryption_decode:TRUE", "-Y", "esp"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        rows[int(cols[0])] = tuple(cols[1:])
    return rows


@pytest.mark.parametrize("name", TSHARK_ESP_SCENARIOS)
def test_decrypted_esp_equals_tsharks(name: str, tmp_path: Path) -> None:
    capture, keys = LAB / name / "capture.pcap", LAB / name / "keys.toml"
    tables = tmp_path / "wireshark"
    _ikeview("keys", capture, "--keys", keys, "--wireshark", tables)
    theirs = _tshark(capture, tables)
    assert theirs, "tshark decrypted no ESP frame with our tables"
    out = tmp_path / "decrypted.pcap"
    _ikeview("decrypt", capture, "--keys", keys, "-o", out)
    ours = _tshark(out)
    for frame, inner in theirs.items():
        assert inner[3] in ("0", "8"), f"frame {frame}: tshark did not reach the ICMP inside"
        assert ours[frame] == inner, f"frame {frame}: ours {ours[frame]} != tshark {inner}"
