"""The text report of four lab scenarios, compared line by line with tests/golden/report-*.txt.

Single-file golden snapshots, as tests/test_export_timeline.py keeps for the CSV timeline. Each
golden was written once from ``render_text`` and then read against the scenario's truth.json,
peer logs and ``tshark`` (frame times, message IDs, ESP SPIs and sequence numbers, the 80-byte
IKE_AUTH response of auth-failed). After an intended change to the report, regenerate with

    IKEVIEW_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_report_golden.py

and review ``git diff tests/golden/`` line by line against the same sources before committing.

Absolute paths (the capture, keys.toml) are written as ``<repo>/...`` so the goldens do not depend
on where the checkout lives.

Worth knowing when reading them: a basis is worded as the TUI words it, "read from the payloads"
(the JSON's ``decrypted``, which covers payloads sent in clear too: report-auth-failed-nokeys.txt
reads NAT-D from the cleartext IKE_SA_INIT with no key given). An encrypted response read without
keys shows as ``answered``, not ``ok``, and a refused child SA's missing responder SPI as ``none
(refused)``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from lab_support import Lab

from ikeview.report import render_text

REPO = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"

CASES = [
    pytest.param("auth-failed", False, id="auth-failed-nokeys"),
    pytest.param("no-proposal", True, id="no-proposal"),
    pytest.param("rekey-dpd", True, id="rekey-dpd"),
    pytest.param("esp-one-way", True, id="esp-one-way"),
]


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("IKEVIEW_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing {path}: run with IKEVIEW_UPDATE_GOLDEN=1"
    want = path.read_text()
    diff = "\n".join(difflib.unified_diff(want.splitlines(), text.splitlines(), "golden", "now"))
    assert text == want, f"{path.name} differs:\n{diff}"


@pytest.mark.parametrize(("scenario", "with_keys"), CASES)
def test_report_text_golden(lab: Callable[[str], Lab], scenario: str, with_keys: bool) -> None:
    sc = lab(scenario)
    analysis = sc.analysis if with_keys else sc.analysis_without_keys
    text = render_text(analysis).replace(str(REPO), "<repo>") + "\n"
    _check_golden(f"report-{scenario}{'' if with_keys else '-nokeys'}.txt", text)
