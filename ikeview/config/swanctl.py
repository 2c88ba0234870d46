"""strongSwan ``swanctl.conf`` read into records (the syntax itself is ``swanctl_syntax.py``).

What is read (names as in ``src/swanctl/swanctl.opt``): ``connections`` (``version``,
``local_addrs``, ``remote_addrs``, ``proposals``, the ``local*`` / ``remote*`` rounds' ``auth``
and ``id``, and as options ``mobike``, ``encap``, ``aggressive``, ``pull``, ``dpd_delay``,
``rekey_time``, ``reauth_time``...; ``children`` with ``local_ts``, ``remote_ts``,
``esp_proposals``, ``ah_proposals``, ``mode``, ``start_action``...) and ``secrets``.

Secrets (``src/swanctl/commands/load_creds.c`` ``load_secret``): the section name's prefix is
its type (``ike``, ``eap``, ``xauth``, ``ntlm``, ``ppk`` are shared secrets; ``private``,
``rsa``, ``ecdsa``, ``pkcs8``, ``pkcs12``, ``token`` are key files and skipped here); every
setting whose name starts with ``id`` is an owner identity; a ``0x`` secret is hex, ``0s``
base64, anything else the text itself. Only ``ike`` secrets are PSKs for the IKE AUTH.
Which of them charon uses for which AUTH is ``keys.py``'s business.
"""

from __future__ import annotations

import base64
import binascii
import re

from ikeview.config.proposals import ConfProposal, Protocol
from ikeview.config.records import (
    ChildConf,
    ConfigError,
    ConfigNote,
    ConfigPsk,
    Connection,
    DeviceConfig,
)
from ikeview.config.strongswan_words import parse_list, unset_esp_defaults
from ikeview.config.swanctl_syntax import Resolver, Section, parse

_CONN_OPTIONS = ("mobike", "encap", "aggressive", "pull", "dpd_delay", "dpd_timeout",
                 "rekey_time", "reauth_time", "over_time", "unique", "fragmentation",
                 "childless", "send_cert", "send_certreq", "local_port", "remote_port",
                 "keyingtries", "pools", "vips", "ppk_id", "ppk_required")  # fmt: skip
_CHILD_OPTIONS = ("start_action", "close_action", "dpd_action", "rekey_time", "life_time",
                  "rekey_bytes", "rekey_packets", "replay_window", "ipcomp", "reqid",
                  "sha256_96", "hw_offload", "policies", "inactivity")  # fmt: skip
_SHARED_TYPES = ("eap", "xauth", "ntlm", "ike", "ppk")
_KEY_FILE_TYPES = ("private", "rsa", "ecdsa", "pkcs8", "pkcs12", "token")


def _get(sec: Section, key: str, default: str = "") -> str:
    return sec.values.get(key, (default, 0))[0]


def _list(value: str) -> tuple[str, ...]:
    """A comma-separated list without ``%any`` (any = no restriction here)."""
    return tuple(v.strip() for v in value.split(",") if v.strip() and v.strip() != "%any")


def _ident(value: str | None) -> str | None:
    """An identity as the capture shows it: ``@fqdn`` forces an FQDN; ``%any`` is no identity."""
    if value is None or value.strip() in ("", "%any"):
        return None
    value = value.strip()
    return value[1:] if value.startswith("@") and not value.startswith("@#") else value


def _proposals(sec: Section, key: str, protocol: Protocol) -> tuple[ConfProposal, ...] | None:
    if key not in sec.values:
        return None
    value, line = sec.values[key]
    try:
        return parse_list(value, protocol, line)
    except ValueError as exc:
        raise ConfigError(
            f"{sec.file}:{line}: {key} = {value}: {exc}; use strongSwan keywords such as "
            f"aes256-sha256-prfsha256-modp2048"
        ) from None


