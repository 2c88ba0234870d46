"""Names printed for IANA numbers, in the three spellings ikeview shows: IANA's, strongSwan's and
the TUI's short form. Every view, report and key reader names numbers through here, so a name
is spelt the same everywhere and comes from the registries, never from a second table.

None of these raise: an unassigned number gets a name too (``UNASSIGNED(60)``, ``ENCR_99``).
"""

from __future__ import annotations

from enum import IntEnum

from ikeview.iana import registries as r

# Re-exported: the IP-level names live in ip_names.py, which imports no IKEv2 registry.
from ikeview.iana.ip_names import icmp_type_name, ip_protocol_name, next_header_name  # noqa: F401

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


# The few names charon spells differently from IANA once the ENCR_/AUTH_ prefix is dropped
# (strongSwan crypter.c encryption_algorithm_names, key_exchange.c key_exchange_method_names).
_CHARON_NAMES = {
    "3DES": "3DES_CBC",
    "DES": "DES_CBC",
    "RC5": "RC5_CBC",
    "IDEA": "IDEA_CBC",
    "CAST": "CAST_CBC",
    "BLOWFISH": "BLOWFISH_CBC",
    "NULL_AUTH_AES_GMAC": "NULL_AES_GMAC",
    "BRAINPOOL_P224R1": "ECP_224_BP",
    "BRAINPOOL_P256R1": "ECP_256_BP",
    "BRAINPOOL_P384R1": "ECP_384_BP",
    "BRAINPOOL_P512R1": "ECP_512_BP",
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
