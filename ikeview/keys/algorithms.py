"""Algorithm names as users and tools write them, to IANA IKEv2 transform ids.

Accepted spellings: IANA names (``ENCR_AES_GCM_16``, ``AUTH_HMAC_SHA2_256_128``,
``PRF_HMAC_SHA2_256``), strongSwan proposal names (``AES_GCM_16_256``, ``HMAC_SHA1_96``) and
keywords (``aes256gcm16``, ``sha256``, ``prfsha256``), short names (``AES-CBC-256``) and plain
numbers. Matching ignores case, separators, a trailing ``[RFC...]`` and ``SHA2`` vs ``SHA``.
Ids are from IANA "Internet Key Exchange Version 2 (IKEv2) Parameters", Transform Types 1-3.
Names printed for ids (``encr_name`` ...) live with the registries, in :mod:`ikeview.iana.names`.
"""

from __future__ import annotations

import re

from ikeview.crypto.transforms import TransformType, by_id

# Transform Type 1 (ENCR). Names are canonical keys: upper case, no separators.
ENCR_IDS: dict[str, int] = {
    "DES": 2,
    "DESCBC": 2,
    "DESIV64": 1,
    "3DES": 3,
    "3DESCBC": 3,
    "DES3": 3,
    "TRIPLEDESCBC": 3,
    "TRIPLEDES": 3,
    "DESEDE3": 3,
    "RC5": 4,
    "IDEA": 5,
    "CAST": 6,
    "CAST5": 6,
    "CAST5CBC": 6,
    "CAST128": 6,
    "BLOWFISH": 7,
    "BLOWFISHCBC": 7,
    "BF": 7,
    "3IDEA": 8,
    "DESIV32": 9,
    "NULL": 11,
    "AESCBC": 12,
    "AES": 12,
    "AESCTR": 13,
    "AESCCM8": 14,
    "AESCCM12": 15,
    "AESCCM16": 16,
    "AESCCM": 16,
    "AESGCM8": 18,
    "AESGCM12": 19,
    "AESGCM16": 20,
    "AESGCM": 20,
    "NULLAUTHAESGMAC": 21,
    "AESGMAC": 21,
    "NULLAESGMAC": 21,
    "CAMELLIACBC": 23,
    "CAMELLIA": 23,
    "CAMELLIACTR": 24,
    "CAMELLIACCM8": 25,
    "CAMELLIACCM12": 26,
    "CAMELLIACCM16": 27,
    "CHACHA20POLY1305": 28,
    "CHACHA20": 28,
}
"""Canonical ENCR name to IANA id."""

VARIABLE_KEY_ENCR: frozenset[int] = frozenset(
    {12, 13, 14, 15, 16, 18, 19, 20, 21, 23, 24, 25, 26, 27}
)
"""ENCR ids that carry a Key Length attribute (RFC 7296 section 3.3.5)."""

AEAD_ENCR: frozenset[int] = frozenset(
    by_id(TransformType.ENCR, "aead", lambda r: r.aead)
) | frozenset({25, 26, 27})
"""ENCR ids whose ICV is part of the cipher, so INTEG must be NONE: the AEAD rows of crypto's
TRANSFORMS, and Camellia-CCM (RFC 7296's registry; no cipher for it here)."""

# Transform Type 3 (INTEG); 0 is NONE.
INTEG_IDS: dict[str, int] = {
    "NONE": 0,
    "NULL": 0,
    "HMACMD596": 1,
    "MD5": 1,
    "MD596": 1,
    "HMACSHA196": 2,
    "SHA1": 2,
    "SHA": 2,
    "SHA196": 2,
    "DESMAC": 3,
    "KPDKMD5": 4,
    "AESXCBC96": 5,
    "AESXCBC": 5,
    "HMACMD5128": 6,
    "HMACSHA1160": 7,
    "SHA1160": 7,
    "AESCMAC96": 8,
    "AESCMAC": 8,
    "AES128GMAC": 9,
    "AES192GMAC": 10,
    "AES256GMAC": 11,
    "HMACSHA256128": 12,
    "SHA256": 12,
    "SHA256128": 12,
    "HMACSHA384192": 13,
    "SHA384": 13,
    "SHA384192": 13,
    "HMACSHA512256": 14,
    "SHA512": 14,
    "SHA512256": 14,
}
"""Canonical INTEG name (SHA2 spelled SHA) to IANA id."""

