"""Hand-made IKEv2 messages for edge cases the captures lack (RFC 7296 3.1 header, 3.2 generic
payload headers). The one builder the tests share; real messages come from captures."""

from __future__ import annotations

import struct

SPI_I = bytes.fromhex("0011223344556677")
SPI_R = bytes.fromhex("8899aabbccddeeff")

Item = tuple[int, bytes] | tuple[int, bytes, bool]
"""A payload: (type, body) or (type, body, critical)."""


def chain(*payloads: Item) -> tuple[int, bytes]:
    """RFC 7296 3.2: generic headers linking the items; returns (first type, bytes)."""
    out = b""
    for i, item in enumerate(payloads):
        body = item[1]
        critical = len(item) > 2 and item[2]
        following = payloads[i + 1][0] if i + 1 < len(payloads) else 0
        out += struct.pack("!BBH", following, 0x80 if critical else 0, 4 + len(body)) + body
    return payloads[0][0] if payloads else 0, out


def ike_header(
    first: int,
    length: int,
    *,
    exchange: int = 35,
    flags: int = 0x08,
    mid: int = 1,
    spi_i: bytes = SPI_I,
    spi_r: bytes = SPI_R,
    version: int = 0x20,
) -> bytes:
    """RFC 7296 3.1: SPIi | SPIr | Next Payload | Version (2.0) | Exchange | Flags | MID | Length.
    ``length`` is written as given (it may disagree with the bytes that follow, on purpose)."""
    return struct.pack("!8s8sBBBBII", spi_i, spi_r, first, version, exchange, flags, mid, length)


def ike_message(
    *payloads: Item,
    exchange: int = 35,
    flags: int = 0x08,
    mid: int = 1,
    first: int | None = None,
    body: bytes | None = None,
    spi_i: bytes = SPI_I,
    spi_r: bytes = SPI_R,
    version: int = 0x20,
) -> bytes:
    """An IKE header in front of a payload chain (or of ``body`` as given, with ``first`` as its
    Next Payload); the Length field counts what follows."""
    kind, data = chain(*payloads)
    if body is not None:
        data = body
    if first is not None:
        kind = first
    head = ike_header(
        kind,
        28 + len(data),
        exchange=exchange,
        flags=flags,
        mid=mid,
        spi_i=spi_i,
        spi_r=spi_r,
        version=version,
    )
    return head + data
