"""The config readers on their own: what each line becomes, what is skipped, what is an error,
and hostile input (never a traceback; only ConfigError naming file:line)."""

from __future__ import annotations

import pytest
from config_support import data_config
from hypothesis import given, settings
from hypothesis import strategies as st

from ikeview.config.ios import decode_type7, read_ios
from ikeview.config.load import read_config
from ikeview.config.records import ConfigError
from ikeview.config.strongswan_words import default_proposals, parse_proposal
from ikeview.config.swanctl import read_swanctl


def test_strongswan_keywords() -> None:
    """proposal_keywords_static.txt: aes256gcm16 = AES-GCM ICV16 256; x25519 = Curve25519 (31);
    an IKE proposal without PRF takes the integrity algorithm's PRF (check_proposal)."""
    p = parse_proposal("aes128-aes256-sha384-x25519-modp2048", "ike", 3)
    assert p.encr == ((12, 128), (12, 256))
    assert p.integ == (13,) and p.prf == (6,) and p.ke == (31, 14)
    # check_proposal: classic and AEAD ciphers never share a proposal.
    with pytest.raises(ValueError, match="classic and AEAD"):
        parse_proposal("aes128-aes256gcm16-sha384-x25519", "ike", 3)
    esp = parse_proposal("aes256gcm128-esn-noesn", "esp", 4)
    assert esp.encr == ((20, 256),) and esp.esn == (1, 0)
    assert parse_proposal("aes128-sha256", "esp", 1).esn == (0,)  # noesn added by default
    with pytest.raises(ValueError, match="needs a PRF"):
        parse_proposal("aes256gcm16-ecp256", "ike", 1)
    with pytest.raises(ValueError, match="unknown algorithm keyword 'aes999'"):
        parse_proposal("aes999-sha256-modp2048", "ike", 1)


def test_strongswan_defaults_order() -> None:
    """vici_config.c: 'default' adds the non-AEAD IKE proposal then the AEAD one; children
    without esp_proposals get AES-GCM first, then AES-CBC (proposal.c, 5.9.x)."""
    ike = default_proposals("ike")
    assert [p.text for p in ike] == ["default (IKE, non-AEAD)", "default (IKE, AEAD)"]
    text = "connections {\n c {\n  children {\n   x {\n   }\n  }\n }\n}\n"
    (child,) = read_swanctl(text, "f").connections[0].children
    assert child.proposals[0].encr == ((20, 128), (20, 192), (20, 256))


def test_swanctl_includes_skipped_and_errors_name_the_line() -> None:
    text = "include /etc/swanctl/conf.d/*.conf\nconnections {\n  a {\n    proposals = nope\n"
    with pytest.raises(ConfigError, match=r"^f.conf:3: section 'a' is never closed"):
        read_swanctl(text, "f.conf")
    text = "include x.conf\nconnections {\n  a {\n    proposals = nope\n  }\n}\n"
    with pytest.raises(ConfigError, match=r"^f.conf:4: proposals = nope: unknown algorithm"):
        read_swanctl(text, "f.conf")
    cfg = read_swanctl("include x.conf\nfoo = bar\nconnections {\n}\n", "f.conf")
    assert cfg.skipped == 2 and cfg.connections == ()
    # settings_parser.y: two names in a row are a syntax error swanctl refuses too.
    with pytest.raises(ConfigError, match=r"^f.conf:2: syntax error at 'bar'"):
        read_swanctl("connections {\nfoo bar\n}\n", "f.conf")
    with pytest.raises(ConfigError, match=r"^f.conf:1: '}' closes no section"):
        read_swanctl("}\n", "f.conf")


def test_swanctl_hex_secret() -> None:
    cfg = read_swanctl("secrets {\n ike-1 {\n  secret = 0x6162\n  id = a\n }\n}\n", "f")
    assert cfg.psks[0].secret == b"ab" and cfg.psks[0].ids == ("a",)


