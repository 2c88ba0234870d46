"""Multiple authentication rounds (RFC 4739) in captures/lab/multi-auth (strongSwan 5.9.8).

initiator.log: "generating IKE_AUTH request 1 [ IDi N(INIT_CONTACT) IDr AUTH SA TSi TSr ...
N(MULT_AUTH) ...]", "parsed IKE_AUTH response 1 [ IDr AUTH ]", "generating IKE_AUTH request 2 [
IDi ]", EAP-MD5 rounds, "parsed IKE_AUTH response 5 [ AUTH SA TSi TSr ... ]", then "IKE_SA
lab[1] established between 192.0.2.1[alice@lab.example]...". The SA stands at frame 12, not at
the first round's answer (frame 4).
"""

from __future__ import annotations

from collections.abc import Callable

from lab_report import check_against_truth, report_json
from lab_support import Lab

from ikeview.report import render_text


def test_multiple_authentication_rounds(lab: Callable[[str], Lab]) -> None:
    sc = lab("multi-auth")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    d = sa["diagnosis"]
    assert (d["outcome"], d["basis"]) == ("established", "decrypted")
    assert "frame 12" in d["verdict"]
    (child,) = sa["child_sas"]
    # Established with the last round (frame 12), when the child SA was made too.
    assert sa["established_ts"] == child["created_ts"]
    client, gw = sa["auth"]["initiator"], sa["auth"]["responder"]
    # Round 1 with the PSK, round 2 EAP-MD5 (AUTH over SK_pi), both verified.
    assert client["verified"] is True and "verified over SK_pi" in client["detail"]
    assert (client["eap_identity"], client["eap_result"]) == ("alice", "success")
    assert gw["verified"] is True and "verified over SK_pr" in gw["detail"]
    assert not [f for f in d["findings"] if f["severity"] != "info"]
    (bare,) = sc.analysis_without_keys.ike_sas
    assert (bare.diagnosis.outcome, bare.diagnosis.basis) == ("established", "inferred")


def test_second_round_identity_is_reported(lab: Callable[[str], Lab]) -> None:
    """initiator.log: "generating IKE_AUTH request 2 [ IDi ]", "authentication of
    'alice@lab.example' (myself) with EAP", "generating IKE_AUTH request 5 [ AUTH ]" (frame 11:
    the AUTH over SK_pi after EAP-MD5, which has no MSK, is a shared key MIC, RFC 7296 2.16);
    the first round's IDi stays 'initiator.lab.example' ("authentication of
    'initiator.lab.example' (myself) with pre-shared key")."""
    sc = lab("multi-auth")
    (sa,) = sc.analysis.ike_sas
    auth = {a.side: a for a in sa.auth}
    client = auth["initiator"]
    assert client.identity == "initiator.lab.example"
    (later,) = client.more_rounds
    assert (later.identity, later.method_name, later.verified, later.frame) == (
        "alice@lab.example",
        "SHARED_KEY_MIC",
        True,
        11,
    )
    assert auth["responder"].more_rounds == ()
    (rnd,) = report_json(sc)["ike_sas"][0]["auth"]["initiator"]["more_rounds"]
    assert (rnd["identity"], rnd["method"], rnd["verified"]) == (
        "alice@lab.example",
        "SHARED_KEY_MIC",
        True,
    )
    assert "round 2 initiator alice@lab.example: SHARED_KEY_MIC verified" in render_text(
        sc.analysis
    )
    card = render_text(sc.analysis, card=True)
    assert "initiator round 2 identity alice@lab.example, auth SHARED_KEY_MIC (verified)" in card
