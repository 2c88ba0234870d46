"""Text from a capture, a file name or a keys file, made safe to print on a terminal.

A capture is written by whoever sent the packets: an IKE identity, a vendor string or a file
name may hold ESC sequences that retitle the window, clear the screen or recolour everything
after them. :func:`printable` turns every character a terminal would act on into a visible
escape instead. JSON output needs none of this (the JSON encoder escapes controls itself).

Escaped, as ``\\xNN`` (or ``\\uNNNN``): C0 controls (U+0000-U+001F, so also ESC, BEL, CR, TAB
and newline), DEL, C1 controls (U+0080-U+009F: U+009B is a one-character CSI), the bidirectional
overrides and isolates (U+202A-U+202E, U+2066-U+2069, which reorder what follows them), the
line and paragraph separators, and lone surrogates (an undecodable byte of a file name, which
would otherwise make ``print`` raise); each surrogate is shown as the byte it stands for.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_UNSAFE_KEEP_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte itself
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control and reordering character escaped visibly (ESC -> ``\\x1b``).

    Newlines and tabs are escaped too: use it for one field (an identity, a file name, a
    label). Never raises; the result contains only characters a terminal prints as themselves.
    """
    return _UNSAFE.sub(_escape, text)


def printable_lines(text: str) -> str:
    """Like :func:`printable` for a whole multi-line text (a rendered report): newlines and
    tabs are kept as layout, everything else is escaped."""
    return _UNSAFE_KEEP_LINES.sub(_escape, text)


__all__ = ["printable", "printable_lines"]
