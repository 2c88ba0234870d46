"""Names printed for IANA numbers, in the three spellings ikeview shows: IANA's, strongSwan's and
the TUI's short form. Every view, report and key reader names numbers through here, so a name
is spelt the same everywhere and comes from the registries, never from a second table.

None of these raise: an unassigned number gets a name too (``UNASSIGNED(60)``, ``ENCR_99``).
"""

from __future__ import annotations

from enum import IntEnum

from ikeview.iana import registries as r

# ------------------------------------------------------------------ IANA names, by registry


def exchange_name(number: int) -> str:
    """IANA IKEv2 exchange type name."""
    return r.EXCHANGE_TYPES.name(number)


def payload_name(number: int) -> str:
    """IANA IKEv2 payload type name (short form, e.g. ``SA``, ``KE``, ``N``)."""
    return r.PAYLOAD_TYPES.name(number)


def notify_name(number: int) -> str:
    """IANA notify message type name."""
    return r.NOTIFY_TYPES.name(number)


def transform_type_name(number: int) -> str:
    """IANA transform type name (ENCR, PRF, INTEG, KE, ESN, ADDKE1..7)."""
    return r.TRANSFORM_TYPES.name(number)


def transform_name(transform_type: int, transform_id: int) -> str:
    """IANA name of a transform ID within its type (``ENCR_AES_GCM_16``, ``ECP_256``)."""
    return r.transform_id_name(transform_type, transform_id)


def protocol_name(number: int) -> str:
    """IANA security protocol name (IKE, AH, ESP)."""
    return r.PROTOCOL_IDS.name(number)


def id_type_name(number: int) -> str:
    """IANA identification type name."""
    return r.ID_TYPES.name(number)


def auth_method_name(number: int) -> str:
    """IANA authentication method name."""
    return r.AUTH_METHODS.name(number)


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


# IANA "Method Types" of the EAP registry (RFC 3748 section 6.2), the ones IKEv2 peers use.
_EAP_METHODS = {
    4: "EAP-MD5", 6: "EAP-GTC", 13: "EAP-TLS", 18: "EAP-SIM", 21: "EAP-TTLS", 23: "EAP-AKA",
    25: "EAP-PEAP", 26: "EAP-MSCHAPv2",
}  # fmt: skip


def eap_method_name(method: int | None) -> str:
    """``EAP-MSCHAPv2``, ``EAP-MD5`` ... or ``EAP type N``; ``EAP`` when the method is unknown."""
    if method is None:
        return "EAP"
    return _EAP_METHODS.get(method, f"EAP type {method}")


# ------------------------------------------------- strongSwan's spelling (keys files, reports)


def _without_prefix(enum: type[IntEnum], prefix: str) -> dict[int, str]:
    return {m.value: m.name.removeprefix(prefix) for m in enum}


ENCR_NAMES: dict[int, str] = _without_prefix(r.EncrId, "ENCR_")
"""IANA ENCR id to name without the ``ENCR_`` prefix (``AES_GCM_16``), as keys files write it."""
INTEG_NAMES: dict[int, str] = _without_prefix(r.IntegId, "AUTH_")
"""IANA INTEG id to name without the ``AUTH_`` prefix (``HMAC_SHA2_256_128``)."""
PRF_NAMES: dict[int, str] = {m.value: m.name for m in r.PrfId}
"""IANA PRF id to its IANA name (``PRF_HMAC_SHA2_256``)."""


def encr_name(encr: int | None, key_bits: int | None) -> str:
    """``AES_CBC_256``-style name for reports; ``?`` when unknown, ``ENCR_<n>`` unassigned."""
    if encr is None:
        return "?"
    base = ENCR_NAMES.get(encr, f"ENCR_{encr}")
    return f"{base}_{key_bits}" if key_bits else base


def integ_name(integ: int | None) -> str:
    """``HMAC_SHA2_256_128``-style name for reports; never raises."""
    return "?" if integ is None else INTEG_NAMES.get(integ, f"INTEG_{integ}")


def prf_name(prf: int | None) -> str:
    """``PRF_HMAC_SHA2_256``-style name for reports; never raises."""
    return "?" if prf is None else PRF_NAMES.get(prf, f"PRF_{prf}")


# The few names charon spells differently from IANA once the ENCR_/AUTH_ prefix is dropped.
_CHARON_NAMES = {
    "3DES": "3DES_CBC",
    "DES": "DES_CBC",
    "CURVE25519": "CURVE_25519",
    "CURVE448": "CURVE_448",
}
_CHARON_ESN = {0: "NO_EXT_SEQ", 1: "EXT_SEQ"}

CHARON_TYPE_ORDER: dict[int, int] = {1: 0, 3: 1, 2: 2, 4: 3, 5: 4}
"""The order charon prints transform types in (ENCR, INTEG, PRF, KE, ESN; ADDKE after), whatever
the wire order: sort by ``CHARON_TYPE_ORDER.get(type, 9)``."""


def charon_transform_name(transform_type: int, transform_id: int, key_length: int | None) -> str:
    """One transform as charon logs it in a proposal: ``AES_CBC_128``, ``HMAC_SHA2_256_128``,
    ``PRF_HMAC_SHA2_256``, ``CURVE_25519``, ``NO_EXT_SEQ``."""
    if transform_type == r.TransformType.ESN:
        return _CHARON_ESN.get(transform_id, f"ESN({transform_id})")
    name = transform_name(transform_type, transform_id)
    for prefix in ("ENCR_", "AUTH_"):
        name = name.removeprefix(prefix)
    name = _CHARON_NAMES.get(name, name)
    return f"{name}_{key_length}" if key_length else name


# ------------------------------------------------------------------ the TUI's short spelling

_SHORTEN = (
    ("ENCR_", ""),
    ("PRF_HMAC_", "PRF_"),
    ("AUTH_HMAC_", "HMAC_"),
    ("AUTH_", ""),
    ("SHA2_", "SHA"),
)


def transform_short(transform_type: int, transform_id: int, key_length: int | None) -> str:
    """``AES-GCM-16-256``, ``PRF-SHA256``, ``HMAC-SHA256-128``, ``ECP-256`` for one transform."""
    if transform_type == r.TransformType.ESN:
        return "ESN" if transform_id == 1 else "NO-ESN"
    name = transform_name(transform_type, transform_id)
    for old, new in _SHORTEN:
        name = name.replace(old, new)
    if key_length:
        name = f"{name}_{key_length}"
    return name.replace("_", "-")
