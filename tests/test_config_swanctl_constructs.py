"""swanctl.conf constructs, on hand-written configs (tests/data/configs/swanctl/constructs/) so CI
always runs them; tests/test_config_upstream.py runs the same reader over strongSwan's own
testing/ corpus when a mirror of its source is present.

Expected values follow strongSwan's rules as its source states them (settings_lexer.l,
settings_parser.y, settings.c for the syntax; load_creds.c for secrets;
proposal_keywords_static.txt and proposal.c for proposals), not ikeview's output."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from config_support import DATA, REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from ikeview.config.load import load_configs, read_config
from ikeview.config.records import ConfigError, Connection, DeviceConfig
from ikeview.config.strongswan_words import parse_proposal
from ikeview.config.swanctl import read_swanctl

CONSTRUCTS = DATA / "swanctl" / "constructs" / "swanctl.conf"


@pytest.fixture(scope="module")
def cfg() -> DeviceConfig:
    (one,) = load_configs([CONSTRUCTS])
    return one


def _conn(cfg: DeviceConfig, name: str) -> Connection:
    (conn,) = [c for c in cfg.connections if c.name == name]
    return conn


def test_templates_are_inherited_and_overridden(cfg: DeviceConfig) -> None:
    """``site-a : site-base``: everything of site-base, with site-a's own remote id."""
    a = _conn(cfg, "site-a")
    assert a.local_addrs == ("192.0.2.10",)
    assert a.remote_addrs == ("192.0.2.20", "198.51.100.0/24", "203.0.113.5-203.0.113.9")
    assert a.local_id == "gw.example.net" and a.remote_ids == ("site-a.example.org",)
    assert a.local_auth == a.remote_auth == "psk" and a.version == 2
    assert dict(a.options) == {"mobike": "no", "encap": "yes", "dpd_delay": "30s",
                               "rekey_time": "4h", "reauth_time": "0"}  # fmt: skip
    (gcm, cbc) = a.proposals
    assert gcm.encr == ((20, 256),) and gcm.prf == (6,) and gcm.ke == (20,) and not gcm.integ
    assert cbc.encr == ((12, 128),) and cbc.integ == (12,) and cbc.prf == (5,)
    assert cbc.ke == (31,)
    (lan,) = a.children
    assert lan.local_ts == ("10.10.0.0/16",)
    assert lan.remote_ts == ("10.20.0.0/16[tcp/http]", "10.30.0.1/32[udp/53]")
    # esp_proposals = aes128gcm16-modp2048, default: the PFS group, then 5.9's 'default'
    # (proposal_create_default then _aead: AES-CBC first).
    first, *defaults = lan.proposals
    assert first.encr == ((20, 128),) and first.ke == (14,) and first.esn == (0,)
    assert [p.text for p in defaults] == ["default (ESP, non-AEAD)", "default (ESP, AEAD)"]
    assert dict(lan.options) == {"start_action": "trap"} and lan.pfs == (14,)


def test_template_child_override_and_any(cfg: DeviceConfig) -> None:
    b = _conn(cfg, "site-b")
    assert b.remote_addrs == ()  # %any: no restriction
    (lan,) = b.children
    assert lan.local_ts == ("10.10.0.0/16",)  # inherited from the template's child
    (p,) = lan.proposals
    # strongSwan 6: ke1_mlkem768 is an additional key exchange (RFC 9370, slot 1, ML-KEM-768).
    assert p.ke == (16,) and p.ake == ((1, 36),) and p.esn == (1,)


def test_ikev1_ah_and_private_ids(cfg: DeviceConfig) -> None:
    legacy = _conn(cfg, "legacy")
    assert legacy.version == 1
    assert dict(legacy.options) == {"aggressive": "yes", "pull": "no"}
    assert legacy.remote_ids == ("192.0.2.30",)
    ah, nopfs = legacy.children
    assert ah.protocol == "ah" and ah.mode == "transport"
    assert ah.proposals[0].integ == (12, 2) and not ah.proposals[0].encr
    # sha256_96 is strongSwan's private-use AUTH_HMAC_SHA2_256_96 (signer.h: 1026).
    assert nopfs.proposals[0].integ == (1026,) and nopfs.pfs is None


def test_defaults_pubkey_and_eap(cfg: DeviceConfig) -> None:
    road = _conn(cfg, "road")
    assert [p.text for p in road.proposals] == ["default (IKE, non-AEAD)", "default (IKE, AEAD)"]
    assert road.local_auth == "pubkey" and road.remote_auth == "eap-mschapv2"
    # No esp_proposals: AEAD first (vici_config.c).
    assert road.children[0].proposals[0].text == "default (ESP, AEAD)"


def test_includes_are_followed(cfg: DeviceConfig) -> None:
    inc = _conn(cfg, "included-one")
    assert inc.file is not None and inc.file.endswith("10-extra.conf")
    assert [c.name for c in cfg.connections] == [
        "included-one", "site-a", "site-b", "legacy", "road"]  # fmt: skip
    assert sum("included" in n.text for n in cfg.notes) == 2


