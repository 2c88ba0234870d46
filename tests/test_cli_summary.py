"""`ikeview summary` end to end, checked against tshark (via pyshark) on every shared capture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyshark_ike
import pytest
from lab_support import LAB

from ikeview import iana

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CAPTURES = sorted(
    p
    for p in (SHARED / "captures").rglob("*")
    if p.suffix in (".pcap", ".pcapng", ".gz") and p.is_file()
)
LAB_CAPTURES = sorted(LAB.glob("*/capture*.pcap"))


def run_summary(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ikeview", "summary", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def _tshark_ike(path: Path) -> dict[int, dict]:
    pytest.importorskip("pyshark")
    out: dict[int, dict] = {}
    for frame, f in pyshark_ike.read(path).items():
        if f["mjver"] != 2:
            continue
        out[frame] = {
            "spi_i": f["ispi"],
            "spi_r": f["rspi"],
            "exchange": f["exchangetype"],
            "message_id": f["messageid"],
            "flags": f["flags"],
            # typepayload also lists proposal (2) and transform (3) substructures.
            "payloads": [int(v, 0) for v in f["typepayload"] if int(v, 0) >= 33],
            "notifies": [int(v, 0) for v in f["notify_msgtype"]],
        }
    return out


@pytest.mark.tshark
@pytest.mark.parametrize("capture", CAPTURES + LAB_CAPTURES, ids=lambda p: p.name)
def test_summary_matches_tshark(capture: Path) -> None:
    run = run_summary("--json", str(capture))
    assert run.returncode == 0, run.stderr
    ours = {m["frame"]: m for m in json.loads(run.stdout)["ike_messages"] if m["ike_version"] == 2}
    theirs = _tshark_ike(capture)
    assert sorted(ours) == sorted(theirs), "IKEv2 frames differ from tshark's"
    for frame, t in theirs.items():
        m = ours[frame]
        assert (m["spi_i"], m["spi_r"]) == (t["spi_i"], t["spi_r"]), frame
        assert m["exchange"] == iana.EXCHANGE_TYPES.name(t["exchange"]), frame
        assert m["message_id"] == t["message_id"], frame
        assert m["initiator"] == bool(t["flags"] & 0x08), frame
        assert m["response"] == bool(t["flags"] & 0x20), frame
        assert m["notifies"] == [iana.NOTIFY_TYPES.name(n) for n in t["notifies"]], frame
        if m["error"] is None:
            assert m["payloads"] == [iana.PAYLOAD_TYPES.name(p) for p in t["payloads"]], frame


def test_summary_text_and_esp_lines(shared_dir: Path) -> None:
    run = run_summary(str(shared_dir / "captures/wireshark/esp-bug-12671.pcapng.gz"))
    assert run.returncode == 0, run.stderr
    esp = [line for line in run.stdout.splitlines() if line.startswith("ESP ")]
    assert len(esp) == 2
    assert any("spi=0x070883c2" in line and "packets=3" in line for line in esp)
    assert any("spi=0xc254fe64" in line and "packets=3" in line for line in esp)


def test_summary_json_is_stable(shared_dir: Path) -> None:
    run = run_summary("--json", str(shared_dir / "captures/tcpdump/ikev2four.pcap"))
    data = json.loads(run.stdout)
    assert data["version"] == 1
    assert set(data) == {
        "version",
        "capture",
        "ike_messages",
        "esp_sas",
        "nat_keepalives",
        "errors",
    }
    first = data["ike_messages"][0]
    assert first["exchange"] == "IKE_SA_INIT"
    assert first["initiator"] and not first["response"]
    second = data["ike_messages"][1]
    assert second["notifies"] == ["COOKIE"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent.pcap"], "cannot open: No such file"),
        (["/etc/hostname"], "not a pcap or pcapng capture"),
    ],
)
def test_summary_bad_input_is_one_line(args: list[str], message: str) -> None:
    run = run_summary(*args)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
