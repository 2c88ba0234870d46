"""Verdicts in the TUI (issue #12): one outcome line per SA from the diagnosis, the Problems
tab grouped by SA with each fix, an ESP finding jumping to its ESP packet."""

from __future__ import annotations

from dataclasses import replace

from ikeview.tui.app import make_app
from ikeview.tui.verdicts import outcome_text, problem_entries
from ikeview.tui.widgets.esp_table import EspTable
from ikeview.tui.widgets.problems import ProblemsView
from ikeview.tui.widgets.sa_tree import SaTree
from textual.widgets import TabbedContent
from tui_support import LAB, SIZE, lab_keys, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview.diagnosis.records import Diagnosis, Finding
from ikeview.pipeline.analyze import analyze


def test_hand_built_diagnosis_grouped_with_fix() -> None:
    """A hand-built failed diagnosis: the SA line says outcome and basis once; its finding
    comes under the SA header with its fix."""
    a = analyze(LAB / "gcm16-ecp256" / "capture.pcap")
    finding = Finding(
        "authentication-failed",
        "error",
        (3, 4),
        "decrypted",
        "the responder rejected the initiator's AUTH (frame 4)",
        "use the same PSK on both sides",
    )
    d = Diagnosis("failed", "decrypted", (finding,), "FAILED      the responder rejected AUTH")
    sa = replace(a.ike_sas[0], diagnosis=d)
    line = outcome_text(sa).plain
    assert line == "failed (read from the payloads): the responder rejected AUTH"
    entries = problem_entries(replace(a, ike_sas=(sa,), problems=()))
    plain = [e.text.plain for e in entries]
    assert plain[0].startswith(f"IKE SA {sa.label}")
    assert "the responder rejected the initiator's AUTH (frame 4)" in plain[1]
    assert plain[2].strip() == "fix: use the same PSK on both sides"
    assert entries[1].target is not None and entries[1].target.frame == 4


def test_lab_verdict_lines_never_contradict() -> None:
    """Every lab capture: the tree's verdict line is one line, and no SA reads both
    'established' and 'not established'."""
    for cap in sorted(LAB.glob("*/capture.pcap")):
        a = analyze(cap, lab_keys(cap.parent))
        for sa in a.ike_sas:
            line = outcome_text(sa).plain
            assert "\n" not in line
            assert not ("established" in line.split(":")[0] and "not established" in line)


@sync
async def test_tree_shows_verdict_and_esp_finding_jumps_to_esp_row() -> None:
    """esp-one-way: the tree shows the diagnosis outcome; the child SA's one-way ESP finding
    (last frame 9, an ESP packet) opens the ESP tab on that packet instead of a warning."""
    cap = LAB / "esp-one-way"
    async with make_app(cap / "capture.pcap", keys=[cap / "keys.toml"]).run_test(
        size=SIZE
    ) as pilot:
        screen = await loaded(pilot)
        sa = screen.analysis.ike_sas[0]  # type: ignore[union-attr]
        tree = screen.query_one(SaTree)
        leaves = [str(n.label) for n in tree.root.children[0].children]
        assert sum(1 for s in leaves if s.startswith(f"{sa.diagnosis.outcome} (")) == 1
        assert not any(s == "not established" for s in leaves)
        await pilot.press("6")
        view = screen.query_one(ProblemsView)
        view.focus()
        view.highlighted = view.index_of(9)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "esp"
        table = screen.query_one(EspTable)
        assert table.view is not None and table.view.row(table.cursor).frame == 9
        assert screen.focused is table