def test_secrets_types_and_encodings(cfg: DeviceConfig) -> None:
    """load_creds.c: ike* only are IKE PSKs; 0s = base64, 0x = hex; every id* key an owner."""
    psks = {p.label: p for p in cfg.psks}
    assert list(psks) == ["secrets ike-included", "secrets ike-site-a", "secrets ike-b64",
                          "secrets ikehex", "secrets ike-any"]  # fmt: skip
    assert psks["secrets ike-site-a"].secret == b'a "quoted" secret # not a comment'
    assert psks["secrets ike-site-a"].ids == ("gw.example.net", "site-a.example.org")
    assert psks["secrets ike-b64"].secret == b"site-b-secret"
    assert psks["secrets ikehex"].secret == b"legacy-key"
    assert psks["secrets ike-any"].ids == ()


def test_syntax_corners() -> None:
    # One-line sections, '=' with nothing after it, words joined by one space, a backslash
    # continuation inside a string, duplicate sections merged and the later value winning.
    text = (
        "connections { a { proposals = aes128-sha256-modp2048\n local_addrs =\n"
        " remote_addrs = 192.0.2.1   # c\n children { x { mode = transport } } } }\n"
        "connections { a { remote_addrs = 192.0.2.2 } }\n"
        'secrets { ike { secret = "one\\\n two"\n id = a b } }\n'
    )
    cfg = read_swanctl(text, "f")
    (a,) = cfg.connections
    assert a.remote_addrs == ("192.0.2.2",) and a.local_addrs == ()
    assert a.children[0].mode == "transport"
    assert cfg.psks[0].secret == b"one two" and cfg.psks[0].ids == ("a b",)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('connections {\n a "b"\n}\n', r"f:2: unexpected string"),
        ("connections {\n a {\n", r"f:2: section 'a' is never closed"),
        ('secrets {\n ike { secret = "open\n}\n', r"f:2: unterminated string"),
        ("connections {\n a : {\n}\n}\n", r"f:2: syntax error"),
        (
            "connections {\n a { proposals = aes128gcm16-sha256 }\n}\n",
            r"f:2: .*needs a KE|"
            r"f:2: .*key exchange",
        ),
    ],
)
def test_errors_name_file_and_line(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        read_swanctl(text, "f")


def test_reference_loops_and_missing_refs_are_harmless() -> None:
    text = "a : b { x = 1 }\nb : a { y = 2 }\nconnections { c : a, nowhere { } }\n"
    (c,) = read_swanctl(text, "f").connections
    assert c.name == "c"


def test_include_without_resolver_is_counted_not_read() -> None:
    cfg = read_config("include /etc/passwd\nconnections {\n}\n", "f")
    assert cfg.skipped == 1 and "not followed" in cfg.notes[0].text


@pytest.mark.parametrize(
    ("words", "field", "value"),
    [
        # proposal_keywords_static.txt and the private ids of crypter.h / prf.h / key_exchange.h
        ("serpent256-sha256-modp2048", "encr", ((1026, 256),)),
        ("twofish-sha256-modp2048", "encr", ((1027, 128),)),
        ("aes128-camelliaxcbc-modp2048", "prf", (1028,)),
        ("aes128-sha256-modpnull", "ke", (1024,)),
        ("aes128-sha256-ntru128", "ke", (1031,)),
        ("aes128-sha256-mlkem768", "ke", (36,)),
        ("aes128-sha256-x25519-ke1_mlkem768-ke2_none", "ake", ((1, 36), (2, 0))),
        ("aes256gcm16-prfsha384-ecp384", "integ", ()),
        ("aes256gcm16-sha384-ecp384", "prf", (6,)),  # the PRF comes from sha384 first
        ("aes128-md5_128-modp2048", "prf", (1,)),
        ("aes128-sha1_160-modp2048", "prf", (2,)),
    ],
)
def test_keywords_from_the_source(words: str, field: str, value: object) -> None:
    assert getattr(parse_proposal(words, "ike", 1), field) == value


@pytest.mark.parametrize(
    "words",
    ["aes256-sha256_96-prfsha256-modp2048", "serpent256-camelliaxcbc-prfcamelliaxcbc-modpnull",
     "aes128-sha256-x25519-ke1_mlkem768-ke2_none", "aes256gcm16-prfsha384-ecp384-ntru128"],
)  # fmt: skip
def test_proposal_words_round_trip(words: str) -> None:
    """What the swanctl writer prints for a proposal reads back as the same proposal."""
    from ikeview.config.strongswan_words import proposal_words

    p = parse_proposal(words, "ike", 1)
    q = parse_proposal(proposal_words(p), "ike", 1)
    assert (q.encr, q.integ, q.prf, q.ke, q.ake) == (p.encr, p.integ, p.prf, p.ke, p.ake)


def test_truncated_sha256_implies_no_prf() -> None:
    """integ_prf_map (proposal.c) has no PRF for AUTH_HMAC_SHA2_256_96: name one."""
    with pytest.raises(ValueError, match="needs a PRF"):
        parse_proposal("aes256-sha256_96-modp2048", "ike", 1)


def test_include_only_files_are_told_by_name() -> None:
    cfg = read_config("include conf.d/*.conf\n", "etc/swanctl/swanctl.conf")
    assert cfg.kind == "swanctl" and cfg.skipped == 1


def test_reference_chains_and_fanout_are_bounded() -> None:
    chain = "".join(f"s{i} : s{i + 1} {{ x = {i} }}\n" for i in range(5000))
    with pytest.raises(ConfigError, match="expand too far"):
        read_swanctl(chain + "connections { c : s0 { } }\n", "chain")
    # Two templates per level, each referencing both of the next: 2**30 expansions unbounded.
    fan = "".join(f"{n}{i} : a{i + 1}, b{i + 1} {{ v{i} = 1 }}\n" for i in range(30)
                  for n in "ab")  # fmt: skip
    with pytest.raises(ConfigError, match="expand too far"):
        read_swanctl(fan + "connections { c : a0 { } }\n", "fan")


_PIECES = [*'{}=:,.\n #"\\abc-0123/!;+', " include ", "connections ", "secrets ", "ike-1 ",
           "proposals = ", "esp_proposals = ", "conn ", "also=", "ike=", "esp=", "\x1b",
           "\u202e", "aes_gcm", "sha2", "dh19", "ke1_", "0s", "0x"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=200).map("".join))
