"""Reauthentication and a PFS group mismatch at rekey, in new lab captures (strongSwan 5.9.8).

reauth: initiator.log "reauthenticating IKE_SA lab[1]", "sending DELETE for IKE_SA lab[1]",
"initiating IKE_SA lab[2]"; truth.json has two IKE SAs made by IKE_SA_INIT, neither a rekey.
rekey-pfs-mismatch: responder.log "no acceptable KEY_EXCHANGE_METHOD found", "received
proposals: ESP:AES_CBC_256/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ", "configured proposals:
ESP:AES_CBC_256/HMAC_SHA2_256_128/ECP_256/NO_EXT_SEQ", "generating CREATE_CHILD_SA response 2 [
N(NO_PROP) ]" (and response 5); initiator.log "closing expired CHILD_SA net{1} with SPIs
7789a2fb_i 9e1b6fb2_o", "sending DELETE for ESP CHILD_SA with SPI 7789a2fb",
"scheduling CHILD_SA recreate after hard expire". Frames from tshark: 13-14 and 35-36 the
CREATE_CHILD_SA exchanges, 31-32 the child's Delete.
"""

from __future__ import annotations

from collections.abc import Callable

from lab_report import check_against_truth, child_by_spis, codes, esp_received, ike_sa
from lab_support import Lab


def by_capture_order(sc: Lab) -> list[dict]:
    """truth.json's IKE SAs in the order their first message is in the capture (its own order is
    the logs' and says nothing of which SA came first)."""
    first = [m["spi_i"] for m in sc.truth["ike_messages"]]
    return sorted(sc.truth["ike_sas"], key=lambda t: first.index(t["spi_i"]))


def test_reauth_links_old_and_new_ike_sa(lab: Callable[[str], Lab]) -> None:
    sc = lab("reauth")
    doc = check_against_truth(sc)
    old_t, new_t = by_capture_order(sc)
    assert old_t["rekey_of"] is None and new_t["rekey_of"] is None
    old, new = ike_sa(doc, old_t["spi_i"]), ike_sa(doc, new_t["spi_i"])
    for sa in (old, new):
        assert (sa["diagnosis"]["outcome"], sa["diagnosis"]["basis"]) == (
            "established",
            "decrypted",
        )
        assert sa["rekey_of"] is None and sa["rekeyed_into"] is None
    f = codes(old["diagnosis"])["reauthenticated"]
    assert f["severity"] == "info" and f["frames"] == [9, 11]
    assert f["successor"] == f"{new_t['spi_i']}/{new_t['spi_r']}"
    assert "break-before-make" in f["explanation"]
    assert "reauthenticated" not in codes(new["diagnosis"])
    # Both child SAs carried the pings the receivers logged (2 each way per SA).
    assert sorted(esp_received(sc).values()) == [2, 2, 2, 2]


def test_concurrent_ike_sas_are_not_a_reauthentication(lab: Callable[[str], Lab]) -> None:
    """cookie: two IKE SAs set up side by side (other selectors), deleted one after the other."""
    doc = check_against_truth(lab("cookie"))
    assert not [
        f
        for sa in doc["ike_sas"]
        for f in sa["diagnosis"]["findings"]
        if f["code"] == "reauthenticated"
    ]


def test_rekey_refused_for_its_pfs_group(lab: Callable[[str], Lab]) -> None:
    sc = lab("rekey-pfs-mismatch")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    assert sa["diagnosis"]["outcome"] == "established"
    (t,) = sc.truth["child_sas"]
    net = child_by_spis(sa, {e["spi"] for e in t["esp"]})
    assert net["exchange"] == "IKE_AUTH" and "MODP" not in net["proposal"]
    # The pings before the expiry went through: 12 each way, as the receivers logged.
    assert sorted(esp_received(sc).values()) == [12, 12]
    refused = [c for c in sa["child_sas"] if c["refused"]]
    assert [c["created_frame"] for c in refused] == [14, 36]
    for c in refused:
        d = c["diagnosis"]
        assert (d["outcome"], d["basis"]) == ("failed", "decrypted")
        f = codes(d)["no-proposal-chosen"]
        assert f["notify"] == "NO_PROPOSAL_CHOSEN" and f["rejected_by"] == "responder"
        assert f["offered"] == ["ESP:AES_CBC_256/HMAC_SHA2_256_128/MODP_2048/NO_EXT_SEQ"]
        assert f["cause"] == "pfs-group"
        assert "PFS group MODP_2048" in f["explanation"]
        assert "same PFS group" in f["fix"]
    # The established child SA: its rekey refused, then deleted by the initiator at expiry.
    r = codes(net["diagnosis"])["rekey-refused"]
    assert r["severity"] == "error" and r["frames"] == [13, 14, 31]
    assert "the initiator deleted it (frame 31)" in r["explanation"]
    assert net["diagnosis"]["outcome"] == "established"


