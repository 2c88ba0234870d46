"""mypy over the whole package, with the settings in pyproject.toml (strict on ikeview.pipeline
and ikeview.crypto).

mypy cannot follow setuptools' package-dir (dissectors/ and tui/ are ikeview.dissectors and
ikeview.tui), so it runs on a directory of links that lays the package out as installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy comes with the test extra: pip install -e '.[test]'")

REPO = Path(__file__).resolve().parents[1]
MAPPED = {"dissectors": REPO / "dissectors", "tui": REPO / "tui"}


def _installed_layout(root: Path) -> Path:
    pkg = root / "ikeview"
    pkg.mkdir(parents=True)
    for entry in (REPO / "ikeview").iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    for name, target in MAPPED.items():
        (pkg / name).symlink_to(target)
    return root


def test_mypy_passes(tmp_path: Path) -> None:
    root = _installed_layout(tmp_path / "src")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "-p",
            "ikeview",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
