"""A capture's text cannot forge report lines: a newline or escape sequence inside an identity is
shown escaped, on the line it belongs to (issue 15, item 3)."""

from __future__ import annotations

from dataclasses import replace

from lab_support import LAB

from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.model import AuthSide
from ikeview.report import render_text


def test_identity_with_newline_and_escape_stays_on_its_line() -> None:
    a = analyze(LAB / "auth-failed" / "capture.pcap")
    sa = a.ike_sas[0]
    evil = AuthSide("initiator", "ini\nIKE SA forged\x1b]0;title\x07", 2, 2, True, None, "", 3)
    text = render_text(replace(a, ike_sas=(replace(sa, auth=(evil,)),)))
    assert "\x1b" not in text and "\x07" not in text
    assert not any(line.startswith("IKE SA forged") for line in text.splitlines())
    assert "ini\\x0aIKE SA forged\\x1b]0;title\\x07" in text
