"""The ladder's lane follows the pane's width (never below MIN_LANE), on a real capture."""

from __future__ import annotations

from ikeview.tui.app import make_app
from ikeview.tui.widgets.ladder import GUTTER, MIN_LANE, Ladder, lane_for
from rich.text import Text
from textual.pilot import Pilot
from tui_support import LAB, SIZE, no_animations, sync  # noqa: F401 (autouse fixture)
from tui_support import loaded as main_screen


def test_lane_for_width() -> None:
    """The lane fills the width left by the gutter, the lifelines and the Δ column; 30 at least."""
    assert lane_for(0) == MIN_LANE
    assert lane_for(40) == MIN_LANE
    assert lane_for(70) == 37  # the panel at 120 columns less the 17-column gutter
    assert lane_for(118) == 85
    assert lane_for(71) == lane_for(70) + 1


def arrows(ladder: Ladder) -> list[str]:
    """The arrow line (the second) of every message option."""
    out = []
    for i in range(1, ladder.option_count):
        prompt = ladder.get_option_at_index(i).prompt
        assert isinstance(prompt, Text)
        out.append(prompt.plain.split("\n")[1])
    return out


async def loaded(pilot: Pilot) -> Ladder:
    return (await main_screen(pilot)).query_one(Ladder)


def lane_of(line: str) -> int:
    """Columns between the two lifelines of an arrow line."""
    return line.rindex("│") - line.index("│") - 1


@sync
async def test_lane_grows_and_shrinks_with_the_terminal() -> None:
    """rekey-dpd: 36 columns at 120 (focus bar and time gutter take 2), wider at 200 (the
    arrows then reach further), back at 120; the highlighted message stays highlighted through
    each redraw; every line fits."""
    app = make_app(LAB / "rekey-dpd" / "capture.pcap", keys=[LAB / "rekey-dpd" / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        ladder = await loaded(pilot)
        ladder.focus()
        await pilot.press("j", "j")
        chosen = ladder.message_at(ladder.highlighted)
        assert chosen is not None
        assert {lane_of(a) for a in arrows(ladder)} == {36}
        for width in (200, 120):
            await pilot.resize_terminal(width, SIZE[1])
            await pilot.pause()
            await pilot.pause()
            lane = lane_for(ladder.content_region.width)
            assert lane > 60 if width == 200 else lane == 36
            assert {lane_of(a) for a in arrows(ladder)} == {lane}
            assert ladder.message_at(ladder.highlighted) == chosen
            room = ladder.content_region.width
            for a in arrows(ladder):
                assert len(a.split("│ Δ")[0]) <= room - 2
            assert arrows(ladder)[0].startswith(" " * 4 + "1 ")
            assert lane >= MIN_LANE and GUTTER + lane + 2 <= room
