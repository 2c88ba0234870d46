"""Timing on one axis (issue #12): the IKE SA's exchanges, its child SA and its ESP per direction
as lanes over one time axis in the clock shown, and the retransmission schedule with the round
trip after the last copy, checked against tshark's frame times and the initiator's log."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ikeview.tui.app import make_app
from ikeview.tui.marks import MARK
from ikeview.tui.timeline import LABEL, Axis, axis_text, exchange_symbol, schedule_lines
from ikeview.tui.widgets.timing import TimingView
from textual.widgets import Static
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview.timebase import Clock, TimeBase, wall_clock

CAP = LAB / "auth-retransmit"


def frames(path: Path) -> dict[int, tuple[float, str]]:
    """frame -> (epoch time, ESP SPI or '') as tshark reads them."""
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(path),
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.time_epoch",
            "-e",
            "esp.spi",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        n, ts, spi = [*line.split("\t"), ""][:3]
        found[int(n)] = (float(ts), spi[2:] if spi.startswith("0x") else spi)
    return found


def test_initiator_log_retransmitted_ike_auth_twice() -> None:
    """The reference for the schedule: charon retransmitted message ID 1 twice."""
    log = (CAP / "initiator.log").read_text(errors="replace")
    assert "retransmit 1 of request with message ID 1" in log
    assert "retransmit 2 of request with message ID 1" in log


def _body(view: TimingView) -> str:
    return str(view.query_one("#timing-body", Static).render())


@pytest.mark.tshark
@sync
async def test_axis_and_schedule_on_auth_retransmit() -> None:
    """auth-retransmit: the IKE_AUTH request went at frames 3, 4, 5 (tshark's times give the
    intervals) and frame 6 answered it; the round trip after the last copy is frame 6 minus
    frame 5. The ESP lanes have packets exactly in the columns of tshark's ESP frames of their
    SPI, one lane per direction. t to UTC puts wall-clock times on the axis; a mark shows."""
    seen = frames(CAP / "capture.pcap")
    app = make_app(CAP / "capture.pcap", keys=[CAP / "keys.toml"])
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("4")
        await pilot.pause()
        view = screen.query_one(TimingView)
        text = _body(view)
        lines = text.splitlines()
        head = lines.index("IKE_AUTH #1 from the initiator: 3 copies")
        copies = lines[head + 1 : head + 4]
        t0 = min(ts for ts, _ in seen.values())
        for k, frame in enumerate((3, 4, 5)):
            assert f"frame {frame}" in copies[k]
            assert f"{seen[frame][0] - t0:+.3f}" in copies[k], copies[k]
        gap = seen[4][0] - seen[3][0], seen[5][0] - seen[4][0]
        assert f"+{gap[0]:.3f} s after copy 1" in copies[1]
        assert f"+{gap[1]:.3f} s after copy 2" in copies[2]
        rtt_ms = (seen[6][0] - seen[5][0]) * 1000
        assert f"answered in frame 6: {rtt_ms:.1f} ms after the last copy" in lines[head + 4]
        # The ESP lanes: columns of tshark's ESP frames of each SPI.
        sa = screen.current_sa()
        assert sa is not None
        width = view.scrollable_content_region.width - 2
        plot = width - LABEL - 1
        axis = Axis(t0, max(ts for ts, _ in seen.values()), plot)
        for spi, arrow in (("432ce75e", "→"), ("9cc0f78d", "←")):
            lane = next(line for line in lines if line.strip().startswith(f"ESP {spi} {arrow}"))
            cells = lane[LABEL + 1 :]
            got = {i for i, c in enumerate(cells) if c != " "}
            want = {axis.column(ts) for ts, s in seen.values() if s == spi}
            assert got == want, (spi, got, want)
        ike = next(line for line in lines if line.startswith("IKE 949a273b"))
        assert ike[LABEL + 1 + axis.column(seen[3][0])] == "A"
        assert ike[LABEL + 1 + axis.column(seen[4][0])] == "r"
        await pilot.press("t", "t", "t")  # capture → SA → delta → UTC
        await pilot.pause()
        assert screen.clock.clock == Clock.UTC
        assert wall_clock(t0, Clock.UTC, 3) in _body(view)
        await pilot.press("1", "m", "4")
        await pilot.pause()
        assert f"{MARK} marked" in _body(view)


def test_symbols_and_narrow_axis() -> None:
    """Letters by what an exchange did; at 40 columns the lanes still fit (no line longer)."""
    from ikeview.tui.esprows import EspRowStore

    from ikeview.keys.loader import load_keys
    from ikeview.pipeline.analyze import analyze

    cap = LAB / "rekey-dpd"
    sa = analyze(cap / "capture.pcap", load_keys([cap / "keys.toml"])).ike_sas[0]
    letters = [exchange_symbol(ex)[0] for ex in sa.exchanges]
    assert letters[:2] == ["I", "A"] and "R" in letters and "X" in letters
    text = axis_text(sa, EspRowStore(), TimeBase(capture_t0=sa.first_ts), 40).plain
    assert max(len(line) for line in text.splitlines()) <= 40
    assert schedule_lines(sa, TimeBase()) == []


def _lane_cells(lines: list[str], label: str) -> str:
    return next(line for line in lines if line.startswith(label))[LABEL + 1 :]


async def _timing_at(pilot: object, screen: object, frame: int) -> tuple[TimingView, list[str]]:
    """Go to ``frame`` (its IKE SA is selected), open the Timing tab, return its lines."""
    await pilot.press("colon", *str(frame), "enter")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.press("4")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    view = screen.query_one(TimingView)  # type: ignore[attr-defined]
    return view, _body(view).splitlines()


@pytest.mark.tshark
@sync
async def test_ike_rekey_on_one_axis_rekey_dpd() -> None:
    """rekey-dpd: the IKE SA 0b565aa0 was rekeyed (CREATE_CHILD_SA frames 17-18, deleted in
    frames 19-20) into b1d85a29, which then ran two DPDs (frames 25, 27) and was deleted
    (frame 31). Selecting the new SA draws the old one on the same axis: the axis runs from
    tshark's frame 1 to frame 32, each letter sits in the column of tshark's time of its request,
    and the ESP of the child SA that moved to the new IKE SA sits at its frames' columns."""
    cap = LAB / "rekey-dpd"
    seen = frames(cap / "capture.pcap")
    app = make_app(cap / "capture.pcap", keys=[cap / "keys.toml"])
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await loaded(pilot)
        view, lines = await _timing_at(pilot, screen, 25)
        assert "IKE SA rekey: 0b565aa0 (old) → b1d85a29 (this)" in " ".join(lines)
        plot = view.scrollable_content_region.width - 2 - LABEL - 1
        axis = Axis(seen[1][0], seen[32][0], plot)
        old = _lane_cells(lines, "IKE old 0b565aa0")
        new = _lane_cells(lines, "IKE this b1d85a29")
        assert old[axis.column(seen[3][0])] == "A"
        assert old[axis.column(seen[19][0])] == "X"
        assert {i for i, c in enumerate(old) if c != " "} <= {
            axis.column(seen[f][0]) for f in (1, 3, 9, 11, 17, 19)
        }
        assert new[axis.column(seen[25][0])] == "D"
        assert new[axis.column(seen[27][0])] == "D"
        assert new[axis.column(seen[31][0])] == "X"
        assert {i for i, c in enumerate(new) if c != " "} == {
            axis.column(seen[f][0]) for f in (25, 27, 31)
        }
        esp = next(line for line in lines if line.strip().startswith("ESP 0c95ce69"))
        got = {i for i, c in enumerate(esp[LABEL + 1 :]) if c != " "}
        assert got == {axis.column(ts) for ts, spi in seen.values() if spi == "0c95ce69"}
        # The old SA selected tells the same story from its side.
        _, lines = await _timing_at(pilot, screen, 3)
        assert "IKE SA rekey: 0b565aa0 (this) → b1d85a29 (new)" in " ".join(lines)


