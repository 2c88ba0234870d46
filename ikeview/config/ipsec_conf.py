"""Legacy ``ipsec.conf`` (strongSwan's starter, Libreswan's pluto) and ``ipsec.secrets``.

The file: ``config setup``, ``conn NAME`` and ``ca NAME`` sections start at column 0, their
settings are indented ``key=value`` lines (quotes kept out, ``#`` comments); ``include
PATTERN`` at column 0 reads the globbed files in place (through the loader's resolver; counted
as skipped without one). Per conn, as both starters do (strongSwan ``src/starter/confread.c``,
Libreswan ``lib/libipsecconf/confread.c``): its own settings, then those of each ``also=``
conn (recursively, first set wins), then ``conn %default``.

Read per conn: ``left``/``right`` (``left`` is taken as this host, the usual convention),
``leftid``/``rightid`` (``@`` dropped), ``leftsubnet``/``rightsubnet``, ``authby``
(``secret``/``psk``, ``rsasig``/``ecdsa``/``pubkey``..., ``null``), ``leftauth``/``rightauth``,
the IKE version (strongSwan ``keyexchange=ikev1|ikev2|ike``; Libreswan
``ikev2=insist|yes|permit|propose|no|never`` and 5.x ``keyexchange``), ``type``, ``auto`` and
the proposals: strongSwan ``ike=``/``esp=``/``ah=`` with its keywords, where a list not ending
in ``!`` gets the defaults appended (``stroke_config.c`` ``add_proposals``); Libreswan
``ike=``/``esp=``/``phase2alg=`` with its own grammar and defaults (``libreswan_words.py``).
The dialect is told from the file (Libreswan-only keywords); a proposal the dialect cannot
read is tried in the other and, failing both, named in ``notes`` with the defaults standing in.

``ipsec.secrets``: ``[SELECTOR ...] : PSK "secret"`` (selectors are identities or addresses;
none or ``%any`` = any), other key types skipped, ``include`` followed like ipsec.conf's.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Literal

from ikeview.config.libreswan_words import parse_libreswan, reswan_defaults
from ikeview.config.proposals import ConfProposal, Protocol
from ikeview.config.records import ChildConf, ConfigNote, ConfigPsk, Connection, DeviceConfig
from ikeview.config.strongswan_words import default_proposals, parse_list
from ikeview.config.swanctl import secret_bytes
from ikeview.config.swanctl_syntax import Resolver

Dialect = Literal["strongswan", "libreswan"]

MAX_ALSO_DEPTH = 32
"""``also=`` chains deeper than this are cut (a loop)."""
MAX_INCLUDE_DEPTH = 10

_AUTHBY = {"secret": "psk", "psk": "psk", "xauthpsk": "psk", "rsasig": "pubkey",
           "rsa": "pubkey", "pubkey": "pubkey", "ecdsa": "pubkey", "ecdsasig": "pubkey",
           "xauthrsasig": "pubkey", "null": "null", "never": "never"}  # fmt: skip
# Keywords only Libreswan's ipsec.conf knows (strongSwan's starter lists them as removed).
_LIBRESWAN_ONLY = frozenset({"ikev2", "phase2alg", "phase2", "pfs", "encapsulation",
                             "narrowing", "ike-frag", "fragmentation-policy", "protostack",
                             "leftmodecfgclient", "rightmodecfgclient", "sendca",
                             "nat-ikev1-method", "ipsec-interface", "salifetime"})  # fmt: skip
_LIBRESWAN_V1 = ("no", "never")
_LIBRESWAN_V2 = ("insist", "yes")


@dataclass(slots=True)
class _Section:
    kind: str
    name: str
    line: int
    file: str
    values: dict[str, tuple[str, int]] = field(default_factory=dict)
    also: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Reader:
    resolver: Resolver | None
    sections: list[_Section] = field(default_factory=list)
    skipped: int = 0
    notes: list[ConfigNote] = field(default_factory=list)

    def read(self, text: str, path: str, depth: int = 0) -> None:
        current: _Section | None = None
        for number, raw in enumerate(text.splitlines(), 1):
            line = _strip_comment(raw).rstrip()
            if not line.strip():
                continue
            if not line[0].isspace():
                words = line.split()
                current = None
                if words[0] == "include" and len(words) == 2:
                    self.include(words[1], path, number, depth)
                elif words[0] in ("conn", "ca", "config") and len(words) == 2:
                    current = _Section(words[0], words[1], number, path)
                    self.sections.append(current)
                elif words[0] != "version":
                    self.skipped += 1
                continue
            m = re.match(r"\s+([A-Za-z0-9_\-]+)\s*=\s*(.*)$", line)
            if m is None or current is None:
                self.skipped += 1
                continue
            key, value = m.group(1).lower(), _unquote(m.group(2).strip())
            if key == "also":
                current.also.extend(value.split())
            else:
                current.values[key] = (value, number)

    def include(self, pattern: str, path: str, number: int, depth: int) -> None:
        if self.resolver is None or depth >= MAX_INCLUDE_DEPTH:
            self.skipped += 1
            self.notes.append(
                ConfigNote(
                    "config-include", number, f"{path}:{number}: include {pattern} not followed"
                )
            )
            return
        for sub_path, sub in self.resolver(pattern.strip('"'), path):
            self.notes.append(ConfigNote("config-include", number, f"included {sub_path}"))
            self.read(sub, sub_path, depth + 1)


def _strip_comment(line: str) -> str:
    out, quoted = [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == "#" and not quoted:
            break
        out.append(ch)
    return "".join(out)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _expanded(
    conn: _Section, conns: dict[str, _Section], default: _Section | None
) -> dict[str, tuple[str, int]]:
    """The conn's settings: its own, then its ``also=`` conns' (first set wins), then
    ``%default``'s."""
    out = dict(conn.values)
    seen = {conn.name}
    queue = [(a, 1) for a in conn.also]
    while queue:
        name, depth = queue.pop(0)
        other = conns.get(name)
        if other is None or name in seen or depth > MAX_ALSO_DEPTH:
            continue
        seen.add(name)
        for k, v in other.values.items():
            out.setdefault(k, v)
        queue[0:0] = [(a, depth + 1) for a in other.also]
    if default is not None:
        for k, v in default.values.items():
            out.setdefault(k, v)
    return out


