"""Pilot tests of every panel, the keys dialog, filter, export and help, on real captures."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

from ikeview.tui.app import make_app
from ikeview.tui.screens.dialogs import KeysScreen
from ikeview.tui.screens.help import HelpScreen
from ikeview.tui.screens.main import MainScreen
from ikeview.tui.widgets.esp_table import EspTable
from ikeview.tui.widgets.hexview import HexView
from ikeview.tui.widgets.ladder import Ladder
from ikeview.tui.widgets.message_view import PayloadTree
from ikeview.tui.widgets.proposals import proposals_text
from ikeview.tui.widgets.sa_tree import SaTree
from ikeview.tui.widgets.timing import TimingView
from textual.widgets import Input, Static, TabbedContent
from tui_support import LAB, SIZE, no_animations, sync  # noqa: F401 (autouse fixture)
from tui_support import loaded as settle

from ikeview.export import CLOCK_COLUMNS, COLUMNS, MARK_COLUMN


def lab_app(name: str, *, keys: bool = True):  # type: ignore[no-untyped-def]
    return make_app(LAB / name / "capture.pcap", keys=[LAB / name / "keys.toml"] if keys else [])


@sync
async def test_message_panel_payload_tree_and_hex_highlight() -> None:
    """Enter on IKE_AUTH opens the message: SK decrypted, integrity ok, AUTH verified; moving
    in the payload tree marks that payload's bytes in the hex view."""
    app = lab_app("rekey-dpd")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        ladder = screen.query_one(Ladder)
        ladder.focus()
        await pilot.press("j", "j")  # header row is disabled: 1 -> 3 (IKE_AUTH request)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "message"
        assert screen.message is not None and screen.message.exchange_name == "IKE_AUTH"
        tree = screen.query_one(PayloadTree)
        labels = [str(n.label) for n in _walk(tree.root)]
        assert any("decrypted" in s and "integrity ✓ ok" in s for s in labels)
        assert any(s.startswith("◆ AUTH") and "verified" in s for s in labels)
        # Move onto the first decrypted payload: its bytes in section 1 get marked.
        node = next(n for n in _walk(tree.root) if str(n.label).startswith("◆"))
        tree.focus()
        tree.move_cursor(node)
        await pilot.pause()
        hexview = screen.query_one(HexView)
        data = node.data
        assert data is not None and data.section == 1
        assert hexview.marked == (1, data.start, data.start + data.length)
        # The rebuilt message starts with the SPIs as on the wire.
        header = [str(n.label) for n in tree.root.children[0].children]
        assert any(screen.message.spi_i.hex() in line for line in header)


def _walk(node):  # type: ignore[no-untyped-def]
    yield node
    for child in node.children:
        yield from _walk(child)


@sync
async def test_proposals_panel_expands_combinations() -> None:
    """multi-proposal: proposal #2 offers 54 combinations; the chosen one is lit."""
    app = lab_app("multi-proposal")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "proposals"
        sa = screen.current_sa()
        text = proposals_text(sa).plain
        assert "54 combinations in priority order" in text
        chosen_lines = [ln for ln in text.splitlines() if "◀ chosen" in ln]
        # The IKE SA's combination first, then the child SA's (ESP) one.
        assert len(chosen_lines) == 2
        assert "51. AES-CBC-256/HMAC-SHA512-256/PRF-SHA384/MODP-2048" in chosen_lines[0]
        assert "AES-CBC-256/HMAC-SHA512-256" in chosen_lines[1]


@sync
async def test_timing_and_esp_panels() -> None:
    """Timing has one lane per ESP direction of the child SA on its time axis; the ESP table
    lists every packet of the child SA in frame order, decrypted, and G jumps to the last row."""
    app = lab_app("multi-proposal")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        await pilot.press("4")
        await pilot.pause()
        body = str(screen.query_one(TimingView).query_one("#timing-body", Static).render())
        assert sum(1 for line in body.splitlines() if line.lstrip().startswith("ESP ")) == 2
        await pilot.press("5")
        await pilot.pause()
        table = screen.query_one(EspTable)
        sa = screen.current_sa()
        assert table.view is not None and sa is not None
        assert len(table.view) == sa.child_sas[0].esp_packets == 6
        frames = [table.view.row(i).frame for i in range(len(table.view))]
        assert frames == sorted(frames)
        assert all(table.view.row(i).status == 1 for i in range(len(table.view)))
        table.focus()
        await pilot.press("G")
        assert table.cursor == 5
        await pilot.press("k", "g")
        assert table.cursor == 0
        await pilot.press("k")  # up on the first row stays there (no jump to the last)
        assert table.cursor == 0


@sync
async def test_keys_dialog_file_reruns_analysis() -> None:
    """Loaded without keys nothing decrypts; a keys file given in the dialog re-runs it."""
    app = lab_app("gcm16-ecp256", keys=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.analysis is not None and screen.analysis.counters.ike_decrypted == 0
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)
        assert app.screen.query_one("#psk", Input).password
        assert app.screen.query_one("#dh", Input).password
        app.screen.query_one("#keyfile", Input).value = str(LAB / "gcm16-ecp256" / "keys.toml")
        app.screen.query_one("#keyfile", Input).focus()
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.analysis is not None and screen.analysis.counters.ike_decrypted > 0