@pytest.mark.tshark
@sync
async def test_ike_rekey_collision_on_one_axis() -> None:
    """ike-rekey-collision: both peers rekeyed f8877b07 at once (frames 9-12); f09b40d3 lost
    (RFC 7296 2.8.2) and was deleted from frame 13 (again at 16), 5ada1c57 won and was deleted
    at frame 22. Selecting the loser shows the old SA, the loser and the winner on one axis."""
    cap = LAB / "ike-rekey-collision"
    seen = frames(cap / "capture.pcap")
    app = make_app(cap / "capture.pcap", keys=[cap / "keys.toml"])
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await loaded(pilot)
        view, lines = await _timing_at(pilot, screen, 13)
        joined = " ".join(lines)
        assert "f8877b07 (old) → f09b40d3 (this) → 5ada1c57 (won)" in joined
        plot = view.scrollable_content_region.width - 2 - LABEL - 1
        axis = Axis(seen[1][0], max(ts for ts, _ in seen.values()), plot)
        lost = _lane_cells(lines, "IKE this f09b40d3")
        won = _lane_cells(lines, "IKE won 5ada1c57")
        assert lost[axis.column(seen[13][0])] == "X"
        assert lost[axis.column(seen[16][0])] == "r"
        assert won[axis.column(seen[22][0])] == "X"
        old = _lane_cells(lines, "IKE old f8877b07")
        assert old[axis.column(seen[3][0])] == "A"
        esp = next(line for line in lines if line.strip().startswith("ESP d5a6d098"))
        got = {i for i, c in enumerate(esp[LABEL + 1 :]) if c != " "}
        assert got == {axis.column(ts) for ts, spi in seen.values() if spi == "d5a6d098"}


def test_rekey_story_narrow() -> None:
    """At 40 columns the rekey lanes keep whole SPIs (the role stands for "IKE") and fit."""
    from ikeview.tui.esprows import EspRowStore
    from ikeview.tui.timeline import rekey_story

    from ikeview.keys.loader import load_keys
    from ikeview.pipeline.analyze import analyze

    cap = LAB / "ike-rekey-collision"
    sas = analyze(cap / "capture.pcap", load_keys([cap / "keys.toml"])).ike_sas
    old = next(sa for sa in sas if sa.spi_i.hex().startswith("f8877b07"))
    story = rekey_story(old, sas)
    assert [(sa.spi_i.hex()[:8], role) for sa, role in story] == [
        ("f8877b07", "this"),
        ("f09b40d3", "lost"),
        ("5ada1c57", "new"),
    ]
    clock = TimeBase(capture_t0=old.first_ts)
    lines = axis_text(old, EspRowStore(), clock, 40, story=story).plain.splitlines()
    assert max(len(line) for line in lines) <= 40
    for label in ("this f8877b07", "lost f09b40d3", "new 5ada1c57"):
        assert any(line.startswith(label) for line in lines), label
