"""Realistic Cisco running-configs (tests/data/configs/ios/realworld, written by hand) read by
the IOS reader, and checked against lab captures where they describe a lab peer.

Expected values are read off the config text itself (each assertion says which lines), and for
the capture checks from the scenario's truth.json; never from ikeview's output. The files carry
what real pastes carry: CRLF line ends, ``Building configuration...`` headers, banners between
``^C``, tabs, ``--More--`` prompts with their backspaces, prompts, ``show run | section crypto``
fragments and a file cut short."""

from __future__ import annotations

import pytest
from config_support import DATA, checked, codes, data_config
from hypothesis import given, settings
from hypothesis import strategies as st

from ikeview.config.ios import read_ios
from ikeview.config.load import read_config
from ikeview.config.records import DeviceConfig

REAL = DATA / "ios" / "realworld"


def _read(name: str, **kw: str) -> DeviceConfig:
    # newline="" keeps the CRLF the file was saved with.
    with open(REAL / name, newline="") as fh:
        return read_config(fh.read(), name, **kw)


def test_svti_file_is_crlf_and_read_whole() -> None:
    raw = (REAL / "xe-flexvpn-svti-responder.cfg").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # the file really is CRLF
    cfg = _read("xe-flexvpn-svti-responder.cfg")
    assert cfg.kind == "ios" and cfg.hostname == "lab-responder"
    # Gi1 "vrf forwarding INET" / Gi2 "vrf forwarding Mgmt-intf"; Tunnel10 "tunnel vrf INET".
    assert dict(cfg.fvrfs) == {"192.0.2.2": "INET", "10.255.0.2": "Mgmt-intf"}
    (pol,) = cfg.policies
    assert (pol.name, pol.match_fvrf, pol.match_local) == ("POL-INET", "INET", ("192.0.2.2",))
    # PROP-XE: aes-gcm-256 aes-gcm-128 / prf sha384 sha256 / group 20 19, then PROP-CBC.
    xe, cbc = pol.proposals
    assert xe.encr == ((20, 256), (20, 128)) and xe.integ == () and xe.prf == (6, 5)
    assert xe.ke == (20, 19) and cbc.encr == ((12, 256),) and cbc.ke == (14,)
    (conn,) = cfg.connections
    assert conn.remote_ids == ("initiator.lab.example",)
    assert "192.0.2.1" in conn.remote_addrs  # tunnel destination of the protected tunnel
    (child,) = conn.children
    assert [p.encr for p in child.proposals] == [((20, 256),), ((12, 256),)]
    assert child.pfs == (14,) and child.local_ts == () and child.remote_ts == ()
    # The banner's "interface Tunnel10 ..." / "crypto ikev2 proposal ..." lines are banner text.
    assert not any(c.name.endswith("changes") for c in cfg.connections)
    assert all("proposal changes" not in p.text for p in pol.proposals)


def test_svti_matches_its_capture() -> None:
    """psk-aes256-sha256-modp2048 truth.json: IKE AES_CBC_256/HMAC_SHA2_256_128/
    PRF_HMAC_SHA2_256/MODP_2048, ESP AES_CBC_256/HMAC_SHA2_256_128, PSK lab-psk-aes256-sha256 on
    both AUTHs: PROP-XE (GCM) cannot take the offer, PROP-CBC can; TS-CBC takes the child."""
    a = checked("psk-aes256-sha256-modp2048", _read("xe-flexvpn-svti-responder.cfg"))
    (check,) = a.ike_sas[0].config_checks
    assert check.role == "responder" and check.profile == "crypto ikev2 profile PROF-SITES"
    assert check.proposal.simulated == (
        "ENCR_AES_CBC_256",
        "AUTH_HMAC_SHA2_256_128",
        "PRF_HMAC_SHA2_256",
        "MODP_2048",
    )
    assert "crypto ikev2 proposal PROP-CBC" in check.proposal.configured
    assert {x.side: x.verified for x in a.ike_sas[0].auth} == {"initiator": True, "responder": True}
    assert codes(a) == [] and check.notes == ()


