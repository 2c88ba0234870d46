"""Cisco IOS / IOS XE running-config: the IKEv2 and IPsec parts, read into records.

Blocks are found as IOS finds modes (ios_text.py): by indentation as ``show running-config``
prints them, and, for configs pasted as CLI scripts or quoted in documents, by the commands a
mode knows whatever their indentation (prompts stripped, ``exit`` understood). A block entered
again adds to the same proposal, profile or keyring peer. Read:
``hostname``, interface addresses and ``tunnel protection ipsec profile``, ``crypto ikev2
proposal|policy|keyring|profile``, ``crypto ipsec transform-set|profile``, ``crypto map``,
named and numbered extended ACLs. Everything else is skipped and counted, never fatal.

Keys: type 0 (or none) is clear text; type 7 is the reversible Cisco encoding and is decoded;
type 6 is AES-encrypted with the router's master key and cannot be read here (the PSK is then
reported as unreadable, never guessed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from ikeview.config import ios_defaults
from ikeview.config.ios_text import (
    Block,
    acl_entry,
    blocks,
    network,
    object_group_members,
    same_interface,
)
from ikeview.config.ios_words import (
    ESP_ENCR,
    ESP_INTEG,
    ESP_VARIABLE,
    IOS_ENCR,
    IOS_HASH,
    decode_type7,
)
from ikeview.config.proposals import ConfProposal, Encr
from ikeview.config.records import (
    ChildConf,
    ConfigError,
    ConfigNote,
    ConfigPsk,
    Connection,
    DeviceConfig,
    Direction,
    IkePolicy,
)


@dataclass(slots=True)
class _Profile:
    """A ``crypto ikev2 profile`` while it is read."""

    name: str
    line: int
    remote_ids: list[str] = field(default_factory=list)
    remote_addrs: list[str] = field(default_factory=list)
    local_addrs: list[str] = field(default_factory=list)
    local_id: str | None = None
    local_auth: str | None = None
    remote_auth: str | None = None
    keyring: str | None = None
    fvrf: str | None = None
    certificate_maps: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Child:
    """A ``crypto map`` / ``crypto dynamic-map`` entry or ``crypto ipsec profile``."""

    name: str
    line: int
    sets: list[str] = field(default_factory=list)
    pfs: int | None = None
    profile: str | None = None
    peers: list[str] = field(default_factory=list)
    acl: str | None = None


@dataclass(slots=True)
class _Interface:
    name: str
    addrs: list[str] = field(default_factory=list)
    vrf: str | None = None
    tunnel_vrf: str | None = None
    tunnel_source: str | None = None
    tunnel_dest: str | None = None
    protection: str | None = None
    line: int = 0


@dataclass(slots=True)
class _State:
    path: str
    hostname: str | None = None
    proposals: dict[str, ConfProposal] = field(default_factory=dict)
    policies: list[IkePolicy] = field(default_factory=list)
    policy_refs: list[list[tuple[str, int]]] = field(default_factory=list)
    psks: list[ConfigPsk] = field(default_factory=list)
    keyring_peers: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    profiles: list[_Profile] = field(default_factory=list)
    transform_sets: dict[str, tuple[ConfProposal, str]] = field(default_factory=dict)
    children: list[_Child] = field(default_factory=list)
    acls: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    interfaces: list[_Interface] = field(default_factory=list)
    disabled: set[str] = field(default_factory=set)
    """``policy`` / ``proposal`` when ``no crypto ikev2 policy|proposal default`` is set."""
    default_types: set[str] = field(default_factory=set)
    """Lines a configured ``crypto ikev2 proposal default`` sets (encryption, group...)."""
    notes: list[ConfigNote] = field(default_factory=list)
    skipped: int = 0
    weak: bool = False
    """The release refuses FN72510's weak algorithms (IOS XE 17.11.1+)."""


def _weak(st: _State, number: int, words: list[str], where: str) -> None:
    st.notes.append(ConfigNote("config-weak-algorithm", number,
        f"{st.path}:{number}: {' '.join(words)} in {where} is refused by IOS XE 17.11.1 and "
        f"later unless weak algorithms are allowed again (Cisco Field Notice FN72510); left "
        f"out as --ios-release iosxe17 models (iosxe16 for older routers)"))  # fmt: skip


