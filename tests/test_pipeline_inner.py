"""Inner flows per ESP SPI: bounded in the model, shown in the report text and JSON."""

from __future__ import annotations

from collections.abc import Callable

from lab_support import Lab
from scapy.layers.inet import ICMP, IP, UDP

from ikeview.pipeline.inner import InnerFlowCounter, summarize
from ikeview.pipeline.model import MAX_INNER_FLOWS
from ikeview.pipeline.seam import EspOpened
from ikeview.report import render_text, to_json


def _opened(pkt: bytes, nh: int = 4) -> EspOpened:
    return EspOpened(True, "ok", nh, pkt, None)


def test_summarize_only_decrypted() -> None:
    assert summarize(EspOpened(False, None, None, None, "no keys")) is None
    assert summarize(EspOpened(False, "failed", None, None, "ICV")) is None
    s = summarize(_opened(bytes(IP(src="1.1.1.1", dst="2.2.2.2") / ICMP())))
    assert s is not None and s.text() == "IPv4 ICMP 1.1.1.1 > 2.2.2.2 echo-request"


def test_flow_counter_is_bounded() -> None:
    """20 UDP flows: the first 16 are described, the other 4 flows' packets only counted."""
    c = InnerFlowCounter()
    for port in range(20):
        pkt = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + port, dport=53))
        for _ in range(3):
            c.add(summarize(_opened(pkt)))  # type: ignore[arg-type]
    flows = c.freeze()
    assert len(flows) == MAX_INNER_FLOWS == 16
    assert c.other == 4 * 3
    assert [f.sport for f in flows] == list(range(1000, 1016))
    assert all(f.packets == 3 and f.bytes == 3 * 28 for f in flows)
    assert flows[0].text == "IPv4 UDP 10.0.0.1:1000 > 10.0.0.2:53"


def test_lab_report_has_inner_flows(lab: Callable[[str], Lab]) -> None:
    a = lab("rekey-dpd").analysis
    stats = [s for sa in a.ike_sas for c in sa.child_sas for s in c.esp]
    assert stats and all(s.decrypted == s.packets for s in stats)
    for s in stats:
        (flow,) = s.inner_flows
        assert flow.packets == s.packets and s.inner_other == 0
        assert (flow.ip_version, flow.protocol, flow.icmp_code) == (4, 1, 0)
        assert flow.src in ("198.51.100.1", "203.0.113.1")
        want = "echo-request" if flow.src == "198.51.100.1" else "echo-reply"
        assert flow.text.endswith(want)
    text = render_text(a)
    assert "    IPv4 ICMP 198.51.100.1 > 203.0.113.1 echo-request: 5 packets, 420 bytes" in text
    esp = to_json(a, show_secrets=False)["ike_sas"][0]["child_sas"][0]["esp"][0]
    assert esp["inner_other_packets"] == 0
    (flow,) = esp["inner_flows"]
    assert flow["icmp_type"] in (0, 8) and flow["sport"] is None and flow["error"] is None


def test_no_keys_no_inner_flows(lab: Callable[[str], Lab]) -> None:
    a = lab("rekey-dpd").analysis_without_keys
    stats = [*a.unassociated_esp, *(s for sa in a.ike_sas for c in sa.child_sas for s in c.esp)]
    assert stats and all(s.inner_flows == () and s.inner_other == 0 for s in stats)


def test_header_shortcut_counts_like_the_dissector() -> None:
    """The raw-header shortcut of InnerFlowCounter gives the flows the full summary path gives."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP

    from ikeview.pipeline.inner import InnerFlowCounter
    from ikeview.pipeline.seam import EspOpened

    packets = (
        [
            bytes(IP(src="198.51.100.1", dst="203.0.113.1") / ICMP(type=8, seq=n) / (b"x" * n))
            for n in range(5)
        ]
        + [
            bytes(IP(src="198.51.100.1", dst="203.0.113.1") / UDP(sport=53, dport=5353 + n % 3))
            for n in range(6)
        ]
        + [bytes(IP(src="198.51.100.2", dst="203.0.113.9", flags="MF") / TCP(dport=80))]
    )
    fast, slow = InnerFlowCounter(limit=3), InnerFlowCounter(limit=3)
    for data in packets:
        fast.add_opened(EspOpened(True, "ok", 4, data, None))
        slow.add(summarize(EspOpened(True, "ok", 4, data, None)))
    assert fast.freeze() == slow.freeze()
    assert fast.other == slow.other == 12 - sum(f.packets for f in slow.freeze())
