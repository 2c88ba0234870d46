"""SVG snapshots of the main screens at 120x40 (pytest-textual-snapshot).

Regenerate with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at the SVGs
(tests/__snapshots__/test_tui_snapshots/) before committing them.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from ikeview.tui.app import make_app
from ikeview.tui.widgets.ladder import Ladder
from ikeview.tui.widgets.message_view import PayloadTree
from textual.pilot import Pilot
from textual.worker import WorkerFailed
from tui_support import LAB, SIZE, no_animations  # noqa: F401 (autouse fixture)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths show on screen (the PSK's source, the title): keep them the same in any checkout."""
    monkeypatch.chdir(LAB.parents[1])


def lab_app(name: str):  # type: ignore[no-untyped-def]
    where = Path("captures", "lab", name)
    return make_app(where / "capture.pcap", keys=[where / "keys.toml"])


async def _settled(pilot: Pilot) -> None:
    """Let every pending refresh and layout pass run before the picture is taken."""
    for _ in range(3):
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.1)


async def loaded(pilot: Pilot) -> None:
    """Let the load worker finish and its snapshots be drawn."""
    await pilot.pause()
    with contextlib.suppress(WorkerFailed):
        await pilot.app.workers.wait_for_complete()
    await _settled(pilot)


class TestMainScreen:
    def test_ladder(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """rekey-dpd: the IKE SA tree and the ladder of the first (rekeyed) IKE SA."""
        assert snap_compare(lab_app("rekey-dpd"), terminal_size=SIZE, run_before=loaded)

    def test_ladder_wide(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """rekey-dpd at 180 columns: the ladder's lane widens with the pane."""
        assert snap_compare(lab_app("rekey-dpd"), terminal_size=(180, 40), run_before=loaded)

    def test_failed_sa(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """auth-failed: the failed state, its reason, and the error notify in red."""
        assert snap_compare(lab_app("auth-failed"), terminal_size=SIZE, run_before=loaded)


class TestPanels:
    def test_message(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """Enter on the IKE_AUTH request, then down to IDi: decrypted payloads, integrity, and
        IDi's bytes highlighted in the decrypted section of the hex view."""

        async def run_before(pilot: Pilot) -> None:
            await loaded(pilot)
            pilot.app.screen.query_one(Ladder).focus()
            await pilot.press("j", "j", "enter")
            await pilot.pause()
            # Down to the first decrypted payload (IDi): its bytes light up in the hex view.
            pilot.app.screen.query_one(PayloadTree).focus()
            await pilot.press(*"j" * 8)
            # The highlight scrolls the hex view, which can add its scrollbar one layout pass
            # later: on a loaded machine the picture was taken between the two.
            await _settled(pilot)

        assert snap_compare(lab_app("gcm16-ecp256"), terminal_size=SIZE, run_before=run_before)

    def test_proposals(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """multi-proposal: proposals, transforms by type, the combinations listed."""
        assert snap_compare(
            lab_app("multi-proposal"), press=["3"], terminal_size=SIZE, run_before=loaded
        )

    def test_timing(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """rekey-dpd: round-trip bars, the RTT sparkline, ESP packets over time per child."""
        assert snap_compare(
            lab_app("rekey-dpd"), press=["4"], terminal_size=SIZE, run_before=loaded
        )

    def test_esp(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """rekey-dpd: the ESP packets of both child SAs, decrypted, in capture order."""
        assert snap_compare(
            lab_app("rekey-dpd"), press=["5"], terminal_size=SIZE, run_before=loaded
        )

    def test_problems(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """auth-failed: the problem list, errors first, the selected SA's marked."""
        assert snap_compare(
            lab_app("auth-failed"), press=["6"], terminal_size=SIZE, run_before=loaded
        )


class TestDialogs:
    def test_keys(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """K opens the keys dialog; typed secrets are masked."""

        async def run_before(pilot: Pilot) -> None:
            await loaded(pilot)
            await pilot.press("K")
            await pilot.press(*"secret")
            await pilot.pause()

        assert snap_compare(lab_app("natt"), terminal_size=SIZE, run_before=run_before)

    def test_help(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """? opens the help screen listing the key bindings."""
        assert snap_compare(
            lab_app("natt"), press=["question_mark"], terminal_size=SIZE, run_before=loaded
        )


class TestSizes:
    """The same screens at 80x24 (the ladder keeps both lanes and arrowheads, all six tabs
    show, the ESP columns shrink) and at 200x50 (nothing cut)."""

    @pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
    def test_ladder(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        """rekey-dpd: tree and ladder."""
        assert snap_compare(lab_app("rekey-dpd"), terminal_size=size, run_before=loaded)

    @pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
    def test_esp(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        """rekey-dpd: the ESP rows with their inner column."""
        assert snap_compare(
            lab_app("rekey-dpd"), press=["5"], terminal_size=size, run_before=loaded
        )

    @pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
    def test_proposals(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        """multi-proposal: proposal lines are never wrapped inside an algorithm name."""
        assert snap_compare(
            lab_app("multi-proposal"), press=["3"], terminal_size=size, run_before=loaded
        )

    @pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
    def test_timing(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        """auth-retransmit: lanes on one axis (shorter names at 80 columns) and the IKE_AUTH
        retransmission schedule."""
        assert snap_compare(
            lab_app("auth-retransmit"), press=["4"], terminal_size=size, run_before=loaded
        )

    @pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
    def test_esp_packet(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        """rekey-dpd frame 13: the packet detail with the frame's and the inner packet's hex."""
        assert snap_compare(lab_app("rekey-dpd"), terminal_size=size, run_before=_esp_packet)

    @pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
    def test_problems(self, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
        """auth-failed: the Problems list wraps its entries to the width."""
        assert snap_compare(
            lab_app("auth-failed"), press=["6"], terminal_size=size, run_before=loaded
        )


async def _esp_packet(pilot: Pilot) -> None:
    """Go to ESP frame 13 and open its detail (its bytes are read in a worker)."""
    await loaded(pilot)
    await pilot.press("colon", "1", "3", "enter")
    await _settled(pilot)
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await _settled(pilot)


class TestTicketViews:
    """At 120x40: the ESP packet detail, marks in the ladder, timing with a retransmission."""

    def test_esp_packet(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """rekey-dpd frame 13: detail lines, frame hex with the ESP header marked, inner hex."""
        assert snap_compare(lab_app("rekey-dpd"), terminal_size=SIZE, run_before=_esp_packet)

    def test_marks(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """natt: the second and third messages marked (★ in the ladder's gutter)."""

        async def run_before(pilot: Pilot) -> None:
            await loaded(pilot)
            pilot.app.screen.query_one(Ladder).focus()
            await pilot.press("j", "m", "j", "m")
            pilot.app.clear_notifications()  # toasts time out: not in the picture
            await _settled(pilot)

        assert snap_compare(lab_app("natt"), terminal_size=SIZE, run_before=run_before)

    def test_timing_retransmit(self, snap_compare) -> None:  # type: ignore[no-untyped-def]
        """auth-retransmit: the IKE_AUTH copies on the axis (r) and their schedule."""
        assert snap_compare(
            lab_app("auth-retransmit"), press=["4"], terminal_size=SIZE, run_before=loaded
        )
