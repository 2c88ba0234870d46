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
from lab_support import lab_scenario

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


@pytest.mark.parametrize(
    "damage",
    ["cut-last-record", "zero-padding", "huge-length", "trailing-bytes", "big-endian-ns"],
)
def test_damaged_and_other_pcaps(tmp_path: Path, damage: str) -> None:
    """The mmap walk gives up where CaptureReader would report something, and the result (with
    the reader's damage note) is the reference's."""
    import struct

    data = lab_scenario("psk-aes256-sha256-modp2048").capture.read_bytes()
    if damage == "cut-last-record":
        data = data[:-20]
    elif damage == "zero-padding":
        data += bytes(16 * 20)
    elif damage == "huge-length":
        data += struct.pack("<IIII", 1, 0, 1 << 25, 60) + bytes(60)
    elif damage == "trailing-bytes":
        data += b"\x01\x02\x03"
    else:  # the same records, big-endian header and nanosecond times
        out = [struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)]
        off = 24
        while off < len(data):
            sec, usec, incl, orig = struct.unpack_from("<IIII", data, off)
            out.append(struct.pack(">IIII", sec, usec * 1000, incl, orig))
            out.append(data[off + 16 : off + 16 + incl])
            off += 16 + incl
        data = b"".join(out)
    path = tmp_path / f"{damage}.pcap"
    path.write_bytes(data)
    ref, fast = _both(path)
    assert fast == ref