def test_rekey_pfs_mismatch_keyless(lab: Callable[[str], Lab]) -> None:
    """Without keys both CREATE_CHILD_SA responses (frames 14 and 36, 84 bytes of IKE) are too
    small for SA and Nonce: refused, error unknown; no PFS claim without the payloads."""
    (sa,) = lab("rekey-pfs-mismatch").analysis_without_keys.ike_sas
    assert sa.diagnosis.outcome == "established"
    refused = [c for c in sa.child_sas if c.error is not None]
    assert [c.created_frame for c in refused] == [14, 36]
    for c in refused:
        (f,) = c.diagnosis.findings
        assert f.code == "no-child-sa" and f.get("cause") is None


def test_child_rekey_retried_after_invalid_ke(lab: Callable[[str], Lab]) -> None:
    """rekey-invalid-ke: responder.log "DH group MODP_2048 unacceptable, requesting ECP_256",
    initiator.log "peer didn't accept DH group MODP_2048, it requested ECP_256"; the retry (MID 3,
    frames 15-16) makes net{3} with ESP:AES_CBC_256/HMAC_SHA2_256_128/ECP_256/NO_EXT_SEQ."""
    sc = lab("rekey-invalid-ke")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    old_t, new_t = sc.truth["child_sas"]
    old = child_by_spis(sa, {e["spi"] for e in old_t["esp"]})
    new = child_by_spis(sa, {e["spi"] for e in new_t["esp"]})
    assert new["rekey_of"] is not None and new["created_frame"] == 16
    assert not [c for c in sa["child_sas"] if c["refused"]]
    for c in (old, new):
        assert c["diagnosis"]["outcome"] == "established"
        assert not [f for f in c["diagnosis"]["findings"] if f["severity"] != "info"]
    f = codes(sa["diagnosis"])["invalid-ke-retry"]
    assert (f["group"], f["exchange"], f["frames"]) == (19, "CREATE_CHILD_SA", [13, 14])
    assert "instead of group 14 (MODP_2048)" in f["explanation"]
    assert "(frame 15)" in f["explanation"]
    # Without keys: the 84-byte answer and the at-once retry, not a refused child SA.
    (bare,) = sc.analysis_without_keys.ike_sas
    assert not [c for c in bare.child_sas if c.error is not None]
    (g,) = [f for f in bare.diagnosis.findings if f.code == "invalid-ke-retry"]
    assert g.basis == "inferred" and g.frames == (13, 14, 15)
    assert "192 bytes shorter" in g.explanation


def test_reauth_make_before_break(lab: Callable[[str], Lab]) -> None:
    """reauth-mbb: the new IKE SA (IKE_SA_INIT frame 9, IKE_AUTH answered in frame 12) is up
    before the old one's Delete (frame 13)."""
    sc = lab("reauth-mbb")
    doc = check_against_truth(sc)
    old_t, new_t = by_capture_order(sc)
    old = ike_sa(doc, old_t["spi_i"])
    f = codes(old["diagnosis"])["reauthenticated"]
    assert f["frames"] == [9, 13] and "make-before-break" in f["explanation"]
    assert f["successor"] == f"{new_t['spi_i']}/{new_t['spi_r']}"
    assert "reauthenticated" not in codes(ike_sa(doc, new_t["spi_i"])["diagnosis"])


def test_reauth_inferred_without_keys(lab: Callable[[str], Lab]) -> None:
    """Without keys the old SA's last exchange (frame 9 in reauth, 13 in reauth-mbb) is an
    unreadable INFORMATIONAL and a new IKE SA starts between the same peers: most likely a
    reauthentication (info, inferred), in the order the capture shows."""
    for name, frames, order in (
        ("reauth", (9, 11), "break-before-make"),
        ("reauth-mbb", (9, 13), "make-before-break"),
    ):
        sc = lab(name)
        old_t, _new_t = by_capture_order(sc)
        (old,) = [s for s in sc.analysis_without_keys.ike_sas if s.spi_i.hex() == old_t["spi_i"]]
        (f,) = [f for f in old.diagnosis.findings if f.code == "reauthenticated"]
        assert f.basis == "inferred" and f.frames == frames and order in f.explanation
