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


@sync
async def test_ladder_appends_new_messages_as_a_rebuild_draws_them() -> None:
    """While a capture loads, a snapshot whose messages extend the ones shown adds only the new
    rows (the ones already there are kept as they are); the result equals a full rebuild.
    rekey-dpd's IKE SA, cut after its first exchanges, then whole."""
    from dataclasses import replace

    from ikeview.tui.filtering import Filter

    app = make_app(LAB / "rekey-dpd" / "capture.pcap", keys=[LAB / "rekey-dpd" / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await main_screen(pilot)
        ladder = screen.query_one(Ladder)
        sa = screen.analysis.ike_sas[0]
        assert len(sa.exchanges) > 3
        partial = replace(sa, exchanges=sa.exchanges[:2])
        clock = screen.clock.for_sa(sa)
        ladder.update_from(partial, Filter(), clock)
        first = ladder.get_option_at_index(1)
        shown = ladder.option_count
        ladder.update_from(sa, Filter(), clock)
        assert ladder.get_option_at_index(1) is first  # appended, not rebuilt
        assert ladder.option_count > shown
        appended = [ladder.get_option_at_index(i).prompt for i in range(ladder.option_count)]
        ladder.update_from(None, Filter(), clock)
        ladder.update_from(sa, Filter(), clock)
        assert ladder.get_option_at_index(1) is not first  # rebuilt
        rebuilt = [ladder.get_option_at_index(i).prompt for i in range(ladder.option_count)]
        assert [str(p) for p in appended] == [str(p) for p in rebuilt]
        assert [p.spans for p in appended] == [p.spans for p in rebuilt]  # type: ignore[union-attr]
