"""One clock everywhere (issue #12): capture-relative, SA-relative, delta, UTC, local; ``t``
cycles; no negative ESP times after a rekey and no epoch seconds for an ESP-only capture."""

from __future__ import annotations

from pathlib import Path

from ikeview.tui.app import make_app
from ikeview.tui.widgets.esp_table import EspTable, row_text
from ikeview.tui.widgets.ladder import Ladder
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview.timebase import Clock, TimeBase, capture_start, next_clock, wall_date


def test_formats_on_each_clock() -> None:
    ts = 1_700_000_000.123456  # 2023-11-14 22:13:20.123456 UTC
    assert TimeBase(Clock.CAPTURE, capture_t0=ts - 2.5).format(ts) == "+2.500000"
    assert TimeBase(Clock.SA, capture_t0=0.0, sa_t0=ts - 1).format(ts, digits=4) == "+1.0000"
    assert TimeBase(Clock.DELTA).format(ts, ts - 0.25) == "Δ+0.250000"
    assert TimeBase(Clock.UTC).format(ts) == "22:13:20.123456"
    assert wall_date(ts) == "2023-11-14 22:13:20.123456 UTC"
    order = [Clock.CAPTURE]
    for _ in range(5):
        order.append(next_clock(order[-1]))
    assert order == ["capture", "sa", "delta", "utc", "local", "capture"]


def ladder_times(ladder: Ladder) -> list[str]:
    out = []
    for i in range(1, ladder.option_count):
        line = str(ladder.get_option_at_index(i).prompt).split("\n")[1]
        out.append(line[:17].split(maxsplit=1)[1])
    return out


@sync
async def test_t_cycles_the_clock_in_ladder_and_esp() -> None:
    """rekey-dpd: the rekeyed (second) IKE SA starts after the capture did, so its first
    message is positive on the capture clock and +0 on the SA clock; ESP rows never go
    negative on the capture clock; UTC shows the wall-clock time of the frame."""
    capture = LAB / "rekey-dpd" / "capture.pcap"
    async with make_app(capture, keys=[LAB / "rekey-dpd" / "keys.toml"]).run_test(
        size=SIZE
    ) as pilot:
        screen = await loaded(pilot)
        second = screen.analysis.ike_sas[1]  # type: ignore[union-attr]
        start = capture_start(screen.analysis)
        assert start is not None
        screen.query_one("#sas").focus()
        from ikeview.tui.widgets.sa_tree import NodeRef, SaTree

        screen.selected = NodeRef(second.spis)
        screen.refresh_panels()
        await pilot.pause()
        ladder = screen.query_one(Ladder)
        shown = ladder.message_at(1)
        assert shown is not None
        first = ladder_times(ladder)[0]
        assert float(first) == round(shown.ts - start, 4) and float(first) > 0
        await pilot.press("t")  # SA clock: from the exchange that created the SA
        await pilot.pause()
        assert float(ladder_times(ladder)[0]) == round(shown.ts - second.first_ts, 4)
        await pilot.press("t")  # delta
        await pilot.pause()
        assert all(t.startswith("Δ+") for t in ladder_times(ladder))
        await pilot.press("t")  # UTC
        await pilot.pause()
        assert ladder_times(ladder)[0] == TimeBase(Clock.UTC).format(shown.ts, digits=2)
        for _ in range(2):
            await pilot.press("t")  # local, then back to the capture clock
        assert screen.clock.clock == Clock.CAPTURE
        await pilot.press("5")
        await pilot.pause()
        table = screen.query_one(EspTable)
        assert table.view is not None and len(table.view)
        for n in range(len(table.view)):
            when = row_text(table.view.row(n), table.clock)[0].split()[1]
            assert not when.startswith("-") and float(when) < 1e6
        assert SaTree


@sync
async def test_esp_only_capture_has_no_epoch_times(shared_dir: Path) -> None:
    """tcpdump's ESP-only capture: times count from its first ESP packet, not 1970."""
    capture = shared_dir / "captures/tcpdump/02-sunrise-sunset-esp.pcap"
    async with make_app(capture).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("5")
        await pilot.pause()
        table = screen.query_one(EspTable)
        assert table.view is not None and len(table.view) > 1
        first = row_text(table.view.row(0), table.clock)[0].split()[1]
        assert first == "+0.000000"
        last = row_text(table.view.row(len(table.view) - 1), table.clock)[0].split()[1]
        assert 0 <= float(last) < 1e6
