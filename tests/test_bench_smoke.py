"""The benches still run: each script that reaches into ikeview's internals (a range's worker,
the split fold, the TUI's loaded screen) run end to end on a tiny input, its exit status and
its report lines checked. Nothing is timed here: the figures are the benches' own business
(README, Speed); this only keeps a refactor from leaving a bench behind (bench_jobs's bound
once stopped with an ImportError after the unlocated ranges moved to ikeview.parunlocated)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lab_support import LAB

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _run(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_bench_jobs_runs(tmp_path: Path) -> None:
    out = _run(str(BENCH / "bench_jobs.py"), "20000", "--runs", "1", "--keep", str(tmp_path))
    for line in ("summary", "report --keys (GCM)", "decrypt -o (PSK)"):
        assert line in out
    assert "output identical" in out and "idle-machine bound" in out


def test_bench_tui_runs() -> None:
    d = LAB / "esp-loss-replay"
    out = _run(
        str(BENCH / "bench_tui.py"),
        "--capture",
        str(d / "capture.pcap"),
        "--keys",
        str(d / "keys.toml"),
    )
    for line in ("first screen", "loaded", "CPU: range processes", "report --json: wall"):
        assert line in out


def test_bench_write_floor_runs() -> None:
    out = _run(str(BENCH / "bench_write_floor.py"), "3000", "--runs", "1")
    for line in ("decrypt", "no write", "kernel write", "tshark", "ceiling"):
        assert line in out
