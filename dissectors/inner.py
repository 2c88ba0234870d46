"""The packet inside a decrypted ESP payload, summarized in one record.

RFC 4303 section 2.6: the Next Header of the ESP trailer names what the payload data is. In
tunnel mode it is a whole IP packet (4 = IPv4, 41 = IPv6), whose header is read with the same
helpers the capture dissector uses (:mod:`ikeview.dissectors.net`); in transport mode it is the
upper-layer header itself (TCP, UDP, ICMP...) and the addresses are the outer ones, which the
caller already has. 59 (No Next Header) marks a dummy packet (RFC 4303 section 2.6, TFC).

:func:`inner_summary` never raises: bytes that stop making sense give a record with ``error``
set and whatever was read before that point.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ikeview.dissectors.errors import DecodeError, DecodeProblem
from ikeview.dissectors.net import ip_text, parse_ipv4, parse_ipv6

from ikeview.iana.ip_names import icmp_type_name, ip_protocol_name

NH_IPV4 = 4
NH_IPV6 = 41
NH_NONE = 59
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58
PROTO_SCTP = 132

_PORTED = frozenset((PROTO_TCP, PROTO_UDP, PROTO_SCTP))
"""Protocols whose header opens with Source Port(2) Destination Port(2): RFC 9293 section 3.1
(TCP), RFC 768 (UDP), RFC 9260 section 3.1 (SCTP common header)."""
_ICMPS = frozenset((PROTO_ICMP, PROTO_ICMPV6))

# RFC 9293 3.1 / RFC 768 / RFC 9260 3.1: Source Port(2) Destination Port(2)
_PORTS = struct.Struct("!HH")

# Names of IP protocol numbers and ICMP types live with the other registries (ikeview.iana);
# protocol_name stays this module's public name for them.
protocol_name = ip_protocol_name


FlowKey = tuple[
    int | None, int, str | None, str | None, int | None, int | None, int | None, int | None, bool
]
"""(ip_version, protocol, src, dst, sport, dport, icmp_type, icmp_code, has error)."""


@dataclass(frozen=True, slots=True)
class InnerSummary:
    """What one decrypted ESP payload carries, as far as its headers tell."""

    ip_version: int | None
    """4 or 6 for an inner IP packet (tunnel mode); None when the payload is not IP."""
    protocol: int
    """IP protocol of the innermost header read: the inner packet's (after extension headers and
    AH), or the ESP Next Header itself in transport mode."""
    src: str | None
    """Inner source address as text; None in transport mode or when cut short."""
    dst: str | None
    """Inner destination address as text; None in transport mode or when cut short."""
    sport: int | None
    """TCP/UDP/SCTP source port; None for other protocols, non-first fragments, or cut short."""
    dport: int | None
    """TCP/UDP/SCTP destination port; None likewise."""
    icmp_type: int | None
    """ICMP/ICMPv6 type; None for other protocols."""
    icmp_code: int | None
    """ICMP/ICMPv6 code; None for other protocols."""
    length: int
    """Bytes of the decrypted payload (padding and trailer already removed)."""
    fragment: bool
    """The inner IP packet is a fragment (so ports are only known for the first one)."""
    error: DecodeProblem | None
    """Where and why reading stopped (offset within the payload); None when it did not."""

    @property
    def key(self) -> FlowKey:
        """The fields that tell one inner flow from another (not the length)."""
        return (
            self.ip_version,
            self.protocol,
            self.src,
            self.dst,
            self.sport,
            self.dport,
            self.icmp_type,
            self.icmp_code,
            self.error is not None,
        )

    def text(self) -> str:
        """One line, e.g. ``IPv4 ICMP 198.51.100.1 > 203.0.113.1 echo-request``."""
        proto = ip_protocol_name(self.protocol)
        if self.protocol == NH_NONE and self.ip_version is None:
            head = "dummy packet (no next header)"
        elif self.ip_version is None and self.protocol in (NH_IPV4, NH_IPV6):
            head = proto  # tunnel mode, but the inner IP header could not be read
        elif self.ip_version is None:
            head = f"transport {proto}"
        else:
            head = f"IPv{self.ip_version} {proto}"
        parts = [head]
        if self.src is not None and self.dst is not None:
            parts.append(f"{_end(self.src, self.sport)} > {_end(self.dst, self.dport)}")
        elif self.sport is not None and self.dport is not None:
            parts.append(f"port {self.sport} > {self.dport}")
        if self.icmp_type is not None:
            name = icmp_type_name(self.protocol, self.icmp_type)
            parts.append(name if not self.icmp_code else f"{name} code {self.icmp_code}")
        if self.fragment:
            parts.append("fragment")
        if self.error is not None:
            parts.append(f"[{self.error.reason}]")
        return " ".join(parts)


def _end(addr: str, port: int | None) -> str:
    """An address with its port: ``a.b.c.d:p``, ``[v6]:p``, or the bare address."""
    if port is None:
        return addr
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def inner_summary(next_header: int, data: bytes) -> InnerSummary:
    """Summarize a decrypted ESP payload whose trailer said ``next_header``; never raises."""
    version: int | None = None
    protocol = next_header
    src = dst = None
    start, end = 0, len(data)
    fragment = False
    first = True  # only the first fragment of an IP packet carries the upper-layer header
    sport = dport = icmp_type = icmp_code = None
    error: DecodeProblem | None = None
    try:
        if next_header in (NH_IPV4, NH_IPV6):
            ip = parse_ipv4(data, 0) if next_header == NH_IPV4 else parse_ipv6(data, 0)
            version, protocol = ip.version, ip.proto
            src, dst = ip_text(ip.src), ip_text(ip.dst)
            start, end = ip.start, ip.end
            fragment = ip.frag_id >= 0
            first = not ip.frag_offset
        if first and protocol in _PORTED:
            if end - start < 4:
                raise DecodeError(start, f"{ip_protocol_name(protocol)} ports cut short")
            sport, dport = _PORTS.unpack_from(data, start)
        elif first and protocol in _ICMPS:
            # RFC 792 / RFC 4443 section 2.1: Type(1) Code(1) Checksum(2) ...
            if end - start < 2:
                raise DecodeError(start, f"{ip_protocol_name(protocol)} header cut short")
            icmp_type, icmp_code = data[start], data[start + 1]
    except DecodeError as exc:
        error = exc.problem()
    return InnerSummary(
        version, protocol, src, dst, sport, dport, icmp_type, icmp_code, len(data), fragment, error
    )


__all__ = [
    "FlowKey",
    "InnerSummary",
    "icmp_type_name",
    "inner_summary",
    "protocol_name",
]
