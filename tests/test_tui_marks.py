"""Marks on messages (issue #12): ``m`` marks the selected message, ``'``/``n`` (``N``) go to the
next (previous) mark, the ladder shows it, the transcript and the exported timeline carry it;
the TUI's CSV export has the clock shown (``t``) as ``ikeview export --csv --time`` does."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from ikeview.tui.app import make_app
from ikeview.tui.marks import MARK, next_mark, toggled
from ikeview.tui.screens.dialogs import ExportChoice
from ikeview.tui.screens.textview import TextScreen
from ikeview.tui.widgets.ladder import Ladder
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

CAP = LAB / "natt"


def tshark_times(path) -> dict[int, float]:  # type: ignore[no-untyped-def]
    """frame number -> epoch time, as tshark reads the capture."""
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {int(a): float(b) for a, b in (line.split("\t") for line in out.splitlines())}


def test_next_mark_wraps_both_ways() -> None:
    marks = toggled(toggled(toggled(frozenset(), 9), 3), 5)
    assert toggled(marks, 5) == {3, 9}
    assert [next_mark(marks, f) for f in (None, 1, 3, 4, 9)] == [3, 3, 5, 5, 3]
    assert [next_mark(marks, f, backwards=True) for f in (None, 3, 5, 10)] == [9, 9, 3, 9]
    assert next_mark(frozenset(), 4) is None


def _row_text(ladder: Ladder, frame: int) -> str:
    index = next(
        i
        for i in range(ladder.option_count)
        if ladder.message_at(i) and ladder.message_at(i).frame == frame
    )  # type: ignore[union-attr]
    return str(ladder.get_option_at_index(index).prompt)


@sync
async def test_m_marks_n_returns_and_the_transcript_says_so() -> None:
    """natt: mark the second and fourth messages of the ladder; the ladder shows the mark, n
    from the first message goes to frame 2 then 4 then wraps, N goes back; L's transcript ends
    the marked lines with [marked]; m again takes a mark off."""
    app = make_app(CAP / "capture.pcap", keys=[CAP / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        ladder = screen.query_one(Ladder)
        ladder.focus()
        await pilot.pause()
        assert screen.message is not None and screen.message.frame == 1
        await pilot.press("j", "m", "j", "j", "m")
        await pilot.pause()
        assert screen.marks == {2, 4}
        assert MARK in _row_text(ladder, 2) and MARK in _row_text(ladder, 4)
        assert MARK not in _row_text(ladder, 3)
        await pilot.press("g")
        await pilot.pause()
        seen = []
        for key in ("n", "apostrophe", "n", "N"):
            await pilot.press(key)
            await pilot.pause()
            seen.append(screen.message.frame)
        assert seen == [2, 4, 2, 4]
        await pilot.press("L")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        marked = [line for line in app.screen.lines if line.endswith("[marked]")]
        assert len(marked) == 2 and "IKE_SA_INIT response 0" in marked[0], marked
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("m")  # on frame 4
        await pilot.pause()
        assert screen.marks == {2}


@sync
async def test_csv_export_has_clock_marks_and_utc(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """natt: t twice (delta clock), frame 3 marked, e → timeline CSV: clock_time is the
    time since the row above and time the UTC instant, both as tshark reads the frames; the
    marked column is True on frame 3 only; the same columns as `ikeview export --time delta`."""
    pytest.importorskip("pandas")
    app = make_app(CAP / "capture.pcap", keys=[CAP / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        screen.marks = frozenset({3})
        await pilot.press("t", "t")
        await pilot.pause()
        assert screen.clock.clock == "delta"
        screen.export_to(ExportChoice("timeline", tmp_path / "t.csv"))
        await app.workers.wait_for_complete()
        await pilot.pause()
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    times = tshark_times(CAP / "capture.pcap")
    previous = None
    for row in rows:
        ts = times[int(row["frame"])]
        assert row["clock"] == "delta"
        want = ts - (previous if previous is not None else ts)
        assert abs(float(row["clock_time"]) - want) < 2e-6, row
        assert row["marked"] == str(row["frame"] == "3")
        previous = ts
    from datetime import UTC, datetime

    first = datetime.fromtimestamp(times[1], UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert rows[0]["time"] == first
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "ikeview",
            "export",
            str(CAP / "capture.pcap"),
            "--keys",
            str(CAP / "keys.toml"),
            "--csv",
            "-",
            "--time",
            "delta",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[0]
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == cli + ",marked"
