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

Everything else in the file (connections, pools, authorities) is skipped. The file is read with
``ikeview.keys.swanctl_syntax``, the same reader ``--config`` uses, which follows strongSwan's own
grammar: sections and values on one line, quoted strings, templates (``name : other { }``),
repeated sections merged. ``include`` lines are not followed here (a keys file names its own
secrets); a ``0x`` secret is hex and ``0s`` base64, as ``swanctl --load-creds`` reads them.
"""

from __future__ import annotations

import base64
import binascii
import re

from ikeview.keys import swanctl_syntax
from ikeview.keys.errors import KeysFileError
from ikeview.keys.hexutil import parse_hex
from ikeview.keys.model import EapSecret, KeyRecord, Psk, SourceRef

_SECRETS = re.compile(r"(?:^|[\s{])secrets\s*\{", re.M)
_ENTRY = re.compile(r"(?:^|[\s{])(ike|eap|xauth)-[^\s{}#=]*\s*[{:]", re.M)
_USER_KINDS = ("eap-", "xauth-")


def looks_like(text: str) -> bool:
    """A swanctl.conf with a ``secrets`` section holding an ``ike-``/``eap-`` entry."""
    return bool(_SECRETS.search(text)) and bool(_ENTRY.search(text))


def load_swanctl_secrets(text: str, path: str) -> list[KeyRecord]:
    """PSKs (``ike-*``) and EAP passwords (``eap-*``, ``xauth-*``) in file order."""
    try:
        root, _skipped, _notes = swanctl_syntax.parse(text, path)
    except swanctl_syntax.ConfigError as e:
        m = re.match(rf"{re.escape(path)}:(\d+): (.*)", e.msg, re.S)
        raise (
            KeysFileError(path, int(m[1]), m[2]) if m else KeysFileError(path, 0, e.msg)
        ) from None
    secrets = root.section("secrets")
    if secrets is None:
        return []
    out: list[KeyRecord] = []
    for entry in secrets.sections:
        values = {k: v for k, (v, _line) in entry.values.items()}
        rec = _record(entry.name, values, path, entry.line)
        if rec is not None:
            out.append(rec)
    return out


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
            value = _secret(secret)
        except (ValueError, binascii.Error) as e:
            raise KeysFileError(path, line, f"secrets.{name}: secret is {e}") from None
        if not value:
            raise KeysFileError(path, line, f"secrets.{name}: secret is empty")
        return Psk(value, name, None, ids[0] if len(ids) == 1 else None, ref)
    return None


def _secret(text: str) -> bytes:
    """``0x`` hex, ``0s`` base64 (load_creds.c), else the text itself."""
    if text[:2].lower() == "0x":
        return parse_hex(text)
    if text[:2].lower() == "0s":
        return base64.b64decode(text[2:].strip(), validate=True)
    return text.encode()
