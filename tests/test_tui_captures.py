"""The TUI over the shared Wireshark and tcpdump test captures, one app for all of them (each
capture re-loaded through the screen, as the keys dialog does), so the sweep stays fast."""

from __future__ import annotations

from pathlib import Path

from ikeview.tui.app import make_app
from ikeview.tui.loading import LoadRequest
from ikeview.tui.screens.main import TABS
from ikeview.tui.widgets.esp_table import EspTable
from ikeview.tui.widgets.ladder import Ladder, arrow_style, ladder_entries
from ikeview.tui.widgets.message_view import PayloadTree
from ikeview.tui.widgets.sa_tree import NodeRef, SaTree
from textual.widgets import TabbedContent
from tui_support import SIZE, no_animations, sync  # noqa: F401 (autouse fixture)
from tui_support import loaded as settle

WIRESHARK_IKEV2 = (
    "ikev2-decrypt-3des-sha1_160.pcap",
    "ikev2-decrypt-aes128ccm12.pcap",
    "ikev2-decrypt-aes128ccm12-2.pcap",
    "ikev2-decrypt-aes192ctr.pcap",
    "ikev2-decrypt-aes256cbc.pcapng",
    "ikev2-decrypt-aes256ccm16.pcapng",
    "ikev2-decrypt-aes256gcm16.pcap",
    "ikev2-decrypt-aes256gcm8.pcap",
)


@sync
async def test_every_wireshark_ikev2_capture_every_panel(shared_dir: Path) -> None:
    """Each Wireshark IKEv2 capture with its decryption table: the IKE_AUTH messages decrypt
    (integrity ok where the table allows a check) and the message panel opens IKE_AUTH; every
    panel is drawn for the first two."""
    ws = shared_dir / "captures" / "wireshark"
    keys = (ws / "ikev2_decryption_table.tmpl", ws / "esp_sa.tmpl")
    app = make_app(ws / WIRESHARK_IKEV2[0], keys=keys)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        for name in WIRESHARK_IKEV2:
            screen.selected = None
            screen.start_load(LoadRequest(ws / name, keys=keys))
            screen = await settle(pilot)
            a = screen.analysis
            assert a is not None and a.capture.endswith(name) and a.complete, name
            assert a.counters.ike_decrypted >= 2, name
            assert a.counters.ike_integrity_failed == 0, name
            ladder = screen.query_one(Ladder)
            ladder.focus()
            await pilot.press("j", "j", "enter")  # IKE_AUTH request
            await pilot.pause()
            assert screen.message is not None and screen.message.exchange_name == "IKE_AUTH"
            assert screen.message.decrypted, name
            labels = " ".join(str(n.label) for n in _walk(screen.query_one(PayloadTree).root))
            # aes128ccm12-2's table row gives no usable ICV length check: "not checked".
            assert "decrypted" in labels and "FAILED" not in labels, name
            assert "integrity ✓ ok" in labels or "integrity not checked" in labels, name
            if name in WIRESHARK_IKEV2[:2]:
                # Panels are filled on every load; drawing each costs a key press: two suffice.
                for i, tab in enumerate(TABS, 1):
                    await pilot.press(str(i))
                    assert screen.query_one(TabbedContent).active == tab
            await pilot.press("1")


def _walk(node):  # type: ignore[no-untyped-def]
    yield node
    for child in node.children:
        yield from _walk(child)


@sync
async def test_esp_only_capture_lists_unassociated_spis(shared_dir: Path) -> None:
    """esp-bug-12671 has ESP and no IKE: the ESP panel shows every SPI, decrypted by esp_sa."""
    ws = shared_dir / "captures" / "wireshark"
    app = make_app(ws / "esp-bug-12671.pcapng.gz", keys=[ws / "esp_sa.tmpl"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.analysis is not None and not screen.analysis.ike_sas
        await pilot.press("5")
        table = screen.query_one(EspTable)
        assert table.view is not None
        assert len(table.view) == screen.analysis.counters.esp_packets > 0
        assert sum(table.view.row(i).status == 1 for i in range(len(table.view))) == (
            screen.analysis.counters.esp_decrypted
        )


@sync
async def test_ladder_colours_unanswered_retry_and_other_bytes(shared_dir: Path) -> None:
    """tcpdump's ikev2four: a retried IKE_SA_INIT (magenta), a same-ID-other-bytes request
    (yellow) and an unanswered request (red, '✗ no response')."""
    app = make_app(shared_dir / "captures" / "tcpdump" / "ikev2four.pcap")
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.analysis is not None
        styles = set()
        texts = []
        for sa in screen.analysis.ike_sas:
            for m, ex in ladder_entries(sa):
                styles.add((arrow_style(m, ex), ex.status, m.retransmission))
        assert ("magenta", "retry", None) in styles
        assert any(s[0] == "yellow" and s[2] == "other-bytes" for s in styles)
        assert any(s[0] == "red" and s[1] == "unanswered" for s in styles)
        for sa in screen.analysis.ike_sas:
            screen.selected = None
            screen.post_message(SaTree.Chosen(NodeRef(sa.spis)))
            await pilot.pause()
            ladder = screen.query_one(Ladder)
            texts += [str(ladder.get_option_at_index(i).prompt) for i in range(ladder.option_count)]
        assert any("✗ no response" in t for t in texts)
        assert any("same ID as frame 1, other bytes" in t for t in texts)
