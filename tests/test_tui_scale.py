"""Many IKE SAs (self-made: 60 unanswered IKE_SA_INIT requests, one SPI each): above
EXPAND_UP_TO the tree keeps the other SAs collapsed and makes their lines when one is opened;
the Problems tab still lists every SA."""

from __future__ import annotations

import struct
from pathlib import Path

from hostile_inputs import udp_frame
from ikeview.tui.app import make_app
from ikeview.tui.widgets.problems import ProblemsView
from ikeview.tui.widgets.sa_tree import EXPAND_UP_TO, SaTree
from tui_support import SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

COUNT = EXPAND_UP_TO + 10


def many_sas(path: Path) -> Path:
    """COUNT IKE_SA_INIT requests (RFC 7296 3.1 header only), SPIi 1..COUNT, a second apart."""
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    body = b""
    for i in range(COUNT):
        ike = struct.pack("!8s8sBBBBII", struct.pack("!Q", i + 1), bytes(8), 0, 0x20, 34, 8, 0, 28)
        frame = udp_frame(ike)
        body += struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)) + frame
    path.write_bytes(head + body)
    return path


@sync
async def test_many_sas_tree_is_lazy(tmp_path: Path) -> None:
    app = make_app(many_sas(tmp_path / "many.pcap"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        tree = screen.query_one(SaTree)
        nodes = tree.root.children
        assert len(nodes) == COUNT
        assert nodes[0].is_expanded and nodes[0].children  # the selected SA
        assert not any(n.is_expanded or n.children for n in nodes[1:])
        tree.focus()
        tree.move_cursor(nodes[5])
        await pilot.press("l")
        await pilot.pause()
        assert nodes[5].is_expanded
        assert str(nodes[5].children[0].label) == f"SPIs {5 + 1:016x}/{0:016x}"
        await pilot.press("6")
        await pilot.pause()
        view = screen.query_one(ProblemsView)
        heads = [
            str(view.get_option_at_index(i).prompt)
            for i in range(view.option_count)
            if str(view.get_option_at_index(i).prompt).lstrip(" ▸").startswith("IKE SA ")
        ]
        assert len(heads) == COUNT


def test_breaks_greedy_word_wrap() -> None:
    """Lines break after the last space that fits; a word longer than a line is cut."""
    from ikeview.tui.widgets.problems import breaks

    text = "the responder rejected the initiator's AUTH"
    cuts = breaks(text, 16)
    lines = [text[a:b].rstrip() for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]
    assert lines == ["the responder", "rejected the", "initiator's AUTH"]
    assert all(len(line) <= 16 for line in lines)
    assert breaks("x" * 20, 8) == [0, 8, 16]
    assert breaks("short", 40) == [0]


@sync
async def test_problem_keys_skip_headers(tmp_path: Path) -> None:
    """j/k/G move between findings, never onto an SA's header line; enter on one opens its
    frame in the ladder."""
    app = make_app(many_sas(tmp_path / "many.pcap"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("6")
        view = screen.query_one(ProblemsView)
        view.focus()
        await pilot.pause()
        seen = []
        for key in ("g", "j", "j", "k", "G"):
            await pilot.press(key)
            assert view.highlighted is not None
            assert not view.get_option_at_index(view.highlighted).disabled
            seen.append(view.highlighted)
        selectable = [
            i for i in range(view.option_count) if not view.get_option_at_index(i).disabled
        ]
        assert seen == [selectable[0], selectable[1], selectable[2], selectable[1], selectable[-1]]
        await pilot.press("g", "enter")
        await pilot.pause()
        await pilot.pause()
        assert screen.message is not None and screen.message.frame == 1


@sync
async def test_escapes_in_an_identity_reach_no_new_view(tmp_path: Path) -> None:
    """An IDi holding terminal escapes (hostile_inputs): the timing text, the Problems rows,
    the card and the transcript carry none of ESC, CSI or BEL."""
    from hostile_inputs import escape_identity_pcap
    from ikeview.tui.screens.textview import TextScreen
    from ikeview.tui.widgets.timing import TimingView
    from textual.widgets import Static

    bad = ("\x1b", "\x9b", "\x07")
    path = tmp_path / "escapes.pcap"
    path.write_bytes(escape_identity_pcap())
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.analysis is not None and screen.analysis.ike_sas
        await pilot.press("4")
        await pilot.pause()
        timing = str(screen.query_one(TimingView).query_one("#timing-body", Static).render())
        await pilot.press("6")
        await pilot.pause()
        view = screen.query_one(ProblemsView)
        rows = [view.get_option_at_index(i).prompt.plain for i in range(view.option_count)]
        texts = [timing, *rows]
        for key in ("i", "L"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, TextScreen)
            texts += app.screen.lines
            await pilot.press("escape")
            await pilot.pause()
        assert not [t for t in texts if any(b in t for b in bad)]