def _options(sec: Section, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((n, sec.values[n][0]) for n in names if n in sec.values)


def _child(sec: Section) -> ChildConf:
    props = _proposals(sec, "esp_proposals", "esp")
    protocol = "esp"
    if props is None and "ah_proposals" in sec.values:
        props, protocol = _proposals(sec, "ah_proposals", "ah"), "ah"
    if props is None:
        props = unset_esp_defaults()
    pfs = tuple(k for p in props for k in p.ke if k) or None
    return ChildConf(
        name=sec.name,
        line=sec.line,
        proposals=props,
        local_ts=_list(_get(sec, "local_ts")),
        remote_ts=_list(_get(sec, "remote_ts")),
        mode=_get(sec, "mode", "tunnel").lower(),
        pfs=pfs,
        protocol=protocol,
        options=_options(sec, _CHILD_OPTIONS),
    )


def _round_key(sec: Section) -> tuple[int, str]:
    """Authentication rounds in charon's order: ``round`` if given, else the section name."""
    try:
        return int(_get(sec, "round", "0")), sec.name
    except ValueError:
        return 0, sec.name


def _side(conn: Section, prefix: str) -> tuple[str | None, str | None]:
    """(id, auth) of the first ``local*`` / ``remote*`` round (``local_addrs`` is a value, so
    only sections count)."""
    rounds = sorted((s for s in conn.sections if s.name.startswith(prefix)), key=_round_key)
    if not rounds:
        return None, None
    first = rounds[0]
    return first.values.get("id", (None, 0))[0], first.values.get("auth", (None, 0))[0]


def _version(sec: Section) -> int:
    value = _get(sec, "version", "0").strip()
    return int(value) if value in ("0", "1", "2") else 0


def _connection(sec: Section, path: str) -> Connection:
    ike = _proposals(sec, "proposals", "ike")
    if ike is None:
        ike = parse_list("default", "ike", sec.line)
    local_id, local_auth = _side(sec, "local")
    remote_id, remote_auth = _side(sec, "remote")
    children = sec.section("children")
    remote = _ident(remote_id)
    return Connection(
        name=sec.name,
        line=sec.line,
        local_addrs=_list(_get(sec, "local_addrs")),
        remote_addrs=_list(_get(sec, "remote_addrs")),
        local_id=_ident(local_id),
        remote_ids=(remote,) if remote else (),
        local_auth=local_auth or "pubkey",
        remote_auth=remote_auth or "pubkey",
        proposals=ike,
        children=tuple(_child(c) for c in children.sections) if children else (),
        version=_version(sec),
        options=_options(sec, _CONN_OPTIONS),
        file=sec.file if sec.file != path else None,
    )


def secret_bytes(value: str) -> bytes | None:
    """A secret as load_creds.c reads it (``0x`` hex, ``0s`` base64, else the text); None when
    the hex or base64 is broken."""
    try:
        if value[:2].lower() == "0x":
            return bytes.fromhex(re.sub(r"\s", "", value[2:]))
        if value[:2].lower() == "0s":
            return base64.b64decode(value[2:].strip(), validate=True)
    except (ValueError, binascii.Error):
        return None
    return value.encode()


def _secrets(sec: Section, notes: list[ConfigNote]) -> list[ConfigPsk]:
    out: list[ConfigPsk] = []
    for s in sec.sections:
        kind = next((t for t in _SHARED_TYPES + _KEY_FILE_TYPES if s.name.startswith(t)), None)
        if kind is None:
            notes.append(ConfigNote("config-skipped", s.line, f"{s.file}:{s.line}: secrets "
                                    f"{s.name}: not a type swanctl knows; skipped"))  # fmt: skip
            continue
        if kind != "ike" or "secret" not in s.values:
            continue
        secret, line = s.values["secret"]
        ids = tuple(v for k, (v, _n) in s.values.items() if k.startswith("id"))
        data = secret_bytes(secret)
        note = None if data is not None else "the 0x/0s secret is not valid hex/base64"
        if note:
            notes.append(ConfigNote("psk-unreadable", line, f"{s.file}:{line}: secrets "
                                    f"{s.name}: {note}"))  # fmt: skip
        out.append(ConfigPsk(f"secrets {s.name}", data, ids, None, "both", line, note))
    return out


def read_swanctl(text: str, path: str, *, resolver: Resolver | None = None) -> DeviceConfig:
    """Read swanctl.conf text. Raises ConfigError (``file:line: ...``) for what swanctl would
    refuse too (syntax errors, unbalanced braces, unknown algorithm keywords). ``include`` is
    followed only through ``resolver``."""
    root, skipped, include_notes = parse(text, path, resolver)
    connections: list[Connection] = []
    psks: list[ConfigPsk] = []
    notes = [ConfigNote("config-include", 0, n) for n in include_notes]
    for sec in root.sections:
        if sec.name == "connections":
            connections.extend(_connection(c, path) for c in sec.sections)
        elif sec.name == "secrets":
            psks.extend(_secrets(sec, notes))
        elif sec.name not in ("pools", "authorities"):
            skipped += 1  # a template section, used through references only
    skipped += len(root.values)
    local = tuple(dict.fromkeys(a for c in connections for a in c.local_addrs))
    return DeviceConfig(
        path=path,
        kind="swanctl",
        local_addrs=local,
        connections=tuple(connections),
        psks=tuple(psks),
        notes=tuple(notes),
        skipped=skipped,
    )
