"""Configs ikeview has not seen: strongSwan's own testing/ corpus (hundreds of swanctl.conf and
ipsec.conf files with the results its test runs expect), when its source is on this machine
(tests/upstream_corpus.py says where). Skipped otherwise; the same constructs are written by
hand in tests/data/configs/swanctl/constructs/ and tested always.

Invariants: every file parses without an exception; every connection has IKE proposals a
strongSwan would accept, every child SA proposals; every ike secret reads. Then the independent
check: each ``swanctl --list-sas --raw`` line of a test's evaltest.dat names the connection, the
identities and the algorithms strongSwan negotiated with it; the host's config must have that
connection, the same local identity, a remote identity that matches, a configured proposal (IKE,
and ESP for the child) that allows exactly those algorithms, and child selectors that hold the
negotiated ones.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from functools import cache

import pytest
from ikeview.dissectors.ike_records import TrafficSelector
from upstream_corpus import read_tree, source, tree_resolver

from ikeview.config.match import ts_fits, ts_spec
from ikeview.config.proposals import ConfProposal
from ikeview.config.records import ChildConf, Connection, DeviceConfig
from ikeview.config.swanctl import read_swanctl

SRC = source("strongswan")
pytestmark = pytest.mark.skipif(
    SRC is None, reason="strongSwan source not on this machine (set IKEVIEW_STRONGSWAN_SRC)"
)

# strongSwan's enum names (crypter.c, signer.c, prf.c, key_exchange.c) as --list-sas prints
# them, to (IANA or strongSwan private) ids.
ENCR = {"AES_CBC": 12, "AES_GCM_16": 20, "3DES_CBC": 3, "CAMELLIA_CBC": 23, "BLOWFISH_CBC": 7,
        "NULL": 11, "AES_CTR": 13, "AES_CCM_12": 15, "TWOFISH_CBC": 1027, "SERPENT_CBC": 1026,
        "NULL_AES_GMAC": 21, "CHACHA20_POLY1305": 28, "AES_GCM_8": 18, "AES_GCM_12": 19,
        "AES_CCM_16": 16, "AES_CCM_8": 14}  # fmt: skip
INTEG = {"HMAC_SHA2_256_128": 12, "HMAC_SHA2_512_256": 14, "HMAC_SHA2_384_192": 13,
         "HMAC_SHA1_96": 2, "AES_XCBC_96": 5, "HMAC_MD5_96": 1, "HMAC_SHA2_256_96": 1026,
         "HMAC_SHA1_160": 7, "HMAC_MD5_128": 6, "AES_CMAC_96": 8}  # fmt: skip
PRF = {"PRF_HMAC_SHA2_256": 5, "PRF_HMAC_SHA2_512": 7, "PRF_HMAC_SHA2_384": 6,
       "PRF_HMAC_SHA1": 2, "PRF_AES128_XCBC": 4, "PRF_HMAC_MD5": 1,
       "PRF_AES128_CMAC": 8}  # fmt: skip
KE = {"CURVE_25519": 31, "ECP_256": 19, "MODP_3072": 15, "MODP_4096": 16, "ECP_384": 20,
      "MODP_2048": 14, "MODP_1536": 5, "ECP_521": 21, "MODP_1024": 2, "MODP_8192": 18,
      "MODP_2048_256": 24, "MODP_1024_160": 22, "ECP_224": 26, "ECP_512_BP": 30,
      "ECP_384_BP": 29, "ECP_256_BP": 28, "ECP_224_BP": 27, "CURVE_448": 32, "MODP_6144": 17,
      "ECP_192": 25, "MODP_2048_224": 23}  # fmt: skip


@cache
def corpus() -> dict[str, str]:
    assert SRC is not None

    def keep(name: str) -> bool:
        if not name.startswith("testing/"):
            return False
        return ("/etc/swanctl/" in name and name.endswith(".conf")) or name.endswith(
            ("/evaltest.dat", "/etc/ipsec.conf", "/etc/ipsec.secrets")
        )

    return read_tree(SRC, keep)


@cache
def swanctl(path: str) -> DeviceConfig:
    files = corpus()
    return read_swanctl(files[path], path, resolver=tree_resolver(files))


def _swanctl_paths() -> list[str]:
    return sorted(p for p in corpus() if p.endswith("/etc/swanctl/swanctl.conf"))


def _valid(p: ConfProposal) -> bool:
    if p.protocol == "ike":
        return bool(p.encr and p.prf and p.ke)
    if p.protocol == "ah":
        return bool(p.integ and p.esn)
    return bool((p.encr or p.integ) and p.esn)


def test_every_swanctl_conf_parses_with_invariants() -> None:
    paths = _swanctl_paths()
    assert len(paths) > 500, "strongSwan's testing/ tree looks incomplete"
    counts: Counter[str] = Counter()
    for path in paths:
        cfg = swanctl(path)  # ConfigError or any exception fails the test, naming the file
        for conn in cfg.connections:
            assert conn.proposals and all(_valid(p) for p in conn.proposals), (path, conn.name)
            assert conn.version in (0, 1, 2)
            for child in conn.children:
                assert child.proposals and all(_valid(p) for p in child.proposals), path
                counts["children"] += 1
            counts["connections"] += 1
        for psk in cfg.psks:
            assert psk.secret, (path, psk.label)
            counts["psks"] += 1
    assert counts["connections"] > 800 and counts["psks"] > 50, counts


_LIST_SAS = re.compile(r"^(?P<host>\w+)::\s*swanctl --list-sas --raw[^:]*::(?P<pat>.*)::YES\s*$")
_NAME = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)(?:\.\*| \{)")


def _expected(pattern: str, key: str, table: dict[str, int]) -> int | str | None:
    m = re.search(rf"\b{key}=([A-Z0-9_]+)", pattern)
    if m is None:
        return None
    return table.get(m[1], m[1])  # an unknown name stays a string: counted, not checked


def _allows(props: tuple[ConfProposal, ...], encr: object, bits: int | None,
            integ: object, prf: object, ke: object) -> bool:  # fmt: skip
    for p in props:
        if encr is not None and not any(e == encr and (bits is None or k in (bits, None))
                                        for e, k in p.encr):  # fmt: skip
            continue
        if integ is not None and integ not in p.integ:
            continue
        if prf is not None and prf not in p.prf:
            continue
        if ke is not None and ke not in p.ke and not (p.protocol != "ike" and not p.ke):
            continue
        return True
    return False


def _host_config(test_dir: str, host: str) -> str | None:
    for path in (f"{test_dir}/hosts/{host}/etc/swanctl/swanctl.conf",
                 f"testing/hosts/{host}/etc/swanctl/swanctl.conf"):  # fmt: skip
        if path in corpus():
            return path
    return None


def _id_in(pattern: str, key: str) -> str | None:
    m = re.search(rf"\b{key}=([^ ]+?)(?= [a-z-]+=|\.\*|$)", pattern)
    if m is None or any(c in m[1] for c in "*?[]()|+\\"):
        return None  # a regular expression, not an identity
    return m[1]


@cache
def _rounds(path: str, name: str) -> int:
    """How many local*/remote* sections the connection has (templates expanded)."""
    from ikeview.config.swanctl_syntax import parse

    files = corpus()
    root, _skipped, _notes = parse(files[path], path, tree_resolver(files))
    conns = root.section("connections")
    conn = conns.section(name) if conns else None
    if conn is None:
        return 0
    return sum(1 for s in conn.sections if s.name.startswith(("local", "remote")))


def _check_ids(conn: Connection, pattern: str, path: str, counts: Counter[str]) -> None:
    """local-id / remote-id of the established SA against the identities ikeview read."""
    from ikeview.config.keys import owner_match

    if _rounds(path, conn.name) > 2:
        return  # several auth rounds: list-sas shows the identity of a later one
    local = _id_in(pattern, "local-id")
    if local is not None and conn.local_id is not None and "PH_" not in local:
        assert owner_match(local, conn.local_id) == 20, (path, conn.name, local, conn.local_id)
        counts["local id checked"] += 1
    remote = _id_in(pattern, "remote-id")
    if remote is not None and conn.remote_ids and "PH_" not in remote:
        assert any(owner_match(remote, r) for r in conn.remote_ids), (path, conn.name, remote)
        counts["remote id checked"] += 1


def _selectors(text: str) -> tuple[TrafficSelector, ...] | None:
    """list-sas selectors (``10.1.0.0/16[tcp/ssh]``; ICMP shown by type, the port's high byte:
    traffic_selector.c print_icmp) as wire selectors."""
    out = []
    for part in text.replace("\\", "").split():
        addr, proto, lo, hi = ts_spec(part)
        try:
            net = ipaddress.ip_network(addr, strict=False)
        except ValueError:
            return None
        if proto in (1, 58) and lo == hi:
            lo = hi = lo << 8
        kind = 7 if net.version == 4 else 8
        out.append(TrafficSelector(kind, proto, lo, hi, str(net[0]), str(net[-1]), b""))
    return tuple(out)


_TS_LIST = r"((?:[^\]\\]|\\\[[^\]]*\])*)"


def _check_ts(child: ChildConf, esp: str, path: str, counts: Counter[str]) -> None:
    """The negotiated selectors lie inside the child's configured local_ts / remote_ts (a
    responder narrows to them; dynamic and virtual IPs are inside anything)."""
    m = re.search(rf"local-ts=\\\[{_TS_LIST}\] remote-ts=\\\[{_TS_LIST}\]", esp)
    configured = " ".join(child.local_ts + child.remote_ts)
    if m is None or "PH_" in m[0] or "PH_" in configured:
        return  # the test harness fills in PH_IP_* addresses
    local, remote = _selectors(m[1]), _selectors(m[2])
    if local is None or remote is None:
        return
    assert ts_fits(local, child.local_ts) and ts_fits(remote, child.remote_ts), (path, m[0])
    counts["TS checked"] += 1


def _check_line(test_dir: str, host: str, pattern: str, counts: Counter[str]) -> None:
    m = _NAME.match(pattern)
    path = _host_config(test_dir, host)
    if m is None or path is None:
        counts["no plain connection name or no swanctl.conf"] += 1
        return
    conns = {c.name: c for c in swanctl(path).connections}
    conn = conns.get(m["name"])
    if conn is None:
        counts["connection made elsewhere (vici script, other file)"] += 1
        return
    _check_ids(conn, pattern, path, counts)
    ike_part, _, child_part = pattern.partition("child-sas")
    bits = _expected(ike_part, "encr-keysize", {})
    keysize = int(bits) if isinstance(bits, str) and bits.isdigit() else None
    kinds = (("encr-alg", ENCR), ("integ-alg", INTEG), ("prf-alg", PRF), ("dh-group", KE))
    ike = [_expected(ike_part, k, t) for k, t in kinds]
    if any(isinstance(v, str) for v in ike):
        counts["unknown algorithm name"] += 1
        return
    assert _allows(conn.proposals, ike[0], keysize, ike[1], ike[2], ike[3]), (path, pattern)
    counts["IKE checked"] += 1
    esp = child_part.partition("ESP")[2] or child_part.partition("AH")[2]
    child_name = re.match(r"^\.\*(?P<n>[A-Za-z0-9_-]+)", child_part)
    child = next((c for c in conn.children if child_name and c.name == child_name["n"]), None)
    if not esp or child is None:
        return
    bits = _expected(esp, "encr-keysize", {})
    keysize = int(bits) if isinstance(bits, str) and bits.isdigit() else None
    algs = [_expected(esp, k, t) for k, t in
            (("encr-alg", ENCR), ("integ-alg", INTEG), ("dh-group", KE))]  # fmt: skip
    if any(isinstance(v, str) for v in algs) or "AH" in child_part.split("ESP")[0][-4:]:
        return
    assert _allows(child.proposals, algs[0], keysize, algs[1], None, algs[2]), (path, pattern)
    counts["ESP checked"] += 1
    _check_ts(child, esp, path, counts)


def test_negotiated_algorithms_are_allowed_by_the_config() -> None:
    """strongSwan's own expected results (evaltest.dat) against what ikeview read from the
    config that produced them: an independent check of the keyword table, the defaults and the
    template/include handling."""
    counts: Counter[str] = Counter()
    for path, text in corpus().items():
        if not path.endswith("/evaltest.dat"):
            continue
        test_dir = path.rsplit("/", 1)[0]
        for line in text.splitlines():
            if m := _LIST_SAS.match(line):
                _check_line(test_dir, m["host"], m["pat"], counts)
    assert counts["IKE checked"] > 600 and counts["ESP checked"] > 550, counts
    assert counts["local id checked"] > 500 and counts["remote id checked"] > 400, counts
    assert counts["TS checked"] > 450, counts


def test_every_strongswan_ipsec_conf_parses() -> None:
    """The stroke-era ipsec.conf files of the same tree: every one read, every ike=/esp=/ah=
    readable with strongSwan's keywords (none is meant to fail there), conns valid."""
    from ikeview.config.ipsec_conf import read_ipsec_conf

    files = corpus()
    paths = sorted(p for p in files if p.endswith("/etc/ipsec.conf"))
    assert len(paths) > 200
    conns = 0
    for path in paths:
        cfg = read_ipsec_conf(files[path], path, resolver=tree_resolver(files))
        assert not [n for n in cfg.notes if n.code == "config-unknown-algorithm"], path
        for conn in cfg.connections:
            assert conn.proposals and all(_valid(p) for p in conn.proposals), (path, conn.name)
            assert all(_valid(p) for c in conn.children for p in c.proposals), path
            conns += 1
    assert conns > 200


def test_every_strongswan_ipsec_secrets_reads() -> None:
    from ikeview.config.ipsec_conf import add_secrets
    from ikeview.config.records import DeviceConfig

    files = corpus()
    paths = [p for p in files if p.endswith("/etc/ipsec.secrets")]
    psks = 0
    for path in paths:
        cfg = add_secrets(DeviceConfig(path, "ipsec.conf"), files[path], path,
                          resolver=tree_resolver(files))  # fmt: skip
        assert all(p.secret for p in cfg.psks), path
        psks += len(cfg.psks)
    assert len(paths) > 100 and psks > 20
