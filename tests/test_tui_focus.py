"""Pilot tests of focus: where enter, Tab, digits and clicks leave the user (issue #12)."""

from __future__ import annotations

from pathlib import Path

from ikeview.tui.app import make_app
from ikeview.tui.screens.main import TABS
from ikeview.tui.widgets.ladder import Ladder
from ikeview.tui.widgets.message_view import PayloadTree
from ikeview.tui.widgets.sa_tree import SaTree
from textual.widgets import TabbedContent
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)


def lab(name: str) -> tuple[Path, list[Path]]:
    return LAB / name / "capture.pcap", [LAB / name / "keys.toml"]


@sync
async def test_enter_on_ladder_focuses_payload_tree_and_j_moves() -> None:
    """Enter on a ladder row opens the Message tab with the payload tree focused; j moves."""
    capture, keys = lab("rekey-dpd")
    async with make_app(capture, keys=keys).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        ladder = screen.query_one(Ladder)
        ladder.focus()
        await pilot.press("j", "enter")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "message"
        tree = screen.query_one(PayloadTree)
        assert screen.focused is tree
        before = tree.cursor_line
        await pilot.press("j")
        assert tree.cursor_line == before + 1


@sync
async def test_tab_never_lands_in_filter() -> None:
    """Tab cycles the panes (tree, payload tree, hex) and never reaches the filter or tab strip;
    the payload tree is one Tab from the SA tree."""
    capture, keys = lab("rekey-dpd")
    async with make_app(capture, keys=keys).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("2")
        screen.query_one(SaTree).focus()
        await pilot.pause()
        await pilot.press("tab")
        assert screen.focused is screen.query_one(PayloadTree)
        seen = set()
        for _ in range(5):
            await pilot.press("tab")
            seen.add(screen.focused.id if screen.focused else None)
        assert "filter" not in seen and None not in seen
        n_sas = len(screen.analysis.ike_sas)  # type: ignore[union-attr]
        await pilot.press("j")
        assert screen.query_one("#filter").value == ""  # type: ignore[attr-defined]
        assert len(screen.query_one(SaTree).root.children) == n_sas
        # / still reaches the filter.
        await pilot.press("slash")
        assert screen.focused is not None and screen.focused.id == "filter"


@sync
async def test_digits_switch_tabs_from_every_pane() -> None:
    """1-6 switch tabs whichever pane has the focus (payload tree and hex view included)."""
    capture, keys = lab("rekey-dpd")
    async with make_app(capture, keys=keys).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        panels = screen.query_one(TabbedContent)
        for start in ("#payload-tree", "#hex", "#sas", "#ladder-view", "#esp-table"):
            for digit, tab in enumerate(TABS, start=1):
                if start in ("#payload-tree", "#hex"):
                    await pilot.press("2")
                elif start == "#esp-table":
                    await pilot.press("5")
                screen.query_one(start).focus()
                await pilot.pause()
                await pilot.press(str(digit))
                await pilot.pause()
                assert panels.active == tab, (start, digit)


@sync
async def test_single_click_on_ladder_row_selects_and_stays() -> None:
    """A single click highlights the row and stays on the ladder; the message follows."""
    capture, keys = lab("rekey-dpd")
    async with make_app(capture, keys=keys).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        ladder = screen.query_one(Ladder)
        # Row 3 of the ladder (under the header line): click on its arrow line.
        region = ladder.content_region
        await pilot.click(Ladder, offset=(20, 1 + 3 * 2 + 1))
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "ladder"
        assert ladder.highlighted is not None and ladder.highlighted > 1
        assert screen.message is ladder.message_at(ladder.highlighted)
        assert region.width > 0


@sync
async def test_focus_is_visible_on_every_pane() -> None:
    """Each pane draws its focus bar in another colour when it holds the focus."""
    capture, keys = lab("rekey-dpd")
    async with make_app(capture, keys=keys).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        for digit, selector in (
            (1, "#ladder-view"),
            (2, "#payload-tree"),
            (2, "#hex"),
            (3, "#proposals-view"),
            (5, "#esp-table"),
            (6, "#problems-view"),
        ):
            await pilot.press(str(digit))
            widget = screen.query_one(selector)
            screen.query_one(SaTree).focus()
            await pilot.pause()
            blurred = widget.styles.border_left
            widget.focus()
            await pilot.pause()
            assert widget.styles.border_left != blurred, selector


@sync
async def test_palette_names_keys_apart() -> None:
    """The command palette offers "Key bindings" (Textual's panel) and "Decryption keys (K)"
    (ours); no entry is called just "Keys"."""
    capture, keys = lab("rekey-dpd")
    app = make_app(capture, keys=keys)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Keys" not in titles
        assert "Key bindings" in titles and "Decryption keys (K)" in titles
