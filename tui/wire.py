"""Bytes of an IKE message for the hex view, and where each payload lies in them.

``Message`` in the model keeps records, not the datagram. When it has no ``raw`` attribute the
bytes are rebuilt from the records: the 28-byte header from the header fields and each payload
from its generic header and ``body``, placed at its recorded ``offset``. For a well-formed message
this gives the bytes on the wire; bytes no record covers (a damaged tail) stay zero.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ikeview.dissectors.ike_records import Payload, SkfPayload, SkPayload

from ikeview.pipeline.model import Message

# RFC 7296 section 3.1: SPIi(8) SPIr(8) Next Payload(1) Version(1) Exchange(1) Flags(1)
# Message ID(4) Length(4).
_HEADER = struct.Struct("!8s8sBBBBII")
# RFC 7296 section 3.2: Next Payload(1) C|RESERVED(1) Payload Length(2).
_GENERIC = struct.Struct("!BBH")
_FLAG_INITIATOR = 0x08
_FLAG_RESPONSE = 0x20


@dataclass(frozen=True, slots=True)
class Section:
    """One block of bytes the hex view shows."""

    title: str
    """Heading line, e.g. ``message (rebuilt from records)``."""
    data: bytes
    """The bytes."""


def _place(buf: bytearray, payloads: tuple[Payload, ...]) -> None:
    for i, p in enumerate(payloads):
        nxt = payloads[i + 1].payload_type if i + 1 < len(payloads) else 0
        match p:
            case SkPayload(first_inner=first) | SkfPayload(first_inner=first):
                # SK/SKF announce the first inner payload in their own Next Payload field.
                nxt = first
        off = p.offset
        head = _GENERIC.pack(nxt, 0x80 if p.critical else 0, p.length)
        chunk = head + p.body
        end = min(len(buf), off + len(chunk))
        if 0 <= off < end:
            buf[off:end] = chunk[: end - off]


def message_bytes(message: Message) -> Section:
    """The message as on the wire (or rebuilt from its records)."""
    raw = getattr(message, "raw", None)
    if isinstance(raw, bytes):
        return Section("message", raw)
    payloads = message.payloads
    size = max(message.length, max((p.offset + p.length for p in payloads), default=28), 28)
    buf = bytearray(size)
    flags = (_FLAG_INITIATOR if message.from_initiator else 0) | (
        _FLAG_RESPONSE if message.response else 0
    )
    first = payloads[0].payload_type if payloads else 0
    buf[:28] = _HEADER.pack(
        message.spi_i,
        message.spi_r,
        first,
        0x20,
        message.exchange_type,
        flags,
        message.message_id,
        message.length,
    )
    _place(buf, payloads)
    return Section("message (rebuilt from the dissected records)", bytes(buf))


def plaintext_bytes(message: Message) -> Section | None:
    """The decrypted SK body rebuilt from the inner payloads; None when not decrypted."""
    if not message.decrypted:
        return None
    inner = message.inner
    if not inner:
        # An empty INFORMATIONAL (liveness check and its answer) decrypts to nothing.
        return Section("decrypted SK payload (no inner payloads)", b"")
    size = max(p.offset + p.length for p in inner)
    buf = bytearray(size)
    _place(buf, inner)
    return Section("decrypted SK payload (inner payloads)", bytes(buf))
