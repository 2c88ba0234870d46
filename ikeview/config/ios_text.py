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


# A CLI prompt kept in a paste: "R1#", "R1>", "R1(config)#", "R15(config-ikev2-profile)# ".
_PROMPT = re.compile(r"[A-Za-z0-9][\w.-]*(?:\([\w-]+\))?[#>] ?")

# The sub-commands of each configuration mode whose block ikeview reads. IOS keeps a typed or
# pasted command in the current mode when that mode knows it, whatever its indentation; only
# when it does not is the command tried in the global mode (and the sub-mode left). Configs
# written as scripts (``configure terminal`` pastes, lab guides) are not indented.
_SUB_WORDS: dict[tuple[str, ...], frozenset[str]] = {
    ("crypto", "ikev2", "proposal"): frozenset(["encryption", "integrity", "prf", "group"]),
    ("crypto", "ikev2", "policy"): frozenset(["match", "proposal"]),
    ("crypto", "ikev2", "keyring"): frozenset(
        ["peer", "address", "hostname", "identity", "pre-shared-key", "description"]
    ),
    ("crypto", "ikev2", "profile"): frozenset(
        [
            "match",
            "identity",
            "authentication",
            "keyring",
            "lifetime",
            "dpd",
            "description",
            "pki",
            "nat",
            "virtual-template",
            "aaa",
            "ivrf",
            "config-exchange",
            "shutdown",
        ]
    ),
    ("crypto", "ipsec", "transform-set"): frozenset(["mode"]),
    ("crypto", "ipsec", "profile"): frozenset(["set", "description", "responder-only"]),
    ("crypto", "map"): frozenset(["set", "match", "description", "reverse-route", "qos"]),
    ("crypto", "dynamic-map"): frozenset(["set", "match", "description", "reverse-route"]),
    ("interface",): frozenset(["tunnel", "vrf", "description", "shutdown"]),
    ("ip", "access-list"): frozenset(["permit", "deny", "remark", "sequence"]),
    ("ipv6", "access-list"): frozenset(["permit", "deny", "remark", "sequence"]),
}
# Interface sub-commands whose first word is also a global command ("ip route", "ipv6 route").
_IFACE_PAIRS = frozenset(
    [("ip", "address"), ("ipv6", "address"), ("ip", "vrf"), ("no", "shutdown")]
)


_BLOCK_HEADS = (
    ("crypto", "ikev2", "proposal"),
    ("crypto", "ikev2", "policy"),
    ("crypto", "ikev2", "keyring"),
    ("crypto", "ikev2", "profile"),
    ("crypto", "ipsec", "transform-set"),
    ("crypto", "ipsec", "profile"),
    ("ip", "access-list"),
    ("ipv6", "access-list"),
    ("interface",),
    ("hostname",),
)
"""Global commands that open a mode ikeview reads. IOS ignores leading spaces: such a command
opens its mode however it is indented (configs quoted in documents and mails are indented as a
whole), unless the current mode knows it."""


def _opens_mode(words: list[str]) -> bool:
    if words[:2] in (["crypto", "map"], ["crypto", "dynamic-map"]):
        # "crypto map NAME SEQ ...": global; "crypto map NAME" under an interface applies it.
        return len(words) > 3 and words[3].isdigit()
    return any(tuple(words[: len(h)]) == h and len(words) > len(h) for h in _BLOCK_HEADS)


def _mode_words(words: list[str]) -> frozenset[str] | None:
    for head, sub in _SUB_WORDS.items():
        if tuple(words[: len(head)]) == head:
            return sub
    return None


def _continues(block: Block, words: list[str]) -> bool:
    """Whether an unindented line stays in the mode ``block`` opened (see _SUB_WORDS)."""
    sub = _mode_words(block.words)
    if sub is None:
        return False
    if block.words[0] == "interface" and tuple(words[:2]) in _IFACE_PAIRS:
        return True
    if block.words[0] == "interface" and words[:2] == ["crypto", "map"]:
        return len(words) == 3  # "crypto map NAME" applies a map; with a SEQ it is global
    if block.words[1:2] == ["access-list"] and words[0].isdigit():
        return True  # "10 permit ip any any": an entry's sequence number
    if words[0] == "hostname":
        # A keyring peer's "hostname"; the global one only when no peer is open.
        return any(w[0] == "peer" for _n, _i, w in block.body)
    return words[0] in sub


def _expanded(block: Block, words: list[str]) -> list[str]:
    """An indented crypto sub-command whose first word is abbreviated, as IOS takes it
    (``auth local pre-share``): written out when one word of the mode starts so."""
    sub = _mode_words(block.words) if block.words[0] == "crypto" else None
    if sub is None or words[0] in sub or len(words[0]) < 2:
        return words
    full = [w for w in sub if w.startswith(words[0])]
    return [full[0], *words[1:]] if len(full) == 1 else words


@dataclass(slots=True)
class _Reading:
    """Where the reader is: the blocks so far, and how deep the mode stack of the last is."""

    found: list[Block] = field(default_factory=list)
    depth: int = 0
    """0: global mode; 1: in the last block's mode; 2: in a keyring's peer."""

    def add(self, number: int, indent: int, words: list[str]) -> None:
        if words == ["exit"]:
            # Leaves one mode; understood, so not kept as a line of the block.
            self.depth = max(0, self.depth - 1)
            return
        last = self.found[-1] if self.found else None
        known = bool(self.depth) and last is not None and _continues(last, words)
        if last is not None and (known or (indent > 0 and not _opens_mode(words))):
            words = _expanded(last, words) if indent > 0 else words
            last.body.append((number, indent, words))
            if words[0] == "peer" and last.words[:3] == ["crypto", "ikev2", "keyring"]:
                self.depth = 2
            return
        if len(words[0]) >= 3 and "interface".startswith(words[0]):
            # "int Tunnel11", "int tunnel 11": the abbreviation and the name IOS prints.
            spaced = len(words) == 3 and words[2][:1].isdigit()
            words = ["interface", "".join(words[1:])] if spaced else ["interface", *words[1:]]
        self.found.append(Block(words, number))
        self.depth = 0 if words[0] in ("end", "!") else 1


def blocks(text: str) -> tuple[list[Block], int]:
    """The blocks of a running-config and the number of lines skipped inside banners."""
    reading = _Reading()
    banner: str | None = None
    in_banner = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _clean(raw)
        if banner is not None:
            in_banner += 1
            if banner in line:
                banner = None
            continue
        prompt = _PROMPT.match(line)
        if prompt and prompt.end() < len(line):
            line = line[prompt.end() :].lstrip(" ")
        stripped = line.strip()
        if not stripped or stripped.startswith("!"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        words = stripped.split()
        if indent == 0 and _banner_delimiter(words, stripped):
            banner = _banner_delimiter(words, stripped)
        reading.add(number, indent, words)
    return reading.found, in_banner


_IFACE_NAME = re.compile(r"([A-Za-z-]+)\s*([0-9][0-9/.:]*)$")


def same_interface(written: str, name: str) -> bool:
    """Whether ``written`` names interface ``name`` as IOS would take it: the type may be
    abbreviated to any prefix and any case (``Gi1``, ``gig1``, ``tu 10``), the numbers not."""
    if written == name:
        return True
    a, b = _IFACE_NAME.match(written.strip()), _IFACE_NAME.match(name)
    if a is None or b is None or a.group(2) != b.group(2):
        return False
    return b.group(1).lower().startswith(a.group(1).lower())


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
