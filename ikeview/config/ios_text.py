"""Cisco running-config text as it reaches ikeview: pasted from a terminal, saved by a script,
cut from ``show running-config | section crypto``. Turned into blocks, and ACL entries into
traffic selectors.

What real files carry besides the config: ``Building configuration...`` and ``Current
configuration : N bytes`` headers, CRLF line ends, tabs, ``--More--`` prompts with the
backspaces that erased them, banners between ``^C`` delimiters (their text may start at column 0
with words like ``interface``), ``!`` comments, ``end``, and files cut short. None of it may stop
the reader: what is not understood is counted, never fatal.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

# A pager prompt and what erased it: " --More-- " then backspaces, spaces, more backspaces.
_MORE = re.compile(r"\s*--More--\s*[\x08 ]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BANNERS = {"motd", "login", "exec", "incoming", "slip-ppp", "prompt-timeout", "config-save"}


@dataclass(slots=True)
class Block:
    """A top-level line and the indented lines under it."""

    words: list[str]
    line: int
    body: list[tuple[int, int, list[str]]] = field(default_factory=list)
    """(line number, indent, words)."""


def _clean(raw: str) -> str:
    # A config copied off the router (TFTP, archive) keeps the real ETX that "show" prints as ^C.
    line = _MORE.sub("", raw.rstrip("\r\n").lstrip("\ufeff").replace("\x03", "^C"))
    # Tabs as one indent step each (IOS indents with one space per level).
    return _CONTROL.sub("", line.expandtabs(1))


def _banner_delimiter(words: list[str], line: str) -> str | None:
    """The delimiter of a multi-line ``banner`` starting on this line; None when it is closed
    on the same line or this is no banner."""
    if len(words) < 3 or words[0] != "banner" or words[1] not in _BANNERS:
        return None
    rest = line.split(words[1], 1)[1].lstrip()
    delim = rest[:2] if rest.startswith("^") else rest[:1]
    if not delim or delim in rest[len(delim) :]:
        return None
    return delim


def blocks(text: str) -> tuple[list[Block], int]:
    """The blocks of a running-config and the number of lines skipped inside banners."""
    found: list[Block] = []
    banner: str | None = None
    in_banner = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _clean(raw)
        if banner is not None:
            in_banner += 1
            if banner in line:
                banner = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("!"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        words = stripped.split()
        if indent == 0:
            banner = _banner_delimiter(words, stripped)
            found.append(Block(words, number))
        elif found:
            found[-1].body.append((number, indent, words))
    return found, in_banner


# --- access lists ------------------------------------------------------------------------

_PORT_OPS = {"eq": 1, "neq": 1, "lt": 1, "gt": 1, "range": 2}
_TAIL = {"log", "log-input", "established", "fragments", "echo", "echo-reply"}


def network(addr: str, mask: str | None = None) -> str | None:
    """CIDR text of ``addr`` with a netmask, a wildcard mask, or a ``/len``; None if unreadable
    (a non-contiguous wildcard, a name)."""
    text = addr if mask is None else f"{addr}/{mask}"
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return None


def object_group_members(body: list[tuple[int, int, list[str]]]) -> list[str]:
    """The networks of an ``object-group network`` block (``host A``, ``A MASK``, ``A/len``,
    ``range A B`` as its first address's host); nested ``group-object`` is left out."""
    out: list[str] = []
    for _n, _i, w in body:
        if w[0] in ("host", "range") and len(w) > 1:
            net = network(w[1])
        elif w[0] in ("description", "group-object"):
            continue
        else:
            net = network(w[0], w[1] if len(w) > 1 else None)
        if net:
            out.append(net)
    return out


def _side(words: list[str], groups: dict[str, list[str]], v6: bool) -> tuple[list[str], list[str]]:
    """One address side of an ACL entry: (its networks, the words after it and its ports)."""
    if not words:
        return [], []
    head = words[0]
    if head == "any":
        nets, rest = ["::/0" if v6 else "0.0.0.0/0"], words[1:]
    elif head in ("any4",):
        nets, rest = ["0.0.0.0/0"], words[1:]
    elif head == "host" and len(words) > 1:
        nets, rest = [n for n in [network(words[1])] if n], words[2:]
    elif head in ("object-group", "addrgroup") and len(words) > 1:
        nets, rest = list(groups.get(words[1], [])), words[2:]
    elif "/" in head:
        nets, rest = [n for n in [network(head)] if n], words[1:]
    elif len(words) > 1:
        net = network(head, words[1])
        # A non-contiguous wildcard: compared by its first address only (docs/config.md).
        nets, rest = [net or f"{head}/32"], words[2:]
    else:
        nets, rest = [], words[1:]
    while rest and rest[0] in _PORT_OPS:
        rest = rest[1 + _PORT_OPS[rest[0]] :]
    return nets, rest


def acl_entry(
    words: list[str], groups: dict[str, list[str]], v6: bool = False
) -> tuple[list[str], list[str]] | None:
    """(sources, destinations) of a ``permit`` entry; None for deny, remark or unreadable.

    Forms: ``[seq|sequence N] permit PROTO SRC [ports] DST [ports] [log]`` with PROTO a word,
    a number or ``object-group SERVICE``; sides ``any``, ``host A``, ``A WILDCARD``, ``A/len``,
    ``object-group NAME``."""
    w = list(words)
    if w and w[0] == "sequence":
        w = w[2:]
    if w and w[0].isdigit():
        w = w[1:]
    if len(w) < 3 or w[0] != "permit":
        return None
    rest = w[3:] if w[1] == "object-group" else w[2:]
    src, rest = _side(rest, groups, v6)
    dst, _tail = _side(rest, groups, v6)
    if not src or not dst:
        return None
    return src, dst
