"""strongSwan ``swanctl.conf``: the nested ``name { key = value }`` syntax, read into records.

What is read: ``connections`` (``local_addrs``, ``remote_addrs``, ``proposals``, ``local*`` /
``remote*`` sections with ``auth`` and ``id``, ``children`` with ``local_ts``, ``remote_ts``,
``esp_proposals``, ``mode``) and ``secrets`` (``ike*`` / ``eap*`` sections with ``id``, ``id-*``
and ``secret``). ``include`` lines are skipped (never followed: a config must not make ikeview
read other files); anything else unknown is counted in ``skipped``. Nesting is bounded.

strongSwan's shared-key rule (``credential_manager`` ``get_shared``): the key whose identities
match both peers best is used to *build* an AUTH, with a match on the peer's identity ranked
above one on its own; every key that matches either identity is tried to *verify* one. So a
secret with ``id-a``/``id-b`` serves both AUTHs, and two single-identity secrets give the
asymmetric case (each side builds its AUTH with the secret bound to the peer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ikeview.config.proposals import ConfProposal
from ikeview.config.records import ChildConf, ConfigError, ConfigPsk, Connection, DeviceConfig
from ikeview.config.strongswan_words import parse_list, unset_esp_defaults

MAX_DEPTH = 16
"""Sections nested deeper than this are an error (swanctl itself needs 5)."""

_KEY_VALUE = re.compile(r"^([A-Za-z0-9_.\-]+)\s*=\s*(.*)$")
_SECTION = re.compile(r"^([A-Za-z0-9_.\-%]+)\s*\{\s*$")


@dataclass(slots=True)
class Section:
    """One ``name { ... }`` block while parsing."""

    name: str
    line: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)


def _strip_comment(line: str) -> str:
    out, quoted = [], False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == "#" and not quoted:
            break
        out.append(ch)
    return "".join(out).strip()


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


def parse_tree(text: str, path: str) -> tuple[Section, int]:
    """The section tree and the number of lines skipped; ConfigError on unbalanced braces."""
    root = Section("", 0)
    stack = [root]
    skipped = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw)
        if not line:
            continue
        if line == "}":
            if len(stack) == 1:
                raise ConfigError(f"{path}:{number}: '}}' closes no section; remove it")
            stack.pop()
        elif m := _SECTION.match(line):
            if len(stack) > MAX_DEPTH:
                raise ConfigError(f"{path}:{number}: sections nested too deep")
            sec = Section(m.group(1), number)
            stack[-1].sections.append(sec)
            stack.append(sec)
        elif m := _KEY_VALUE.match(line):
            stack[-1].values[m.group(1).lower()] = (_unquote(m.group(2)), number)
        else:
            # include lines and anything else: skipped and counted, never followed.
            skipped += 1
    if len(stack) > 1:
        sec = stack[-1]
        raise ConfigError(f"{path}:{sec.line}: section '{sec.name}' is never closed; add '}}'")
    return root, skipped


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip() and v.strip() != "%any")


def _proposals(sec: Section, key: str, protocol, path: str) -> tuple[ConfProposal, ...] | None:
    if key not in sec.values:
        return None
    value, line = sec.values[key]
    try:
        return parse_list(value, protocol, line)
    except ValueError as exc:
        raise ConfigError(
            f"{path}:{line}: {key} = {value}: {exc}; use strongSwan keywords such as "
            f"aes256-sha256-prfsha256-modp2048"
        ) from None


def _child(sec: Section, path: str) -> ChildConf:
    props = _proposals(sec, "esp_proposals", "esp", path)
    if props is None:
        props = unset_esp_defaults()
    pfs = tuple(k for p in props for k in p.ke if k) or None
    return ChildConf(
        name=sec.name,
        line=sec.line,
        proposals=props,
        local_ts=_list(sec.values.get("local_ts", ("", 0))[0]),
        remote_ts=_list(sec.values.get("remote_ts", ("", 0))[0]),
        mode=sec.values.get("mode", ("tunnel", 0))[0].lower(),
        pfs=pfs,
    )


def _side(conn: Section, prefix: str) -> tuple[str | None, str | None]:
    """(id, auth) of the first ``local*`` / ``remote*`` round."""
    rounds = sorted((s for s in conn.sections if s.name.startswith(prefix)), key=lambda s: s.name)
    if not rounds:
        return None, None
    first = rounds[0]
    ident = first.values.get("id", (None, 0))[0]
    auth = first.values.get("auth", (None, 0))[0]
    return ident, auth


def _connection(sec: Section, path: str) -> Connection:
    ike = _proposals(sec, "proposals", "ike", path)
    if ike is None:
        ike = parse_list("default", "ike", sec.line)
    local_id, local_auth = _side(sec, "local")
    remote_id, remote_auth = _side(sec, "remote")
    children = tuple(
        _child(c, path) for s in sec.sections if s.name == "children" for c in s.sections
    )
    return Connection(
        name=sec.name,
        line=sec.line,
        local_addrs=_list(sec.values.get("local_addrs", ("", 0))[0]),
        remote_addrs=_list(sec.values.get("remote_addrs", ("", 0))[0]),
        local_id=local_id,
        remote_ids=(remote_id,) if remote_id and remote_id != "%any" else (),
        local_auth=local_auth or "pubkey",
        remote_auth=remote_auth or "pubkey",
        proposals=ike,
        children=children,
    )


def _secrets(sec: Section) -> list[ConfigPsk]:
    out: list[ConfigPsk] = []
    for s in sec.sections:
        kind = s.name.split("-")[0].lower()
        if not (kind.startswith("ike") or kind.startswith("eap")) or "secret" not in s.values:
            continue
        secret, line = s.values["secret"]
        ids = tuple(v for k, (v, _line) in s.values.items() if k == "id" or k.startswith("id-"))
        data = bytes.fromhex(secret[2:]) if _is_hex(secret) else secret.encode()
        if kind.startswith("ike"):
            out.append(ConfigPsk(f"secrets {s.name}", data, ids, None, "both", line))
    return out


def _is_hex(secret: str) -> bool:
    return re.fullmatch(r"0[xX](?:[0-9a-fA-F]{2})+", secret) is not None


def read_swanctl(text: str, path: str) -> DeviceConfig:
    """Read swanctl.conf text. Raises ConfigError (``file:line: ...``) for what swanctl would
    refuse too (unbalanced braces, unknown algorithm keywords)."""
    root, skipped = parse_tree(text, path)
    connections: list[Connection] = []
    psks: list[ConfigPsk] = []
    for sec in root.sections:
        if sec.name == "connections":
            connections.extend(_connection(c, path) for c in sec.sections)
        elif sec.name == "secrets":
            psks.extend(_secrets(sec))
        else:
            skipped += 1
    skipped += len(root.values)
    local = tuple(dict.fromkeys(a for c in connections for a in c.local_addrs))
    return DeviceConfig(
        path=path,
        kind="swanctl",
        local_addrs=local,
        connections=tuple(connections),
        psks=tuple(psks),
        skipped=skipped,
    )
