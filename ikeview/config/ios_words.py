"""Cisco IOS / IOS-XE IKEv2 and IPsec keywords and the IANA transform values they stand for, and
the reversible type 7 key encoding.

One place for the words: the reader (``ios.read_ios``) maps keywords to values with the first
tables, the snippet writers (``writers``) and the fixes (``diagnosis.keywords``) map values back
with the ``*_WORDS`` tables derived from them, and ``cards`` prints the names ``show crypto
ikev2 sa detailed`` uses. A value missing from a ``*_WORDS`` table has no IOS keyword: the
writers say so rather than invent one.
"""

from __future__ import annotations

from ikeview.config.proposals import Encr

# ----------------------------------------------------------------- crypto ikev2 proposal

IOS_ENCR: dict[str, Encr] = {
    "des": (2, None),
    "3des": (3, None),
    "aes-cbc-128": (12, 128),
    "aes-cbc-192": (12, 192),
    "aes-cbc-256": (12, 256),
    "aes-gcm-128": (20, 128),
    "aes-gcm-192": (20, 192),
    "aes-gcm-256": (20, 256),
}
"""IKEv2 proposal ``encryption`` keywords to (IANA ENCR id, key bits)."""
IOS_HASH: dict[str, tuple[int, int]] = {
    "md5": (1, 1),
    "sha1": (2, 2),
    "sha256": (12, 5),
    "sha384": (13, 6),
    "sha512": (14, 7),
}
"""IKEv2 proposal ``integrity``/``prf`` keywords to (INTEG id, PRF id)."""

_NOT_WRITTEN = frozenset({"aes-gcm-192"})
"""Read when a config has it, never written (the writers never have; kept so)."""

ENCR_WORDS: dict[Encr, str] = {v: k for k, v in IOS_ENCR.items() if k not in _NOT_WRITTEN}
"""(ENCR id, key bits) to the ``encryption`` keyword."""
INTEG_WORDS: dict[int, str] = {integ: k for k, (integ, _prf) in IOS_HASH.items()}
"""INTEG id to the ``integrity`` keyword."""
PRF_WORDS: dict[int, str] = {prf: k for k, (_integ, prf) in IOS_HASH.items()}
"""PRF id to the ``prf`` keyword."""

# ------------------------------------------------------------ crypto ipsec transform-set

ESP_ENCR: dict[str, Encr] = {"esp-des": (2, None), "esp-3des": (3, None), "esp-null": (11, None)}
"""Transform-set ciphers of one size."""
ESP_VARIABLE: dict[str, Encr] = {"esp-aes": (12, 128), "esp-gcm": (20, 128), "esp-gmac": (21, 128)}
"""Transform-set ciphers with an optional key size after them (default 128)."""
ESP_INTEG: dict[str, int] = {
    "esp-md5-hmac": 1,
    "esp-sha-hmac": 2,
    "esp-sha256-hmac": 12,
    "esp-sha384-hmac": 13,
    "esp-sha512-hmac": 14,
}
"""Transform-set integrity keywords to INTEG ids."""

ESP_FIXED_WORDS: dict[Encr, str] = {v: k for k, v in ESP_ENCR.items()}
"""(ENCR id, None) to a one-size transform-set cipher."""
ESP_ENCR_WORDS: dict[int, str] = {ident: k for k, (ident, _bits) in ESP_VARIABLE.items()}
"""ENCR id to a transform-set cipher written with its key size after it."""
ESP_INTEG_WORDS: dict[int, str] = {v: k for k, v in ESP_INTEG.items()}
"""INTEG id to the transform-set integrity keyword."""

# ------------------------------------------------------------------------- ikev2 profile

AUTH_WORDS: dict[int, str] = {1: "rsa-sig", 2: "pre-share", 9: "ecdsa-sig", 10: "ecdsa-sig",
                              11: "ecdsa-sig", 14: "rsa-sig"}  # fmt: skip
"""IKEv2 Auth Method to the profile's ``authentication local|remote`` keyword (14, Digital
Signature, written as rsa-sig)."""

# ------------------------------------------------------------ show crypto ikev2 sa detailed

SHOW_ENCR = {12: "AES-CBC", 13: "AES-CTR", 20: "AES-GCM", 3: "3DES", 2: "DES", 28: "CHACHA20"}
"""ENCR id to the ``Encr:`` name."""
SHOW_HASH = {1: "MD5", 2: "SHA96", 12: "SHA256", 13: "SHA384", 14: "SHA512"}
"""INTEG id to the ``Hash:`` name."""
SHOW_PRF = {1: "MD5", 2: "SHA1", 5: "SHA256", 6: "SHA384", 7: "SHA512"}
"""PRF id to the ``PRF:`` name."""
SHOW_AUTH = {1: "RSA", 2: "PSK", 9: "ECDSA", 10: "ECDSA", 11: "ECDSA", 14: "RSA/ECDSA"}
"""Auth Method to the ``Auth sign:``/``Auth verify:`` name."""

# ------------------------------------------------------------------------ type 7 keys

# The public constant of the reversible "type 7" encoding.
_TYPE7 = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


def decode_type7(encoded: str) -> str | None:
    """The clear text of a Cisco type 7 string; None when it is not one."""
    try:
        seed = int(encoded[:2])
        data = bytes.fromhex(encoded[2:])
    except ValueError:
        return None
    return "".join(chr(b ^ ord(_TYPE7[(seed + i) % len(_TYPE7)])) for i, b in enumerate(data))
