"""ESP header (RFC 4303): SPI and sequence number; the rest stays opaque for the decryptor."""

from __future__ import annotations

import struct

from ikeview.dissectors.errors import DecodeProblem
from ikeview.dissectors.records import EspPacket, Flow

# RFC 4303 section 2: Security Parameters Index(4) Sequence Number(4) Payload Data(variable)
# Padding(0-255) Pad Length(1) Next Header(1) ICV(variable). Only the first two are in clear.
ESP_HEADER = struct.Struct("!II")
ESP_HEADER_LEN = 8


def esp_packet(flow: Flow, data: bytes, length: int, udp_encap: bool) -> EspPacket:
    """Build an EspPacket from the ESP bytes ``data`` (SPI first); ``length`` is the on-wire size.

    A capture that cut the header short still gives a record (tshark counts it as ESP too),
    with whatever SPI bytes exist and ``error`` saying what is missing.
    """
    if len(data) >= ESP_HEADER_LEN:
        spi, seq = ESP_HEADER.unpack_from(data)
        return EspPacket(flow, spi, seq, length, data, udp_encap)
    spi = int.from_bytes(data[:4], "big") if len(data) >= 4 else 0
    problem = DecodeProblem(
        len(data), f"ESP header cut short: {len(data)} of {ESP_HEADER_LEN} bytes captured"
    )
    return EspPacket(flow, spi, 0, length, data, udp_encap, problem)