def test_svti_policy_in_another_fvrf_is_not_used() -> None:
    """The same file with the policy moved to the management VRF: no policy fits 192.0.2.2 in
    INET, and IOS does not fall back to the default policy: nothing accepts the offer."""
    with open(REAL / "xe-flexvpn-svti-responder.cfg", newline="") as fh:
        text = fh.read().replace(" match fvrf INET\r\n match address", " match fvrf Mgmt-intf\r\n match address")  # fmt: skip  # noqa: E501
    a = checked("psk-aes256-sha256-modp2048", read_config(text, "mgmt.cfg"))
    (check,) = a.ike_sas[0].config_checks
    assert codes(a) == ["config-proposal-mismatch"]
    assert check.proposal.configured == "(none configured)"
    assert "(fvrf INET)" in check.notes[0] and "does not fall back" in check.notes[0]


def test_dmvpn_section_crypto_fragment() -> None:
    cfg = _read("dmvpn-hub-section-crypto.cfg")
    # A fragment with no hostname; Tunnel100 "ip address 172.16.0.1 255.255.0.0".
    assert cfg.hostname is None and cfg.local_addrs == ("172.16.0.1",)
    (pol,) = cfg.policies
    assert pol.match_fvrf == "any" and pol.proposals[0].encr == ((20, 256),)
    assert pol.proposals[0].prf == (7,) and pol.proposals[0].ke == (19,)
    (psk,) = cfg.psks
    # "address 0.0.0.0 0.0.0.0": any peer; "pre-shared-key 7 0822455D0A16" is 'cisco'.
    assert psk.peer is None and psk.ids == () and psk.secret == b"cisco"
    (conn,) = cfg.connections
    # "match identity remote address 0.0.0.0" without a mask: any address.
    assert conn.remote_ids == ("0.0.0.0/0",) and conn.local_id == "172.22.255.1"
    (child,) = conn.children
    assert child.mode == "transport" and child.proposals[0].encr == ((20, 256),)
    # Not understood: the two prompts, "crypto ipsec security-association replay ...",
    # the prompt before "show running-config interface", "Building configuration...",
    # "Current configuration : 512 bytes", "end".
    assert cfg.skipped == 7


def test_legacy_crypto_map_entries() -> None:
    cfg = _read("legacy-cryptomap-ios15.cfg", ios_release="ios15")
    assert cfg.hostname == "BRANCH-7" and cfg.release == "ios15"
    assert cfg.local_addrs == ("198.18.7.2", "192.168.7.1")
    (pol,) = cfg.policies
    assert pol.match_local == ("198.18.7.2",) and pol.match_fvrf is None
    assert pol.proposals[0].encr == ((12, 256), (12, 128), (3, None))
    hq, rw = cfg.connections
    # PR-HQ: two "match identity remote address" lines; crypto map CMAP 10 "set peer" twice
    # and CMAP 20 "set peer 198.18.0.9".
    assert hq.remote_ids == ("198.18.0.1/32", "198.18.0.2/32")
    assert {"198.18.0.1", "198.18.0.2", "198.18.0.9"} <= set(hq.remote_addrs)
    cmap10, cmap20 = hq.children
    assert cmap10.name == "crypto map CMAP 10" and cmap10.pfs == (14,)
    assert [p.encr for p in cmap10.proposals] == [((12, 256),), ((3, None),)]
    # access-list 101: the deny is not protected traffic, both permits are.
    assert cmap10.local_ts == ("192.168.7.0/24",)
    assert cmap10.remote_ts == ("10.10.0.0/16", "10.30.0.0/16")
    # VOICE: object-group BRANCH-NETS -> HQ-NETS (10.10.0.0/16, host 10.20.0.5), then a host
    # entry with ports; the final deny adds nothing.
    assert cmap20.local_ts == ("192.168.7.0/24", "192.168.7.10/32")
    assert cmap20.remote_ts == ("10.10.0.0/16", "10.20.0.5/32")
    # "crypto map CMAP 65535 ipsec-isakmp dynamic DYN-RW": its entry is DYN-RW 10.
    assert rw.remote_ids == ("*rw.example",)
    assert [c.name for c in rw.children] == ["crypto dynamic-map DYN-RW 10"]
    # Keys: asymmetric HQ-A, unreadable type 6 HQ-B, wildcard RW.
    by_label = {p.label: p for p in cfg.psks}
    assert by_label["keyring KR peer HQ-A (local)"].secret == b"branch7-to-hq"
    assert by_label["keyring KR peer HQ-A (remote)"].secret == b"hq-to-branch7"
    assert by_label["keyring KR peer HQ-B"].secret is None
    assert by_label["keyring KR peer RW"].peer is None
    assert [n.code for n in cfg.notes] == ["psk-unreadable"]


