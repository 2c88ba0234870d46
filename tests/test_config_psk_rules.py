"""strongSwan's rules for which shared secret builds / verifies which AUTH (ikeview.config.keys,
from credential_manager.c get_shared, mem_cred.c has_owner/add_shared_unique,
identification.c matches_*, psk_authenticator.c): on the lab's asym-psk swanctl.conf against
its truth.json first, then several-secret cases written by hand."""

from __future__ import annotations

import json

import pytest
from config_support import LAB, checked, codes, lab_swanctl

from ikeview.config.keys import (
    MATCH_ANY,
    MATCH_NONE,
    MATCH_ONE_WILDCARD,
    MATCH_PERFECT,
    build_key,
    config_keyring,
    owner_match,
    verify_keys,
)
from ikeview.config.records import ConfigPsk
from ikeview.config.swanctl import read_swanctl

INI, RES = "initiator.lab.example", "responder.lab.example"


def test_asym_psk_lab_each_side_builds_with_the_peers_secret() -> None:
    """truth.json: the initiator's AUTH used lab-asym-psk-two (the secret owned by the
    responder's id), the responder's lab-asym-psk-one (owned by the initiator's id)."""
    truth = json.loads((LAB / "asym-psk" / "truth.json").read_text())["ike_sas"][0]["auth"]
    for node in ("initiator", "responder"):
        psks = lab_swanctl("asym-psk", node).psks
        me, other = (INI, RES) if node == "initiator" else (RES, INI)
        key = build_key(psks, me, other)
        assert key is not None and key.secret == truth[node]["psk"].encode()
        # Verifying the peer's AUTH tries every secret matching either identity.
        assert {p.secret for p in verify_keys(psks, me, other)} == {
            b"lab-asym-psk-one", b"lab-asym-psk-two"}  # fmt: skip


def test_asym_psk_lab_config_alone_verifies_both_auths() -> None:
    cfg = lab_swanctl("asym-psk", "responder")
    analysis = checked("asym-psk", cfg)
    (sa,) = [s for s in analysis.ike_sas if s.auth]
    assert [a.verified for a in sa.auth] == [True, True]
    assert "psk-mismatch" not in codes(analysis)


def _psk(label: str, secret: bytes, *ids: str) -> ConfigPsk:
    return ConfigPsk(label, secret, ids, None, "both", 1)


@pytest.mark.parametrize(
    ("identity", "owner", "rating"),
    [
        ("moon.example", "moon.example", MATCH_PERFECT),
        ("moon.example", "@MOON.example", MATCH_PERFECT),  # strcasecmp; '@' forces FQDN
        ("moon.example", "*.example", MATCH_ONE_WILDCARD),
        ("moon.example", "*", MATCH_ANY),
        ("moon.example", "%any", MATCH_ANY),
        ("moon.example", "sun.example", MATCH_NONE),
        ("10.1.2.3", "10.0.0.0/8", MATCH_ONE_WILDCARD),
        ("10.1.2.3", "10.1.2.1-10.1.2.9", MATCH_ONE_WILDCARD),
        ("10.1.2.3", "192.0.2.0/24", MATCH_NONE),
    ],
)
def test_owner_match(identity: str, owner: str, rating: int) -> None:
    assert owner_match(identity, owner) == rating


def test_the_peers_identity_ranks_first_then_own() -> None:
    both = _psk("both", b"B", "moon", "sun")
    only_peer = _psk("peer", b"P", "sun")
    only_me = _psk("me", b"M", "moon")
    anyone = _psk("any", b"A")  # no id: %any
    # me=moon, other=sun: both and peer match sun perfectly; both also matches moon: it wins.
    assert build_key([only_peer, both, only_me, anyone], "moon", "sun") is both
    # Without it, the peer's secret beats the own one and %any.
    assert build_key([only_me, anyone, only_peer], "moon", "sun") is only_peer
    # A %any secret (peer match ANY) beats one bound only to the own identity (peer NONE).
    assert build_key([only_me, anyone], "moon", "sun") is anyone
    assert build_key([only_me], "moon", "sun") is only_me
    assert build_key([anyone], "moon", "venus") is anyone
    assert build_key([_psk("x", b"X", "mars")], "moon", "sun") is None
    # Verification tries all that match either identity, the last loaded first.
    assert verify_keys([only_me, _psk("x", b"X", "mars"), only_peer], "moon", "sun") == [
        only_peer, only_me]  # fmt: skip


def test_a_tie_goes_to_the_secret_loaded_last() -> None:
    """mem_cred.c add_shared_unique inserts at the head and get_shared keeps the first of equal
    matches: of two secrets for the same pair, the later one in the file is used."""
    first, second = _psk("first", b"1", "sun"), _psk("second", b"2", "sun")
    assert build_key([first, second], "moon", "sun") is second
    wildcard = _psk("wild", b"W", "*.example")
    exact = _psk("exact", b"E", "sun.example")
    assert build_key([exact, wildcard], "moon.example", "sun.example") is exact


def test_swanctl_secrets_become_scoped_key_records() -> None:
    cfg = read_swanctl(
        "secrets {\n ike-a { id-1 = moon\n id-2 = sun\n secret = A }\n"
        " ike-w { id = *.example\n secret = W }\n ike-n { secret = N }\n}\n",
        "s.conf",
    )
    ring = config_keyring([cfg])
    assert [(p.secret, p.id) for p in ring.psks] == [
        (b"A", "moon"), (b"A", "sun"), (b"W", None), (b"N", None)]  # fmt: skip


def test_libreswan_picks_one_psk_for_both_auths() -> None:
    """lib/libswan/secrets.c secret_find_by_id: both ids beat one id with %any, which beats
    %any alone and a selector-less default; the local id alone is a default for any peer only
    when it is the one selector; of equal matches the earlier line wins."""
    from ikeview.config.keys import libreswan_key

    both = _psk("both", b"B", "west", "east")
    local_any = _psk("local+any", b"L", "west", "%any")
    remote_any = _psk("remote+any", b"R", "east", "%any")
    alone = _psk("west alone", b"W", "west")
    default = _psk("default", b"D")
    assert libreswan_key([default, alone, remote_any, local_any, both], "west", "east") is both
    assert libreswan_key([default, remote_any, local_any], "west", "east") is local_any
    assert libreswan_key([default, alone], "west", "east") is alone
    assert libreswan_key([default, _psk("other", b"O", "north", "south")], "west", "east") is (
        default
    )
    first, second = _psk("1", b"1", "west", "east"), _psk("2", b"2", "west", "east")
    assert libreswan_key([first, second], "west", "east") is first
    # Only the local id among several selectors: not taken for a PSK (not asymmetric).
    assert libreswan_key([_psk("x", b"X", "west", "north")], "west", "east") is None


def test_libreswan_lab_secret() -> None:
    """The lab's Libreswan initiator: '@initiator.lab.example @responder.lab.example : PSK'
    is the one secret pluto used (truth.json psks)."""
    from ikeview.config.ipsec_conf import add_secrets
    from ikeview.config.keys import libreswan_key
    from ikeview.config.load import read_config

    src = LAB / "scenarios" / "libreswan-initiator" / "initiator-libreswan"
    cfg = add_secrets(read_config((src / "ipsec.conf").read_text(), "ipsec.conf"),
                      (src / "ipsec.secrets").read_text(), "ipsec.secrets")  # fmt: skip
    assert cfg.dialect == "libreswan"
    truth = json.loads((LAB / "interop" / "libreswan-initiator" / "truth.json").read_text())
    key = libreswan_key(cfg.psks, INI, RES)
    assert key is not None and key.secret.decode() in truth["psks"]