def test_ios_keys_types() -> None:
    cfg = data_config("ios/keytypes.cfg")
    seven, six, local, remote = cfg.psks
    assert decode_type7("070C285F4D06") == "cisco"
    assert (seven.secret, seven.peer, seven.note) == (b"cisco", "192.0.2.7", "type 7 key decoded")
    assert six.secret is None and "type 6" in six.note and "cannot be read" in six.note
    assert [n.code for n in cfg.notes] == ["psk-unreadable"]
    # A network (not one host) binds no exact peer address; the identity scopes it.
    assert (local.direction, local.peer, local.ids, local.secret) == (
        "local",
        None,
        ("branch.lab.example",),
        b"abc",
    )
    assert (remote.direction, remote.secret) == ("remote", b"def")


def test_ios_proposal_several_per_line_aead_and_prf() -> None:
    text = (
        "crypto ikev2 proposal A\n encryption aes-gcm-256 aes-gcm-128\n prf sha384 sha256\n"
        " group 19 14\ncrypto ikev2 proposal B\n encryption aes-cbc-128\n integrity sha1 md5\n"
        " group 2\n foo bar\ncrypto ikev2 policy P\n match address local 10.0.0.1\n"
        " proposal A\n"
    )
    cfg = read_ios(text, "r.cfg")
    (pol,) = cfg.policies
    (a,) = pol.proposals
    assert a.encr == ((20, 256), (20, 128)) and a.integ == () and a.prf == (6, 5)
    assert a.ke == (19, 14) and pol.match_local == ("10.0.0.1",)
    # B is referenced by no policy: noted; its PRF follows its integrity lines (IOS rule).
    (note,) = [n for n in cfg.notes if n.code == "config-proposal-unused"]
    assert note.line == 5 and "proposal B" in note.text
    assert cfg.skipped == 1


def test_ios_unknown_algorithm_is_a_note_not_fatal() -> None:
    cfg = read_ios("crypto ikev2 proposal A\n encryption aes-cbc-256 future-cipher\n"
                   " integrity sha256\n group 14\ncrypto ipsec transform-set T ah-sha-hmac "
                   "esp-aes 256 esp-sha-hmac\n", "r.cfg")  # fmt: skip
    texts = [n.text for n in cfg.notes if n.code == "config-unknown-algorithm"]
    assert any("future-cipher" in t for t in texts) and any("ah-sha-hmac" in t for t in texts)


def test_ios_acl_and_crypto_map() -> None:
    text = (
        "interface Gi1\n ip address 192.0.2.2 255.255.255.0\n"
        "ip access-list extended ACL\n permit ip 10.1.0.0 0.0.255.255 any\n"
        "crypto ipsec transform-set T esp-gcm 256\n mode transport\n"
        "crypto ikev2 profile PR\n match identity remote address 192.0.2.0 255.255.255.0\n"
        "crypto map M 10 ipsec-isakmp\n set peer 192.0.2.1\n set transform-set T\n"
        " set pfs group19\n set ikev2-profile PR\n match address ACL\n"
    )
    cfg = read_ios(text, "r.cfg", "ios15")
    assert cfg.local_addrs == ("192.0.2.2",) and cfg.release == "ios15"
    (conn,) = cfg.connections
    assert conn.remote_ids == ("192.0.2.0/24",)
    (child,) = conn.children
    assert child.local_ts == ("10.1.0.0/16",) and child.remote_ts == ("0.0.0.0/0",)
    assert child.mode == "transport" and child.pfs == (19,)
    assert child.proposals[0].encr == ((20, 256),) and child.proposals[0].ke == (19,)


def test_unknown_release_and_unknown_file() -> None:
    with pytest.raises(ConfigError, match="unknown --ios-release 'ios99'"):
        read_ios("hostname r\n", "r", "ios99")
    with pytest.raises(ConfigError, match=r"^x:1: not a config ikeview reads"):
        read_config("hello\n", "x")


_PIECES = [*'{}=\n #"abc-0123.:/!', " crypto ", "conn ", "ikev2 ", "proposal ", "peer ",
           "pre-shared-key 7 ", "group ", "encryption ", "\x1b", "\u202e"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=200).map("".join))
def test_hostile_text_never_crashes(text: str) -> None:
    for kind in ("connections {\n", "crypto ikev2 keyring K\n", "conn x\n", ""):
        try:
            read_config(kind + text, "h")
        except ConfigError as exc:
            assert exc.msg.startswith("h")