def test_legacy_paging_leftovers_and_cut_file() -> None:
    """The transform set after a '--More--' prompt and its backspaces is still read (it is
    the only one in transport mode: a crypto map naming it would say so), and the file ending
    in 'interface Tunnel' mid-word is no error."""
    text = (REAL / "legacy-cryptomap-ios15.cfg").read_text()
    text += "\n ip address 10.0.0.1 255.255.255.252\n"
    text = text.replace(" set transform-set TS-AES\n set ikev2-profile PR-RW",
                        " set transform-set TS-PAGED\n set ikev2-profile PR-RW")  # fmt: skip
    cfg = read_ios(text, "paged.cfg")
    (dyn,) = cfg.connections[1].children
    assert dyn.mode == "transport" and dyn.proposals[0].integ == (12,)
    assert "10.0.0.1" in cfg.local_addrs  # the cut "interface Tunnel" block still took its body


def test_remote_access_eap_server() -> None:
    cfg = _read("flexvpn-ra-eap-ipv6.cfg")
    (conn,) = cfg.connections
    # "match identity remote any"; "authentication remote eap query-identity";
    # "authentication local pre-share"; "identity local fqdn responder.lab.example".
    assert conn.remote_ids == () and conn.remote_addrs == ()
    assert (conn.local_auth, conn.remote_auth) == ("psk", "eap")
    assert conn.local_id == "responder.lab.example"
    # Keyring peers "address 0.0.0.0 0.0.0.0" and "address ::/0": any peer, local keys only.
    assert [(p.peer, p.direction) for p in cfg.psks] == [(None, "local"), (None, "local")]
    assert "2001:db8:0:2::2" in cfg.local_addrs


def test_remote_access_eap_server_against_capture() -> None:
    """eap-mschapv2 truth.json: the responder authenticated with PSK
    lab-psk-eap-mschapv2-responder, the initiator with EAP-MSCHAPv2 (no PSK to check)."""
    a = checked("eap-mschapv2", _read("flexvpn-ra-eap-ipv6.cfg"))
    (check,) = a.ike_sas[0].config_checks
    assert check.role == "responder" and check.profile == "crypto ikev2 profile RA-PROF"
    assert {x.side: x.verified for x in a.ike_sas[0].auth}["responder"] is True
    assert "peer ANY-V4 (local)" in check.keyring_peer
    assert codes(a) == []


@pytest.mark.parametrize("name", sorted(p.name for p in REAL.glob("*.cfg")))
def test_every_file_survives_any_cut(name: str) -> None:
    """A file cut at any line (a copy stopped early) is still read, never an exception."""
    lines = (REAL / name).read_text().splitlines(keepends=True)
    for n in range(len(lines)):
        read_ios("".join(lines[:n]), name)


