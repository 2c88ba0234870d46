"""The ESP panel's rows carry the inner summary the core made (no dissector in the TUI)."""

from __future__ import annotations

from ikeview.tui.esprows import MAX_SUMMARIES, EspRowStore
from ikeview.tui.widgets.esp_table import row_text
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import IPv6

from ikeview.pipeline.seam import EspOpened


def test_rows_show_inner_summary() -> None:
    store = EspRowStore()
    ping = bytes(IP(src="198.51.100.1", dst="203.0.113.1") / ICMP())
    dns = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=53, dport=9))
    store.add(1, 1, 10.0, 1, 120, EspOpened(True, "ok", 4, ping, None))
    store.add(1, 2, 10.5, 2, 120, EspOpened(True, "ok", 4, ping, None))
    store.add(2, 3, 11.0, 1, 120, EspOpened(True, "ok", 41, dns, None))
    store.add(2, 4, 11.5, 2, 120, EspOpened(False, "failed", None, None, "ICV"))
    view = store.view()
    rows = [view.row(n) for n in range(len(view))]
    assert [r.summary for r in rows] == [
        "IPv4 ICMP 198.51.100.1 > 203.0.113.1 echo-request",
        "IPv4 ICMP 198.51.100.1 > 203.0.113.1 echo-request",
        "IPv6 UDP [2001:db8::1]:53 > [2001:db8::2]:9",
        None,
    ]
    assert len(store.summaries) == 2  # one line per distinct flow, not per packet
    assert row_text(rows[0], 10.0)[1] == (
        "IPv4 ICMP 198.51.100.1 > 203.0.113.1 echo-request, 28 bytes"
    )
    assert row_text(rows[3], 10.0)[1] == "ICV FAILED"


def test_summary_table_is_bounded() -> None:
    """Past MAX_SUMMARIES distinct lines, rows fall back to the Next Header name."""
    store = EspRowStore()
    for i in range(MAX_SUMMARIES + 2):
        pkt = bytes(IP(src="10.0.0.1", dst=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}") / ICMP())
        store.add(7, i + 1, float(i), i, 100, EspOpened(True, "ok", 4, pkt, None))
    view = store.view()
    assert len(store.summaries) == MAX_SUMMARIES
    last = view.row(len(view) - 1)
    assert last.summary is None
    assert row_text(last, 0.0)[1] == "IPv4, 28 bytes"
