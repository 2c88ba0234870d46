"""ESP per SPI and direction (issue #12): counters as strongSwan's in/out and Cisco's
encaps/decaps lines, gaps and replays marked in the rows."""

from __future__ import annotations

from ikeview.tui.app import make_app
from ikeview.tui.widgets.esp_table import EspTable, seq_mark
from textual.widgets import Static
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)


def test_sequence_marks() -> None:
    """RFC 4303 3.4.3: the next number is clean; a repeat is a replay; a jump leaves a gap."""
    assert seq_mark(5, 4) == "" and seq_mark(1, None) == ""
    assert seq_mark(4, 4) == "replay"
    assert seq_mark(9, 4) == "gap 4"
    assert seq_mark(3, 4) == "out of order"


@sync
async def test_counters_per_spi_and_direction() -> None:
    """rekey-dpd: the first child SA's two SPIs, one per direction, 2 packets each (the ping
    in the lab script), with their addresses; every row's sequence number follows on."""
    cap = LAB / "rekey-dpd"
    async with make_app(cap / "capture.pcap", keys=[cap / "keys.toml"]).run_test(
        size=(200, 50)
    ) as pilot:
        screen = await loaded(pilot)
        await pilot.press("5")
        await pilot.pause()
        title = str(screen.query_one("#esp-title", Static).render())
        child = screen.analysis.ike_sas[0].child_sas[0]  # type: ignore[union-attr]
        for st in child.esp:
            assert f"0x{st.spi:08x} {st.src} → {st.dst}  {st.packets} pkts" in title
        assert {st.src for st in child.esp} == {"192.0.2.1", "192.0.2.2"}
        table = screen.query_one(EspTable)
        assert table.view is not None
        marks = [
            seq_mark(table.view.row(n).seq, table.view.previous_seq(n))
            for n in range(len(table.view))
        ]
        assert marks == [""] * len(marks)


@sync
async def test_goto_frame_and_esp_packet_detail() -> None:
    """rekey-dpd: ':' 27 shows the second SA's liveness check in the ladder; ':' 13 opens the
    ESP tab on that packet (SPI 0x0c95ce69, sequence 1 in the capture); enter opens its
    detail."""
    from ikeview.tui.screens.textview import TextScreen
    from ikeview.tui.widgets.ladder import Ladder
    from textual.widgets import TabbedContent

    cap = LAB / "rekey-dpd"
    app = make_app(cap / "capture.pcap", keys=[cap / "keys.toml"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("3", "colon", "2", "7", "enter")
        await pilot.pause()
        await pilot.pause()
        ladder = screen.query_one(Ladder)
        assert screen.query_one(TabbedContent).active == "ladder"
        assert ladder.message_at(ladder.highlighted).frame == 27  # type: ignore[union-attr]
        await pilot.press("colon", "1", "3", "enter")
        await pilot.pause()
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "esp"
        table = screen.query_one(EspTable)
        row = table.view.row(table.cursor)  # type: ignore[union-attr]
        assert (row.frame, row.spi, row.seq) == (13, 0x0C95CE69, 1)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        text = "\n".join(app.screen.lines)
        assert "ESP header: SPI 0x0c95ce69, sequence 1 (in order)" in text
        assert "outer 192.0.2.1 → 192.0.2.2" in text