# Transform Type 2 (PRF).
PRF_IDS: dict[str, int] = {
    "HMACMD5": 1,
    "MD5": 1,
    "HMACSHA1": 2,
    "SHA1": 2,
    "SHA": 2,
    "HMACTIGER": 3,
    "AES128XCBC": 4,
    "AESXCBC": 4,
    "HMACSHA256": 5,
    "SHA256": 5,
    "HMACSHA384": 6,
    "SHA384": 6,
    "HMACSHA512": 7,
    "SHA512": 7,
    "AES128CMAC": 8,
    "AESCMAC": 8,
}
"""Canonical PRF name to IANA id."""

_RFC_SUFFIX = re.compile(r"\s*\[[^\]]*\]\s*$")
_KEY_PREFIX = re.compile(r"^(AES|CAMELLIA)(128|192|256)(.*)$")
_KEY_SUFFIX = re.compile(r"^(.*?)(128|192|256)$")
# strongSwan keywords may give the ICV in bits: aes128gcm128 is AES_GCM_16 with a 128-bit key.
_ICV_BITS = {
    "GCM64": "GCM8",
    "GCM96": "GCM12",
    "GCM128": "GCM16",
    "CCM64": "CCM8",
    "CCM96": "CCM12",
    "CCM128": "CCM16",
}


def canon(name: str, prefixes: tuple[str, ...] = ()) -> str:
    """Upper case, no ``[RFC..]`` suffix, no IANA prefix, no separators, SHA2 spelled SHA."""
    s = _RFC_SUFFIX.sub("", name).upper()
    s = re.sub(r"[^A-Z0-9]", "", s)
    for p in prefixes:
        if s.startswith(p) and len(s) > len(p):
            s = s[len(p) :]
            break
    return re.sub(r"SHA2(?=256|384|512)", "SHA", s)


def _as_number(value: str | int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if value.strip().isdigit() else None


def parse_encr(value: str | int) -> tuple[int, int | None]:
    """(ENCR id, key bits or None); raises ValueError for an unknown name."""
    n = _as_number(value)
    if n is not None:
        return n, None
    s = canon(str(value), ("ENCR",))
    if s in ENCR_IDS:
        return ENCR_IDS[s], None
    if m := _KEY_PREFIX.match(s):
        # strongSwan keywords put the key size first: aes256gcm16, camellia128ctr.
        rest = _ICV_BITS.get(m.group(3), m.group(3)) or "CBC"
        name = m.group(1) + rest
        if name in ENCR_IDS:
            return ENCR_IDS[name], int(m.group(2))
    # IANA-style names put it last: AES_CBC_256, AES_GCM_16_256.
    if (m := _KEY_SUFFIX.match(s)) and m.group(1) in ENCR_IDS:
        return ENCR_IDS[m.group(1)], int(m.group(2))
    raise ValueError(f"unknown encryption algorithm {value!r}")


def parse_integ(value: str | int) -> int:
    """INTEG id (0 = NONE); raises ValueError for an unknown name."""
    n = _as_number(value)
    if n is not None:
        return n
    s = canon(str(value), ("AUTH", "INTEG"))
    if s in INTEG_IDS:
        return INTEG_IDS[s]
    raise ValueError(f"unknown integrity algorithm {value!r}")


def parse_prf(value: str | int) -> int:
    """PRF id; raises ValueError for an unknown name."""
    n = _as_number(value)
    if n is not None:
        return n
    s = canon(str(value), ("PRF",))
    if s in PRF_IDS:
        return PRF_IDS[s]
    raise ValueError(f"unknown PRF {value!r}")