def test_deep_nesting_is_bounded() -> None:
    text = "connections {\n" + "a {\n" * 10_000
    with pytest.raises(ConfigError, match="nested too deep"):
        read_swanctl(text, "deep")


def test_ios_tunnel_protection_peer_tells_the_side() -> None:
    text = (
        "interface Tunnel0\n tunnel destination 192.0.2.1\n"
        " tunnel protection ipsec profile P\n"
        "crypto ikev2 profile PR\n match identity remote fqdn initiator.lab.example\n"
        "crypto ipsec profile P\n set ikev2-profile PR\n"
    )
    (conn,) = read_ios(text, "t.cfg").connections
    assert conn.remote_addrs == ("192.0.2.1",)
    assert conn.children[0].name == "crypto ipsec profile P"


def test_swanctl_dynamic_and_port_selectors_fit() -> None:
    from ikeview.dissectors.ike_records import TrafficSelector

    from ikeview.config.match import ts_fits

    ts = TrafficSelector(7, 0, 0, 65535, "10.1.2.3", "10.1.2.3", b"")
    assert ts_fits((ts,), ("dynamic",)) and ts_fits((ts,), ("10.0.0.0/8",))
    assert not ts_fits((ts,), ("192.168.0.0/16",))
    # [proto/port] narrows: an any-protocol selector is not inside 10.0.0.0/8[tcp/80]; a
    # tcp/80 one is, also when the port is a service name or inside a range (vici_config.c).
    web = TrafficSelector(7, 6, 80, 80, "10.1.2.3", "10.1.2.3", b"")
    assert not ts_fits((ts,), ("10.0.0.0/8[tcp/80]",))
    assert ts_fits((web,), ("10.0.0.0/8[tcp/80]",)) and ts_fits((web,), ("dynamic[tcp/http]",))
    assert ts_fits((web,), ("10.0.0.0/8[tcp/79-81]",)) and ts_fits((web,), ("10.0.0.0/8[tcp]",))
    assert not ts_fits((web,), ("10.0.0.0/8[udp]",))
    assert not ts_fits((web,), ("10.0.0.0/8[tcp/ssh]",))


def test_ipsec_conf_libreswan_spellings_and_unknown_words() -> None:
    text = (
        "conn a\n  left=192.0.2.1\n  right=vpn.example.com\n  ike=aes_gcm256-sha2;dh19\n"
        "  esp=aes+3des-sha2_512\nconn b\n  left=192.0.2.1\n  ike=foo-bar\n"
    )
    cfg = read_config(text, "ipsec.conf")
    a, b = cfg.connections
    assert a.proposals[0].encr == ((20, 256),) and a.proposals[0].ke == (19,)
    assert a.proposals[0].text == "aes_gcm256-sha2;dh19"
    # ikev2_proposals.c: an ESP cipher without key length is proposed 128 then 256.
    assert a.children[0].proposals[0].encr == ((12, 128), (12, 256), (3, None))
    # An ike= ikeview cannot read is said and strongSwan's defaults stand in.
    assert b.proposals[0].text == "default (IKE, non-AEAD)"
    (note,) = cfg.notes
    assert note.line == 8 and "ike=foo-bar" in note.text


def test_ios_ipv6_and_multi_name_policy() -> None:
    text = (
        "interface Gi1\n ipv6 address 2001:DB8::2/64\n"
        "crypto ikev2 proposal A\n encryption aes-cbc-128\n integrity sha256\n group 19\n"
        "crypto ikev2 proposal B\n encryption aes-cbc-256\n integrity sha256\n group 14\n"
        "crypto ikev2 policy P\n proposal A B\n"
    )
    cfg = read_ios(text, "r")
    assert cfg.local_addrs == ("2001:db8::2",)
    assert [p.line for p in cfg.policies[0].proposals] == [3, 7]


def test_auth_words_are_classed() -> None:
    from ikeview.config.check import _auth_class

    assert [_auth_class(w) for w in ("psk", "pubkey", "rsa/pss", "ecdsa-sha256", "eap-mschapv2",
                                     "xauth", None, "pre-share")] == [
        "psk", "pubkey", "pubkey", "pubkey", None, None, None, None]  # fmt: skip
