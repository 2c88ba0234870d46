"""Hex strings as users write them: ``0x`` prefix, colons, spaces or dashes between bytes."""

from __future__ import annotations

import string

_SEPARATORS = str.maketrans("", "", ": -_\t\n")
_HEXDIGITS = frozenset(string.hexdigits)


def parse_hex(text: str) -> bytes:
    """Decode a hex string; raises ValueError saying why it is not hex (used in error messages)."""
    s = text.strip()
    if s[:2].lower() == "0x":
        s = s[2:]
    s = s.translate(_SEPARATORS)
    for i, ch in enumerate(s):
        if ch not in _HEXDIGITS:
            raise ValueError(f"not hex ({ch!r} at position {i + 1})")
    if len(s) % 2:
        raise ValueError(f"not hex (odd length, {len(s)} digits)")
    return bytes.fromhex(s)


def parse_spi8(text: str) -> bytes:
    """An IKE SPI: exactly 8 bytes of hex."""
    b = parse_hex(text)
    if len(b) != 8:
        raise ValueError(f"must be 8 bytes (16 hex digits), got {len(b)} bytes")
    return b


def parse_esp_spi(value: str | int) -> int:
    """An ESP SPI: an int, or hex text with or without 0x (always read as hex)."""
    if isinstance(value, bool):
        raise ValueError("must be a number or hex text")
    if isinstance(value, int):
        n = value
    else:
        b = parse_hex(value)
        if not 1 <= len(b) <= 4:
            raise ValueError(f"must be at most 4 bytes (8 hex digits), got {len(b)} bytes")
        n = int.from_bytes(b, "big")
    if not 0 <= n <= 0xFFFFFFFF:
        raise ValueError("must fit in 32 bits")
    return n
