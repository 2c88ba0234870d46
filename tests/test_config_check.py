"""Hand-written configs (tests/data/configs) checked against the lab captures.

Expected values come from the scenarios' truth.json and captures/lab/README.md: what each
responder chose ("selected proposal"), which PSK each AUTH used, which exchange failed and why.
Only the DH secrets of keys.toml are given: every PSK comes from the config under test."""

from __future__ import annotations

import json

from config_support import DATA, LAB, checked, codes, data_config

from ikeview.config.check import config_findings
from ikeview.config.load import read_config
from ikeview.config.render import config_check_json


def _ike_check(analysis, index: int = 0):
    (check,) = analysis.ike_sas[index].config_checks
    return check


def test_ios_matching_responder() -> None:
    a = checked("psk-aes256-sha256-modp2048", data_config("ios/psk-responder.cfg"))
    check = _ike_check(a)
    assert check.role == "responder"
    assert check.profile == "crypto ikev2 profile LAB-PROF"
    assert check.proposal.matched and check.proposal.agrees_with_capture is True
    assert check.proposal.offered_number == 1
    # truth.json: IKE:AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048
    assert check.proposal.simulated == (
        "ENCR_AES_CBC_256",
        "AUTH_HMAC_SHA2_256_128",
        "PRF_HMAC_SHA2_256",
        "MODP_2048",
    )
    assert "keyring LAB-KR peer lab-initiator (line 21)" in check.keyring_peer
    assert {a.side: a.verified for a in a.ike_sas[0].auth} == {"initiator": True, "responder": True}
    assert codes(a) == []
    (child_check,) = a.ike_sas[0].child_sas[0].config_checks
    assert child_check.proposal.matched and child_check.profile == "crypto map LAB-MAP 10"


def test_ios_matching_initiator() -> None:
    a = checked("psk-aes256-sha256-modp2048", data_config("ios/psk-initiator.cfg"))
    check = _ike_check(a)
    assert check.role == "initiator" and check.proposal.matched
    assert codes(a) == []


def test_ios_multi_proposal_choice_agrees() -> None:
    """truth.json: the responder took proposal 2, AES_CBC_256/HMAC_SHA2_512_256/
    PRF_HMAC_SHA2_384/MODP_2048; IOS (first algorithm of each configured line that the offer
    has) picks the same."""
    a = checked("multi-proposal", data_config("ios/multi-proposal-responder.cfg"))
    p = _ike_check(a).proposal
    assert (p.matched, p.offered_number, p.agrees_with_capture) == (True, 2, True)
    assert p.simulated == (
        "ENCR_AES_CBC_256",
        "AUTH_HMAC_SHA2_512_256",
        "PRF_HMAC_SHA2_384",
        "MODP_2048",
    )
    assert codes(a) == []


def test_ios_multi_proposal_other_order_disagrees() -> None:
    a = checked("multi-proposal", data_config("ios/multi-proposal-other-order.cfg"))
    p = _ike_check(a).proposal
    assert p.matched and p.agrees_with_capture is False
    assert p.simulated[0] == "ENCR_AES_CBC_128"
    (finding,) = [f for _l, f in config_findings(a)]
    assert (finding.code, finding.severity) == ("config-proposal-mismatch", "warning")


def test_ios_no_proposal_both_failures() -> None:
    """README: (1) ESP mismatch inside IKE_AUTH (initiator offered aes128-sha1), (2) IKE
    mismatch in IKE_SA_INIT (initiator offered 3des-md5-prfmd5-modp1024)."""
    a = checked("no-proposal", data_config("ios/no-proposal-responder.cfg"))
    first, second = (sa.config_checks[0] for sa in a.ike_sas)
    assert first.findings == ()
    (refused,) = a.ike_sas[0].child_sas
    assert refused.error == 14  # NO_PROPOSAL_CHOSEN, kept in the model
    (esp,) = refused.config_checks[0].findings
    assert refused.config_checks[0].proposal.agrees_with_capture is True
    assert esp.code == "config-proposal-mismatch" and "ESP" in esp.explanation
    assert "esp-gcm 256" in esp.explanation and "ENCR_AES_CBC_128" in esp.explanation
    assert not second.proposal.matched and second.proposal.agrees_with_capture is True
    diff = {d.type: (d.offered, d.configured) for d in second.proposal.differences}
    assert diff["ENCR"] == (("ENCR_3DES",), ("ENCR_AES_CBC_256",))
    assert diff["KE"] == (("MODP_1024",), ("MODP_2048",))
    assert set(diff) == {"ENCR", "INTEG", "PRF", "KE"}


