"""Pilot tests of the Problems tab: enter on a problem that names a frame jumps to that message
(its IKE SA in the tree, its message in the ladder and the message panel), on real captures."""

from __future__ import annotations

from pathlib import Path

from ikeview.tui.app import make_app
from ikeview.tui.screens.main import MainScreen
from ikeview.tui.widgets.ladder import Ladder
from ikeview.tui.widgets.problems import ProblemsView
from ikeview.tui.widgets.sa_tree import NodeRef, SaTree
from textual.pilot import Pilot
from textual.widgets import Input, TabbedContent
from tui_support import LAB, SIZE, no_animations, sync  # noqa: F401 (autouse fixture)
from tui_support import loaded as settle


async def choose_problem(pilot: Pilot, screen: MainScreen, frame: int) -> None:
    """Open the Problems tab, move to the first problem naming ``frame`` and press enter."""
    await pilot.press("6")
    view = screen.query_one(ProblemsView)
    view.focus()
    index = view.index_of(frame)
    assert index is not None, f"no problem names frame {frame}"
    view.highlighted = index
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()


def assert_at(screen: MainScreen, spis: tuple[bytes, bytes], frame: int) -> None:
    """The tree, the ladder and the message panel all point at ``frame`` of IKE SA ``spis``."""
    assert screen.query_one(TabbedContent).active == "ladder"
    assert screen.selected == NodeRef(spis)
    tree = screen.query_one(SaTree)
    assert tree.cursor_node is not None and tree.cursor_node.data == NodeRef(spis)
    ladder = screen.query_one(Ladder)
    highlighted = ladder.message_at(ladder.highlighted)
    assert highlighted is not None and highlighted.frame == frame
    assert screen.message is not None and screen.message.frame == frame
    assert ladder.has_focus


@sync
async def test_problem_jumps_to_its_message_in_the_other_ike_sa() -> None:
    """no-proposal: two IKE SAs; the second SA's NO_PROPOSAL_CHOSEN (frame 8) is the second
    error; enter on it selects that SA, although the first one was shown."""
    app = make_app(LAB / "no-proposal" / "capture.pcap", keys=[LAB / "no-proposal" / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.analysis is not None
        first, second = screen.analysis.ike_sas
        assert screen.selected == NodeRef(first.spis)
        await choose_problem(pilot, screen, 8)
        assert_at(screen, second.spis, 8)
        await pilot.press("6")
        await choose_problem(pilot, screen, 4)  # and back: the first SA's warning at frame 4
        assert_at(screen, first.spis, 4)


@sync
async def test_problem_jump_clears_a_filter_hiding_its_sa() -> None:
    """A filter that hides the problem's IKE SA is cleared, so the jump lands on a shown node."""
    app = make_app(LAB / "no-proposal" / "capture.pcap", keys=[LAB / "no-proposal" / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.analysis is not None
        first, second = screen.analysis.ike_sas
        await pilot.press("slash", *first.label[:16], "enter")
        await pilot.pause()
        assert [n.data for n in screen.query_one(SaTree).root.children] == [NodeRef(first.spis)]
        await choose_problem(pilot, screen, 8)
        assert screen.query_one("#filter", Input).value == ""
        assert_at(screen, second.spis, 8)


@sync
async def test_problem_auth_failed_moves_the_ladder(tmp_path: Path) -> None:
    """auth-failed: with the ladder on frame 1, enter on AUTHENTICATION_FAILED moves it to
    frame 4 and shows that message."""
    app = make_app(LAB / "auth-failed" / "capture.pcap", keys=[LAB / "auth-failed" / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.analysis is not None
        (sa,) = screen.analysis.ike_sas
        ladder = screen.query_one(Ladder)
        assert ladder.message_at(ladder.highlighted).frame == 1  # type: ignore[union-attr]
        await choose_problem(pilot, screen, 4)
        assert_at(screen, sa.spis, 4)
        await pilot.press("enter")  # and on into the message panel
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "message"


@sync
async def test_problem_wrong_psk_each_auth(tmp_path: Path) -> None:
    """gcm16-ecp256 with a wrong PSK: both AUTHs fail to verify (frames 3 and 4); each problem
    leads to its own message."""
    keys = (LAB / "gcm16-ecp256" / "keys.toml").read_text()
    wrong = tmp_path / "wrong-psk.toml"
    wrong.write_text(keys.replace("lab-psk-gcm16-ecp256", "not-the-psk"))
    app = make_app(LAB / "gcm16-ecp256" / "capture.pcap", keys=[wrong])
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.analysis is not None
        (sa,) = screen.analysis.ike_sas
        await choose_problem(pilot, screen, 4)
        assert_at(screen, sa.spis, 4)
        await pilot.press("6")
        await choose_problem(pilot, screen, 3)
        assert_at(screen, sa.spis, 3)


@sync
async def test_problem_without_frame_stays() -> None:
    """A problem naming no frame (no keys given) cannot be chosen; in the TUI its advice is
    'press K', not the CLI's '--keys'."""
    app = make_app(LAB / "gcm16-ecp256" / "capture.pcap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        view = screen.query_one(ProblemsView)
        await pilot.press("6")
        lines = [str(view.get_option_at_index(i).prompt) for i in range(view.option_count)]
        keys = [i for i, line in enumerate(lines) if "no keys given" in line]
        assert keys and all(view.get_option_at_index(i).disabled for i in keys)
        assert all("--keys" not in line for line in lines)
        assert any("press K" in lines[i] for i in keys)