_PIECES = ["\n", " ", "\t", "\r\n", "!", "^C", "\x03", "banner motd ", "--More--", "\x08",
           "crypto map M 10 ipsec-isakmp", " dynamic D", "crypto dynamic-map D 1", " set peer ",
           "object-group network G", " host ", "permit ip ", "object-group ", "any ", "eq 5 ",
           "ip access-list extended A", "ipv6 access-list B", "sequence 10 ", "10.0.0.0 ",
           "0.0.0.255 ", "2001:db8::/32 ", "match fvrf ", "match identity remote ", "address ",
           "0.0.0.0", "interface T", " tunnel vrf V", " vrf forwarding V", " tunnel source T",
           "no crypto ikev2 policy default", "crypto ikev2 proposal default", "group 99999",
           "crypto ikev2 policy P", " proposal default", " match address local interface T",
           " ip address 192.0.2.1 255.255.255.0"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=120).map("".join))
def test_hostile_ios_text_never_raises(text: str) -> None:
    for release in ("ios15", "iosxe16", "iosxe17"):
        read_ios(text, "h", release)


def _legacy_responder() -> str:
    """psk-responder.cfg turned into the 3des-sha1-modp1024 responder (its swanctl.conf:
    proposals 3des-sha1-prfsha1-modp1024, esp 3des-sha1, secret lab-psk-3des-sha1)."""
    text = (DATA / "ios" / "psk-responder.cfg").read_text()
    for old, new in ((" encryption aes-cbc-256", " encryption 3des"),
                     (" integrity sha256", " integrity sha1"), (" group 14", " group 2"),
                     ("lab-psk-aes256-sha256", "lab-psk-3des-sha1"),
                     ("esp-aes 256 esp-sha256-hmac", "esp-3des esp-sha-hmac"),
                     (" set pfs group14\n", "")):  # fmt: skip
        text = text.replace(old, new)
    return text


def test_weak_algorithms_by_release() -> None:
    """FN72510: IOS XE 17.11.1+ refuses 3des and group 2; an IOS XE 16 router takes the
    3des-sha1-modp1024 offer (truth.json: IKE 3DES_CBC/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024,
    ESP 3DES_CBC/HMAC_SHA1_96)."""
    text = _legacy_responder()
    a = checked("3des-sha1-modp1024", read_config(text, "legacy.cfg", ios_release="iosxe16"))
    assert codes(a) == []
    a = checked("3des-sha1-modp1024", read_config(text, "legacy.cfg"))
    (check,) = a.ike_sas[0].config_checks
    assert "config-proposal-mismatch" in codes(a)
    weak = [n for n in check.notes if "FN72510" in n]
    assert any("encryption 3des" in n for n in weak) and any("group 2" in n for n in weak)
    assert any("esp-3des" in n for n in weak)


def test_byte_order_mark_and_prompt_lines() -> None:
    """A file saved by a Windows editor starts with a BOM; a paste keeps the prompt lines."""
    text = "\ufeffhostname R9\r\nR9#show run | section ikev2\r\ncrypto ikev2 proposal P\r\n"
    text += " encryption aes-cbc-128\r\n integrity sha1\r\n group 14\r\nR9#\r\n"
    cfg = read_ios(text, "bom.cfg")
    assert cfg.hostname == "R9" and cfg.skipped == 2  # the two prompt lines
    assert cfg.policies[0].proposals[0].text.startswith("crypto ikev2 proposal default")
    assert [n.code for n in cfg.notes] == ["config-proposal-unused"]