def test_ios_asymmetric_keyring() -> None:
    """truth.json: the initiator's AUTH used lab-asym-psk-two, the responder's lab-asym-psk-one;
    the responder's keyring holds one as local and two as remote."""
    a = checked("asym-psk", data_config("ios/asym-responder.cfg"))
    assert {x.side: x.verified for x in a.ike_sas[0].auth} == {"initiator": True, "responder": True}
    assert _ike_check(a).keyring_peer == (
        "keyring LAB-KR peer lab-initiator (remote) (line 22) for the initiator's AUTH; "
        "keyring LAB-KR peer lab-initiator (local) (line 21) for the responder's AUTH"
    )
    assert codes(a) == []


def test_ios_wrong_keyring_key() -> None:
    a = checked("auth-failed", data_config("ios/auth-failed-responder.cfg"))
    (finding,) = [f for _l, f in config_findings(a)]
    assert finding.code == "psk-mismatch" and finding.get("side") == "initiator"
    assert "keyring LAB-KR peer lab-initiator (line 21)" in finding.explanation


def test_ios_profile_identity_does_not_match() -> None:
    a = checked("psk-aes256-sha256-modp2048", data_config("ios/profile-nomatch-responder.cfg"))
    assert codes(a) == ["config-profile-no-match"]
    assert _ike_check(a).profile is None


def test_ios_unused_proposal_smart_default_xe17() -> None:
    a = checked("psk-aes256-sha256-modp2048", data_config("ios/unused-proposal-responder.cfg"))
    assert sorted(codes(a)) == ["config-proposal-mismatch", "config-proposal-unused"]
    p = _ike_check(a).proposal
    assert "Smart Default, IOS XE 17.11+" in p.configured
    assert {d.type for d in p.differences} == {"INTEG", "PRF"}


def test_ios_unused_proposal_smart_default_ios15() -> None:
    cfg = data_config("ios/unused-proposal-responder.cfg", ios_release="ios15")
    p = _ike_check(checked("psk-aes256-sha256-modp2048", cfg)).proposal
    assert [d.type for d in p.differences] == ["KE"]
    assert p.differences[0].configured == ("MODP_1536", "MODP_1024")


def test_ios_pfs_mismatch_on_child_rekey() -> None:
    """rekey-dpd: the CREATE_CHILD_SA rekey carried KE MODP_2048 (truth.json pfs_group); the
    transform set without 'set pfs' accepts the IKE_AUTH child but not the rekey."""
    a = checked("rekey-dpd", data_config("ios/rekey-nopfs-responder.cfg"))
    # The rekeyed child moved to the new IKE SA with the IKE SA rekey (RFC 7296 1.3.2).
    first, rekeyed = (*a.ike_sas[0].child_sas, *a.ike_sas[1].child_sas)
    assert first.config_checks[0].findings == ()
    (finding,) = rekeyed.config_checks[0].findings
    assert finding.code == "config-pfs-mismatch"
    assert finding.frames == (rekeyed.created_frame,)


def test_swanctl_pfs_mismatch_on_child_rekey() -> None:
    a = checked("rekey-dpd", data_config("swanctl/rekey-nopfs-responder.conf"))
    assert codes(a) == ["config-pfs-mismatch"]


def test_swanctl_identity_and_auth_method() -> None:
    a = checked("psk-aes256-sha256-modp2048", data_config("swanctl/profile-nomatch-responder.conf"))
    assert codes(a) == ["config-profile-no-match"]
    a = checked("psk-aes256-sha256-modp2048", data_config("swanctl/auth-method-responder.conf"))
    assert codes(a) == ["config-auth-method-mismatch"]


def test_json_contract() -> None:
    a = checked("no-proposal", data_config("ios/no-proposal-responder.cfg"))
    obj = config_check_json(a.ike_sas[1].config_checks[0])
    assert set(obj) >= {"device", "role", "proposal", "profile", "keyring_peer"}
    assert obj["role"] == "responder"
    assert obj["proposal"]["matched"] is False and obj["proposal"]["offered_number"] is None
    assert {d["type"] for d in obj["proposal"]["differences"]} == {"ENCR", "INTEG", "PRF", "KE"}
    assert obj["findings"][0]["code"] == "config-proposal-mismatch"
    json.dumps(obj)


