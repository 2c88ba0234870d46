"""Authentication failures in new lab captures (strongSwan 5.9.8), each judged against what the
peers logged.

id-mismatch: the PSK is right, the initiator asks for IDr vpn.lab.example; responder.log
"looking for peer configs matching 192.0.2.2[vpn.lab.example]...192.0.2.1[initiator.lab.example]",
"no matching peer config found"; N(AUTHENTICATION_FAILED) in frame 4.
eap-wrong-password: responder.log "EAP-MS-CHAPv2 verification failed, retry (1)"; initiator.log
"EAP-MS-CHAPv2 failed with error ERROR_AUTHENTICATION_FAILURE", "generating INFORMATIONAL request
4 [ N(AUTH_FAILED) ]" (frame 10); the MS-CHAPv2 Failure request is frame 9 (tshark: EAP Request,
type 26, OpCode 4, "E=691 R=1 ...").
cert-untrusted: initiator.log "no trusted ECDSA public key found for 'gw.lab.example'",
"generating INFORMATIONAL request 2 [ N(AUTH_FAILED) ]" (frame 5); responder.log "authentication of
'gw.lab.example' (myself) with ECDSA_WITH_SHA256_DER successful".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lab_report import check_against_truth, codes
from lab_support import Lab


def test_identity_mismatch_is_not_claimed_as_a_psk_mismatch(lab: Callable[[str], Lab]) -> None:
    sc = lab("id-mismatch")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    d = sa["diagnosis"]
    assert (d["outcome"], d["basis"]) == ("failed", "decrypted")
    found = codes(d)
    assert found["authentication-failed"]["rejected_by"] == "responder"
    assert found["authentication-failed"]["frames"] == [3, 4]
    # The PSK given reproduces the initiator's AUTH (truth: the one secret both sides hold), so
    # ikeview must name the other cause it cannot exclude, with the IDr the initiator asked for.
    assert sa["auth"]["initiator"]["verified"] is True
    m = found["psk-mismatch"]
    assert m["requested_idr"] == "vpn.lab.example"
    assert "no connection for IDi initiator.lab.example" in m["explanation"]
    assert "IDr vpn.lab.example" in m["explanation"]
    assert "make the identities agree" in m["fix"]
    assert "vpn.lab.example" in d["verdict"]


def test_psk_mismatch_still_names_the_key_first(lab: Callable[[str], Lab]) -> None:
    """auth-failed (a wrong PSK on the initiator): the key stays the first explanation."""
    doc = check_against_truth(lab("auth-failed"))
    (sa,) = doc["ike_sas"]
    m = codes(sa["diagnosis"])["psk-mismatch"]
    assert "so the responder holds another key for initiator.lab.example" in m["explanation"]
    assert m["requested_idr"] == "responder.lab.example"


def test_eap_password_refused(lab: Callable[[str], Lab]) -> None:
    sc = lab("eap-wrong-password")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    d = sa["diagnosis"]
    assert (d["outcome"], d["basis"]) == ("failed", "decrypted")
    assert sa["state"] == "failed"
    found = codes(d)
    f = found["authentication-failed"]
    assert f["rejected_by"] == "responder" and f["eap_error"] == "E=691"
    assert {9, 10} <= set(f["frames"])
    assert "EAP-MSCHAPv2" in d["verdict"]
    # The gateway held its answer back ~2 s: the client sent request 3 twice (frames 7, 8).
    assert found["retransmission"]["frames"] == [7, 8, 9]
    client = sa["auth"]["initiator"]
    assert (client["eap_identity"], client["eap_method"], client["eap_result"]) == (
        "carol",
        26,
        "failure",
    )
    info = [e for e in sa["exchanges"] if e["exchange"] == "INFORMATIONAL"]
    assert [e["purpose"] for e in info] == ["AUTHENTICATION_FAILED"]


def test_eap_password_refused_keyless(lab: Callable[[str], Lab]) -> None:
    """Without keys: three IKE_AUTH rounds, then the client's INFORMATIONAL at once and nothing
    more, no ESP: failed (inferred), not a childless SA judged from the last round's size."""
    (sa,) = lab("eap-wrong-password").analysis_without_keys.ike_sas
    assert (sa.diagnosis.outcome, sa.diagnosis.basis) == ("failed", "inferred")
    (f,) = [f for f in sa.diagnosis.findings if f.code == "authentication-failed"]
    assert f.basis == "inferred" and 10 in f.frames
    assert "childless" not in sa.diagnosis.verdict


def test_eap_password_given_reproduces_the_refused_response(lab: Callable[[str], Lab]) -> None:
    """keys.toml holds the client's (old) password, lab-eap-wrong-password-OLD (initiator
    swanctl.conf): it reproduces carol's NT-Response, so the server holds another password."""
    (sa,) = lab("eap-wrong-password").analysis.ike_sas
    client = next(s for s in sa.auth if s.side == "initiator")
    assert client.eap_password is True
    assert "reproduces 'carol''s MS-CHAPv2 NT-Response" in client.detail
    (f,) = [f for f in sa.diagnosis.findings if f.code == "authentication-failed"]
    assert f.get("eap_password") is True
    assert "the server holds another password" in sa.diagnosis.verdict


def test_eap_server_password_does_not_reproduce_the_response(
    lab: Callable[[str], Lab], tmp_path: Path
) -> None:
    """With the gateway's password (lab-eap-wrong-password-NEW, responder swanctl.conf) instead,
    nothing reproduces the response: the client sent another password."""
    from ikeview.keys.loader import load_keys
    from ikeview.pipeline.analyze import analyze

    sc = lab("eap-wrong-password")
    keys = tmp_path / "keys.toml"
    keys.write_text(sc.keys_path.read_text().replace("-OLD", "-NEW"))
    (sa,) = analyze(sc.capture, load_keys([keys])).ike_sas
    client = next(s for s in sa.auth if s.side == "initiator")
    assert client.eap_password is False and "client sent another password" in client.detail
    assert "the client's differs" in sa.diagnosis.verdict


def test_untrusted_certificate(lab: Callable[[str], Lab]) -> None:
    sc = lab("cert-untrusted")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    d = sa["diagnosis"]
    assert (d["outcome"], d["basis"]) == ("failed", "decrypted")
    found = codes(d)
    assert found["authentication-failed"]["rejected_by"] == "initiator"
    c = found["certificate-rejected"]
    assert c["rejected_by"] == "initiator" and c["identity"] == "gw.lab.example"
    assert c["frames"] == [3, 4, 5, 6]
    assert "not the signature" in c["explanation"]
    assert "psk-mismatch" not in found
    # The gateway's signature itself verifies with its certificate (responder.log: "authentication
    # of 'gw.lab.example' (myself) with ECDSA_WITH_SHA256_DER successful").
    gw = sa["auth"]["responder"]
    assert gw["verified"] is True and "ECDSA SHA256 secp256r1" in gw["detail"]
    assert "verifies with the key of its certificate" in d["verdict"]
    (info,) = [e for e in sa["exchanges"] if e["exchange"] == "INFORMATIONAL"]
    assert info["purpose"] == "AUTHENTICATION_FAILED"