@sync
async def test_keys_dialog_typed_secrets() -> None:
    """A PSK and a DH shared secret typed (masked) in the dialog decrypt and verify AUTH."""
    keys = tomllib.loads((LAB / "gcm16-ecp256" / "keys.toml").read_text())
    app = lab_app("gcm16-ecp256", keys=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("K")
        await pilot.pause()
        app.screen.query_one("#psk", Input).value = keys["psk"][0]["secret"]
        app.screen.query_one("#dh", Input).value = keys["dh"][0]["shared_secret"]
        await pilot.click("#apply")
        screen = await settle(pilot)
        sa = screen.analysis.ike_sas[0]  # type: ignore[union-attr]
        assert screen.analysis.counters.ike_decrypted > 0  # type: ignore[union-attr]
        assert [a.verified for a in sa.auth] == [True, True]


@sync
async def test_keys_dialog_rejects_bad_hex() -> None:
    """A DH secret that is not hex is a notification; the dialog stays open."""
    app = lab_app("gcm16-ecp256", keys=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("K")
        await pilot.pause()
        app.screen.query_one("#dh", Input).value = "not hex"
        await pilot.click("#apply")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)
        assert any(n.severity == "error" for n in app._notifications)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


@sync
async def test_filter_by_spi_and_text() -> None:
    """rekey-dpd: a prefix of the second SA's SPIi keeps only it; escape clears the filter."""
    app = lab_app("rekey-dpd")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        tree = screen.query_one(SaTree)
        assert len(tree.root.children) == 2
        second = screen.analysis.ike_sas[1]  # type: ignore[union-attr]
        await pilot.press("slash")
        for ch in second.spi_i.hex()[:6]:
            await pilot.press(ch)
        await pilot.pause()
        assert len(tree.root.children) == 1
        assert tree.root.children[0].data.spis == second.spis  # type: ignore[union-attr]
        await pilot.press("escape")
        await pilot.pause()
        assert len(tree.root.children) == 2
        screen.query_one("#filter", Input).value = "no such thing anywhere"
        await pilot.pause()
        assert "no IKE SA matches" in str(tree.root.children[0].label)


@sync
async def test_export_timeline_csv(tmp_path: Path) -> None:
    """e asks for a path and writes the core's timeline CSV there, with the clock shown and
    the marks after the CLI's columns."""
    app = lab_app("rekey-dpd")
    out = tmp_path / "timeline.csv"
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(out)
        await pilot.press("enter")
        await settle(pilot)
        rows = list(csv.reader(out.open()))
        assert tuple(rows[0]) == (*COLUMNS, *CLOCK_COLUMNS, MARK_COLUMN)
        messages = sum(len(sa.messages) for sa in screen.analysis.ike_sas)  # type: ignore[union-attr]
        assert len(rows) - 1 == messages
        assert any(n.title == "exported" for n in app._notifications)


@sync
async def test_export_to_bad_path_is_a_notification(tmp_path: Path) -> None:
    """Writing into a directory that does not exist is reported, not a crash."""
    app = lab_app("rekey-dpd")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#export-path", Input).value = str(tmp_path / "no" / "x.csv")
        await pilot.press("enter")
        await settle(pilot)
        assert any(n.title == "export failed" for n in app._notifications)
        assert app.is_running


@sync
async def test_help_screen_and_tabs_by_number() -> None:
    """? opens the help listing the bindings; escape closes it; 1-6 switch panels."""
    app = lab_app("natt")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        for key, tab in zip(
            "654321",
            reversed(("ladder", "message", "proposals", "timing", "esp", "problems")),
            strict=True,
        ):
            await pilot.press(key)
            assert screen.query_one(TabbedContent).active == tab


@sync
async def test_tree_keeps_selection_when_redrawn_and_mouse_selects() -> None:
    """A new snapshot redraws the tree with the cursor still on the chosen SA; a click on a
    ladder arrow opens that message's details (mouse support)."""
    app = lab_app("rekey-dpd")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        tree = screen.query_one(SaTree)
        second = tree.root.children[1]
        tree.focus()
        tree.move_cursor(second)
        await pilot.pause()
        assert screen.selected is not None and screen.selected.spis == second.data.spis  # type: ignore[union-attr]
        tree._signature = ()  # as if the analysis changed: force a rebuild
        tree.update_from(screen.analysis, screen.filter, screen.selected)  # type: ignore[arg-type]
        await pilot.pause()
        assert tree.cursor_node is not None and tree.cursor_node.data == screen.selected
        ladder = screen.query_one(Ladder)
        await pilot.click(Ladder, offset=(30, 5))  # second option: the first message's arrow
        await pilot.pause()
        assert screen.message is not None
        assert screen.message.frame == ladder.message_at(ladder.highlighted).frame  # type: ignore[union-attr]
