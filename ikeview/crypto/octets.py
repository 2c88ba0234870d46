"""The byte strings the crypto leaves accept: ``bytes`` or a ``memoryview`` over a packet, so the
hot paths slice captures without copying them."""

from __future__ import annotations

Octets = bytes | bytearray | memoryview
