"""Names of the IANA numbers the model carries, for the views.

The model's records keep bare numbers (as on the wire); views that may not import the
dissectors (the TUI) get their names here, from the same registries the dissectors use.
"""

from __future__ import annotations

from ikeview import iana as _IANA

_NEXT_HEADERS = {0: "HOPOPT", 1: "ICMP", 4: "IPv4", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE"}
_NEXT_HEADERS_EXTRA = {50: "ESP", 58: "ICMPv6", 59: "no next header (dummy)", 132: "SCTP"}
"""IANA protocol numbers seen as ESP Next Header (RFC 4303 section 2.6); 59 marks a dummy."""


def exchange_name(number: int) -> str:
    """IANA IKEv2 exchange type name."""
    return _IANA.EXCHANGE_TYPES.name(number)


def payload_name(number: int) -> str:
    """IANA IKEv2 payload type name (short form, e.g. ``SA``, ``KE``, ``N``)."""
    return _IANA.PAYLOAD_TYPES.name(number)


def notify_name(number: int) -> str:
    """IANA notify message type name."""
    return _IANA.NOTIFY_TYPES.name(number)


def transform_type_name(number: int) -> str:
    """IANA transform type name (ENCR, PRF, INTEG, KE, ESN, ADDKE1..7)."""
    return _IANA.TRANSFORM_TYPES.name(number)


def transform_name(transform_type: int, transform_id: int) -> str:
    """IANA name of a transform ID within its type."""
    return _IANA.transform_id_name(transform_type, transform_id)


def protocol_name(number: int) -> str:
    """IANA security protocol name (IKE, AH, ESP)."""
    return _IANA.PROTOCOL_IDS.name(number)


def id_type_name(number: int) -> str:
    """IANA identification type name."""
    return _IANA.ID_TYPES.name(number)


def auth_method_name(number: int) -> str:
    """IANA authentication method name."""
    return _IANA.AUTH_METHODS.name(number)


def next_header_name(number: int | None) -> str:
    """Name of an ESP Next Header value (IANA protocol numbers)."""
    if number is None:
        return "?"
    return _NEXT_HEADERS.get(number) or _NEXT_HEADERS_EXTRA.get(number) or f"proto {number}"
