"""The diagnosis in the views: the text report's verdict lines and findings, `report --json`
(docs/report-json.md) and the CSV columns, on real lab captures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lab_support import LAB

from ikeview.diagnosis.codes import CODES
from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.model import Analysis
from ikeview.report import render_text, to_json

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def run(name: str, *, keys: bool) -> Analysis:
    d = LAB / name
    return analyze(d / "capture.pcap", load_keys([d / "keys.toml"]) if keys else None)


def test_text_opens_each_sa_with_its_verdict() -> None:
    text = render_text(run("auth-failed", keys=True))
    lines = text.splitlines()
    head = next(line for line in lines if line.startswith("IKE SA "))
    assert re.search(
        r"  FAILED +the responder rejected the initiator's AUTH \(frame 4\): the PSK you gave",
        head,
    )
    assert "    error   psk-mismatch  (frames 3,4; read from the payloads)" in lines
    assert any(line.strip().startswith("strongSwan: ") for line in lines)


def test_text_child_sa_verdict_and_both_directions() -> None:
    text = render_text(run("asym-psk", keys=True))
    assert re.search(r"ESTABLISHED +set up", text)
    assert re.search(r"SPI 0x239f7162 192\.0\.2\.1 > 192\.0\.2\.2 \(UDP\): 3 packets", text)
    assert re.search(r"SPI 0x57e87866 192\.0\.2\.2 > 192\.0\.2\.1 \(UDP\): 3 packets", text)


@pytest.mark.parametrize(
    ("name", "keys"),
    [("auth-failed", False), ("auth-failed", True), ("no-proposal", True),
     ("invalid-ke", False), ("3des-sha1-modp1024", True), ("rekey-dpd", True)],
)  # fmt: skip
def test_json_diagnosis_on_every_sa(name: str, keys: bool) -> None:
    doc = to_json(run(name, keys=keys))
    json.dumps(doc)
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", (DOCS / "report-json.md").read_text(),
                                re.MULTILINE))  # fmt: skip
    for sa in doc["ike_sas"]:
        d = sa["diagnosis"]
        assert d["outcome"] in ("established", "failed", "incomplete", "unknown")
        assert d["basis"] in ("decrypted", "inferred") and d["verdict"]
        for c in sa["child_sas"]:
            assert c["diagnosis"]["verdict"]
        kids = [f for c in sa["child_sas"] for f in c["diagnosis"]["findings"]]
        for f in [*d["findings"], *kids]:
            assert f["code"] in CODES
            assert set(f) <= documented, set(f) - documented
    for p in doc["problems"]:
        assert "code" in p


def test_json_auth_failed_keyless() -> None:
    (sa,) = to_json(run("auth-failed", keys=False))["ike_sas"]
    d = sa["diagnosis"]
    assert (d["outcome"], d["basis"]) == ("failed", "inferred")
    (f,) = [f for f in d["findings"] if f["code"] == "authentication-failed"]
    assert f["rejected_by"] == "responder" and f["frames"] == [3, 4]


def test_every_code_is_documented() -> None:
    doc = (DOCS / "diagnosis.md").read_text()
    headings = set(re.findall(r"^### `([a-z0-9-]+)`", doc, re.MULTILINE))
    # The config-* codes come from checks against a device configuration, documented with them.
    ours = {name: c for name, c in CODES.items() if not name.startswith("config-")}
    assert headings == set(ours)
    for name, c in ours.items():
        section = doc.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        assert c.rfc in section, name
        assert "Example" in section, f"{name}: no example"


def test_csv_verdict_and_codes() -> None:
    """export --csv: each IKE row carries its SA's outcome and the codes resting on its frame;
    ESP rows their child SA's (esp-one-way: the busy SPI's row names the finding)."""
    from ikeview.export import timeline

    df = timeline(run("auth-failed", keys=False))
    rows = {int(r.frame): r for r in df.itertuples()}
    assert {rows[f].verdict for f in rows} == {"failed"}
    assert rows[4].codes == "authentication-failed"
    esp = timeline(run("esp-one-way", keys=True), esp=True)
    (busy,) = esp[esp["record"] == "ESP"].itertuples()
    assert busy.verdict == "established" and "esp-one-way" in busy.codes
