"""Pilot tests of the TUI shell: loading in a worker, the IKE SA tree and the ladder."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ikeview.tui.app import make_app
from ikeview.tui.messages import AnalysisUpdated, CaptureLoaded
from ikeview.tui.widgets.ladder import Ladder
from ikeview.tui.widgets.sa_tree import SaTree
from textual.message import Message
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)


def lab(name: str) -> tuple[Path, list[Path]]:
    return LAB / name / "capture.pcap", [LAB / name / "keys.toml"]


@sync
async def test_lab_capture_loads_tree_and_ladder() -> None:
    """rekey-dpd: two IKE SAs (rekeyed, deleted), the first one's ladder has every message."""
    seen: list[Message] = []
    capture, keys = lab("rekey-dpd")
    app = make_app(capture, keys=keys, every=5)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await loaded(pilot)
        assert screen.loaded
        # The hook sees a message once per pump that handles it: keep each message once.
        unique = list({id(m): m for m in seen}.values())
        kinds = [type(m) for m in unique if isinstance(m, AnalysisUpdated | CaptureLoaded)]
        # Partial snapshots first, exactly one CaptureLoaded last.
        assert kinds[-1] is CaptureLoaded and kinds.count(CaptureLoaded) == 1
        assert AnalysisUpdated in kinds
        assert screen.analysis is not None and screen.analysis.complete
        states = [sa.state for sa in screen.analysis.ike_sas]
        assert states == ["rekeyed", "deleted"]
        tree = screen.query_one(SaTree)
        assert len(tree.root.children) == 2
        ladder = screen.query_one(Ladder)
        first = screen.analysis.ike_sas[0]
        assert ladder.option_count == 1 + len(first.messages)
        # j moves down the tree; the ladder follows the SA under the cursor.
        tree.focus()
        for _ in range(len(tree.root.children[0].children) + 1):
            await pilot.press("j")
        await pilot.pause()
        assert screen.selected is not None
        assert screen.selected.spis == screen.analysis.ike_sas[1].spis
        assert ladder.option_count == 1 + len(screen.analysis.ike_sas[1].messages)


@sync
async def test_ladder_marks_failure_and_error_notify() -> None:
    """auth-failed: the SA shows why it failed; the response arrow carries the error notify."""
    capture, keys = lab("auth-failed")
    app = make_app(capture, keys=keys)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        sa = screen.analysis.ike_sas[0]  # type: ignore[union-attr]
        assert sa.state == "failed" and "AUTHENTICATION_FAILED" in (sa.failure or "")
        ladder = screen.query_one(Ladder)
        last = ladder.get_option_at_index(ladder.option_count - 1)
        assert "AUTHENTICATION_FAILED" in str(last.prompt)


@sync
async def test_wireshark_capture_without_keys(shared_dir: Path) -> None:
    """A Wireshark test capture with no keys loads; messages are shown as not decrypted."""
    app = make_app(shared_dir / "captures/wireshark/ikev2-decrypt-aes256gcm16.pcap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.analysis is not None and screen.analysis.ike_sas
        assert screen.query_one(Ladder).option_count > 1


@sync
async def test_unreadable_capture_is_a_notification(tmp_path: Path) -> None:
    """A file that is no capture gives an error notification, not a crash."""
    bad = tmp_path / "not-a-capture.pcap"
    bad.write_bytes(b"this is not a pcap file at all")
    app = make_app(bad)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        notes = list(app._notifications)
        assert any(n.severity == "error" for n in notes)
        assert app.is_running


@sync
async def test_bad_keys_file_is_a_notification(tmp_path: Path) -> None:
    """A keys file in no known format is reported; the capture still loads without it."""
    capture, _ = lab("gcm16-ecp256")
    junk = tmp_path / "keys.txt"
    junk.write_text("nothing to see here\n")
    app = make_app(capture, keys=[junk])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.analysis is not None and screen.analysis.ike_sas
        assert any("keys" in (n.title or "") for n in app._notifications)


@pytest.mark.parametrize("name", ["natt", "invalid-ke", "certs-frag", "no-proposal"])
@sync
async def test_other_lab_captures_load(name: str) -> None:
    """Every kind of lab scenario loads to a complete analysis with a ladder."""
    capture, keys = lab(name)
    app = make_app(capture, keys=keys)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.analysis is not None and screen.analysis.complete
        assert screen.query_one(Ladder).option_count > 1


@sync
async def test_messages_of_a_replaced_run_are_ignored() -> None:
    """After a re-run (keys dialog) the old run's late snapshots must not overwrite the new."""
    capture, keys = lab("natt")
    app = make_app(capture, keys=keys)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        current = screen.analysis
        assert current is not None
        stale = replace(current, ike_sas=())
        screen.post_message(CaptureLoaded(stale, screen.rows, run=object()))
        screen.post_message(AnalysisUpdated(stale, screen.rows, 1, 2, run=object()))
        await pilot.pause()
        assert screen.analysis is current


@sync
async def test_partial_snapshots_are_drawn_at_most_once_per_partial_every(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A snapshot every record (rekey-dpd, 32 frames): the first partial one is drawn at once,
    later ones at most once per PARTIAL_EVERY, a waiting one never after the complete
    analysis, which is always drawn and is what stays on screen."""
    from ikeview.tui.screens import main

    drawn: list[bool] = []
    show = main.MainScreen.show_analysis

    def counted(self: main.MainScreen, analysis: Any, rows: Any) -> None:
        drawn.append(analysis.complete)
        show(self, analysis, rows)

    monkeypatch.setattr(main.MainScreen, "show_analysis", counted)
    capture, keys = lab("rekey-dpd")
    app = make_app(capture, keys=keys, every=1)
    async with app.run_test(size=SIZE) as pilot:
        t0 = time.monotonic()
        screen = await loaded(pilot)
        await pilot.pause(main.PARTIAL_EVERY + 0.1)  # a pending partial would be drawn by now
        elapsed = time.monotonic() - t0
        assert drawn[-1] is True and drawn.count(True) == 1
        assert 1 <= drawn.count(False) <= 1 + elapsed / main.PARTIAL_EVERY
        assert screen.analysis is not None and screen.analysis.complete


@sync
async def test_no_partial_snapshot_when_the_load_is_nearly_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once one partial snapshot is on screen, another is drawn only if the load, at the pace
    of the bytes read so far, has more than PARTIAL_EVERY to go: near the end it would only
    delay the complete analysis."""
    from ikeview.tui.screens import main

    capture, keys = lab("rekey-dpd")
    app = make_app(capture, keys=keys)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        drawn: list[int] = []
        show = main.MainScreen.show_analysis

        def counted(self: main.MainScreen, analysis: Any, rows: Any) -> None:
            drawn.append(1)
            show(self, analysis, rows)

        monkeypatch.setattr(main.MainScreen, "show_analysis", counted)
        analysis, rows = screen.analysis, screen.rows
        screen.loaded = False  # as if the run were still loading
        now = time.monotonic()
        screen._partial_shown, screen._load_started = now - 5.0, now - 1.0
        # 1 s for the first 90%: about 0.11 s to go.
        screen.post_message(AnalysisUpdated(analysis, rows, 90, 100, run=screen.request))
        await pilot.pause()
        assert drawn == [] and screen._partial is None and screen._partial_timer is None
        # 1 s for the first 10%: 9 s to go, and the last partial one is 5 s old: drawn now.
        screen.post_message(AnalysisUpdated(analysis, rows, 10, 100, run=screen.request))
        await pilot.pause()
        assert drawn == [1]
