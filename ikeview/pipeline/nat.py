"""NAT detection recomputed from the capture (RFC 7296 section 2.23).

Each IKE_SA_INIT message carries NAT_DETECTION_SOURCE_IP and NAT_DETECTION_DESTINATION_IP: the
SHA-1 of SPIi | SPIr | IP address | port as the *sender* believes them. Recomputing the hashes with
the addresses the capture shows tells whether a translator changed them between the sender and
the capture point. SHA-1 here is an unkeyed fingerprint, not a protection, so hashlib is fine.
"""

from __future__ import annotations

import hashlib
import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from ikeview.dissectors.ike_records import IkeMessage, NotifyPayload
from ikeview.dissectors.records import Flow

NAT_DETECTION_SOURCE_IP = 16388
NAT_DETECTION_DESTINATION_IP = 16389


def nat_hash(spi_i: bytes, spi_r: bytes, address: str, port: int) -> bytes:
    """RFC 7296 2.23: SHA-1(SPIi | SPIr | IP | Port), address in network order (4 or 16 bytes),
    port as 2 octets. In an IKE_SA_INIT request SPIr is the zero SPI from its header."""
    packed = ipaddress.ip_address(address).packed
    return hashlib.sha1(spi_i + spi_r + packed + struct.pack("!H", port)).digest()


@dataclass(frozen=True, slots=True)
class NatCheck:
    """The NAT_DETECTION notifies of one message compared with its captured addresses."""

    source_matches: bool | None
    """Some NAT_DETECTION_SOURCE_IP hash equals the captured source; None if none was sent.
    False means the sender's own address/port was translated (sender behind NAT)."""
    destination_matches: bool | None
    """The NAT_DETECTION_DESTINATION_IP hash equals the captured destination; None if not sent.
    False means the receiver's address/port differs from what the sender aimed at."""


def check_message(message: IkeMessage, flow: Flow) -> NatCheck:
    """Compare the clear NAT_DETECTION notifies of ``message`` with ``flow``'s addresses."""
    header = message.header
    if header is None:
        return NatCheck(None, None)
    return check(header.spi_i, header.spi_r, message.payloads, flow)


def check(spi_i: bytes, spi_r: bytes, payloads: Iterable[object], flow: Flow) -> NatCheck:
    """Compare the NAT_DETECTION notifies among ``payloads`` (of a message whose header had
    these SPIs) with the addresses and ports ``flow`` shows."""
    src_hashes: list[bytes] = []
    dst_hashes: list[bytes] = []
    for p in payloads:
        if isinstance(p, NotifyPayload):
            if p.notify_type == NAT_DETECTION_SOURCE_IP:
                src_hashes.append(p.data)
            elif p.notify_type == NAT_DETECTION_DESTINATION_IP:
                dst_hashes.append(p.data)
    spis = (spi_i, spi_r)
    # RFC 7296 2.23: a host with several addresses may send several SOURCE_IP notifies; any match
    # means no translation of the one actually used.
    src = None
    if src_hashes:
        src = nat_hash(*spis, flow.src, flow.sport) in src_hashes
    dst = None
    if dst_hashes:
        dst = nat_hash(*spis, flow.dst, flow.dport) in dst_hashes
    return NatCheck(src, dst)


__all__ = ["NatCheck", "check", "check_message", "nat_hash"]
