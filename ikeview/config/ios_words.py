"""The words of Cisco IOS crypto configuration: IKEv2 proposal and transform-set keywords as
IANA numbers, and the reversible type 7 key encoding."""

from __future__ import annotations

IOS_ENCR = {
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
IOS_HASH = {"md5": (1, 1), "sha1": (2, 2), "sha256": (12, 5), "sha384": (13, 6), "sha512": (14, 7)}
"""IKEv2 proposal ``integrity``/``prf`` keywords to (INTEG id, PRF id)."""
ESP_ENCR = {"esp-des": (2, None), "esp-3des": (3, None), "esp-null": (11, None)}
ESP_VARIABLE = {"esp-aes": (12, 128), "esp-gcm": (20, 128), "esp-gmac": (21, 128)}
"""Transform-set ciphers with an optional key size after them (default 128)."""
ESP_INTEG = {
    "esp-md5-hmac": 1,
    "esp-sha-hmac": 2,
    "esp-sha256-hmac": 12,
    "esp-sha384-hmac": 13,
    "esp-sha512-hmac": 14,
}
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
