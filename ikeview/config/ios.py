"""Cisco IOS / IOS XE running-config: the IKEv2 and IPsec parts, read into records.

Blocks are found by indentation, as ``show running-config`` prints them: a line at column 0
opens a block, indented lines belong to it (keyring ``peer`` blocks one level deeper). Read:
``hostname``, interface addresses and ``tunnel protection ipsec profile``, ``crypto ikev2
proposal|policy|keyring|profile``, ``crypto ipsec transform-set|profile``, ``crypto map``,
named and numbered extended ACLs. Everything else is skipped and counted, never fatal.

Keys: type 0 (or none) is clear text; type 7 is the reversible Cisco encoding and is decoded;
type 6 is AES-encrypted with the router's master key and cannot be read here (the PSK is then
reported as unreadable, never guessed).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ikeview.config import ios_defaults
from ikeview.config.proposals import ConfProposal
from ikeview.config.records import (
    ChildConf,
    ConfigError,
    ConfigNote,
    ConfigPsk,
    Connection,
    DeviceConfig,
    IkePolicy,
)

IOS_ENCR = {
    "des": (2, None),
    "3des": (3, None),
    "aes-cbc-128": (12, 128),
    "aes-cbc-192": (12, 192),
    "aes-cbc-256": (12, 256),
    "aes-gcm-128": (20, 128),
    "aes-gcm-192": (20, 192),
    "aes-gcm-256": (20, 256),
}
"""IKEv2 proposal ``encryption`` keywords to (IANA ENCR id, key bits)."""
IOS_HASH = {"md5": (1, 1), "sha1": (2, 2), "sha256": (12, 5), "sha384": (13, 6), "sha512": (14, 7)}
"""IKEv2 proposal ``integrity``/``prf`` keywords to (INTEG id, PRF id)."""
ESP_ENCR = {"esp-des": (2, None), "esp-3des": (3, None), "esp-null": (11, None)}
ESP_VARIABLE = {"esp-aes": (12, 128), "esp-gcm": (20, 128), "esp-gmac": (21, 128)}
"""Transform-set ciphers with an optional key size after them (default 128)."""
ESP_INTEG = {
    "esp-md5-hmac": 1,
    "esp-sha-hmac": 2,
    "esp-sha256-hmac": 12,
    "esp-sha384-hmac": 13,
    "esp-sha512-hmac": 14,
}
# The public constant of the reversible "type 7" encoding.
_TYPE7 = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


@dataclass(slots=True)
class Block:
    """A top-level line and the indented lines under it."""

    words: list[str]
    line: int
    body: list[tuple[int, int, list[str]]] = field(default_factory=list)
    """(line number, indent, words)."""


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("!"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        words = stripped.split()
        if indent == 0:
            blocks.append(Block(words, number))
        elif blocks:
            blocks[-1].body.append((number, indent, words))
    return blocks


def decode_type7(encoded: str) -> str | None:
    """The clear text of a Cisco type 7 string; None when it is not one."""
    try:
        seed = int(encoded[:2])
        data = bytes.fromhex(encoded[2:])
    except ValueError:
        return None
    return "".join(chr(b ^ ord(_TYPE7[(seed + i) % len(_TYPE7)])) for i, b in enumerate(data))


@dataclass(slots=True)
class _State:
    path: str
    hostname: str | None = None
    addrs: list[str] = field(default_factory=list)
    proposals: dict[str, ConfProposal] = field(default_factory=dict)
    policies: list[IkePolicy] = field(default_factory=list)
    psks: list[ConfigPsk] = field(default_factory=list)
    keyring_peers: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    profiles: list[dict] = field(default_factory=list)
    transform_sets: dict[str, tuple[ConfProposal, str]] = field(default_factory=dict)
    children: list[dict] = field(default_factory=list)
    acls: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    tunnel_profiles: list[tuple[str, str | None, int]] = field(default_factory=list)
    notes: list[ConfigNote] = field(default_factory=list)
    skipped: int = 0


def _proposal(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    encr, integ, prf, ke = [], [], [], []
    tables = {"encryption": (IOS_ENCR, encr, None), "integrity": (IOS_HASH, integ, 0),
              "prf": (IOS_HASH, prf, 1)}  # fmt: skip
    for number, _indent, w in b.body:
        key, args = w[0], w[1:]
        if key == "group":
            ke += [int(a) for a in args if a.isdigit() and int(a) < 65536]
            unknown = [a for a in args if not (a.isdigit() and int(a) < 65536)]
        elif key in tables:
            table, values, index = tables[key]
            values += [table[a] if index is None else table[a][index] for a in args if a in table]
            unknown = [a for a in args if a not in table]
        else:
            st.skipped += 1
            continue
        if unknown:
            # Not fatal: a newer IOS may know algorithms ikeview does not; say which were left out.
            st.notes.append(ConfigNote("config-unknown-algorithm", number,
                f"{st.path}:{number}: {key} {' '.join(unknown)} is not known to ikeview and "
                f"was left out of proposal {name}"))  # fmt: skip
    if not prf:
        # IOS: without a prf line the PRF follows the integrity algorithms.
        inv = {v[0]: v[1] for v in IOS_HASH.values()}
        prf = [inv[i] for i in integ if i in inv]
    text = f"crypto ikev2 proposal {name} (line {b.line})"
    st.proposals[name] = ConfProposal(
        "ike", text, b.line, tuple(encr), tuple(integ), tuple(prf), tuple(ke)
    )


def _policy(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    local: list[str] = []
    fvrf: str | None = None
    names: list[tuple[str, int]] = []
    for number, _indent, w in b.body:
        if w[:3] == ["match", "address", "local"] and len(w) > 3:
            local.append(w[3])
        elif w[:2] == ["match", "fvrf"] and len(w) > 2:
            fvrf = w[2]
        elif w[0] == "proposal" and len(w) > 1:
            names.extend((n, number) for n in w[1:])
        else:
            st.skipped += 1
    st.policies.append(IkePolicy(name, b.line, tuple(local), fvrf, tuple(names)))  # type: ignore[arg-type]


def _key(st: _State, w: list[str], number: int, keyring: str, peer: str) -> None:
    rest = w[1:]
    direction = "both"
    if rest and rest[0] in ("local", "remote"):
        direction, rest = rest[0], rest[1:]
    ktype = "0"
    if len(rest) >= 2 and rest[0] in ("0", "6", "7"):
        ktype, rest = rest[0], rest[1:]
    value = " ".join(rest)
    label = f"keyring {keyring} peer {peer}" + ("" if direction == "both" else f" ({direction})")
    secret: bytes | None = value.encode()
    note = None
    if ktype == "6":
        secret = None
        note = (f"{label}: a type 6 key is AES-encrypted with this router's master key and "
                f"cannot be read; give the clear key with --keys")  # fmt: skip
    elif ktype == "7":
        clear = decode_type7(value)
        secret = None if clear is None else clear.encode()
        note = "type 7 key decoded" if clear is not None else f"{label}: not a valid type 7 key"
    scope = st.keyring_peers.get(f"{keyring}/{peer}", [])
    ids = tuple(v for k, v in scope if k == "id" and v)
    addr = next((v for k, v in scope if k == "address"), None)
    st.psks.append(ConfigPsk(label, secret, ids, addr, direction, number, note))  # type: ignore[arg-type]
    if secret is None:
        st.notes.append(ConfigNote("psk-unreadable", number, note or label))


def _keyring(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    peer = "?"
    for number, _indent, w in b.body:
        if w[0] == "peer" and len(w) > 1:
            peer = w[1]
            st.keyring_peers[f"{name}/{peer}"] = []
        elif w[0] == "address" and len(w) > 1:
            host = _host(w[1], w[2] if len(w) > 2 else None)
            st.keyring_peers.setdefault(f"{name}/{peer}", []).append(("address", host))
        elif w[0] == "identity" and len(w) > 2:
            st.keyring_peers.setdefault(f"{name}/{peer}", []).append(("id", w[-1]))
        elif w[0] == "hostname" and len(w) > 1:
            st.keyring_peers.setdefault(f"{name}/{peer}", []).append(("id", w[1]))
        elif w[0] == "pre-shared-key":
            _key(st, w, number, name, peer)
        else:
            st.skipped += 1


def _host(addr: str, mask: str | None) -> str | None:
    """The address when the entry names one host; None for a network (no exact peer)."""
    if mask is None or mask == "255.255.255.255":
        return addr
    return None


def _profile(st: _State, b: Block) -> None:
    prof: dict = {"name": b.words[3] if len(b.words) > 3 else "?", "line": b.line,
                  "remote_ids": [], "remote_addrs": [], "local_addrs": [], "local_id": None,
                  "local_auth": None, "remote_auth": None, "keyring": None}  # fmt: skip
    for _number, _indent, w in b.body:
        if w[:3] == ["match", "identity", "remote"] and len(w) > 4:
            if w[3] == "address":
                net = _net(w[4], w[5] if len(w) > 5 else None)
                prof["remote_addrs"].append(net)
                prof["remote_ids"].append(net)
            elif w[4] == "domain" and len(w) > 5:
                # "match identity remote fqdn domain example.com": any name in that domain.
                prof["remote_ids"].append(f"*{w[5]}")
            else:
                prof["remote_ids"].append(w[-1])
        elif w[:3] == ["match", "address", "local"] and len(w) > 3:
            prof["local_addrs"].append(w[3])
        elif w[:2] == ["identity", "local"] and len(w) > 3:
            prof["local_id"] = w[3]
        elif w[0] == "authentication" and len(w) > 2:
            prof[f"{w[1]}_auth"] = _auth_word(w[2])
        elif w[:2] == ["keyring", "local"] and len(w) > 2:
            prof["keyring"] = w[2]
        elif w[0] in ("lifetime", "dpd", "description"):
            prof[w[0]] = " ".join(w[1:])
        else:
            st.skipped += 1
    st.profiles.append(prof)


def _auth_word(word: str) -> str:
    return {"pre-share": "psk", "rsa-sig": "pubkey", "ecdsa-sig": "pubkey"}.get(word, word)


def _net(addr: str, mask: str | None) -> str:
    try:
        net = ipaddress.ip_network(f"{addr}/{mask or '255.255.255.255'}", strict=False)
    except ValueError:
        return addr
    return str(net)


def _transform_set(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    words = b.words[4:]
    encr: list = []
    integ: list[int] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ESP_ENCR:
            encr.append(ESP_ENCR[w])
        elif w in ESP_VARIABLE:
            ident, bits = ESP_VARIABLE[w]
            if i + 1 < len(words) and words[i + 1].isdigit():
                bits = int(words[i + 1])
                i += 1
            encr.append((ident, bits))
        elif w in ESP_INTEG:
            integ.append(ESP_INTEG[w])
        else:
            # AH, compression or a transform ikeview does not know: left out and said.
            st.notes.append(ConfigNote("config-unknown-algorithm", b.line,
                f"{st.path}:{b.line}: transform {w} of transform-set {name} is not an ESP "
                f"transform ikeview knows; left out"))  # fmt: skip
        i += 1
    mode = "tunnel"
    for _number, _indent, w in b.body:
        if w[0] == "mode" and len(w) > 1:
            mode = w[1]
    text = f"crypto ipsec transform-set {name} {' '.join(words)}"
    st.transform_sets[name] = (
        ConfProposal("esp", text, b.line, tuple(encr), tuple(integ), esn=(0,)),
        mode,
    )


def _child(st: _State, b: Block, name: str) -> None:
    child: dict = {"name": name, "line": b.line, "sets": [], "pfs": None, "profile": None,
                   "peer": None, "acl": None}  # fmt: skip
    for _number, _indent, w in b.body:
        if w[:2] == ["set", "transform-set"]:
            child["sets"] += w[2:]
        elif w[:2] == ["set", "pfs"]:
            group = w[2] if len(w) > 2 else "group2"
            child["pfs"] = int(group.removeprefix("group")) if group[5:].isdigit() else None
        elif w[:2] == ["set", "ikev2-profile"] and len(w) > 2:
            child["profile"] = w[2]
        elif w[:2] == ["set", "peer"] and len(w) > 2:
            child["peer"] = w[2]
        elif w[:2] == ["match", "address"] and len(w) > 2:
            child["acl"] = w[2]
        else:
            st.skipped += 1
    st.children.append(child)


def _acl_side(words: list[str]) -> tuple[str, list[str]]:
    if not words:
        return "", []
    if words[0] == "any":
        return "0.0.0.0/0", words[1:]
    if words[0] == "host" and len(words) > 1:
        return f"{words[1]}/32", words[2:]
    if len(words) > 1:
        try:
            net = ipaddress.ip_network(f"{words[0]}/{words[1]}", strict=False)
            return str(net), words[2:]
        except ValueError:
            # A wildcard mask (0.0.0.255): ipaddress reads it as a host mask.
            return words[0], words[2:]
    return words[0], words[1:]


def _acl_entry(st: _State, name: str, w: list[str]) -> None:
    if not w or w[0] != "permit" or len(w) < 3:
        return
    src, rest = _acl_side(w[2:])
    dst, _rest = _acl_side(rest)
    local, remote = st.acls.setdefault(name, ([], []))
    local.append(src)
    remote.append(dst)


def _interface(st: _State, b: Block) -> None:
    dest = None
    prof = None
    for _number, _indent, w in b.body:
        if w[:2] == ["ip", "address"] and len(w) > 2 and w[2][0].isdigit():
            st.addrs.append(w[2])
        elif w[:2] == ["ipv6", "address"] and len(w) > 2 and ":" in w[2]:
            st.addrs.append(w[2].split("/", 1)[0].lower())
        elif w[:2] == ["tunnel", "destination"] and len(w) > 2:
            dest = w[2]
        elif w[:4] == ["tunnel", "protection", "ipsec", "profile"] and len(w) > 4:
            prof = w[4]
    if prof:
        st.tunnel_profiles.append((prof, dest, b.line))


def _dispatch(st: _State, b: Block) -> None:
    w = b.words
    head = " ".join(w[:3])
    if w[0] == "hostname" and len(w) > 1:
        st.hostname = w[1]
    elif w[0] == "interface":
        _interface(st, b)
    elif head == "crypto ikev2 proposal":
        _proposal(st, b)
    elif head == "crypto ikev2 policy":
        _policy(st, b)
    elif head == "crypto ikev2 keyring":
        _keyring(st, b)
    elif head == "crypto ikev2 profile":
        _profile(st, b)
    elif head == "crypto ipsec transform-set":
        _transform_set(st, b)
    elif head == "crypto ipsec profile" and len(w) > 3:
        _child(st, b, f"crypto ipsec profile {w[3]}")
    elif w[:2] == ["crypto", "map"] and len(w) > 3 and "dynamic" not in w:
        _child(st, b, f"crypto map {w[2]} {w[3]}")
    elif w[:3] == ["ip", "access-list", "extended"] and len(w) > 3:
        for _n, _i, entry in b.body:
            _acl_entry(st, w[3], entry)
    elif w[0] == "access-list" and len(w) > 2:
        _acl_entry(st, w[1], w[2:])
    else:
        st.skipped += 1 + len(b.body)


def _policies(st: _State, defaults: ios_defaults.SmartDefaults) -> tuple[IkePolicy, ...]:
    out: list[IkePolicy] = []
    used: set[str] = set()
    for pol in st.policies:
        resolved = []
        for name, number in pol.proposals:  # type: ignore[misc]
            if name in st.proposals:
                resolved.append(st.proposals[name])
                used.add(name)
            else:
                st.notes.append(ConfigNote(
                    "config-proposal-missing", number,
                    f"policy {pol.name} names proposal {name}, which is not configured",
                ))  # fmt: skip
        out.append(IkePolicy(pol.name, pol.line, pol.match_local, pol.match_fvrf, tuple(resolved)))
    for name, prop in st.proposals.items():
        if name not in used:
            st.notes.append(ConfigNote(
                "config-proposal-unused", prop.line,
                f"crypto ikev2 proposal {name} (line {prop.line}) is referenced by no "
                f"crypto ikev2 policy, so IOS never offers or accepts it",
            ))  # fmt: skip
    if not out:
        out.append(IkePolicy("default (Smart Default)", 0, (), None, (defaults.proposal,)))
    return tuple(out)


def _with_pfs(prop: ConfProposal, pfs: int | None) -> ConfProposal:
    if pfs is None:
        return prop
    return ConfProposal(prop.protocol, f"{prop.text}; set pfs group{pfs}", prop.line,
                        prop.encr, prop.integ, prop.prf, (pfs,), prop.esn)  # fmt: skip


def _child_conf(st: _State, c: dict, defaults: ios_defaults.SmartDefaults) -> ChildConf:
    props: list[ConfProposal] = []
    mode = "tunnel"
    for name in c["sets"]:
        if name in st.transform_sets:
            prop, mode = st.transform_sets[name]
            props.append(_with_pfs(prop, c["pfs"]))
    if not props:
        props = [_with_pfs(p, c["pfs"]) for p in defaults.transform_sets]
        mode = defaults.transform_mode
    local, remote = st.acls.get(c["acl"] or "", ([], []))
    return ChildConf(
        name=c["name"],
        line=c["line"],
        proposals=tuple(props),
        local_ts=tuple(local),
        remote_ts=tuple(remote),
        mode=mode,
        pfs=None if c["pfs"] is None else (c["pfs"],),
        profile=c["profile"],
    )


def read_ios(text: str, path: str, release: str | None = None) -> DeviceConfig:
    """Read a running-config. ``release`` picks the Smart Defaults (ios_defaults.RELEASES)."""
    try:
        defaults = ios_defaults.smart_defaults(release)
    except KeyError:
        known = ", ".join(ios_defaults.RELEASES)
        raise ConfigError(f"unknown --ios-release {release!r}; choose one of {known}") from None
    st = _State(path)
    for block in _blocks(text):
        _dispatch(st, block)
    policies = _policies(st, defaults)
    children = [_child_conf(st, c, defaults) for c in st.children]
    peers = {c["name"]: c["peer"] for c in st.children if c["peer"]}
    for prof, dest, _line in st.tunnel_profiles:
        if dest:
            peers.setdefault(f"crypto ipsec profile {prof}", dest)
    connections = []
    for p in st.profiles:
        mine = tuple(c for c in children if c.profile in (None, p["name"]))
        # The peers its crypto maps / tunnels point at tell which side the device is.
        p["remote_addrs"] += [peers[c.name] for c in mine if c.name in peers]
        connections.append(Connection(
            name=f"crypto ikev2 profile {p['name']}",
            line=p["line"],
            local_addrs=tuple(p["local_addrs"]),
            remote_addrs=tuple(p["remote_addrs"]),
            local_id=p["local_id"],
            remote_ids=tuple(p["remote_ids"]),
            local_auth=p["local_auth"],
            remote_auth=p["remote_auth"],
            children=mine,
            keyring=p["keyring"],
        ))  # fmt: skip
    return DeviceConfig(
        path=path,
        kind="ios",
        hostname=st.hostname,
        local_addrs=tuple(st.addrs),
        connections=tuple(connections),
        policies=policies,
        psks=tuple(st.psks),
        notes=tuple(st.notes),
        skipped=st.skipped,
        release=defaults.release,
    )
