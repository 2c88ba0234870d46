"""``ikeview ladder -o`` writes through ikeview.outfile like every other output: it refuses to
write over the capture it reads (issue 15's rule, which the ladder command predates)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from lab_support import LAB


def test_ladder_refuses_to_overwrite_its_capture(tmp_path: Path) -> None:
    capture = tmp_path / "natt.pcap"
    shutil.copy(LAB / "natt" / "capture.pcap", capture)
    before = capture.read_bytes()
    run = subprocess.run(
        [sys.executable, "-m", "ikeview", "ladder", str(capture), "--mermaid", "-o", str(capture)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 1 and "refusing to write" in run.stderr
    assert capture.read_bytes() == before
    out = tmp_path / "ladder.md"
    ok = subprocess.run(
        [sys.executable, "-m", "ikeview", "ladder", str(capture), "--mermaid", "-o", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0 and out.read_text().startswith("sequenceDiagram")