def test_ipsec_conf_libreswan_initiator() -> None:
    from ikeview.config.ipsec_conf import add_secrets
    from ikeview.config.load import read_config

    folder = LAB / "scenarios" / "libreswan-initiator" / "initiator-libreswan"
    text = (folder / "ipsec.conf").read_text()
    text = text.replace("@I_ADDR@", "192.0.2.1").replace("@R_ADDR@", "192.0.2.2")
    cfg = add_secrets(
        read_config(text, "ipsec.conf"), (folder / "ipsec.secrets").read_text(), "ipsec.secrets"
    )
    assert cfg.kind == "ipsec.conf"
    assert cfg.connections[0].proposals[0].text == "aes256-sha2_256;modp2048"

    from ikeview.config.check import apply_configs
    from ikeview.config.keys import config_keyring
    from ikeview.keys.loader import load_keys
    from ikeview.keys.model import KeyRing
    from ikeview.pipeline.analyze import analyze

    lab = LAB / "interop" / "libreswan-initiator"
    ring = config_keyring([cfg]).merge(
        KeyRing(dh_secrets=load_keys([lab / "keys.toml"]).dh_secrets)
    )
    a = apply_configs(analyze(lab / "capture.pcap", ring), [cfg], keyring=ring)
    assert {x.side: x.verified for x in a.ike_sas[0].auth} == {"initiator": True, "responder": True}
    check = a.ike_sas[0].config_checks[0]
    assert check.role == "initiator" and check.proposal.matched and check.findings == ()


def test_ios_type6_key_is_said_not_guessed() -> None:
    text = (DATA / "ios" / "psk-responder.cfg").read_text()
    text = text.replace("pre-shared-key lab-psk-aes256-sha256", "pre-shared-key 6 QWERTYabcdef")
    cfg = read_config(text, "type6.cfg")
    a = checked("psk-aes256-sha256-modp2048", cfg)
    check = _ike_check(a)
    assert {x.side: x.verified for x in a.ike_sas[0].auth} == {
        "initiator": None,
        "responder": None,
    }
    assert check.findings == () and check.keyring_peer is None
    (note,) = check.notes
    assert "type 6" in note and "cannot be read" in note


def test_policy_for_another_address_accepts_nothing() -> None:
    text = (DATA / "ios" / "psk-responder.cfg").read_text()
    cfg = read_config(text.replace("match address local 192.0.2.2", "match address local 10.9.9.9"),
                      "otheraddr.cfg")  # fmt: skip
    a = checked("psk-aes256-sha256-modp2048", cfg)
    (finding,) = [f for _l, f in config_findings(a)]
    # No configured policy fits 192.0.2.2, and IOS does not fall back to the default policy
    # once a policy is configured: nothing accepts the offer, and the notes say why.
    assert finding.code == "config-proposal-mismatch"
    assert finding.explanation.startswith(
        "no crypto ikev2 policy matches local address 192.0.2.2 (fvrf global)"
    )
    check = _ike_check(a)
    assert any("does not fall back" in n and "192.0.2.2" in n for n in check.notes)
    # The same with the default policy switched off.
    cfg = read_config(text.replace("match address local 192.0.2.2", "match address local 10.9.9.9")
                      + "no crypto ikev2 policy default\n", "nodefault.cfg")  # fmt: skip
    (finding,) = [f for _l, f in config_findings(checked("psk-aes256-sha256-modp2048", cfg))]
    assert finding.explanation.startswith(
        "no crypto ikev2 policy matches local address 192.0.2.2 (fvrf global)"
    )


def test_initiator_config_that_offers_something_else() -> None:
    """The capture's initiator offered only AES-CBC-256 (truth.json); a config offering
    AES-CBC-256 and AES-CBC-128 still accepts the choice but is not what the initiator ran."""
    text = (DATA / "ios" / "psk-initiator.cfg").read_text()
    text = text.replace(" encryption aes-cbc-256\n", " encryption aes-cbc-256 aes-cbc-128\n")
    a = checked("psk-aes256-sha256-modp2048", read_config(text, "wider.cfg"))
    p = _ike_check(a).proposal
    assert p.matched and p.agrees_with_capture is False
    (finding,) = [f for _l, f in config_findings(a)]
    assert (finding.code, finding.severity) == ("config-proposal-mismatch", "warning")
    assert "the capture's initiator offered #1" in finding.explanation


def test_text_lines_escape_capture_text_and_name_the_fix() -> None:
    from ikeview.config.render import analysis_lines, safe

    a = checked("auth-failed", data_config("ios/auth-failed-responder.cfg"))
    lines = analysis_lines(a)
    assert lines[0] == f"IKE SA {a.ike_sas[0].label}"
    assert any("ERROR   psk-mismatch" in line for line in lines)
    assert any("fix: give both peers the same pre-shared key" in line for line in lines)
    assert safe("evil\x1b[2Jname") == "evil\\x1b[2Jname"
