"""A plain, non-editable install works: the wheel holds every module and data file (the TUI's
stylesheet), and its ``ikeview`` command reads a lab capture.

The wheel is built from a copy of the sources (no build/ left in the checkout) without build
isolation (the test extra brings setuptools and wheel: nothing is downloaded). It is installed
into a fresh venv with no dependencies; the dependencies come from this venv's site-packages
through a .pth line (a path entry, so this venv's editable ikeview finder is not loaded).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("wheel", reason="the test extra brings wheel: pip install -e '.[test]'")

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "ikeview", "dissectors", "tui")
CAPTURE = REPO / "captures" / "lab" / "psk-aes256-sha256-modp2048" / "capture.pcap"


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, f"{cmd}: {run.stdout}{run.stderr}"
    return run


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheels")
    _run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
         "-q", "-w", out, cwd=src)  # fmt: skip
    (whl,) = out.glob("ikeview-*.whl")
    return whl


def test_wheel_holds_every_module_and_the_stylesheet(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for root, package in (("ikeview", "ikeview"), ("dissectors", "ikeview/dissectors"),
                          ("tui", "ikeview/tui")):  # fmt: skip
        base = REPO / root
        for path in base.rglob("*"):
            if path.suffix in (".py", ".tcss") and "__pycache__" not in path.parts:
                rel = path.relative_to(base).as_posix()
                assert f"{package}/{rel}" in names, f"{package}/{rel} missing from the wheel"
    assert "ikeview/tui/app.tcss" in names


def test_installed_wheel_runs_summary(wheel: Path, tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    py = env / "bin" / "python"
    site = Path(
        _run(
            py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
        ).stdout.strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index",
         "-q", wheel)  # fmt: skip
    where = _run(
        py, "-c",
        "import ikeview, ikeview.tui, pathlib; p = pathlib.Path(ikeview.tui.__file__).parent; "
        "print(ikeview.__file__); print(sorted(x.name for x in p.glob('*.tcss')))",
        cwd=tmp_path,  # not the checkout: `python -c` puts the current directory first
    ).stdout.splitlines()  # fmt: skip
    assert where[0].startswith(str(site)), where
    assert where[1] == "['app.tcss']"
    run = _run(env / "bin" / "ikeview", "summary", "--json", CAPTURE, cwd=tmp_path)
    summary = json.loads(run.stdout)
    # The charon logs' truth: the IKE messages the peers exchanged, with the SA's SPIi.
    truth = json.loads((CAPTURE.parent / "truth.json").read_text())
    assert len(summary["ike_messages"]) == len(truth["ike_messages"])
    assert {m["spi_i"] for m in summary["ike_messages"]} == {truth["ike_sas"][0]["spi_i"]}
