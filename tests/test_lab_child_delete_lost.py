"""A child SA deleted by one side while the other keeps sending (captures/lab/child-delete-lost,
strongSwan 5.9.8).

responder.log: "closing CHILD_SA net{1} with SPIs ab67f3eb_i (168 bytes) fcdd3d3e_o (168 bytes)",
"sending DELETE for ESP CHILD_SA with SPI ab67f3eb", "retransmit 1/2 of request with message ID
0", "giving up after 2 retransmits"; it logs "parsed ESP header with SPI ab67f3eb [seq 1]" up to
"[seq 8]". initiator.log: never a "received DELETE"; "giving up after 2 retransmits", "proper
IKE_SA delete failed, peer not responding". Frames (tshark): the Delete 9, 10, 15; ESP from the
initiator after the responder gave up 16-19, unanswered; the initiator's Delete 20-22.
"""

from __future__ import annotations

from collections.abc import Callable

from lab_report import check_against_truth, codes, esp_received
from lab_support import Lab


def test_esp_after_a_lost_delete(lab: Callable[[str], Lab]) -> None:
    sc = lab("child-delete-lost")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    (child,) = sa["child_sas"]
    # Receivers' logs: 8 packets on the responder's inbound SPI, 4 answers on the initiator's.
    assert esp_received(sc) == {"ab67f3eb": 8, "fcdd3d3e": 4}
    f = codes(child["diagnosis"])["esp-after-delete"]
    assert f["severity"] == "error" and f["deleted_by"] == "responder"
    assert f["spi"] == "ab67f3eb" and f["frames"] == [9, 10, 15, 19]
    assert "never answered" in f["explanation"] and "stopped at frame 14" in f["explanation"]
    assert child["diagnosis"]["outcome"] == "established"


def test_lost_delete_is_not_a_dead_peer(lab: Callable[[str], Lab]) -> None:
    """The responder is alive (it sent its Delete three times) and gave up on it; the
    initiator's later Delete of the IKE SA finds the SA gone: no dpd-timeout."""
    doc = check_against_truth(lab("child-delete-lost"))
    (sa,) = doc["ike_sas"]
    d = sa["diagnosis"]
    found = {f["code"]: f for f in d["findings"] if f["code"] != "deleted"}
    assert "dpd-timeout" not in found
    lost = found["retransmission"]
    assert lost["frames"] == [9, 10, 15] and "lost one way" in lost["explanation"]
    gone = found["no-response"]
    assert gone["severity"] == "warning" and gone["peer_gave_up"] is True
    assert gone["frames"] == [20, 21, 22]
    assert d["outcome"] == "failed" and "broke down" in d["verdict"]


def test_no_esp_after_delete_elsewhere(lab: Callable[[str], Lab]) -> None:
    """Deletes answered at once (multi-child, rekey-pfs-mismatch) raise no esp-after-delete."""
    for name in ("multi-child", "rekey-pfs-mismatch", "rekey-temporary-failure"):
        a = lab(name).analysis
        assert not [
            f
            for sa in a.ike_sas
            for c in sa.child_sas
            for f in c.diagnosis.findings
            if f.code == "esp-after-delete"
        ], name
