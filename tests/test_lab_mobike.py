"""MOBIKE in the lab (captures/lab/mobike, strongSwan 5.9.8): the initiator gains 192.0.2.3 and
loses 192.0.2.1. Expected values from its logs (truth.json log_notes): "sending address list
update using MOBIKE" (INFORMATIONAL request 2), "checking path 192.0.2.3[4500] -
192.0.2.2[4500]", "generating INFORMATIONAL request 4 [ N(UPD_SA_ADDR) ... ]"; and from the
packets (tshark: frame 13 is that request, 192.0.2.3 -> 192.0.2.2).
"""

from __future__ import annotations

from collections.abc import Callable

from lab_support import Lab


def test_update_sa_addresses_moves_the_initiator(lab: Callable[[str], Lab]) -> None:
    sc = lab("mobike")
    truth = sc.truth
    assert any("UPD_SA_ADDR" in n for n in truth["log_notes"])
    a = sc.analysis
    (sa,) = a.ike_sas
    assert (sa.initiator, sa.responder) == ("192.0.2.1", "192.0.2.2")
    (change,) = sa.address_changes
    assert (change.frame, change.side, change.old, change.new) == (
        13, "initiator", "192.0.2.1", "192.0.2.3",
    )  # fmt: skip
    by_mid = {(e.requester, e.message_id): e for e in sa.exchanges}
    assert by_mid[("initiator", 2)].purpose == "MOBIKE: address list"
    assert by_mid[("initiator", 4)].purpose.startswith("MOBIKE: update SA addresses")
    # ESP follows: the child SA after the move runs between 192.0.2.3 and 192.0.2.2, and every
    # packet on either path decrypts.
    late = sa.child_sas[-1]
    assert {(s.src, s.dst) for s in late.esp} == {
        ("192.0.2.3", "192.0.2.2"),
        ("192.0.2.2", "192.0.2.3"),
    }
    assert a.counters.esp_decrypted == a.counters.esp_packets == 8
