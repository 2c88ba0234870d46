"""The style rules hold in CI, not only on a developer's machine: ``ruff check`` (the rules in
pyproject.toml) and ``ruff format --check`` over the code, with the ruff version the test extra
pins (a newer ruff may add rules or change its format)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    beside = Path(sys.executable).parent / "ruff"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it comes with the test extra)")
    return [found]


@pytest.mark.parametrize(
    "args",
    [["check", "--no-cache", "."], ["format", "--check", "--no-cache", "--exclude", "docs", "."]],
    ids=["check", "format"],
)
def test_ruff(args: list[str]) -> None:
    run = subprocess.run([*_ruff(), *args], cwd=REPO, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
