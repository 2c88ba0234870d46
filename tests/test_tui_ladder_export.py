"""``ikeview ladder --mermaid/--svg`` (issue #12): pictures for tickets, checked by rendering
the SVG to PNG (rsvg-convert) and reading the lanes and arrows back."""

from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tui_support import LAB

from ikeview.cli import main

SVG = "{http://www.w3.org/2000/svg}"


def test_mermaid_has_lanes_times_and_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    """auth-failed: two participants, the IKE_AUTH response drawn as a failed arrow with
    AUTHENTICATION_FAILED (frame 4 in the capture), and the SA's verdict as a note."""
    cap = LAB / "auth-failed"
    code = main(
        ["ladder", str(cap / "capture.pcap"), "--keys", str(cap / "keys.toml"), "--mermaid"]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert "    participant P0 as 192.0.2.1" in lines
    assert "    participant P1 as 192.0.2.2" in lines
    failed = [line for line in lines if "-xP0" in line]
    assert len(failed) == 1 and "IKE_AUTH #1 response" in failed[0]
    assert "AUTHENTICATION_FAILED" in failed[0]
    assert any(
        line.startswith("    Note over P0,P1: IKE SA ") and "FAILED" in line for line in lines
    )
    assert all(";" not in line for line in lines[1:])


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert not installed")
def test_svg_renders_to_png_with_both_lanes(tmp_path: Path) -> None:
    """rekey-dpd: the SVG parses, names both peers as lanes, has an arrow per IKE message and
    renders to a non-empty PNG of the SVG's size."""
    cap = LAB / "rekey-dpd"
    svg = tmp_path / "ladder.svg"
    assert (
        main(
            [
                "ladder",
                str(cap / "capture.pcap"),
                "--keys",
                str(cap / "keys.toml"),
                "--svg",
                "-o",
                str(svg),
            ]
        )
        == 0
    )
    root = ET.parse(svg).getroot()
    lanes = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "lane"]
    assert lanes == ["192.0.2.1", "192.0.2.2"]
    arrows = [line for line in root.iter(f"{SVG}line") if line.get("marker-end")]
    assert len(arrows) == 18  # IKE messages in the capture (tshark -Y isakmp: 18)
    png = tmp_path / "ladder.png"
    subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (int(root.get("width")), int(root.get("height")))  # type: ignore[arg-type]
    assert len(data) > 5000
