"""The summary fast path (ikeview/fastsummary.py) gives the same Summary as the reference
``summary.summarize`` on every capture in the repository and in ../shared (lab strongSwan
captures, Wireshark's and tcpdump's, Zeek's IKEv1, synthetic hostile ones, gzip and pcapng), on a
generated 30,000-packet capture, and with --ports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ikeview.dissectors.capture import CaptureError

from ikeview.fastsummary import summarize_fast
from ikeview.summary import summarize, to_json, to_text

REPO = Path(__file__).resolve().parent.parent
ROOTS = [REPO / "captures", REPO.parent / "shared" / "captures"]
CAPTURES = sorted(
    p
    for root in ROOTS
    if root.exists()
    for p in root.rglob("*")
    if p.is_file() and p.suffix in (".pcap", ".pcapng", ".cap", ".gz")
)


def _both(path: Path, ports: tuple[int, ...] = ()) -> tuple[object, object]:
    out = []
    for fn in (summarize, summarize_fast):
        try:
            s = fn(path, extra_ports=ports)
            out.append((to_json(s), list(to_text(s))))
        except CaptureError as exc:
            out.append(str(exc))
    return out[0], out[1]


def test_there_are_captures() -> None:
    assert len(CAPTURES) > 40


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_same_summary(path: Path) -> None:
    ref, fast = _both(path)
    assert fast == ref


def test_generated_capture_and_ports(tmp_path: Path) -> None:
    out = tmp_path / "g.pcap"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "make_capture.py"), "--packets", "30000",
         "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    for ports in ((), (4501,)):
        ref, fast = _both(out, ports)
        assert fast == ref
