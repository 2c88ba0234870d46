"""The short fuzz run CI makes: each atheris target for 2,000 inputs from its seed corpus
(every capture and keys file in captures/ and ../shared/captures/). A finding fails the test
and leaves its ``crash-*`` input in the temporary directory named in the output; the long run
is described in the README ("Fuzzing")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("target", ["capture", "ikev2", "keys", "decrypt"])
def test_short_fuzz_run_finds_nothing(target: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "fuzz.run", target, "-runs=2000", "-max_total_time=20",
         f"-artifact_prefix={tmp_path}/"],
        cwd=REPO, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "DONE" in run.stderr or "Done" in run.stderr, run.stderr[-2000:]
    assert not list(tmp_path.glob("crash-*"))
