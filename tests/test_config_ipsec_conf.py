"""ipsec.conf + ipsec.secrets, strongSwan's starter and Libreswan's, on hand-written configs
(tests/data/configs/ipsec/); expected values from the rules in their sources (strongSwan
stroke_config.c / confread.c, Libreswan proposals.c / ikev2_proposals.c / algparse-01)."""

from __future__ import annotations

import pytest
from config_support import DATA

from ikeview.config.libreswan_words import parse_libreswan
from ikeview.config.load import load_configs
from ikeview.config.records import Connection, DeviceConfig

IPSEC = DATA / "ipsec"


@pytest.fixture(scope="module")
def swan() -> DeviceConfig:
    (cfg,) = load_configs([IPSEC / "strongswan" / "ipsec.conf"])
    return cfg


@pytest.fixture(scope="module")
def reswan() -> DeviceConfig:
    (cfg,) = load_configs([IPSEC / "libreswan" / "ipsec.conf"])
    return cfg


def _conn(cfg: DeviceConfig, name: str) -> Connection:
    (conn,) = [c for c in cfg.connections if c.name == f"conn {name}"]
    return conn


def test_strongswan_default_also_and_strict(swan: DeviceConfig) -> None:
    net = _conn(swan, "net-net")
    # also=host-host gives the addresses and ids; %default the version and authby.
    assert net.local_addrs == ("192.0.2.10",) and net.remote_addrs == ("192.0.2.20",)
    assert net.local_id == "gw.example.net" and net.remote_ids == ("peer.example.net",)
    assert net.version == 2 and net.local_auth == net.remote_auth == "psk"
    assert dict(net.options)["mobike"] == "no"
    # 'ike=...!' is strict: that proposal only (stroke_config.c add_proposals).
    (ike,) = net.proposals
    assert ike.encr == ((12, 256),) and ike.prf == (7,) and ike.ke == (16,)
    # esp= without '!': the defaults follow (create_default, then _aead).
    esp = net.children[0].proposals
    assert esp[0].encr == ((20, 128),) and esp[0].ke == (19,)
    assert [p.text for p in esp[1:]] == ["default (ESP, non-AEAD)", "default (ESP, AEAD)"]
    assert net.children[0].remote_ts == ("10.2.0.0/16[tcp/443]",)


def test_strongswan_own_settings_win_and_ah(swan: DeviceConfig) -> None:
    legacy = _conn(swan, "legacy")
    assert legacy.version == 1 and legacy.local_auth == "pubkey"
    assert legacy.proposals[0].ke == (2,) and len(legacy.proposals) == 3  # + the 2 defaults
    (child,) = legacy.children
    assert child.protocol == "ah" and child.mode == "transport"
    assert child.proposals[0].integ == (12,)


def test_strongswan_include_and_secrets(swan: DeviceConfig) -> None:
    inc = _conn(swan, "included")
    assert inc.remote_addrs == ("192.0.2.30",) and inc.local_id == "gw.example.net"
    assert inc.file is not None and inc.file.endswith("extra.conf")
    psks = [(p.ids, p.secret) for p in swan.psks]
    assert psks == [
        (("gw.example.net", "peer.example.net"), b"shared-by-both"),
        (("192.0.2.30",), b"included"),
        ((), b"for-anyone"),
    ]
    assert [c.name for c in swan.connections] == [
        "conn host-host", "conn net-net", "conn legacy", "conn included"]  # fmt: skip


def test_libreswan_dialect(reswan: DeviceConfig) -> None:
    wn = _conn(reswan, "westnet-eastnet")
    assert wn.version == 2 and wn.local_auth == "psk"
    # ike=aes256-sha2;dh19: AES-CBC-256, PRF SHA2-256 with its integrity, DH19 only.
    (ike,) = wn.proposals
    assert ike.encr == ((12, 256),) and ike.prf == (5,) and ike.integ == (12,) and ike.ke == (19,)
    # phase2alg= is esp=; AEAD with integrity none, PFS DH19.
    (esp,) = wn.children[0].proposals
    assert esp.encr == ((20, 256),) and esp.integ == () and esp.ke == (19,)
    assert wn.children[0].pfs == (19,)


def test_libreswan_versions_auth_and_defaults(reswan: DeviceConfig) -> None:
    v1 = _conn(reswan, "v1-only")
    assert v1.version == 1 and v1.local_auth == "pubkey"
    d = _conn(reswan, "defaults")
    assert d.local_auth == "pubkey"
    # Unset ike=: AES-GCM-16 256 and 128, ChaCha20-Poly1305, AES-CBC 256 and 128 (algparse-01).
    assert [p.encr for p in d.proposals] == [((20, 256),), ((20, 128),), ((28, None),),
                                             ((12, 256),), ((12, 128),)]  # fmt: skip
    assert d.proposals[3].prf == (7, 5) and d.proposals[3].integ == (14, 12)
    assert d.proposals[0].ke == (19, 20, 21, 31, 16, 15, 14, 18)