def test_hostile_text_only_config_errors(text: str) -> None:
    """No traceback: swanctl.conf text raises ConfigError naming the file or reads; ipsec.conf
    text always reads (what it cannot use is a note); Libreswan words raise ValueError."""
    from ikeview.config.ipsec_conf import add_secrets, read_ipsec_conf
    from ikeview.config.libreswan_words import parse_libreswan

    for head in ("connections {\n", "secrets {\n", ""):
        try:
            read_swanctl(head + text, "h", resolver=lambda p, f: [("h2", text)])
        except ConfigError as exc:
            assert exc.msg.startswith(("h:", "h2:", "h: "))
    cfg = read_ipsec_conf("conn x\n " + text, "i", resolver=lambda p, f: [("i2", text)])
    add_secrets(cfg, text, "s", resolver=lambda p, f: [("s2", text)])
    for proto in ("ike", "esp", "ah"):
        with contextlib.suppress(ValueError):
            parse_libreswan(text, proto, 1)  # type: ignore[arg-type]


def test_includes_that_cannot_be_read_are_one_error(tmp_path: Path) -> None:
    from ikeview.config.load import load_configs

    conf = tmp_path / "swanctl.conf"
    conf.write_text("include sub/*.conf\nconnections {\n}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.conf").mkdir()  # a folder named like a file: skipped
    (tmp_path / "sub" / "loop.conf").write_text("include ../swanctl.conf\n")
    with pytest.raises(ConfigError, match="nested deeper than 10"):
        load_configs([conf])
    (tmp_path / "sub" / "loop.conf").unlink()
    secret = tmp_path / "sub" / "locked.conf"
    secret.write_text("connections {\n}\n")
    secret.chmod(0)
    try:
        if not os.access(secret, os.R_OK):  # root reads it anyway
            with pytest.raises(ConfigError, match="cannot be read"):
                load_configs([conf])
    finally:
        secret.chmod(0o600)


def test_default_proposals_against_a_real_strongswan_default_offer() -> None:
    """../shared/captures/public/ukncsc_ikev2.pcap: an (older) strongSwan offering its default
    IKE proposals. Same shape as proposal_create_default/_aead: a classic proposal (AES-CBC,
    AES-CTR, Camellia-CBC 128/192/256, 3DES; SHA2-256/384/512, AES-XCBC, AES-CMAC, SHA1) then
    an AEAD one without integrity. What a build's plugins and version change: PRF and KE order
    (5.9's rounds put SHA2 PRFs and ECC groups first), Camellia-CTR, Curve25519/448,
    ChaCha20-Poly1305, CCM before GCM. A config with the default accepts the offer."""
    from ikeview.config.proposals import choose, offered_values
    from ikeview.config.strongswan_words import default_proposals
    from ikeview.pipeline.analyze import analyze

    path = REPO.parent / "shared" / "captures" / "public" / "ukncsc_ikev2.pcap"
    if not path.exists():
        pytest.skip("../shared/captures/public not beside this worktree")
    sa = analyze(path).ike_sas[0]
    classic, aead = sa.offered
    mine, mine_aead = default_proposals("ike")
    assert offered_values(classic, 3) == mine.integ
    assert set(offered_values(classic, 1)) <= set(mine.encr)
    assert set(offered_values(classic, 2)) == set(mine.prf)
    assert set(offered_values(classic, 4)) <= set(mine.ke)
    assert offered_values(aead, 3) == () and set(offered_values(aead, 1)) <= set(mine_aead.encr)
    assert choose(default_proposals("ike"), sa.offered).conf is mine
