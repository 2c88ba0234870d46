"""``--jobs N`` on captures nobody here wrote, and on every lab scenario: the same bytes out as
one pass.

tests/test_parallel.py holds the split's own cases on nine lab scenarios and generated
captures; this file runs the commands whole over the rest: Wireshark's and tcpdump's test
captures with the key tables their projects ship (``../shared/captures``), the public scapy and
Zeek captures, and each lab scenario not already there, with and without its keys. Every file
is split, however small (``MIN_SPLIT_BYTES`` at 0), so the ranges fall inside IKE exchanges,
fragments and TCP streams as they happen to; a file that cannot be split (gzip, pcapng with
interfaces declared late) goes through the one-pass fallback, which must give the same bytes
too. The expected output is one pass's (itself checked against tshark elsewhere).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from conftest import SHARED
from lab_support import LAB
from test_parallel import SCENARIOS

from ikeview.cli import main

CAPTURES = SHARED / "captures"
_WS = CAPTURES / "wireshark" / "profile"
_TCPDUMP = CAPTURES / "tcpdump"


def _keys_for(cap: Path) -> list[Path]:
    """The key tables each project ships for its own captures."""
    if cap.parent.name == "wireshark":
        return [_WS / "esp_sa", _WS / "ikev2_decryption_table"]
    if cap.parent.name == "tcpdump":
        if cap.name.startswith("ikev2pI2"):
            return [_TCPDUMP / "ikev2pI2-secrets.txt"]
        if "esp" in cap.name or "sunrise" in cap.name:
            return [_TCPDUMP / "esp-secrets.txt"]
    return []


def _shared() -> list[Path]:
    if not CAPTURES.is_dir():
        return []  # conftest's shared_dir fails the tests that need it
    return sorted(
        p
        for sub in ("wireshark", "tcpdump", "public", "synthetic")
        for p in (CAPTURES / sub).iterdir()
        if p.is_file() and (".pcap" in p.name or p.suffix == ".cap")
    )


def _lab_rest() -> list[str]:
    caps = [*LAB.glob("*/capture.pcap"), *LAB.glob("*/*/capture.pcap")]
    return sorted(
        name for c in caps if (name := c.parent.relative_to(LAB).as_posix()) not in SCENARIOS
    )


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def _stderr(text: str) -> list[str]:
    """stderr without the ``--jobs`` notes (why a capture was read in one pass)."""
    return [ln for ln in text.splitlines() if not ln.startswith("ikeview: --jobs")]


def _same(cap: Path, keys: list[Path], jobs: list[str], tmp: Path) -> None:
    karg = [a for k in keys for a in ("--keys", str(k))]
    runs: list[tuple[str, list[str], Path | None]] = [
        ("summary --json", ["summary", str(cap), "--json"], None),
        ("report", ["report", str(cap), *karg], None),
        ("report --json", ["report", str(cap), "--json", *karg], None),
        ("export --esp", ["export", str(cap), "--esp", *karg, "--csv"], tmp / "esp.csv"),
        ("export", ["export", str(cap), *karg, "--csv"], tmp / "timeline.csv"),
    ]
    if keys:
        runs.append(("decrypt", ["decrypt", str(cap), *karg, "-o"], tmp / "inner.pcap"))
    for what, argv, out in runs:
        seen = []
        for j in ["1", *jobs]:
            target = [str(out.with_suffix(f".{j}{out.suffix}"))] if out else []
            rc, text, err = _run([*argv, *target, "--jobs", j])
            body = Path(target[0]).read_bytes() if target and Path(target[0]).exists() else b""
            if target:  # each run writes a file of its own: its name aside
                text, err = text.replace(target[0], "OUT"), err.replace(target[0], "OUT")
            seen.append((rc, text, _stderr(err), body))
        assert all(s == seen[0] for s in seen[1:]), (what, [s[0] for s in seen])
    assert not list(tmp.glob(".ikeview-*"))


@pytest.mark.parametrize("cap", _shared(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shared_captures_same_output(cap: Path, split_small: None, tmp_path: Path) -> None:
    """Wireshark's, tcpdump's and the public captures, with their projects' keys where they
    ship them and without: ``--jobs 2`` and ``3`` give one pass's bytes."""
    keys = _keys_for(cap)
    _same(cap, [], ["2", "3"], tmp_path)
    if keys:
        _same(cap, keys, ["2", "3"], tmp_path)


@pytest.mark.parametrize("scenario", _lab_rest())
def test_every_lab_scenario_same_output(scenario: str, split_small: None, tmp_path: Path) -> None:
    """Each strongSwan/libreswan lab scenario (failures, rekeys, EAP, certificates, NAT, IPv6)
    not already in tests/test_parallel.py: with its keys (ranges located) and without."""
    d = LAB / scenario
    keys = [d / "keys.toml"] if (d / "keys.toml").is_file() else []
    _same(d / "capture.pcap", [], ["2"], tmp_path)
    if keys:
        _same(d / "capture.pcap", keys, ["2"], tmp_path)
