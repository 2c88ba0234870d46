"""The ``secrets`` section of a strongSwan ``swanctl.conf``: PSKs and EAP passwords.

Only what a keys file needs is read::

    secrets {
      ike-responder {               # ike-*: a pre-shared key
        id = responder.lab.example  # id, id-<suffix>: the identities it is for (optional)
        secret = "text"             # or 0x<hex>
      }
      eap-bob {                     # eap-* (and xauth-*): a user's password
        id = bob
        secret = "text"
      }
    }

Everything else in the file (connections, pools, authorities) is skipped. The syntax is
swanctl's: ``name {`` opens a section, ``}`` closes it, ``key = value`` sets a value; values may
be quoted; ``#`` starts a comment outside quotes. Lines are read one by one, so memory is bounded
by the file.
"""

from __future__ import annotations

import re

from ikeview.keys.errors import KeysFileError
from ikeview.keys.hexutil import parse_hex
from ikeview.keys.model import EapSecret, KeyRecord, Psk, SourceRef

_OPEN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*\{\s*$")
_CLOSE = re.compile(r"^\s*\}\s*$")
_VALUE = re.compile(r'^\s*([A-Za-z0-9_.\-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^#]*?)\s*(?:#.*)?$')
_SECRETS = re.compile(r"^\s*secrets\s*\{", re.M)
_USER_KINDS = ("eap-", "xauth-")
MAX_DEPTH = 16
"""Sections nested deeper than this are a mistake (or hostile); the file is refused."""


def looks_like(text: str) -> bool:
    """A swanctl.conf with a ``secrets`` section holding an ``ike-``/``eap-`` entry."""
    return bool(_SECRETS.search(text)) and bool(
        re.search(r"^\s*(ike|eap|xauth)-[A-Za-z0-9_.\-]*\s*\{", text, re.M)
    )


def load_swanctl_secrets(text: str, path: str) -> list[KeyRecord]:
    """PSKs (``ike-*``) and EAP passwords (``eap-*``, ``xauth-*``) in file order."""
    out: list[KeyRecord] = []
    stack: list[str] = []
    entry: dict[str, str] = {}
    start = 0
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if m := _OPEN.match(line):
            if len(stack) >= MAX_DEPTH:
                raise KeysFileError(path, no, f"sections nested deeper than {MAX_DEPTH}")
            stack.append(m[1])
            if len(stack) == 2 and stack[0] == "secrets":
                entry, start = {}, no
        elif _CLOSE.match(line):
            if not stack:
                raise KeysFileError(path, no, "'}' closes no section")
            if len(stack) == 2 and stack[0] == "secrets":
                rec = _record(stack[1], entry, path, start)
                if rec is not None:
                    out.append(rec)
            stack.pop()
        elif (m := _VALUE.match(line)) and len(stack) == 2 and stack[0] == "secrets":
            entry[m[1]] = _unquote(m[2])
    if stack:
        raise KeysFileError(path, 0, f"section '{stack[-1]}' is never closed")
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _ids(entry: dict[str, str]) -> list[str]:
    return [v for k, v in entry.items() if k == "id" or k.startswith("id-")]


def _record(name: str, entry: dict[str, str], path: str, line: int) -> KeyRecord | None:
    secret = entry.get("secret")
    if secret is None:
        return None
    ref = SourceRef(path, line)
    ids = _ids(entry)
    if name.startswith(_USER_KINDS):
        return EapSecret(ids[0] if ids else "*", secret, ref)
    if name.startswith("ike-"):
        try:
            value = parse_hex(secret) if secret.lower().startswith("0x") else secret.encode()
        except ValueError as e:
            raise KeysFileError(path, line, f"secrets.{name}: secret is {e}") from None
        if not value:
            raise KeysFileError(path, line, f"secrets.{name}: secret is empty")
        return Psk(value, name, None, ids[0] if len(ids) == 1 else None, ref)
    return None
