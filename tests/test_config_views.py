"""--config in the TUI and in ``live`` (issue #11): the checks ``report --config`` prints show
in the Problems tab and on the SA card, and ``live``'s final report carries them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from config_support import LAB, lab_addresses
from ikeview.dissectors.capture import read_capture
from ikeview.dissectors.records import RawFrame
from ikeview.tui.app import make_app
from ikeview.tui.screens.textview import TextScreen
from ikeview.tui.widgets.problems import ProblemsView
from tui_support import SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview import live as live_mod
from ikeview.cli import build_parser
from ikeview.config.load import load_configs
from ikeview.keys.loader import load_keys

CASE = LAB / "auth-failed"
# The responder's log: "tried 1 shared key for 'responder.lab.example' - 'initiator.lab.example',
# but MAC mismatched" -> the initiator signed with another PSK than the responder's config holds.


def responder_conf(tmp_path: Path) -> Path:
    """The responder's swanctl.conf with make.sh's addresses filled in, as a user would have it."""
    text = (LAB / "scenarios" / "auth-failed" / "responder" / "swanctl.conf").read_text()
    for placeholder, addr in lab_addresses("auth-failed").items():
        text = text.replace(placeholder, addr)
    path = tmp_path / "swanctl.conf"
    path.write_text(text)
    return path


def dh_only_keys(tmp_path: Path) -> Path:
    """keys.toml without its PSKs: the config has to supply the responder's."""
    text = (CASE / "keys.toml").read_text()
    path = tmp_path / "keys.toml"
    path.write_text(text[text.index("[[dh]]") :])
    return path


def test_responder_log_says_mac_mismatched() -> None:
    assert "MAC mismatched" in (CASE / "responder.log").read_text()


def test_tui_and_live_take_config_options() -> None:
    for argv in (["tui", "x.pcap"], ["live", "-i", "lo"]):
        args = build_parser().parse_args(
            [*argv, "--config", "a.conf", "--config", "b.conf", "--config-side", "responder"]
        )
        assert args.config == [Path("a.conf"), Path("b.conf")]
        assert args.config_side == "responder"
        assert args.ios_release is None


@sync
async def test_tui_shows_psk_mismatch_from_config(tmp_path: Path) -> None:
    configs = load_configs([responder_conf(tmp_path)])
    app = make_app(CASE / "capture.pcap", keys=[dh_only_keys(tmp_path)], configs=configs)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert screen.analysis is not None
        (sa,) = screen.analysis.ike_sas
        assert [f.code for c in sa.config_checks for f in c.findings] == ["psk-mismatch"]
        await pilot.press("6")
        view = screen.query_one(ProblemsView)
        shown = [str(view.get_option_at_index(i).prompt) for i in range(view.option_count)]
        finding = next(f for c in sa.config_checks for f in c.findings)
        assert any(finding.explanation[:40] in line for line in shown), shown
        await pilot.press("1", "i")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        lines = app.screen.lines
        assert "Config checks:" in lines
        assert any("psk-mismatch" in line for line in lines), lines
        assert any(line.strip().startswith("config ") and "responder" in line for line in lines)


def test_live_report_carries_config_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_live with the capture's frames in place of an interface (no namespace needed)."""
    with read_capture(CASE / "capture.pcap") as reader:
        frames: list[RawFrame] = list(reader)

    def fake_frames(*_a: object, on_ready=None, **_k: object):  # type: ignore[no-untyped-def]
        if on_ready is not None:
            on_ready()
        yield from frames

    monkeypatch.setattr(live_mod, "live_frames", fake_frames)
    monkeypatch.setattr(live_mod, "interface_is_up", lambda _i: True)
    out, err = io.StringIO(), io.StringIO()
    dh = load_keys([dh_only_keys(tmp_path)])
    configs = load_configs([responder_conf(tmp_path)])
    code = live_mod.run_live("lab0", dh, configs=configs, out=out, err=err)
    assert code == 0, err.getvalue()
    report = out.getvalue()
    assert "psk-mismatch" in report
    assert "config " in report and "[swanctl]: responder" in report


def test_tui_checks_partial_snapshots_only_while_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above CHECK_PARTIAL_UP_TO IKE SAs a partial snapshot is shown unchecked (load speed); the
    complete analysis is always checked."""
    import dataclasses

    from ikeview.tui import loading

    from ikeview.pipeline.analyze import analyze

    ring = load_keys([dh_only_keys(tmp_path)])
    request = loading.LoadRequest(
        CASE / "capture.pcap", configs=tuple(load_configs([responder_conf(tmp_path)]))
    )
    full = analyze(CASE / "capture.pcap", ring)
    partial = dataclasses.replace(full, complete=False)
    assert loading.checked(partial, request, ring).ike_sas[0].config_checks
    monkeypatch.setattr(loading, "CHECK_PARTIAL_UP_TO", 0)
    assert not loading.checked(partial, request, ring).ike_sas[0].config_checks
    assert loading.checked(full, request, ring).ike_sas[0].config_checks