def _proposal(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    encr: list[Encr] = []
    integ: list[int] = []
    prf: list[int] = []
    ke: list[int] = []
    for number, _indent, w in b.body:
        key, args = w[0], w[1:]
        unknown: list[str] = []
        refused = [a for a in args if st.weak and a in ios_defaults.WEAK_IKE.get(key, ())]
        if refused:
            _weak(st, number, [key, *refused], f"crypto ikev2 proposal {name}")
            args = [a for a in args if a not in refused]
        if key == "group":
            ke += [int(a) for a in args if _ios_group(a)]
            unknown = [a for a in args if not _ios_group(a)]
        elif key == "encryption":
            encr += [IOS_ENCR[a] for a in args if a in IOS_ENCR]
            unknown = [a for a in args if a not in IOS_ENCR]
        elif key in ("integrity", "prf"):
            index = 0 if key == "integrity" else 1
            (integ if key == "integrity" else prf).extend(
                IOS_HASH[a][index] for a in args if a in IOS_HASH
            )
            unknown = [a for a in args if a not in IOS_HASH]
        else:
            st.skipped += 1
            continue
        if name == "default":
            st.default_types.add(key)
        if unknown:
            # Not fatal: a newer IOS may know algorithms ikeview does not; say which were left out.
            what = "not a DH group IOS has" if key == "group" else "not known to ikeview"
            st.notes.append(ConfigNote("config-unknown-algorithm", number,
                f"{st.path}:{number}: {key} {' '.join(unknown)} is {what} and was left out "
                f"of proposal {name}"))  # fmt: skip
    if not prf:
        # IOS: without a prf line the PRF follows the integrity algorithms.
        inv = {v[0]: v[1] for v in IOS_HASH.values()}
        prf = [inv[i] for i in integ if i in inv]
    before = st.proposals.get(name)
    # A block entered again (a later paste) adds to the proposal; IOS lists nothing twice.
    old = before or ConfProposal("ike", "", 0, (), (), (), ())
    encr, integ, prf, ke = (_union(a, b) for a, b in ((old.encr, encr),
        (old.integ, integ), (old.prf, prf), (old.ke, ke)))  # fmt: skip
    text = f"crypto ikev2 proposal {name} (line {b.line if before is None else before.line})"
    st.proposals[name] = ConfProposal(
        "ike", text, before.line if before else b.line, tuple(encr), tuple(integ), tuple(prf),
        tuple(ke),
    )  # fmt: skip


T = TypeVar("T")


def _union(first: tuple[T, ...], then: list[T]) -> list[T]:
    return list(dict.fromkeys([*first, *then]))


def _ios_group(word: str) -> bool:
    """A DH group number IOS has (a router refuses the others, so they are left out)."""
    return word.isdigit() and int(word) in ios_defaults.IOS_GROUPS


def _policy(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    local: list[str] = []
    fvrf: str | None = None
    names: list[tuple[str, int]] = []
    for number, _indent, w in b.body:
        if w[:3] == ["match", "address", "local"] and len(w) > 3:
            # "match address local interface Gi1" names an interface: resolved at the end.
            local.append(w[-1] if w[3] == "interface" else w[3])
        elif w[:2] == ["match", "fvrf"] and len(w) > 2:
            fvrf = w[2]
        elif w[0] == "proposal" and len(w) > 1:
            names.extend((n, number) for n in w[1:])
        else:
            st.skipped += 1
    st.policies.append(IkePolicy(name, b.line, tuple(local), fvrf, ()))
    st.policy_refs.append(names)


def _key(st: _State, w: list[str], number: int, keyring: str, peer: str) -> None:
    """A keyring peer's ``pre-shared-key [local|remote] [0|6|7] KEY``."""
    rest = w[1:]
    direction: Direction = "both"
    if rest and rest[0] in ("local", "remote"):
        direction = "local" if rest[0] == "local" else "remote"
        rest = rest[1:]
    label = f"keyring {keyring} peer {peer}" + ("" if direction == "both" else f" ({direction})")
    scope = st.keyring_peers.get(f"{keyring}/{peer}", [])
    ids = tuple(v for k, v in scope if k == "id" and v)
    addr = next((v for k, v in scope if k == "address"), None)
    _add_psk(st, rest, number, label, (ids, addr), direction)


def _add_psk(
    st: _State,
    rest: list[str],
    number: int,
    label: str,
    scope: tuple[tuple[str, ...], str | None],
    direction: Direction,
) -> None:
    """``[0|6|7] KEY`` as a PSK for the peers ``scope`` (identities, host address) names."""
    ktype = "0"
    if len(rest) >= 2 and rest[0] in ("0", "6", "7"):
        ktype, rest = rest[0], rest[1:]
    value = " ".join(rest)
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
    # A key given again for the same peer (and direction) replaces the earlier one, as in IOS.
    st.psks = [p for p in st.psks if p.label != label]
    st.psks.append(ConfigPsk(label, secret, scope[0], scope[1], direction, number, note))
    if secret is None:
        st.notes.append(ConfigNote("psk-unreadable", number, note or label))


def _keyring(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    peer = "?"
    for number, _indent, w in b.body:
        if w[0] == "peer" and len(w) > 1:
            peer = w[1]
            st.keyring_peers.setdefault(f"{name}/{peer}", [])  # entered again: kept
        elif w[0] == "address" and len(w) > 1:
            host = _host(w[1], w[2] if len(w) > 2 else None)
            st.keyring_peers.setdefault(f"{name}/{peer}", []).append(("address", host))
        elif w[0] == "identity" and len(w) > 2:
            st.keyring_peers.setdefault(f"{name}/{peer}", []).append(("id", w[-1]))
        elif w[0] == "hostname" and len(w) > 1:
            st.keyring_peers.setdefault(f"{name}/{peer}", []).append(("id", w[1]))
        elif w[0] == "pre-shared-key":
            _key(st, w, number, name, peer)
        elif w[0] != "description":  # a peer's description: understood, not compared
            st.skipped += 1


def _host(addr: str, mask: str | None) -> str | None:
    """The address when the entry names one host; None for a network (no exact peer)."""
    net = network(addr, mask)
    if net is None or net.endswith(("/32", "/128")):
        return addr.split("/", 1)[0].lower() if net else None
    return None


def _remote_address(words: list[str]) -> str:
    """``match identity remote address A [MASK]`` (IPv6 ``A/len`` or ``A LEN``) as CIDR;
    ``0.0.0.0`` or ``::`` without a mask is any address (as hub configs use it)."""
    addr = words[0]
    mask = words[1] if len(words) > 1 else None
    if mask is None and addr in ("0.0.0.0", "::"):
        return "::/0" if ":" in addr else "0.0.0.0/0"
    return network(addr, mask) or addr


_PROFILE_KNOWN = frozenset(
    [
        "lifetime",
        "dpd",
        "description",
        "pki",
        "match",
        "keyring",
        "nat",
        "virtual-template",
        "aaa",
        "ivrf",
        "config-exchange",
        "shutdown",
    ]
)
"""Profile lines understood but not compared with a capture."""


def _profile(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    # Entered again (a later paste): IOS adds the lines to the same profile.
    prof = next((p for p in st.profiles if p.name == name), None)
    if prof is None:
        prof = _Profile(name, b.line)
        st.profiles.append(prof)
    keys: list[tuple[int, str, list[str]]] = []
    for _number, _indent, w in b.body:
        if w[:3] == ["match", "identity", "remote"] and len(w) > 3:
            _match_identity(prof, w[3:])
        elif w[:3] == ["match", "address", "local"] and len(w) > 3:
            prof.local_addrs.append(w[-1] if w[3] == "interface" else w[3])
        elif w[:2] == ["match", "fvrf"] and len(w) > 2:
            prof.fvrf = w[2]
        elif w[:2] == ["match", "certificate"] and len(w) > 2:
            prof.certificate_maps.append(w[2])
        elif w[:2] == ["identity", "local"] and len(w) > 2:
            # identity local address A | fqdn X | email X | key-id X | dn (from the certificate)
            prof.local_id = w[3] if len(w) > 3 else w[2]
        elif w[0] == "authentication" and len(w) > 2 and w[1] in ("local", "remote"):
            if w[2] == "pre-share" and w[3:4] == ["key"] and len(w) > 4:
                keys.append((_number, w[1], w[4:]))
            if w[1] == "local":
                prof.local_auth = _auth_word(w[2])
            else:
                # Several "authentication remote" lines are allowed: the first is kept.
                prof.remote_auth = prof.remote_auth or _auth_word(w[2])
        elif w[:2] == ["keyring", "local"] and len(w) > 2:
            prof.keyring = w[2]
        elif w[0] in _PROFILE_KNOWN:
            continue  # understood, not compared
        else:
            st.skipped += 1
    for number, side, rest in keys:
        # "authentication local|remote pre-share key K": the profile's own key (used instead
        # of a keyring's) for the peers its "match identity remote" lines admit.
        direction: Direction = "local" if side == "local" else "remote"
        hosts = [a.split("/")[0] for a in prof.remote_addrs if a.endswith(("/32", "/128"))]
        label = f"crypto ikev2 profile {prof.name} ({side})"
        ids = tuple(i for i in prof.remote_ids if i not in prof.remote_addrs)
        _add_psk(st, rest, number, label, (ids, hosts[0] if len(hosts) == 1 else None), direction)


def _match_identity(prof: _Profile, w: list[str]) -> None:
    if w[0] == "any":
        return  # any identity: no restriction
    if w[0] == "address" and len(w) > 1:
        net = _remote_address(w[1:])
        prof.remote_addrs.append(net)
        prof.remote_ids.append(net)
    elif len(w) > 2 and w[1] == "domain":
        # "match identity remote fqdn domain example.com": any name in that domain.
        prof.remote_ids.append(f"*{w[2]}")
    elif len(w) > 1:
        prof.remote_ids.append(w[-1])


def _auth_word(word: str) -> str:
    return {"pre-share": "psk", "rsa-sig": "pubkey", "ecdsa-sig": "pubkey"}.get(word, word)


def _transform_set(st: _State, b: Block) -> None:
    name = b.words[3] if len(b.words) > 3 else "?"
    words = b.words[4:]
    encr: list[Encr] = []
    integ: list[int] = []
    i = 0
    while i < len(words):
        w = words[i]
        if st.weak and w in ios_defaults.WEAK_ESP:
            _weak(st, b.line, [w], f"crypto ipsec transform-set {name}")
            if i + 1 < len(words) and words[i + 1].isdigit():
                i += 1  # "esp-gmac 256"
        elif w in ESP_ENCR:
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
    for _number, _indent, line in b.body:
        if line[0] == "mode" and len(line) > 1:
            mode = line[1]
    text = f"crypto ipsec transform-set {name} {' '.join(words)}"
    st.transform_sets[name] = (
        ConfProposal("esp", text, b.line, tuple(encr), tuple(integ), esn=(0,)),
        mode,
    )


def _child(st: _State, b: Block, name: str) -> None:
    child = _Child(name, b.line)
    for _number, _indent, w in b.body:
        if w[:2] == ["set", "transform-set"]:
            child.sets += w[2:]
        elif w[:2] == ["set", "pfs"]:
            # Without a group IOS uses group 1 ("The default (group1) is sent if the set pfs
            # statement does not specify a group", Cisco's knowledge base on set pfs).
            group = w[2] if len(w) > 2 else "group1"
            child.pfs = int(group[5:]) if _ios_group(group[5:]) else None
            if child.pfs is None:
                st.notes.append(ConfigNote("config-unknown-algorithm", _number,
                    f"{st.path}:{_number}: set pfs {group} in {name} is not a DH group IOS "
                    f"has; left out"))  # fmt: skip
            if st.weak and child.pfs in ios_defaults.WEAK_PFS:
                # Kept: the router holds the line; FN72510 says negotiation then fails.
                _weak(st, _number, w, name)
        elif w[:2] == ["set", "ikev2-profile"] and len(w) > 2:
            child.profile = w[2]
        elif w[:2] == ["set", "peer"] and len(w) > 2:
            # Several "set peer" lines: a list of peers tried in order.
            child.peers.append(w[2])
        elif w[:2] == ["match", "address"] and len(w) > 2:
            child.acl = w[2]
        elif w[0] in ("set", "description", "reverse-route", "qos"):
            continue  # lifetimes, isakmp-profile, reverse-route...: understood, not compared
        else:
            st.skipped += 1
    st.children.append(child)


def _acl(st: _State, name: str, entries: list[list[str]], v6: bool = False) -> None:
    local, remote = st.acls.setdefault(name, ([], []))
    for w in entries:
        pair = acl_entry(w, st.groups, v6)
        if pair is None:
            continue  # deny / remark: not traffic to protect
        local.extend(n for n in pair[0] if n not in local)
        remote.extend(n for n in pair[1] if n not in remote)


def _interface(st: _State, b: Block) -> None:
    iface = _Interface(b.words[1] if len(b.words) > 1 else "?", line=b.line)
    for _number, _indent, w in b.body:
        if w[:2] == ["ip", "address"] and len(w) > 2 and w[2][0].isdigit():
            iface.addrs.append(w[2])
        elif w[:2] == ["ipv6", "address"] and len(w) > 2 and ":" in w[2]:
            iface.addrs.append(w[2].split("/", 1)[0].lower())
        elif w[:2] == ["vrf", "forwarding"] and len(w) > 2:
            iface.vrf = w[2]
        elif w[:3] == ["ip", "vrf", "forwarding"] and len(w) > 3:
            iface.vrf = w[3]
        elif w[:2] == ["tunnel", "vrf"] and len(w) > 2:
            iface.tunnel_vrf = w[2]
        elif w[:2] == ["tunnel", "source"] and len(w) > 2:
            iface.tunnel_source = w[2]
        elif w[:2] == ["tunnel", "destination"] and len(w) > 2:
            iface.tunnel_dest = w[2]
        elif w[:4] == ["tunnel", "protection", "ipsec", "profile"] and len(w) > 4:
            iface.protection = w[4]
    st.interfaces.append(iface)


def _dispatch(st: _State, b: Block) -> None:
    w = b.words
    head = " ".join(w[:3])
    if w[0] == "hostname" and len(w) > 1:
        st.hostname = w[1]
    elif w[0] == "interface":
        _interface(st, b)
    elif w[:4] in (["no", "crypto", "ikev2", "policy"], ["no", "crypto", "ikev2", "proposal"]):
        if w[4:5] == ["default"]:
            st.disabled.add(w[3])
    elif w == ["no", "crypto", "ipsec", "profile", "default"]:
        st.disabled.add("ipsec-profile")
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
    elif w[:2] == ["crypto", "dynamic-map"] and len(w) > 3:
        _child(st, b, f"crypto dynamic-map {w[2]} {w[3]}")
    elif w[:2] == ["crypto", "map"] and len(w) > 3 and "dynamic" not in w:
        _child(st, b, f"crypto map {w[2]} {w[3]}")
    elif w[:2] == ["crypto", "map"] and "dynamic" in w:
        pass  # "crypto map M N ipsec-isakmp dynamic D": its entries are read from D
    elif w[:3] == ["ip", "access-list", "extended"] and len(w) > 3:
        _acl(st, w[3], [entry for _n, _i, entry in b.body])
    elif w[:2] == ["ipv6", "access-list"] and len(w) > 2:
        _acl(st, w[2], [entry for _n, _i, entry in b.body], v6=True)
    elif w[0] == "access-list" and len(w) > 2:
        _acl(st, w[1], [w[2:]])
    else:
        st.skipped += 1 + len(b.body)


def _default_proposal(st: _State, defaults: ios_defaults.SmartDefaults) -> ConfProposal | None:
    """The ``default`` proposal: the Smart Default, with the lines a configured ``crypto ikev2
    proposal default`` sets replacing its own; None when ``no crypto ikev2 proposal default``."""
    if "proposal" in st.disabled:
        return None
    smart = defaults.proposal
    mine = st.proposals.get("default")
    if mine is None:
        return smart
    t = st.default_types
    return ConfProposal(
        "ike", f"{mine.text}, over the Smart Default", mine.line,
        mine.encr if "encryption" in t else smart.encr,
        mine.integ if "integrity" in t else smart.integ,
        mine.prf if "prf" in t or "integrity" in t else smart.prf,
        mine.ke if "group" in t else smart.ke,
    )  # fmt: skip


def _policies(
    st: _State, defaults: ios_defaults.SmartDefaults
) -> tuple[tuple[IkePolicy, ...], IkePolicy | None]:
    """The configured policies with their proposals, and the Smart Default policy."""
    default_prop = _default_proposal(st, defaults)
    out: list[IkePolicy] = []
    used: set[str] = {"default"}
    for pol, refs in zip(st.policies, st.policy_refs, strict=True):
        resolved = []
        for name, number in refs:
            prop = default_prop if name == "default" else st.proposals.get(name)
            if prop is not None:
                resolved.append(prop)
                used.add(name)
            else:
                st.notes.append(ConfigNote(
                    "config-proposal-missing", number,
                    f"policy {pol.name} names proposal {name}, which is not configured",
                ))  # fmt: skip
        local = tuple(_interface_address(st, a) for a in pol.match_local)
        out.append(IkePolicy(pol.name, pol.line, local, pol.match_fvrf, tuple(resolved)))
    for name, prop in st.proposals.items():
        if name not in used:
            st.notes.append(ConfigNote(
                "config-proposal-unused", prop.line,
                f"crypto ikev2 proposal {name} (line {prop.line}) is referenced by no "
                f"crypto ikev2 policy, so IOS never offers or accepts it",
            ))  # fmt: skip
    smart: IkePolicy | None = None
    if "policy" not in st.disabled and not any(p.name == "default" for p in out):
        props = (default_prop,) if default_prop is not None else ()
        smart = IkePolicy(ios_defaults.DEFAULT_POLICY_NAME, 0, (), "any", props)
    if not out and smart is not None:
        out.append(smart)
    return tuple(out), smart


def _interface_address(st: _State, spec: str) -> str:
    """An address, or the first address of the interface a ``match ... interface`` names."""
    for iface in st.interfaces:
        if same_interface(spec, iface.name) and iface.addrs:
            return iface.addrs[0]
    return spec


def _with_pfs(prop: ConfProposal, pfs: int | None) -> ConfProposal:
    if pfs is None:
        return prop
    return ConfProposal(prop.protocol, f"{prop.text}; set pfs group{pfs}", prop.line,
                        prop.encr, prop.integ, prop.prf, (pfs,), prop.esn)  # fmt: skip


def _child_conf(st: _State, c: _Child, defaults: ios_defaults.SmartDefaults) -> ChildConf:
    props: list[ConfProposal] = []
    mode = "tunnel"
    for name in c.sets:
        if name in st.transform_sets:
            prop, mode = st.transform_sets[name]
            props.append(_with_pfs(prop, c.pfs))
    if not props:
        props = [_with_pfs(p, c.pfs) for p in defaults.transform_sets]
        mode = defaults.transform_mode
    local, remote = st.acls.get(c.acl or "", ([], []))
    return ChildConf(
        name=c.name,
        line=c.line,
        proposals=tuple(props),
        local_ts=tuple(local),
        remote_ts=tuple(remote),
        mode=mode,
        pfs=None if c.pfs is None else (c.pfs,),
        profile=c.profile,
    )


def _default_ipsec_profile(st: _State) -> None:
    """``tunnel protection ipsec profile default`` with no such profile configured: the Smart
    Default IPsec profile (default transform set, no PFS, IKEv2 profile ``default``)."""
    name = "crypto ipsec profile default"
    users = [i for i in st.interfaces if i.protection == "default"]
    if users and "ipsec-profile" not in st.disabled and all(c.name != name for c in st.children):
        st.children.append(_Child(name, users[0].line, profile="default"))


def _addresses(st: _State) -> tuple[list[str], list[tuple[str, str]], dict[str, str]]:
    """The device's addresses, (address, front-door VRF) pairs, and tunnel profile -> peer."""
    addrs: list[str] = []
    fvrfs: dict[str, str] = {}
    peers: dict[str, str] = {}
    for iface in st.interfaces:
        addrs.extend(a for a in iface.addrs if a not in addrs)
        if iface.vrf and not iface.name.lower().startswith("tunnel"):
            fvrfs.update((a, iface.vrf) for a in iface.addrs)
    for iface in st.interfaces:
        src = iface.tunnel_source
        named = [i for i in st.interfaces if src and same_interface(src, i.name)]
        source_addrs = named[0].addrs if named else ([src] if src else [])
        if iface.tunnel_vrf:
            # "tunnel vrf X": the tunnel's endpoints (and so its IKE SAs) live in VRF X.
            fvrfs.update((a, iface.tunnel_vrf) for a in source_addrs)
        if iface.protection and iface.tunnel_dest:
            peers.setdefault(f"crypto ipsec profile {iface.protection}", iface.tunnel_dest)
    return addrs, sorted(fvrfs.items()), peers


def read_ios(text: str, path: str, release: str | None = None) -> DeviceConfig:
    """Read a running-config. ``release`` picks the Smart Defaults (ios_defaults.RELEASES)."""
    try:
        defaults = ios_defaults.smart_defaults(release)
    except KeyError:
        known = ", ".join(ios_defaults.RELEASES)
        raise ConfigError(f"unknown --ios-release {release!r}; choose one of {known}") from None
    st = _State(path, weak=defaults.refuses_weak)
    found, st.skipped = blocks(text)
    for block in found:
        # Object groups first: ACLs name them, and a pasted fragment may list them later.
        if block.words[:2] == ["object-group", "network"] and len(block.words) > 2:
            st.groups[block.words[2]] = object_group_members(block.body)
    for block in found:
        if block.words[0] == "object-group":
            continue
        _dispatch(st, block)
    policies, smart = _policies(st, defaults)
    _default_ipsec_profile(st)
    children = [_child_conf(st, c, defaults) for c in st.children]
    addrs, fvrfs, peers = _addresses(st)
    for c in st.children:
        if c.peers:
            peers.setdefault(c.name, ",".join(c.peers))
    for prof in st.profiles:
        prof.local_addrs = [_interface_address(st, a) for a in prof.local_addrs]
    connections = [_connection(p, children, peers) for p in st.profiles]
    return DeviceConfig(
        path=path,
        kind="ios",
        hostname=st.hostname,
        local_addrs=tuple(addrs),
        connections=tuple(connections),
        policies=policies,
        psks=tuple(st.psks),
        notes=tuple(st.notes),
        skipped=st.skipped,
        release=defaults.release,
        fvrfs=tuple(fvrfs),
        default_policy=smart,
    )


def _connection(p: _Profile, children: list[ChildConf], peers: dict[str, str]) -> Connection:
    mine = tuple(c for c in children if c.profile in (None, p.name))
    # The peers its crypto maps / tunnels point at tell which side the device is.
    remote = list(p.remote_addrs)
    for c in mine:
        remote += [a for a in peers.get(c.name, "").split(",") if a and a not in remote]
    return Connection(
        name=f"crypto ikev2 profile {p.name}",
        line=p.line,
        local_addrs=tuple(p.local_addrs),
        remote_addrs=tuple(remote),
        local_id=p.local_id,
        remote_ids=tuple(p.remote_ids),
        local_auth=p.local_auth,
        remote_auth=p.remote_auth,
        children=mine,
        keyring=p.keyring,
        match_fvrf=p.fvrf,
        match_certificate=tuple(p.certificate_maps),
    )
