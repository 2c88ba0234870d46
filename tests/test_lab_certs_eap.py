"""Certificate and EAP set-ups in new lab captures (strongSwan 5.9.8) that come up.

certs-dn-email: initiator alice@lab.example (ID_RFC822_ADDR, RSA certificate, charon
"RSA_EMSA_PKCS1_SHA2_256"), responder "C=XX, O=ikeview lab, CN=gw.lab.example" (ID_DER_ASN1_DN,
ECDSA P-384, "ECDSA_WITH_SHA384_DER"); initiator.log "splitting IKE message (1295 bytes) into 2
fragments" (frames 3-4), responder.log "received cert request for \"C=XX, O=ikeview lab,
CN=ikeview lab root CA\"" and its IKE_SA_INIT response "[ SA KE No N(NATD_S_IP) N(NATD_D_IP)
CERTREQ ... ]".
eap-cert: the gateway signs ("authentication of 'gw.lab.example' (myself) with
ECDSA_WITH_SHA256_DER successful"), the client carol@lab.example uses EAP-MSCHAPv2 as carol
("EAP method EAP_MSCHAPV2 succeeded, MSK established" on both sides).
"""

from __future__ import annotations

from collections.abc import Callable

from ikeview.dissectors.ike_records import CertPayload, CertReqPayload
from lab_report import check_against_truth, codes
from lab_support import Lab


def test_certificates_with_dn_and_email_identities(lab: Callable[[str], Lab]) -> None:
    sc = lab("certs-dn-email")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    assert (sa["diagnosis"]["outcome"], sa["diagnosis"]["basis"]) == ("established", "decrypted")
    assert {f["severity"] for f in sa["diagnosis"]["findings"]} == {"info"}
    alice, gw = sa["auth"]["initiator"], sa["auth"]["responder"]
    assert (alice["id_type"], alice["identity"]) == ("ID_RFC822_ADDR", "alice@lab.example")
    assert (gw["id_type"], gw["identity"]) == (
        "ID_DER_ASN1_DN",
        "C=XX, O=ikeview lab, CN=gw.lab.example",
    )
    assert "RSASSA-PKCS1-v1_5 SHA256" in alice["detail"]
    assert "ECDSA SHA384 secp384r1" in gw["detail"]
    (auth,) = [e for e in sa["exchanges"] if e["exchange"] == "IKE_AUTH"]
    assert [m["frame"] for m in auth["messages"]] == [3, 4, 5]


def test_certreq_and_certs_both_ways(lab: Callable[[str], Lab]) -> None:
    """CERTREQ in the IKE_SA_INIT response (clear) and the IKE_AUTH request (decrypted), and
    one end-entity CERT each way (send_cert = always; the intermediate is not sent)."""
    (sa,) = lab("certs-dn-email").analysis.ike_sas
    msgs = [m for e in sa.exchanges for m in (e.request, e.response) if m is not None]
    by_frame = {m.frame: m for e in sa.exchanges for m in e.messages}
    assert any(isinstance(p, CertReqPayload) for p in msgs[1].payloads)  # frame 2
    req = by_frame[4]  # the fragment that completed the IKE_AUTH request
    assert any(isinstance(p, CertReqPayload) for p in req.inner)
    assert sum(isinstance(p, CertPayload) for p in req.inner) == 1
    assert sum(isinstance(p, CertPayload) for p in by_frame[5].inner) == 1


def test_road_warrior_eap_with_gateway_certificate(lab: Callable[[str], Lab]) -> None:
    sc = lab("eap-cert")
    doc = check_against_truth(sc)
    (sa,) = doc["ike_sas"]
    assert (sa["diagnosis"]["outcome"], sa["diagnosis"]["basis"]) == ("established", "decrypted")
    client, gw = sa["auth"]["initiator"], sa["auth"]["responder"]
    assert (client["eap_identity"], client["eap_method"], client["eap_result"]) == (
        "carol",
        26,
        "success",
    )
    assert "MSK" in client["detail"]
    # The gateway's certificate signature (frame 4) and its AUTH after EAP (frame 12) both hold.
    assert "ECDSA SHA256 secp256r1" in gw["detail"] and "after EAP" in gw["detail"]
    assert not [f for f in sa["diagnosis"]["findings"] if f["severity"] != "info"]
    (child,) = sa["child_sas"]
    assert child["created_frame"] == 12 and codes(child["diagnosis"]) == {}
    (bare,) = sc.analysis_without_keys.ike_sas
    assert (bare.diagnosis.outcome, bare.diagnosis.basis) == ("established", "inferred")
    assert "5 round trips" in bare.diagnosis.verdict
