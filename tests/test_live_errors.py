"""``ikeview live`` refusing to start, and its parts that need no interface: one clear line on
stderr and the documented exit code (3 without privileges, 1 for a missing interface), never a
traceback; the BPF filter text; the pcap writer read back by our reader and tshark.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ikeview.dissectors.capture import read_capture
from test_live_support import REPO, ikeview_cmd, needs_root, tshark_frames

from ikeview.livecap import bpf_filter, check_interface
from ikeview.pcapfile import PcapWriter

NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_missing_interface_is_one_line_exit_1() -> None:
    proc = subprocess.run(
        ikeview_cmd("live", "-i", "ikvnosuch0"), capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert _one_line(proc.stderr).startswith("ikeview: no network interface named 'ikvnosuch0'")


@pytest.fixture(scope="module")
def nobody_python() -> Iterator[list[str]]:
    """A command line that runs ``python -m ikeview`` from this checkout as user nobody.

    The checkout may sit where nobody cannot read it (/root), so ikeview/ and dissectors/ are
    copied to a world-readable folder; ikeview.dissectors is found there the way the package-dir
    mapping of pyproject.toml finds it (a second entry on ikeview.__path__).
    """
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to user nobody")
    root = Path(tempfile.mkdtemp(prefix="ikvlive-nobody-"))
    try:
        for pkg in ("ikeview", "dissectors"):
            shutil.copytree(REPO / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
        for d, _dirs, files in os.walk(root):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)
        boot = (
            f"import sys; sys.path.insert(0, {str(root)!r}); import ikeview; "
            f"ikeview.__path__.append({str(root)!r}); from ikeview.cli import main; "
            "raise SystemExit(main(sys.argv[1:]))"
        )
        # The test's own interpreter may live where nobody cannot read (pyenv under /root).
        for python in dict.fromkeys([sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"]):
            cmd = [*NOBODY, python, "-c", boot]
            probe = subprocess.run([*cmd, "--version"], capture_output=True, text=True, cwd="/")
            if probe.returncode == 0:
                yield cmd
                break
        else:
            pytest.skip("no Python interpreter that user nobody can run ikeview with")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.root
@needs_root
def test_unprivileged_user_is_one_line_exit_3(nobody_python: list[str]) -> None:
    proc = subprocess.run(
        [*nobody_python, "live", "-i", "lo", "--timeout", "1"],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    assert _one_line(proc.stderr).startswith("ikeview: capturing on lo needs root or CAP_NET_RAW")


@pytest.mark.root
@needs_root
def test_unprivileged_user_missing_interface_exit_1(nobody_python: list[str]) -> None:
    proc = subprocess.run(
        [*nobody_python, "live", "-i", "ikvnosuch0"], capture_output=True, text=True, cwd="/"
    )
    assert proc.returncode == 1
    assert _one_line(proc.stderr).startswith("ikeview: no network interface named")


@pytest.mark.root
@needs_root
def test_root_without_cap_net_raw_is_exit_3() -> None:
    # Root whose capability bounding set lacks CAP_NET_RAW (as in a restricted container).
    cmd = ["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw"]
    proc = subprocess.run(
        [*cmd, *ikeview_cmd("live", "-i", "lo", "--timeout", "1")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 3, proc.stderr
    assert "lacks" in _one_line(proc.stderr)


def test_filter_text() -> None:
    text = bpf_filter([4501, 500])
    for part in ("port 500", "port 4500", "port 4501", "esp", "ip[6:2] & 0x3fff != 0", "vlan"):
        assert part in text
    assert text.count("port 500 ") + text.count("port 500)") == 2  # ports not repeated


def test_loopback_linktype() -> None:
    assert check_interface("lo") == 1


def test_pcap_writer_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "w.pcap"
    frames = [bytes(range(60)), b"\xff" * 1514, b"\x00" * 42]
    w = PcapWriter(out.open("wb"), 1, flush_each=True)
    for i, data in enumerate(frames):
        w.write_record(1_800_000_000 + i, 999_999 - i, data, len(data))
    w.close()
    with read_capture(out) as reader:
        got = list(reader)
    assert [f.data for f in got] == frames
    assert got[0].ts == 1_800_000_000 + 999_999 * 1e-6
    if shutil.which("tshark"):
        assert tshark_frames(out) == frames