def _dialect(sections: list[_Section]) -> Dialect:
    keys = {k for s in sections for k in s.values}
    return "libreswan" if keys & _LIBRESWAN_ONLY else "strongswan"


def _ident(value: str | None) -> str | None:
    if not value or value in ("%any", "%fromcert"):
        return None
    return value[1:] if value.startswith("@") and not value.startswith("@#") else value


def _version(get: dict[str, str], dialect: Dialect) -> int:
    kx = get.get("keyexchange", "").lower()
    if kx in ("ikev1", "ikev2"):
        return int(kx[-1])
    ikev2 = get.get("ikev2", "").lower()
    if ikev2 in _LIBRESWAN_V1:
        return 1
    if ikev2 in _LIBRESWAN_V2:
        return 2
    # strongSwan 5.x: 'ike' (the default) initiates IKEv2 and accepts either; Libreswan 4/5
    # default to IKEv2 only.
    return 2 if dialect == "libreswan" and not ikev2 else 0


@dataclass(slots=True)
class _Proposals:
    path: str
    dialect: Dialect
    notes: list[ConfigNote]

    def read(self, values: dict[str, tuple[str, int]], keys: tuple[str, ...],
             protocol: Protocol) -> tuple[ConfProposal, ...] | None:  # fmt: skip
        key = next((k for k in keys if k in values), None)
        if key is None:
            return None
        text, line = values[key]
        order: tuple[Dialect, Dialect] = (
            ("libreswan", "strongswan") if self.dialect == "libreswan"
            else ("strongswan", "libreswan"))  # fmt: skip
        errors = []
        for dialect in order:
            try:
                return _parse(text, protocol, line, dialect)
            except ValueError as exc:
                errors.append(f"{dialect}: {exc}")
        note = ConfigNote("config-unknown-algorithm", line,
                          f"{self.path}:{line}: {key}={text}: {'; '.join(errors)}; "
                          f"this line was not used, the defaults stand in")  # fmt: skip
        if note not in self.notes:  # once, however many conns take it through also=
            self.notes.append(note)
        return None


def _parse(text: str, protocol: Protocol, line: int, dialect: Dialect) -> tuple[ConfProposal, ...]:
    if dialect == "libreswan":
        return parse_libreswan(text, protocol, line)
    strict = text.rstrip().endswith("!")
    props = parse_list(text.rstrip().rstrip("!"), protocol, line)
    props = tuple(replace(p, text=t.strip()) for p, t in zip(props, text.rstrip("!").split(","),
                                                               strict=False))  # fmt: skip
    # stroke_config.c add_proposals: without '!' the default proposals follow.
    return props if strict else props + default_proposals(protocol, line)


def _defaults(protocol: Protocol, dialect: Dialect) -> tuple[ConfProposal, ...]:
    if dialect == "libreswan":
        return reswan_defaults(protocol)
    # stroke_config.c: an unset ike=/esp=/ah= is proposal_create_default then _aead.
    return default_proposals(protocol)


def _reswan_esn(get: dict[str, str]) -> tuple[int, ...]:
    """Libreswan ``esn=yes|no|either`` (default either); ``replay-window=0`` turns ESN off."""
    if get.get("replay-window", "").strip() == "0":
        return (0,)
    return {"yes": (1,), "no": (0,)}.get(get.get("esn", "either").lower(), (1, 0))


