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
