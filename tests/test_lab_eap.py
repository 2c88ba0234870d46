"""EAP lab scenarios (strongSwan 5.9.8, captures/lab/eap-*): the initiator authenticates with
EAP, the responder with a PSK. Expected values come from truth.json (charon's logs: EAP identity,
method and the MSK it used), never from ikeview.

With the keys.toml a user would write (PSK, [[eap]] password, g^ir), both AUTHs verify, the
EAP-MSCHAPv2 MSK derived from the password equals charon's, and every ESP packet decrypts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ikeview.dissectors.ike_records import EapPayload
from lab_support import Lab

from ikeview.crypto import eap as eapkeys
from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze

_METHOD_IDS = {"EAP_MD5": 4, "EAP_MSCHAPV2": 26}
LabFixture = Callable[[str], Lab]


@pytest.mark.parametrize("name", ["eap-md5", "eap-mschapv2"])
def test_both_auths_verify_and_the_eap_run_is_shown(name: str, lab: LabFixture) -> None:
    sc = lab(name)
    truth, a = sc.truth, sc.analysis
    (want,) = truth["ike_sas"]
    sa = a.ike_sa(bytes.fromhex(want["spi_i"]), bytes.fromhex(want["spi_r"]))
    assert sa is not None
    ini, resp = sa.auth
    eap = want["auth"]["initiator"]["eap"]
    assert (ini.side, ini.identity) == ("initiator", want["auth"]["initiator"]["id"])
    assert ini.verified is True, ini.detail
    assert (ini.eap_identity, ini.eap_method) == (eap["identity"], _METHOD_IDS[eap["method"]])
    assert ini.eap_result == "success"
    # The responder's PSK AUTH, and its second AUTH (over the MSK, or SK_pr) after EAP.
    assert (resp.identity, resp.verified) == (want["auth"]["responder"]["id"], True)
    assert "after EAP" in resp.detail and "does not" not in resp.detail
    assert sa.state in ("established", "deleted") and not sa.state_inferred
    assert a.counters.esp_packets > 0
    assert a.counters.esp_decrypted == a.counters.esp_packets
    assert a.counters.ike_decrypted == a.counters.ike_messages - 2  # all but IKE_SA_INIT


def test_mschapv2_msk_equals_charons(lab: LabFixture) -> None:
    sc = lab("eap-mschapv2")
    truth, a = sc.truth, sc.analysis
    eap = truth["ike_sas"][0]["auth"]["initiator"]["eap"]
    payloads = [
        p
        for sa in a.ike_sas
        for ex in sa.exchanges
        for m in (ex.request, ex.response)
        if m is not None
        for p in (*m.payloads, *m.inner)
        if isinstance(p, EapPayload) and p.eap_type == eapkeys.EAP_MSCHAPV2
    ]
    challenge = next(c for p in payloads if (c := eapkeys.mschapv2_challenge(p.data)))
    peer_challenge, nt, name = next(r for p in payloads if (r := eapkeys.mschapv2_response(p.data)))
    assert name.decode() == eap["identity"]
    (secret,) = sc.keyring.eap_secrets
    assert eapkeys.nt_response(challenge, peer_challenge, name, secret.password) == nt
    assert eapkeys.mschapv2_msk(secret.password, nt).hex() == eap["msk"]


def test_wrong_eap_password_leaves_the_auth_unchecked(tmp_path: Path, lab: LabFixture) -> None:
    sc = lab("eap-mschapv2")
    text = sc.keys_path.read_text().replace("lab-eap-mschapv2-password", "wrong")
    (tmp_path / "keys.toml").write_text(text)
    a = analyze(sc.capture, load_keys([tmp_path / "keys.toml"]))
    ini = a.ike_sas[0].auth[0]
    assert ini.verified is None and "NT-Response" in ini.detail
    assert ini.eap_result == "success"