def _conn(name: str, sec: _Section, v: dict[str, tuple[str, int]], props: _Proposals) -> Connection:
    get = {k: val for k, (val, _n) in v.items()}
    authby = get.get("authby", "pubkey").lower()
    auth = _AUTHBY.get(authby, authby)
    child_proto: Protocol = (
        "ah" if (get.get("phase2", "").lower() == "ah" or "ah" in get) else "esp"
    )
    esp_keys = ("ah",) if child_proto == "ah" and "ah" in get else ("esp", "phase2alg")
    esp = props.read(v, esp_keys, child_proto) or _defaults(child_proto, props.dialect)
    if props.dialect == "libreswan":
        esp = tuple(replace(p, esn=_reswan_esn(get)) for p in esp)
    ike = props.read(v, ("ike",), "ike") or _defaults("ike", props.dialect)
    child = ChildConf(
        name=name,
        line=sec.line,
        proposals=esp,
        local_ts=tuple(s.strip() for s in get.get("leftsubnet", "").split(",") if s.strip()),
        remote_ts=tuple(s.strip() for s in get.get("rightsubnet", "").split(",") if s.strip()),
        mode=get.get("type", "tunnel").lower(),
        pfs=tuple(k for p in esp for k in p.ke if k) or None,
        protocol=child_proto,
        options=tuple(
            (k, get[k]) for k in ("auto", "pfs", "rekey", "keylife", "lifetime") if k in get
        ),
    )
    opts = ("auto", "mobike", "aggressive", "dpddelay", "ikelifetime", "forceencaps",
            "encapsulation", "fragmentation", "reauth", "rekey")  # fmt: skip
    return Connection(
        name=f"conn {name}",
        line=sec.line,
        local_addrs=tuple(a for a in [get.get("left")] if a and not a.startswith("%")),
        remote_addrs=tuple(a for a in [get.get("right")] if a and not a.startswith("%")),
        local_id=_ident(get.get("leftid")),
        remote_ids=tuple(i for i in [_ident(get.get("rightid"))] if i),
        local_auth=get.get("leftauth", auth),
        remote_auth=get.get("rightauth", auth),
        proposals=ike,
        children=(child,),
        version=_version(get, props.dialect),
        options=tuple((k, get[k]) for k in opts if k in get),
        file=sec.file if sec.file != props.path else None,
    )


def read_ipsec_conf(text: str, path: str, *, resolver: Resolver | None = None) -> DeviceConfig:
    """Read ipsec.conf text (secrets come from ``add_secrets``). Never raises for content: a
    proposal neither dialect reads is a note."""
    reader = _Reader(resolver)
    reader.read(text, path)
    conns = {s.name: s for s in reader.sections if s.kind == "conn"}
    default = conns.get("%default")
    props = _Proposals(path, _dialect(reader.sections), reader.notes)
    out = []
    for name, sec in conns.items():
        if name == "%default":
            continue
        out.append(_conn(name, sec, _expanded(sec, conns, default), props))
    reader.skipped += sum(1 for s in reader.sections if s.kind != "conn")
    local = tuple(dict.fromkeys(a for c in out for a in c.local_addrs))
    return DeviceConfig(path=path, kind="ipsec.conf", local_addrs=local,
                        connections=tuple(out), notes=tuple(reader.notes),
                        skipped=reader.skipped, dialect=props.dialect)  # fmt: skip


def add_secrets(cfg: DeviceConfig, text: str, path: str, *, resolver: Resolver | None = None,
                depth: int = 0) -> DeviceConfig:  # fmt: skip
    """The config with the PSKs of an ipsec.secrets file (``include`` followed through
    ``resolver``). Selectors: identities (``@`` dropped) or addresses; ``%any`` and none mean
    any peer."""
    psks = list(cfg.psks)
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).strip()
        if line.startswith("include ") and resolver is not None and depth < MAX_INCLUDE_DEPTH:
            for sub_path, sub in resolver(line.split(None, 1)[1].strip(), path):
                cfg = replace(cfg, psks=tuple(psks))
                cfg = add_secrets(cfg, sub, sub_path, resolver=resolver, depth=depth + 1)
                psks = list(cfg.psks)
            continue
        if ":" not in line:
            continue
        selectors, _, rest = line.partition(": ")
        if not rest:
            selectors, _, rest = line.partition(":")
        try:
            words = shlex.split(rest)
            sels = shlex.split(selectors)
        except ValueError:
            continue
        if len(words) < 2 or words[0].upper() != "PSK":
            continue
        ids = tuple(i for s in sels if (i := _ident(s)))
        # A quoted secret is its text; unquoted, 0x is hex and 0s base64.
        quoted = rest.split(None, 1)[1].lstrip().startswith(('"', "'"))
        secret = words[1].encode() if quoted else _secret(words[1])
        label = f"{path} line {number}"
        psks.append(ConfigPsk(label, secret, ids, None, "both", number))
    return replace(cfg, psks=tuple(psks))


def _secret(word: str) -> bytes | None:
    """``0x`` hex, ``0s`` base64 or the text (both starters read secrets so)."""
    return secret_bytes(word)
