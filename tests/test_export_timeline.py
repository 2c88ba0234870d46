"""The CSV timeline: one row per IKE message (plus per ESP SPI), checked against a golden file.

Golden single-file snapshots in the manner of harlequin's test_golden_formats: the CSV of a real
capture is compared byte for byte with tests/golden/. After an intended change, regenerate with
``IKEVIEW_UPDATE_GOLDEN=1 python -m pytest tests/test_export_timeline.py`` and review the diff.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from lab_support import Lab

from ikeview.export import COLUMNS, timeline, write_csv
from ikeview.pipeline.analyze import analyze

GOLDEN = Path(__file__).resolve().parent / "golden"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("IKEVIEW_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing {path}: run with IKEVIEW_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_golden_ikev2four_csv(shared_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    write_csv(analyze(shared_dir / "captures/tcpdump/ikev2four.pcap"), out)
    _check_golden("ikev2four-timeline.csv", out.read_text())


def test_rows_and_columns(shared_dir: Path) -> None:
    df = timeline(analyze(shared_dir / "captures/tcpdump/ikev2four.pcap"))
    assert tuple(df.columns) == COLUMNS
    assert list(df["frame"]) == list(range(1, 22))
    assert set(df["record"]) == {"IKE"}
    row3 = df[df["frame"] == 3].iloc[0]
    assert row3["retransmission"] == "other-bytes" and row3["original_frame"] == 1
    row9 = df[df["frame"] == 9].iloc[0]
    assert row9["kind"] == "response" and row9["message_id"] == 2
    assert row9["delta_to_request"] == pytest.approx(0.047270 - 0.041605, abs=2e-6)
    assert df["rel_time"].iloc[0] == 0.0


def test_esp_rows_and_stdout(capsys: pytest.CaptureFixture[str], lab: Callable[[str], Lab]) -> None:
    a = lab("rekey-dpd").analysis
    write_csv(a, "-", esp=True)
    df = pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"esp_spi": str})
    esp = df[df["record"] == "ESP"]
    assert sorted(esp["esp_spi"]) == ["0c95ce69", "236a6c4e", "24c60154", "ce8aaa23"]
    assert esp["esp_packets"].sum() == 14 and esp["esp_decrypted"].sum() == 14
    assert (df[df["record"] == "IKE"]["integrity"].dropna() == "ok").all()
    assert list(df["rel_time"]) == sorted(df["rel_time"])


def test_pandas_stays_out_of_the_core() -> None:
    import subprocess
    import sys

    code = "import sys, ikeview.report, ikeview.pipeline.analyze; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


LAB = Path(__file__).resolve().parents[1] / "captures" / "lab"
LAB_NAMES = sorted(p.parent.name for p in LAB.glob("*/truth.json"))


@pytest.mark.parametrize("name", LAB_NAMES)
def test_csv_is_pandas_text(name: str, lab: Callable[[str], Lab], tmp_path: Path) -> None:
    """write_csv (the csv module, no pandas) writes exactly what pandas' to_csv writes for the
    timeline DataFrame, on every lab capture: with and without ESP rows, each kind of clock
    (float and text columns) and marks, so the DataFrame stays the reference."""
    scenario = lab(name)
    variants: list[dict[str, object]] = [
        {},
        {"esp": True, "clock": "sa", "marks": {1, 3}},
        {"esp": True, "clock": "utc"},
        {"clock": "delta"},
    ]
    for a in (scenario.analysis, scenario.analysis_without_keys):
        for kw in variants:
            out = tmp_path / "t.csv"
            write_csv(a, out, **kw)  # type: ignore[arg-type]
            expected = timeline(a, **kw).to_csv(  # type: ignore[arg-type]
                index=False, float_format="%.6f", lineterminator="\n"
            )
            assert out.read_text(encoding="utf-8") == expected, (name, kw)


def test_csv_is_pandas_text_on_shared_captures(shared_dir: Path, tmp_path: Path) -> None:
    """The same equality on the shared tcpdump/Wireshark captures (other peers, odd payloads)."""
    paths = sorted(
        p for p in (shared_dir / "captures").glob("*/*") if ".pcap" in p.name or p.suffix == ".cap"
    )
    assert paths
    for path in paths:
        try:
            a = analyze(path)
        except Exception:  # a capture the CLI reports as unreadable has no timeline
            continue
        out = tmp_path / "t.csv"
        write_csv(a, out, esp=True, clock="capture")
        expected = timeline(a, esp=True, clock="capture").to_csv(
            index=False, float_format="%.6f", lineterminator="\n"
        )
        assert out.read_text(encoding="utf-8") == expected, path.name
