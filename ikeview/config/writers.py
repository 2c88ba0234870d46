"""Config snippets that reproduce what a capture negotiated: Cisco IOS or swanctl.conf, per side.

For the responder the IKE and ESP proposals are exactly what was chosen (so it picks the same
offer); for the initiator they are everything that was offered, in order. Identities, AUTH
methods and traffic selectors are the ones seen; a CREATE_CHILD_SA with KE adds the PFS group.
PSKs are placeholders unless ``show_secrets`` and a key that verified the AUTH is known; when
the two AUTHs used different keys the snippet is asymmetric (IOS ``pre-shared-key local`` /
``remote``; swanctl one secret per identity, the key for a side's AUTH bound to the *other*
side's identity, as charon looks it up). Each snippet parses back with ``ios.read_ios`` /
``swanctl.read_swanctl`` and matches the capture (tests/test_config_roundtrip.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from ikeview.config import ios_defaults
from ikeview.config.ios_words import (
    AUTH_WORDS,
    ENCR_WORDS,
    ESP_ENCR_WORDS,
    ESP_FIXED_WORDS,
    ESP_INTEG_WORDS,
    INTEG_WORDS,
    PRF_WORDS,
)
from ikeview.config.proposals import (
    ConfProposal,
    Protocol,
    offered_encr,
    offered_ids,
    offered_values,
    value_name,
)
from ikeview.config.strongswan_words import AUTH_WORDS as SWAN_AUTH_WORDS
from ikeview.config.strongswan_words import proposal_words
from ikeview.dissectors.ike_records import Proposal, TrafficSelector
from ikeview.keys.model import KeyRing
from ikeview.pipeline.model import Analysis, ChildSa, IkeSa

PLACEHOLDER = "REPLACE-WITH-PSK"
"""What stands for a key unless --show-secrets."""

_IOS_GROUP = {g: str(g) for g in ios_defaults.IOS_GROUPS}


def conf_of(p: Proposal, protocol: Protocol) -> ConfProposal:
    """A wire proposal as a configured one."""
    return ConfProposal(
        protocol,
        "",
        0,
        encr=offered_encr(p),
        integ=tuple(v for v in offered_ids(p, 3) if v),
        prf=offered_ids(p, 2),
        ke=offered_ids(p, 4),
        esn=offered_ids(p, 5),
    )


@dataclass(frozen=True, slots=True)
class SideView:
    """One IKE SA as seen from one side."""

    sa: IkeSa
    side: str
    me: str
    peer: str
    my_id: str | None
    peer_id: str | None
    my_method: int | None
    peer_method: int | None
    my_key: bytes | None
    peer_key: bytes | None
    ike: tuple[Proposal, ...]
    child: ChildSa | None
    pfs: int | None


def _key(keyring: KeyRing | None, label: str | None) -> bytes | None:
    if keyring is None or label is None:
        return None
    for p in keyring.psks:
        if f"{p.label} ({p.source})" == label:
            return p.secret
    return None


def side_view(
    sa: IkeSa, side: str, keyring: KeyRing | None, later: tuple[ChildSa, ...] = ()
) -> SideView:
    """What one side needs to be configured with for this SA; ``later`` are the child SAs of
    the IKE SAs that replaced it (rekeyed children move there, RFC 7296 1.3.2, and a PFS
    group shows only in their CREATE_CHILD_SA)."""
    auth = {str(a.side): a for a in sa.auth}
    other = "responder" if side == "initiator" else "initiator"
    mine, theirs = auth.get(side), auth.get(other)
    me = (sa.initiator if side == "initiator" else sa.responder) or "0.0.0.0"
    peer = (sa.responder if side == "initiator" else sa.initiator) or "0.0.0.0"
    ike = sa.offered if side == "initiator" or sa.chosen is None else (sa.chosen,)
    # A refused child (ChildSa.error) was not negotiated: nothing of it to reproduce.
    made = [c for c in sa.child_sas if getattr(c, "error", None) is None and c.proposal]
    first = made[0] if made else None
    pfs = cast("int | None", next((v for c in (*sa.child_sas, *later) if c.proposal
                                   for v in offered_values(c.proposal, 4) if v), None))  # fmt: skip
    return SideView(
        sa, side, me, peer,
        mine.identity if mine else None, theirs.identity if theirs else None,
        mine.method if mine else None, theirs.method if theirs else None,
        _key(keyring, mine.psk if mine else None), _key(keyring, theirs.psk if theirs else None),
        ike, first, pfs,
    )  # fmt: skip


def _esp(view: SideView) -> tuple[Proposal, ...]:
    child = view.child
    if child is None:
        return ()
    if view.side == "initiator" or child.proposal is None:
        return child.offered
    return (child.proposal,)


def _ts_cidr(ts: TrafficSelector) -> str:
    if ts.start_address is None or ts.end_address is None:
        return "0.0.0.0/0"
    try:
        nets = list(
            ipaddress.summarize_address_range(
                ipaddress.ip_address(ts.start_address), ipaddress.ip_address(ts.end_address)
            )
        )
    except (TypeError, ValueError):
        return f"{ts.start_address}-{ts.end_address}"
    return str(nets[0]) if len(nets) == 1 else f"{ts.start_address}-{ts.end_address}"


def _ts(view: SideView) -> tuple[list[str], list[str]]:
    child = view.child
    if child is None:
        return [], []
    mine, theirs = (
        (child.ts_i, child.ts_r) if child.initiator == view.me else (child.ts_r, child.ts_i)
    )
    return [_ts_cidr(t) for t in mine], [_ts_cidr(t) for t in theirs]


def _secret(key: bytes | None, show: bool) -> str:
    if not show or key is None:
        return PLACEHOLDER
    text = key.decode("utf-8", errors="replace")
    return text if text.isprintable() and " " not in text else "0x" + key.hex()


# ------------------------------------------------------------------------------------ swanctl


def _swan_words(props: tuple[Proposal, ...], protocol: Protocol, pfs: int | None = None) -> str:
    out = []
    for p in props:
        conf = conf_of(p, protocol)
        if protocol == "esp" and pfs and not conf.ke:
            conf = ConfProposal("esp", "", 0, conf.encr, conf.integ, (), (pfs,), conf.esn)
        out.append(proposal_words(conf))
    return ", ".join(out)


def _unseen(view: SideView, mark: str) -> list[str]:
    """A comment when the identities / AUTH methods were not read (no keys): the snippet then
    assumes PSK, which the capture does not show."""
    if view.my_method is not None or view.peer_method is not None:
        return []
    return [f"{mark} NOTE: identities and AUTH methods are encrypted here (give --keys);",
            f"{mark} pre-shared keys and no identities are assumed below"]  # fmt: skip


def swanctl_snippet(view: SideView, name: str, show_secrets: bool) -> list[str]:
    """One connection (and its secrets) for one side."""
    auth_me = SWAN_AUTH_WORDS.get(view.my_method or 2, "pubkey")
    auth_peer = SWAN_AUTH_WORDS.get(view.peer_method or 2, "pubkey")
    lines = [*_unseen(view, "#"), "connections {", f"  {name} {{", "    version = 2",
             f"    local_addrs = {view.me}", f"    remote_addrs = {view.peer}",
             f"    proposals = {_swan_words(view.ike, 'ike')}",
             "    local {", f"      auth = {auth_me}"]  # fmt: skip
    if view.my_id:
        lines.append(f"      id = {view.my_id}")
    lines += ["    }", "    remote {", f"      auth = {auth_peer}"]
    if view.peer_id:
        lines.append(f"      id = {view.peer_id}")
    lines.append("    }")
    esp = _esp(view)
    if view.child is not None and esp:
        local, remote = _ts(view)
        lines += ["    children {", "      net {",
                  f"        local_ts = {', '.join(local) or 'dynamic'}",
                  f"        remote_ts = {', '.join(remote) or 'dynamic'}",
                  f"        esp_proposals = {_swan_words(esp, 'esp', view.pfs)}",
                  f"        mode = {view.child.mode}", "      }", "    }"]  # fmt: skip
    lines += ["  }", "}"]
    return lines + _swan_secrets(view, name, show_secrets)


def _swan_secrets(view: SideView, name: str, show: bool) -> list[str]:
    if 2 not in (view.my_method, view.peer_method):
        return []
    if view.my_key is not None and view.peer_key is not None and view.my_key != view.peer_key:
        # charon builds its own AUTH with the secret bound to the peer's identity.
        return ["secrets {",
                f"  ike-{name}-peer {{", f"    id = {view.peer_id}",
                f"    secret = \"{_secret(view.my_key, show)}\"", "  }",
                f"  ike-{name}-self {{", f"    id = {view.my_id}",
                f"    secret = \"{_secret(view.peer_key, show)}\"", "  }", "}"]  # fmt: skip
    ids = [f"    id-{i} = {v}" for i, v in enumerate((view.my_id, view.peer_id), 1) if v]
    key = view.my_key if view.my_key is not None else view.peer_key
    return ["secrets {", f"  ike-{name} {{", *ids,
            f"    secret = \"{_secret(key, show)}\"", "  }", "}"]  # fmt: skip


# ---------------------------------------------------------------------------------------- IOS


def _ios_words(
    table: Mapping[Any, str], values: tuple[Any, ...], lost: list[str], name: Callable[[Any], str]
) -> list[str]:
    out: list[str] = []
    for v in values:
        if v in table:
            out.append(table[v])
        else:
            lost.append(name(v))
    return out


def _ios_proposal(p: Proposal, lost: list[str]) -> list[str]:
    c = conf_of(p, "ike")
    ciphers = _ios_words(ENCR_WORDS, c.encr, lost, lambda v: value_name(1, v))
    lines = [" encryption " + " ".join(ciphers)] if ciphers else []
    if c.integ:
        lines.append(
            " integrity "
            + " ".join(_ios_words(INTEG_WORDS, c.integ, lost, lambda v: value_name(3, v)))
        )
    prf = _ios_words(PRF_WORDS, c.prf, lost, lambda v: value_name(2, v))
    if prf:
        # No `prf` line rather than an empty one: IOS then takes the PRF from the integrity
        # algorithm (an AEAD proposal without one is refused by IOS, as it should be here).
        lines.append(" prf " + " ".join(prf))
    groups = _ios_words(_IOS_GROUP, c.ke, lost, lambda v: f"group {v} ({value_name(4, v)})")
    if groups:
        lines.append(" group " + " ".join(groups))
    return lines


def _ios_transform(p: Proposal, lost: list[str]) -> str:
    c = conf_of(p, "esp")
    words = []
    for e in c.encr:
        if e in ESP_FIXED_WORDS:
            words.append(ESP_FIXED_WORDS[e])
        elif e[0] in ESP_ENCR_WORDS:
            words.append(f"{ESP_ENCR_WORDS[e[0]]} {e[1] or 128}")
        else:
            lost.append(value_name(1, e))
    words += _ios_words(ESP_INTEG_WORDS, c.integ, lost, lambda v: value_name(3, v))
    if 1 in c.esn:
        lost.append("way to offer EXT_SEQ (ESN) in a transform set")
    return " ".join(words)


def ios_words(p: Proposal) -> tuple[str, list[str]]:
    """A wire proposal as one line of IOS configuration (``crypto ikev2 proposal P / ...`` or
    ``crypto ipsec transform-set T ...``), and the algorithms IOS has no keyword for."""
    lost: list[str] = []
    if p.protocol_id == 1:
        lines = [line.strip() for line in _ios_proposal(p, lost)]
        return "crypto ikev2 proposal P / " + " / ".join(lines), list(dict.fromkeys(lost))
    return "crypto ipsec transform-set T " + _ios_transform(p, lost), list(dict.fromkeys(lost))


def _ios_identity(ident: str | None) -> str:
    if ident is None:
        return "address 0.0.0.0"
    try:
        ipaddress.ip_address(ident)
        return f"address {ident}"
    except ValueError:
        return f"email {ident}" if "@" in ident else f"fqdn {ident}"


def _acl_host(cidr: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    if net.prefixlen == net.max_prefixlen:
        return f"host {net.network_address}"
    return f"{net.network_address} {net.hostmask}"


def _ios_keys(view: SideView, show: bool) -> list[str]:
    if view.my_key is not None and view.peer_key is not None and view.my_key != view.peer_key:
        return [f"  pre-shared-key local {_secret(view.my_key, show)}",
                f"  pre-shared-key remote {_secret(view.peer_key, show)}"]  # fmt: skip
    key = view.my_key if view.my_key is not None else view.peer_key
    return [f"  pre-shared-key {_secret(key, show)}"]


def _ios_child(view: SideView, up: str, lost: list[str]) -> list[str]:
    """Transform sets, ACL and crypto map; only for a child that was negotiated (without one,
    IOS would fall back to its default transform set, which may accept what was refused)."""
    lines: list[str] = []
    esp = _esp(view)
    sets = []
    mode = view.child.mode if view.child else "tunnel"
    for i, p in enumerate(esp, 1):
        words = _ios_transform(p, lost)
        if not words:
            # Nothing of this proposal has an IOS keyword (the NOTE says what): an empty
            # transform set is no configuration, so none is written or referenced.
            continue
        sets.append(f"{up}-TS{i}")
        lines += [f"crypto ipsec transform-set {up}-TS{i} {words}", f" mode {mode}", "!"]
    local, remote = _ts(view)
    if local and remote:
        lines += [f"ip access-list extended {up}-ACL",
                  *(f" permit ip {_acl_host(a)} {_acl_host(b)}" for a in local for b in remote
                    if "-" not in a + b), "!"]  # fmt: skip
    lines += [f"crypto map {up}-MAP 10 ipsec-isakmp", f" set peer {view.peer}"]
    if sets:
        lines.append(" set transform-set " + " ".join(sets))
    if view.pfs in ios_defaults.IOS_GROUPS:
        lines.append(f" set pfs group{view.pfs}")
    elif view.pfs:
        lost.append(f"PFS group {view.pfs} ({value_name(4, view.pfs)})")
    lines += [f" set ikev2-profile {up}-PROF", f" match address {up}-ACL", "!"]
    return lines


def ios_snippet(view: SideView, name: str, show_secrets: bool) -> list[str]:
    """The IOS blocks for one side."""
    up = name.upper()
    lines = [*_unseen(view, "!"), "!", "interface GigabitEthernet1",
             f" ip address {view.me} 255.255.255.0",
             *([f" crypto map {up}-MAP"] if view.child is not None else []), "!"]  # fmt: skip
    names = []
    lost: list[str] = []
    for i, p in enumerate(view.ike, 1):
        names.append(f"{up}-PROP{i}")
        lines += [f"crypto ikev2 proposal {up}-PROP{i}", *_ios_proposal(p, lost), "!"]
    lines += [f"crypto ikev2 policy {up}-POL", f" match address local {view.me}",
              *(f" proposal {n}" for n in names), "!"]  # fmt: skip
    psk = 2 in (view.my_method, view.peer_method)
    if psk:
        lines += [f"crypto ikev2 keyring {up}-KR", " peer PEER", f"  address {view.peer}",
                  f"  identity {_ios_identity(view.peer_id)}", *_ios_keys(view, show_secrets),
                  "!"]  # fmt: skip
    lines += [f"crypto ikev2 profile {up}-PROF",
              f" match identity remote {_ios_identity(view.peer_id)}",
              f" identity local {_ios_identity(view.my_id)}",
              f" authentication remote {AUTH_WORDS.get(view.peer_method or 2, 'pre-share')}",
              f" authentication local {AUTH_WORDS.get(view.my_method or 2, 'pre-share')}",
              ]  # fmt: skip
    if psk:
        lines.append(f" keyring local {up}-KR")
    lines.append("!")
    if view.child is not None:
        lines += _ios_child(view, up, lost)
    if lost:
        # Said, not silently dropped: the snippet cannot reproduce this negotiation on IOS.
        lines.insert(0, f"! NOTE: IOS has no {', '.join(dict.fromkeys(lost))}: left out above")
    weak = _weak_words(lines)
    if weak:
        lines.insert(0, f"! NOTE: IOS XE 17.11.1 and later refuse {', '.join(weak)} unless weak "
                        "algorithms are allowed again (Cisco Field Notice FN72510)")  # fmt: skip
    return lines


def _weak_words(lines: list[str]) -> list[str]:
    """The FN72510 keywords a written IOS snippet uses (``3des``, ``group 2``, ``esp-md5-hmac``)."""
    found: list[str] = []
    for line in lines:
        words = line.split()
        if words[:1] in (["encryption"], ["integrity"], ["group"]):
            weak = ios_defaults.WEAK_IKE.get(words[0], frozenset())
            found += [f"{words[0]} {w}" for w in words[1:] if w in weak]
        elif words[:3] == ["crypto", "ipsec", "transform-set"]:
            found += [w for w in words[4:] if w in ios_defaults.WEAK_ESP]
        elif words[:2] == ["set", "pfs"] and words[2:3] and words[2][5:].isdigit():
            found += [f"set pfs {words[2]}"] if int(words[2][5:]) in ios_defaults.WEAK_PFS else []
    return list(dict.fromkeys(found))


def _successor_children(analysis: Analysis, sa: IkeSa) -> tuple[ChildSa, ...]:
    """Child SAs of the IKE SAs that rekeyed ``sa``, in order (bounded by the SAs seen)."""
    out: list[ChildSa] = []
    nxt, seen = sa.rekeyed_into, {sa.spis}
    while nxt is not None and nxt not in seen:
        seen.add(nxt)
        succ = analysis.ike_sa(*nxt)
        if succ is None:
            break
        out += succ.child_sas
        nxt = succ.rekeyed_into
    return tuple(out)


def write_configs(
    analysis: Analysis, *, kind: str, sides: tuple[str, ...], keyring: KeyRing | None = None,
    show_secrets: bool = False,
) -> dict[str, str]:  # fmt: skip
    """``{"initiator": text, "responder": text}`` for the sides asked, one block per IKE SA
    made by IKE_SA_INIT (rekeyed SAs repeat their parent's settings)."""
    out: dict[str, str] = {}
    for side in sides:
        lines: list[str] = []
        for n, sa in enumerate((s for s in analysis.ike_sas if s.created_by != 36), 1):
            mark = "!" if kind == "ios" else "#"
            if sa.chosen is None:
                lines += [
                    f"{mark} IKE SA {sa.label}: no proposal was agreed, nothing to reproduce",
                    "",
                ]
                continue
            view = side_view(sa, side, keyring, _successor_children(analysis, sa))
            name = f"ikeview{n}"
            head = f"{mark} IKE SA {sa.label}: the {side} ({view.me})"
            body = (
                ios_snippet(view, name, show_secrets)
                if kind == "ios"
                else swanctl_snippet(view, name, show_secrets)
            )
            lines += [head, *body, ""]
        out[side] = "\n".join(lines)
    return out
