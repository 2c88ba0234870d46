"""New lab captures (captures/lab, strongSwan 5.9.8) with outer IPv6 and several child SAs on one
IKE SA, checked against truth.json and the charon logs.

ipv6-outer: initiator.log "IKE_SA lab[1] established between 2001:db8::1[initiator.lab.example]
...2001:db8::2[responder.lab.example]". multi-child: "CHILD_SA net{1}/second{2}/third{3}
established" on both sides, the responder's "closing CHILD_SA second{2} with SPIs b29a8fcb_i
(168 bytes) e33b4369_o (168 bytes)" and the initiator's "received DELETE for ESP CHILD_SA with
SPI b29a8fcb" (frames 21-22).
"""

from __future__ import annotations

from collections.abc import Callable

from lab_report import check_against_truth, child_by_spis, codes, esp_received, ike_sa
from lab_support import Lab


def test_ipv6_outer_matches_truth(lab: Callable[[str], Lab]) -> None:
    sc = lab("ipv6-outer")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    assert (sa["initiator"], sa["responder"]) == ("2001:db8::1", "2001:db8::2")
    d = sa["diagnosis"]
    assert (d["outcome"], d["basis"]) == ("established", "decrypted")
    assert {f["severity"] for f in d["findings"]} == {"info"}
    (child,) = sa["child_sas"]
    assert child["diagnosis"]["outcome"] == "established"
    # 4 pings: the receiver logged 4 packets on each SPI.
    assert sorted(esp_received(sc).values()) == [4, 4]
    assert {(s["src"], s["dst"]) for s in child["esp"]} == {
        ("2001:db8::1", "2001:db8::2"),
        ("2001:db8::2", "2001:db8::1"),
    }


def test_ipv6_outer_raw_esp_copy_and_keyless(lab: Callable[[str], Lab]) -> None:
    """The derived protocol-50 copy (IPv6 next header 50) decrypts like the capture; without
    keys the SA is judged up from ESP in both directions."""
    from ikeview.pipeline.analyze import analyze

    sc = lab("ipv6-outer")
    raw = analyze(sc.dir / "capture-esp-raw.pcap", sc.keyring)
    assert raw.counters.esp_packets == raw.counters.esp_decrypted == 8
    assert all(not s.udp_encap for c in raw.ike_sas[0].child_sas for s in c.esp)
    (bare,) = sc.analysis_without_keys.ike_sas
    assert (bare.diagnosis.outcome, bare.diagnosis.basis) == ("established", "inferred")


def test_multi_child_three_child_sas_on_one_ike_sa(lab: Callable[[str], Lab]) -> None:
    sc = lab("multi-child")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    truth = sc.truth
    assert len(sa["child_sas"]) == len(truth["child_sas"]) == 3
    for t in truth["child_sas"]:
        c = child_by_spis(sa, {e["spi"] for e in t["esp"]})
        assert c["diagnosis"]["outcome"] == "established"
        assert c["diagnosis"]["basis"] == "decrypted"
    # "second" has its own PFS group (ECP_256) while the IKE SA uses MODP_2048.
    (second,) = [t for t in truth["child_sas"] if t["pfs_group"]]
    assert second["pfs_group"] == "ECP_256" and sa["dh_group"] == "MODP_2048"
    c2 = child_by_spis(sa, {e["spi"] for e in second["esp"]})
    assert "ECP_256" in c2["proposal"] and c2["exchange"] == "CREATE_CHILD_SA"
    # Only the HMAC-SHA1-96 child (third) draws a finding beyond info.
    warned = [
        c["spi_initiator"]
        for c in sa["child_sas"]
        if any(f["severity"] != "info" for f in c["diagnosis"]["findings"])
    ]
    (third,) = [t for t in truth["child_sas"] if "HMAC_SHA1_96" in t["proposal"]]
    assert warned == [child_by_spis(sa, {e["spi"] for e in third["esp"]})["spi_initiator"]]


def test_multi_child_responder_deletes_one_child(lab: Callable[[str], Lab]) -> None:
    """The responder deleted "second" alone (its inbound SPI b29a8fcb, frame 21): that child SA
    ends there, the others at the IKE SA's delete (frame 27); charon counted 168 bytes of inner
    traffic each way on it (2 pings of 84 bytes)."""
    sc = lab("multi-child")
    doc = check_against_truth(sc)
    sa = ike_sa(doc, sc.truth["ike_sas"][0]["spi_i"])
    deleted = [f for f in sa["diagnosis"]["findings"] if f["code"] == "deleted"]
    by_responder = [f for f in deleted if f.get("deleted_by") == "responder"]
    assert len(by_responder) == 1 and 21 in by_responder[0]["frames"]
    assert "b29a8fcb" in by_responder[0]["explanation"]
    second = child_by_spis(sa, {"b29a8fcb", "e33b4369"})
    others = [c for c in sa["child_sas"] if c is not second]
    assert second["deleted_ts"] < min(c["deleted_ts"] for c in others)
    assert all(c["deleted_ts"] == sa["deleted_ts"] for c in others)
    inner = {s["spi"]: sum(f["bytes"] for f in s["inner_flows"]) for s in second["esp"]}
    assert inner == {"b29a8fcb": 168, "e33b4369": 168}
    assert codes(second["diagnosis"]) == {}