def test_initiator_behind_nat() -> None:
    """natt (captures/lab/README.md): the initiator is 192.0.2.10 behind a masquerade, seen as
    192.0.2.129; truth.json: IKE AES_GCM_16_256/PRF_HMAC_SHA2_256/ECP_256, ESP AES_GCM_16_256,
    PSK lab-psk-natt. The policy's 'match address local 192.0.2.10' cannot be judged against
    192.0.2.129: the policy is still taken, and the check says why."""
    a = checked("natt", data_config("ios/realworld/natt-initiator-behind-nat.cfg"))
    (check,) = a.ike_sas[0].config_checks
    assert check.role == "initiator" and check.proposal.matched
    assert "crypto ikev2 proposal NATT-PROP" in check.proposal.configured
    assert any("192.0.2.129 is not an interface address" in n for n in check.notes)
    assert {x.side: x.verified for x in a.ike_sas[0].auth} == {"initiator": True, "responder": True}
    assert codes(a) == []


def test_smart_defaults_site_to_site() -> None:
    """No proposal, policy, transform set or IPsec profile configured: the Smart Defaults of
    the release decide. The capture's initiator offered AES-CBC-256/SHA-256/MODP-2048 and
    ESP AES-CBC-256/SHA-256 (truth.json): the IOS XE 17.11+ default proposal (integrity and
    PRF SHA-512/SHA-384 only) refuses the IKE offer; IOS 15's (SHA-512..MD5, groups 5 and 2)
    has SHA-256 but not MODP-2048; the default transform set (esp-aes = AES-128, esp-sha-hmac)
    refuses the child in both."""
    cfg = _read("smart-defaults-svti.cfg")
    (conn,) = cfg.connections
    (child,) = conn.children
    assert child.name == "crypto ipsec profile default" and child.pfs is None
    assert child.proposals[0].encr == ((12, 128),) and child.proposals[0].integ == (2,)
    assert child.mode == "transport"  # "will negotiate = { Transport, }"
    (pol,) = cfg.policies
    assert pol.match_fvrf == "any" and pol.proposals[0].ke == (19, 14, 21)
    a = checked("psk-aes256-sha256-modp2048", cfg)
    (check,) = a.ike_sas[0].config_checks
    assert {d.type for d in check.proposal.differences} == {"INTEG", "PRF"}
    (ccheck,) = a.ike_sas[0].child_sas[0].config_checks
    assert {d.type for d in ccheck.proposal.differences} == {"ENCR", "INTEG"}
    old = checked("psk-aes256-sha256-modp2048", _read("smart-defaults-svti.cfg", ios_release="ios15"))  # fmt: skip  # noqa: E501
    (check,) = old.ike_sas[0].config_checks
    assert [d.type for d in check.proposal.differences] == ["KE"]


def test_match_address_local_interface() -> None:
    """'match address local interface Gi1' in a policy and a profile means Gi1's address."""
    text = (
        "interface GigabitEthernet1\n ip address 192.0.2.2 255.255.255.0\n!\n"
        "crypto ikev2 proposal P\n encryption aes-cbc-256\n integrity sha256\n group 14\n"
        "crypto ikev2 policy POL\n match address local interface GigabitEthernet1\n proposal P\n"
        "crypto ikev2 profile PR\n match address local interface GigabitEthernet1\n"
        " match identity remote any\n"
    )
    cfg = read_ios(text, "intf.cfg")
    assert cfg.policies[0].match_local == ("192.0.2.2",)
    assert cfg.connections[0].local_addrs == ("192.0.2.2",)


@pytest.mark.parametrize("delim", ["^C", "\x03", "#"])
def test_banner_delimiters(delim: str) -> None:
    """Banner text that looks like config (here 'interface' and 'crypto' at column 0) is
    skipped up to the closing delimiter, printed '^C' by show, ETX in a copied file, or any
    character the administrator chose."""
    text = (f"hostname R\nbanner login {delim}\ninterface Tunnel9 is private\n"
            f"crypto ikev2 profile NOT-ONE\n{delim}\ncrypto ikev2 profile REAL\n"
            " match identity remote any\n")  # fmt: skip
    cfg = read_ios(text, "banner.cfg")
    assert [c.name for c in cfg.connections] == ["crypto ikev2 profile REAL"]
    assert cfg.local_addrs == ()
