"""--config in the TUI's own words (issue #12): help names it and its views, and while the
partial snapshots go unchecked (over CHECK_PARTIAL_UP_TO IKE SAs) the status line and the SA
card say so instead of showing an SA as if no config applied."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from ikeview.tui import loading
from ikeview.tui.app import make_app
from ikeview.tui.screens.help import HelpScreen
from ikeview.tui.screens.textview import TextScreen
from test_config_views import CASE, dh_only_keys, responder_conf
from textual.widgets import Static
from tui_support import SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview.config.load import load_configs


def _text(widget: Static) -> str:
    return str(widget.render())


@sync
async def test_help_names_config_and_its_limit() -> None:
    app = make_app(CASE / "capture.pcap")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        from ikeview.tui.screens.help import KEYS

        said = " ".join(f"{k} {w}" for _g, rows in KEYS for k, w in rows)
        for words in ("--config FILE", "--config-side", "SA card", "Problems", "200 IKE SAs"):
            assert words in said, words
        await pilot.press("escape", "i")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        assert "Config checks: none asked for" in app.screen.lines


@sync
async def test_pending_config_checks_are_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auth-failed with the responder's swanctl.conf: a partial snapshot over the limit (patched
    to 0) shows 'checked once loaded' in the status and on the card; the complete one the
    psk-mismatch the responder's log confirms ('MAC mismatched')."""
    configs = load_configs([responder_conf(tmp_path)])
    app = make_app(CASE / "capture.pcap", keys=[dh_only_keys(tmp_path)], configs=configs)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        full = screen.analysis
        assert full is not None and full.ike_sas[0].config_checks
        monkeypatch.setattr(loading, "CHECK_PARTIAL_UP_TO", 0)
        unchecked = dataclasses.replace(
            full,
            complete=False,
            ike_sas=tuple(dataclasses.replace(sa, config_checks=()) for sa in full.ike_sas),
        )
        screen.show_analysis(unchecked, screen.rows)
        await pilot.pause()
        assert "--config checked once loaded (> 0 IKE SAs)" in _text(screen.query_one("#status"))
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        assert any("checked once the load ends" in line for line in app.screen.lines)
        await pilot.press("escape")
        screen.show_analysis(full, screen.rows)
        await pilot.pause()
        assert "checked once loaded" not in _text(screen.query_one("#status"))
        await pilot.press("i")
        await pilot.pause()
        assert any("psk-mismatch" in line for line in app.screen.lines)  # type: ignore[attr-defined]
