"""``report --time``: one capture time, written on the clock asked for. The rekey request of
rekey-dpd (frame 17) is checked against tshark's own epoch time for that frame."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from lab_support import LAB

CAPTURE = LAB / "rekey-dpd" / "capture.pcap"
KEYS = LAB / "rekey-dpd" / "keys.toml"


def _report(clock: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "ikeview", "report", str(CAPTURE), "--keys", str(KEYS),
         "--time", clock],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.mark.tshark
def test_utc_clock_matches_tshark_frame_time() -> None:
    epoch = subprocess.run(
        ["tshark", "-r", str(CAPTURE), "-Y", "frame.number == 17", "-T", "fields",
         "-e", "frame.time_epoch"],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    when = datetime.fromtimestamp(float(epoch), UTC).strftime("%H:%M:%S.%f")
    row = next(line for line in _report("utc").splitlines() if line.startswith("    17,18 "))
    assert when in row and "CREATE_CHILD_SA" in row
    assert "times are UTC wall-clock" in _report("utc")


def test_sa_clock_starts_each_sa_at_zero() -> None:
    text = _report("sa")
    seen = [line for line in text.splitlines() if line.startswith("  seen ")]
    assert len(seen) == 2 and all(line.startswith("  seen +0.000000s") for line in seen)