def test_libreswan_include_and_secrets(reswan: DeviceConfig) -> None:
    road = _conn(reswan, "road")
    assert road.remote_addrs == () and road.remote_ids == ("road.example.net",)
    (ike,) = road.proposals
    assert ike.encr == ((20, 256), (20, 128)) and ike.prf == (7, 5) and ike.ke == (20, 19)
    (esp,) = road.children[0].proposals
    assert esp.encr == ((12, 128), (12, 256)) and esp.integ == (12, 2)
    secrets = {p.ids: p.secret for p in reswan.psks}
    assert secrets[("west.example.net", "east.example.net")] == b"west-east"
    assert secrets[("192.0.2.10",)] == b"long-key"  # %any dropped; 0s unquoted = base64
    assert secrets[("quoted.example.net",)] == b"0x-is-text-when-quoted"


@pytest.mark.parametrize(
    ("text", "proto", "error"),
    [
        ("aes+aes_gcm", "ike", "cannot be combined"),
        ("aes_ccm", "ike", "not supported"),
        ("aes;none", "ike", "NONE"),
        ("aes-", "ike", "empty"),
        ("aes,", "ike", "empty"),
        ("3des-sha1;modp1024", "esp", "not supported"),
        ("aes128-null", "esp", "none"),
        ("aes_gcm-md5", "esp", "AEAD"),
        ("aes-sha1,3des-sha1;modp8192", "esp", "all or no"),
        ("3des-sha1-modp8192,3des-sha2-modp2048", "esp", "more than one"),
    ],
)
def test_libreswan_refusals(text: str, proto: str, error: str) -> None:
    """Each refused as algparse-01 shows Libreswan refusing it."""
    with pytest.raises(ValueError, match=error):
        parse_libreswan(text, proto, 1)  # type: ignore[arg-type]


def test_libreswan_grammar_corners() -> None:
    # <encrypt>-<prf>-<integ>-<ke>, a key length in its own field, duplicates dropped.
    (p,) = parse_libreswan("aes-sha2-sha1_96-ecp_521", "ike", 1)
    assert p.prf == (5,) and p.integ == (2,) and p.ke == (21,)
    (p,) = parse_libreswan("aes-128-sha1", "esp", 1)
    assert p.encr == ((12, 128),) and p.integ == (2,)
    assert len(parse_libreswan("aes-sha1-modp8192,aes-sha1-modp8192", "ike", 1)) == 1


def test_ikev1_only_conns_never_fit_an_ikev2_sa() -> None:
    """psk-aes256-sha256-modp2048 is IKEv2: a conn limited to IKEv1 is not a candidate."""
    from config_support import LAB

    from ikeview.config.load import read_config
    from ikeview.config.match import connection_candidates
    from ikeview.pipeline.analyze import analyze

    text = "conn v1\n  left=192.0.2.2\n  right=192.0.2.1\n  keyexchange=ikev1\n"
    cfg = read_config(text, "ipsec.conf")
    sa = analyze(LAB / "psk-aes256-sha256-modp2048" / "capture.pcap").ike_sas[0]
    assert cfg.connections[0].version == 1
    assert connection_candidates(sa, cfg, "responder") == []
    v2 = read_config(text.replace("ikev1", "ikev2"), "ipsec.conf")
    assert connection_candidates(sa, v2, "responder") == list(v2.connections)


def test_libreswan_lab_config_is_what_its_capture_offered() -> None:
    """captures/lab/interop/libreswan-initiator: Libreswan 4.10 ran with this ipsec.conf; with
    only its DH secrets and this config (its ipsec.secrets beside it) the capture's offer is
    exactly the config's (IKE AES-CBC-256/PRF-SHA2-256/SHA2-256-128/MODP-2048; ESP
    AES-CBC-256/SHA2-256-128 with ESN then no-ESN, esn=either) and both AUTHs verify."""
    from config_support import LAB, REPO, dh_only

    from ikeview.config.check import apply_configs
    from ikeview.config.ipsec_conf import add_secrets
    from ikeview.config.keys import config_keyring
    from ikeview.config.load import read_config
    from ikeview.pipeline.analyze import analyze

    src = LAB / "scenarios" / "libreswan-initiator" / "initiator-libreswan"
    text = (src / "ipsec.conf").read_text()
    for k, v in {"@I_ADDR@": "192.0.2.1", "@R_ADDR@": "192.0.2.2"}.items():
        text = text.replace(k, v)
    path = str((src / "ipsec.conf").relative_to(REPO))
    cfg = read_config(text, path)
    cfg = add_secrets(cfg, (src / "ipsec.secrets").read_text(), "ipsec.secrets")
    (conn,) = cfg.connections
    assert conn.version == 2 and conn.children[0].proposals[0].esn == (1, 0)
    scenario = "interop/libreswan-initiator"
    ring = config_keyring([cfg]).merge(dh_only(scenario))
    analysis = apply_configs(analyze(LAB / scenario / "capture.pcap", ring), [cfg], keyring=ring)
    sa = analysis.ike_sas[0]
    assert [a.verified for a in sa.auth] == [True, True]
    (check,) = sa.config_checks
    assert check.role == "initiator" and check.findings == ()
    assert check.proposal is not None and check.proposal.matched
    assert check.proposal.agrees_with_capture is True
    (child,) = sa.child_sas[0].config_checks
    assert child.proposal is not None and child.findings == ()
    assert child.proposal.matched and child.proposal.agrees_with_capture is True
