"""IOS IKEv2 profile selection by ``match fvrf`` and ``match certificate``, on lab captures.

Facts used: an IKEv2 profile without ``match fvrf`` matches only the global routing table and
``match fvrf any`` every VRF (as for ``crypto ikev2 policy``); ``match certificate MAP`` and
``match identity remote`` lines are ORed (a peer is admitted by either). The captures'
identities and AUTH methods come from their truth.json (charon's logs)."""

from __future__ import annotations

from config_support import DATA, checked, codes, data_config

from ikeview.config.check import config_findings
from ikeview.config.load import read_config

SVTI = DATA / "ios" / "realworld" / "xe-flexvpn-svti-responder.cfg"
PROFILE_FVRF = " match fvrf INET\r\n match identity"  # the profile's line, not the policy's


def _svti(new: str) -> str:
    with open(SVTI, newline="") as fh:
        text = fh.read()
    assert text.count(PROFILE_FVRF) == 1
    return text.replace(PROFILE_FVRF, new)


def _explanations(a: object) -> list[str]:
    return [f.explanation for _l, f in config_findings(a)]  # type: ignore[arg-type]


def test_profile_in_another_fvrf_does_not_match() -> None:
    """psk-aes256-sha256-modp2048: the responder's 192.0.2.2 is Gi1 in VRF INET; a profile
    that matches only Mgmt-intf is not chosen, and the finding says it is the VRF."""
    a = checked(
        "psk-aes256-sha256-modp2048",
        read_config(_svti(" match fvrf Mgmt-intf\r\n match identity"), "x.cfg"),
    )
    assert "config-profile-no-match" in codes(a)
    (text,) = [e for e in _explanations(a) if "profile" in e and "VRF" in e]
    assert "VRF INET" in text and "PROF-SITES (match fvrf Mgmt-intf)" in text


def test_profile_without_fvrf_is_global_only() -> None:
    a = checked("psk-aes256-sha256-modp2048", read_config(_svti(" match identity"), "x.cfg"))
    assert "config-profile-no-match" in codes(a)
    assert any("match fvrf none: global" in e for e in _explanations(a))


def test_profile_fvrf_any_and_same_vrf_match() -> None:
    for line in (" match fvrf any\r\n match identity", PROFILE_FVRF):
        a = checked("psk-aes256-sha256-modp2048", read_config(_svti(line), "x.cfg"))
        (check,) = a.ike_sas[0].config_checks
        assert check.profile == "crypto ikev2 profile PROF-SITES" and codes(a) == []


def _nomatch(extra: str, auth: str = "pre-share") -> str:
    text = (DATA / "ios" / "profile-nomatch-responder.cfg").read_text()
    text = text.replace(" match identity remote fqdn branch7.lab.example\n",
                        f" match identity remote fqdn branch7.lab.example\n{extra}")  # fmt: skip
    return text.replace("authentication remote pre-share", f"authentication remote {auth}")


def test_match_certificate_admits_a_certificate_peer() -> None:
    """certs-dn-email: the initiator is alice@lab.example with RSA_EMSA_PKCS1_SHA2_256 (a
    certificate). The profile names another identity: without ``match certificate`` no profile
    matches; with it the certificate map may admit her (the map is not evaluated)."""
    plain = read_config(_nomatch("", "rsa-sig"), "plain.cfg")
    assert "config-profile-no-match" in codes(checked("certs-dn-email", plain))
    cfg = read_config(_nomatch(" match certificate LAB-CMAP\n", "rsa-sig"), "cert.cfg")
    (conn,) = cfg.connections
    assert conn.match_certificate == ("LAB-CMAP",)
    a = checked("certs-dn-email", cfg)
    (check,) = a.ike_sas[0].config_checks
    assert check.profile == "crypto ikev2 profile LAB-PROF"
    assert "config-profile-no-match" not in codes(a)


def test_match_certificate_does_not_admit_a_psk_peer() -> None:
    """psk-aes256-sha256-modp2048: the initiator (initiator.lab.example) used a shared key,
    so a certificate map cannot admit it."""
    cfg = read_config(_nomatch(" match certificate LAB-CMAP\n"), "cert.cfg")
    assert "config-profile-no-match" in codes(checked("psk-aes256-sha256-modp2048", cfg))


def test_the_lab_profile_configs_still_match() -> None:
    a = checked("psk-aes256-sha256-modp2048", data_config("ios/psk-responder.cfg"))
    assert codes(a) == []
