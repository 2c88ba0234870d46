"""Unit tests of the TUI's pure helpers: rebuilt message bytes against the wire, proposal
short forms and combinations, the filter, and the ESP row store."""

from __future__ import annotations

from pathlib import Path

import pytest
from ikeview.tui import text
from ikeview.tui.esprows import STATUS_DECRYPTED, STATUS_INTEGRITY_FAILED, EspRowStore
from ikeview.tui.filtering import Filter
from ikeview.tui.wire import message_bytes, plaintext_bytes
from lab_support import LAB

from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.seam import EspOpened

NON_ESP_MARKER = b"\x00\x00\x00\x00"


def _udp_payloads(path: Path) -> dict[int, bytes]:
    """Frame number -> IKE bytes, read with scapy (not ikeview) as an independent reference."""
    from scapy.layers.inet import UDP
    from scapy.utils import rdpcap

    out: dict[int, bytes] = {}
    for n, pkt in enumerate(rdpcap(str(path)), 1):
        if UDP in pkt and 500 in (pkt[UDP].sport, pkt[UDP].dport):
            out[n] = bytes(pkt[UDP].payload)
        elif UDP in pkt and 4500 in (pkt[UDP].sport, pkt[UDP].dport):
            data = bytes(pkt[UDP].payload)
            if data.startswith(NON_ESP_MARKER):
                out[n] = data[4:]
    return out


@pytest.mark.parametrize(
    "capture",
    [
        "lab/gcm16-ecp256",
        "lab/natt",
        "lab/multi-proposal",
        "wireshark/ikev2-decrypt-aes256cbc.pcapng",
        "tcpdump/ikev2four.pcap",
    ],
)
def test_rebuilt_message_bytes_equal_the_wire(capture: str, shared_dir: Path) -> None:
    """The hex view's bytes, rebuilt from the records, are the datagram scapy reads."""
    if capture.startswith("lab/"):
        path = LAB / capture.removeprefix("lab/") / "capture.pcap"
    else:
        path = shared_dir / "captures" / capture
    wire = _udp_payloads(path)
    analysis = analyze(path)
    messages = [m for sa in analysis.ike_sas for m in sa.messages]
    assert messages
    for m in messages:
        assert message_bytes(m).data == wire[m.frame], m.frame


def test_plaintext_section_holds_inner_payloads_at_their_offsets() -> None:
    """Each decrypted payload's body sits at its offset + 4 in the plaintext section."""
    lab = LAB / "gcm16-ecp256"
    analysis = analyze(lab / "capture.pcap", load_keys([lab / "keys.toml"]))
    decrypted = [m for sa in analysis.ike_sas for m in sa.messages if m.decrypted]
    assert decrypted
    for m in decrypted:
        section = plaintext_bytes(m)
        assert section is not None
        for p in m.inner:
            start = p.offset + 4
            assert section.data[start : start + len(p.body)] == p.body
    clear = next(m for sa in analysis.ike_sas for m in sa.messages if not m.decrypted)
    assert plaintext_bytes(clear) is None


def test_proposal_short_and_combinations() -> None:
    """Short forms as the UI prints them; combinations in priority order, chosen one found."""
    lab = LAB / "multi-proposal"
    sa = analyze(lab / "capture.pcap", load_keys([lab / "keys.toml"])).ike_sas[0]
    assert text.proposal_short(sa.chosen) == "AES-CBC-256/HMAC-SHA512-256/PRF-SHA384/MODP-2048"
    combos = text.combinations(sa.offered[1])
    assert len(combos) == 3 * 3 * 3 * 2
    # The first type varies slowest: the sender's first choice of every type comes first.
    assert text.transforms_short(combos[0]) == "AES-CBC-128/HMAC-SHA256-128/PRF-SHA256/MODP-2048"
    hits = [i for i, c in enumerate(combos) if text.is_chosen(c, sa.chosen)]
    assert len(hits) == 1
    gcm = analyze(LAB / "gcm16-ecp256" / "capture.pcap").ike_sas[0]
    assert text.proposal_short(gcm.chosen) == "AES-GCM-16-256/PRF-SHA256/ECP-256"
    assert text.proposal_short(None) == "proposal unknown"  # a refusal is said by the verdict
    assert text.duration(0.0123) == "12.3 ms" and text.duration(1.25) == "1.250 s"


def test_filter_words_all_match() -> None:
    """Every word must match; SPIs with or without 0x; exchange and notify names."""
    analysis = analyze(LAB / "rekey-dpd" / "capture.pcap")
    first, second = analysis.ike_sas
    assert Filter("").accepts_sa(first)
    assert Filter(first.spi_i.hex()[:8]).accepts_sa(first)
    assert not Filter(first.spi_i.hex()[:8]).accepts_sa(second)
    child = first.child_sas[0].spi_initiator if first.child_sas else None
    if child is not None:
        assert Filter(f"0x{child:08x}").accepts_sa(first)
    assert Filter("ike_sa_init nat_detection_source_ip").accepts_sa(first)
    assert not Filter("ike_sa_init no-such-word").accepts_sa(first)
    # An exchange's purpose ("rekey child SA") is known once its messages are decrypted.
    keyed = analyze(
        LAB / "rekey-dpd" / "capture.pcap", load_keys([LAB / "rekey-dpd" / "keys.toml"])
    )
    assert Filter("rekey child").accepts_sa(keyed.ike_sas[0])
    assert not Filter("rekey child").accepts_sa(first)
    init = first.exchanges[0].request
    assert init is not None
    assert Filter("request ike_sa_init").accepts_message(init)
    assert not Filter("response").accepts_message(init)


def _opened(decrypted: bool, integrity: str | None = None) -> EspOpened:
    inner = b"\x45" + bytes(83) if decrypted else None
    return EspOpened(decrypted, integrity, 4 if decrypted else None, inner, None)  # type: ignore[arg-type]


def test_esp_store_orders_by_capture_and_grows() -> None:
    """Views keep capture order across SPIs and take in rows appended later."""
    store = EspRowStore()
    store.add(0xA, 1, 1.0, 1, 100, _opened(True, "ok"))
    store.add(0xB, 2, 1.5, 1, 120, _opened(False))
    store.add(0xA, 3, 2.0, 2, 100, _opened(False, "failed"))
    both = store.view((0xB, 0xA))
    assert [both.row(i).frame for i in range(len(both))] == [1, 2, 3]
    only_a = store.view((0xA,))
    assert [only_a.row(i).frame for i in range(len(only_a))] == [1, 3]
    assert only_a.row(0).status == STATUS_DECRYPTED and only_a.row(0).inner_len == 84
    assert only_a.row(1).status == STATUS_INTEGRITY_FAILED
    store.add(0xA, 4, 2.5, 3, 100, _opened(True, "ok"))
    assert only_a.refresh() and len(only_a) == 3
    assert not only_a.refresh()
    assert len(store.view()) == 4 == store.total()
    assert store.view((0xC,)).spis == ()
    assert sorted(only_a.times()) == [1.0, 2.0, 2.5]
