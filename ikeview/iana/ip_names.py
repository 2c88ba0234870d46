"""Names of IP protocol numbers, ICMP/ICMPv6 types and ESP Next Header values (re-exported by
names.py): the inner flows of decrypted ESP are named with these alone, so they import none of
the IKEv2 registries.
"""

from __future__ import annotations

IP_PROTOCOLS: dict[int, str] = {
    0: "HOPOPT", 1: "ICMP", 2: "IGMP", 4: "IPv4", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE",
    50: "ESP", 51: "AH", 58: "ICMPv6", 59: "NoNxt", 89: "OSPF", 103: "PIM", 112: "VRRP",
    132: "SCTP", 136: "UDPLite",
}  # fmt: skip
"""IANA "Assigned Internet Protocol Numbers" likely to be seen inside a tunnel."""

# RFC 792 and the IANA "ICMP Type Numbers" registry (names as tcpdump prints them).
ICMP_TYPES: dict[int, str] = {
    0: "echo-reply", 3: "dest-unreachable", 4: "source-quench", 5: "redirect",
    8: "echo-request", 9: "router-advertisement", 10: "router-solicitation",
    11: "time-exceeded", 12: "parameter-problem", 13: "timestamp-request", 14: "timestamp-reply",
}  # fmt: skip
# RFC 4443 section 2.1 and RFC 4861 section 4 (IANA "ICMPv6 Type Numbers").
ICMPV6_TYPES: dict[int, str] = {
    1: "dest-unreachable", 2: "packet-too-big", 3: "time-exceeded", 4: "parameter-problem",
    128: "echo-request", 129: "echo-reply", 133: "router-solicitation",
    134: "router-advertisement", 135: "neighbor-solicitation", 136: "neighbor-advertisement",
    137: "redirect",
}  # fmt: skip


def ip_protocol_name(number: int) -> str:
    """IANA name of an IP protocol number (``TCP``, ``ICMPv6``), else ``proto N``."""
    return IP_PROTOCOLS.get(number) or f"proto {number}"


def icmp_type_name(protocol: int, icmp_type: int) -> str:
    """Name of an ICMP (protocol 1) or ICMPv6 (58) type; never raises."""
    table = ICMPV6_TYPES if protocol == 58 else ICMP_TYPES
    return table.get(icmp_type) or f"type {icmp_type}"


def next_header_name(number: int | None) -> str:
    """Name of an ESP Next Header value (IANA protocol numbers, RFC 4303 2.6); 59 marks a
    dummy packet (RFC 4303 2.6); ``?`` when unknown."""
    if number is None:
        return "?"
    if number == 59:
        return "no next header (dummy)"
    return ip_protocol_name(number)


__all__ = [
    "ICMPV6_TYPES",
    "ICMP_TYPES",
    "IP_PROTOCOLS",
    "icmp_type_name",
    "ip_protocol_name",
    "next_header_name",
]
