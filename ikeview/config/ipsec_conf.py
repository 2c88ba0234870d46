"""Legacy ``ipsec.conf`` (strongSwan starter / Libreswan) and ``ipsec.secrets``.

Read per ``conn``: ``left``/``right`` (by the usual convention ``left`` is this host),
``leftid``/``rightid`` (a leading ``@`` dropped), ``leftsubnet``/``rightsubnet``, ``authby``
(``secret``/``psk`` or ``rsasig``/``pubkey``), ``leftauth``/``rightauth``, ``ike=`` and ``esp=``
(strongSwan keywords; Libreswan's ``;`` before the DH group and ``sha2_256`` spellings accepted).
``also=`` and ``%default`` sections are not expanded (counted as skipped). ``ipsec.secrets``:
``[ID ...] : PSK "secret"`` lines.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from ikeview.config.records import ChildConf, ConfigNote, ConfigPsk, Connection, DeviceConfig
from ikeview.config.strongswan_words import default_proposals, parse_list, unset_esp_defaults

_AUTHBY = {"secret": "psk", "psk": "psk", "rsasig": "pubkey", "pubkey": "pubkey",
           "ecdsa": "pubkey", "null": "null"}  # fmt: skip


def _sections(text: str) -> tuple[list[tuple[str, int, dict[str, tuple[str, int]]]], int]:
    sections: list[tuple[str, int, dict[str, tuple[str, int]]]] = []
    skipped = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            words = line.split()
            sections.append((" ".join(words[:2]), number, {}))
            continue
        m = re.match(r"\s+([A-Za-z0-9_\-]+)\s*=\s*(.*)$", line)
        if m and sections:
            sections[-1][2][m.group(1).lower()] = (m.group(2).strip().strip('"'), number)
        else:
            skipped += 1
    return sections, skipped


def _ident(value: str | None) -> str | None:
    return value.lstrip("@") if value else None


# Libreswan spellings to strongSwan keywords (libreswan.org ipsec.conf "ike=" / "esp=").
_LIBRESWAN = {
    "aes_gcm": "aes256gcm16", "aes_gcm128": "aes128gcm16", "aes_gcm256": "aes256gcm16",
    "aes_gcm_c": "aes256gcm16", "aes_gcm_16": "aes256gcm16", "aes_ctr": "aes128ctr",
    "chacha20_poly1305": "chacha20poly1305", "sha2": "sha256", "sha": "sha1",
    "dh2": "modp1024", "dh5": "modp1536", "dh14": "modp2048", "dh15": "modp3072",
    "dh16": "modp4096", "dh18": "modp8192", "dh19": "ecp256", "dh20": "ecp384",
    "dh21": "ecp521", "dh31": "curve25519",
}  # fmt: skip


def _words(text: str) -> str:
    """A proposal list with Libreswan's ';' / '+' separators and names made strongSwan's."""
    out = []
    for part in text.split(","):
        words = re.split(r"[-;+]", part.strip())
        out.append("-".join(_LIBRESWAN.get(w.lower(), w) for w in words if w))
    return ",".join(out)


def _props(values: dict, key: str, protocol, path: str, notes: list[ConfigNote]):
    if key not in values:
        return None
    text, line = values[key]
    try:
        props = parse_list(_words(text), protocol, line)
    except ValueError as exc:
        # Not fatal: a dialect ikeview does not know; the defaults stand in and it is said.
        text_note = f"{path}:{line}: {key}={text}: {exc}; this line was not used"
        notes.append(ConfigNote("config-unknown-algorithm", line, text_note))
        return None
    # Keep the config's own words (Libreswan writes ';' before the DH group).
    return tuple(replace(p, text=t.strip()) for p, t in zip(props, text.split(","), strict=False))


def _conn(name: str, line: int, v: dict, path: str, notes: list[ConfigNote]) -> Connection:
    get = {k: val for k, (val, _n) in v.items()}
    auth = _AUTHBY.get(get.get("authby", "pubkey").lower(), get.get("authby"))
    esp = _props(v, "esp", "esp", path, notes) or unset_esp_defaults()
    child = ChildConf(
        name=name,
        line=line,
        proposals=esp,
        local_ts=tuple(s.strip() for s in get.get("leftsubnet", "").split(",") if s.strip()),
        remote_ts=tuple(s.strip() for s in get.get("rightsubnet", "").split(",") if s.strip()),
        mode=get.get("type", "tunnel"),
    )
    return Connection(
        name=f"conn {name}",
        line=line,
        local_addrs=tuple(a for a in [get.get("left")] if a and not a.startswith("%")),
        remote_addrs=tuple(a for a in [get.get("right")] if a and not a.startswith("%")),
        local_id=_ident(get.get("leftid")),
        remote_ids=tuple(i for i in [_ident(get.get("rightid"))] if i),
        local_auth=get.get("leftauth", auth),
        remote_auth=get.get("rightauth", auth),
        proposals=_props(v, "ike", "ike", path, notes) or default_proposals("ike"),
        children=(child,),
    )


def read_ipsec_conf(text: str, path: str) -> DeviceConfig:
    """Read ipsec.conf text (secrets come from ``add_secrets``)."""
    sections, skipped = _sections(text)
    conns = []
    notes: list[ConfigNote] = []
    for head, line, values in sections:
        kind, _, name = head.partition(" ")
        if kind == "conn" and name and name != "%default":
            conns.append(_conn(name, line, values, path, notes))
        else:
            skipped += 1
    local = tuple(dict.fromkeys(a for c in conns for a in c.local_addrs))
    return DeviceConfig(path=path, kind="ipsec.conf", local_addrs=local,
                        connections=tuple(conns), notes=tuple(notes), skipped=skipped)  # fmt: skip


def add_secrets(cfg: DeviceConfig, text: str, path: str) -> DeviceConfig:
    """The config with the PSKs of an ipsec.secrets file."""
    psks = list(cfg.psks)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        selectors, _, rest = line.partition(":")
        try:
            words = shlex.split(rest)
        except ValueError:
            continue
        if len(words) < 2 or words[0].upper() != "PSK":
            continue
        ids = tuple(_ident(s) or s for s in selectors.split())
        label = f"{path} line {number}"
        psks.append(ConfigPsk(label, words[1].encode(), ids, None, "both", number))
    return replace(cfg, psks=tuple(psks))
