"""INTEG transforms: a keyed MAC truncated to the ICV length the transform puts on the wire.

HMAC-MD5-96 (RFC 2403), HMAC-SHA1-96 (RFC 2404), HMAC-MD5-128 / HMAC-SHA1-160 (RFC 4595),
HMAC-SHA2-256-128/384-192/512-256 (RFC 4868 section 2.3), AES-XCBC-96 (RFC 3566), AES-CMAC-96
(RFC 4494). Truncation keeps the leftmost octets (RFC 2104 section 5).
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives import cmac, constant_time, hmac

from ikeview.crypto.mac import AesCmac, AesXcbcMac, Hmac, IntegrityError, Mac
from ikeview.crypto.octets import Octets
from ikeview.crypto.transforms import KeyLengthError, TransformSpec, TransformType


class IcvMismatch(IntegrityError):
    """The received ICV differs from the one computed with the INTEG key."""


# INTEG id -> hash of the HMAC, or None for the AES-based MACs.
_HMAC_HASH = {1: "md5", 2: "sha1", 6: "md5", 7: "sha1", 12: "sha256", 13: "sha384", 14: "sha512"}


class Integ:
    """One INTEG transform keyed once (SK_ai/SK_ar or a child SA's integrity key)."""

    __slots__ = ("_mac", "icv_len", "keyed_copy", "spec")

    def __init__(self, spec: TransformSpec, key: bytes) -> None:
        if spec.type is not TransformType.INTEG or spec.id == 0:
            raise ValueError(f"{spec.name} is not an integrity algorithm with a key")
        if len(key) != spec.key_len:
            # RFC 4868 section 2.1.1 / RFC 3566 / RFC 4494: the key is exactly the listed size.
            raise KeyLengthError(
                f"{spec.short_name}: key must be {spec.key_len} octets, got {len(key)}"
            )
        self.spec = spec
        self.icv_len = spec.icv_len
        mac: Mac
        # The ESP hot path feeds the MAC inline (update/finalize on a copy of an already keyed
        # context: no key padding per packet, no call through compute()); None for AES-XCBC,
        # which cryptography has no context object for.
        keyed_copy: Callable[[], hmac.HMAC | cmac.CMAC] | None = None
        if spec.id in _HMAC_HASH:
            mac = Hmac(_HMAC_HASH[spec.id], key)
            keyed_copy = mac.keyed_copy
        elif spec.id == 5:
            mac = AesXcbcMac(key)
        elif spec.id == 8:
            mac = AesCmac(key)
            keyed_copy = mac.keyed_copy
        else:
            raise ValueError(f"{spec.name}: no MAC implementation")
        self._mac = mac
        self.keyed_copy = keyed_copy
        """A fresh, keyed MAC context per call (full-length output, truncate to icv_len)."""

    def compute(self, data: Octets, *more: Octets) -> bytes:
        """The truncated ICV over ``data`` followed by ``more``."""
        return self._mac.compute(data, *more)[: self.icv_len]

    def verify(self, icv: Octets, data: Octets, *more: Octets) -> bool:
        """True when ``icv`` matches; the comparison takes the same time wherever it differs."""
        return constant_time.bytes_eq(self.compute(data, *more), bytes(icv))

    def check(self, icv: Octets, data: Octets, *more: Octets) -> None:
        """Raise :class:`IcvMismatch` unless ``icv`` matches."""
        if not self.verify(icv, data, *more):
            raise IcvMismatch(f"{self.spec.short_name}: ICV does not verify")


def make_integ(spec: TransformSpec, key: bytes) -> Integ | None:
    """Keyed INTEG transform, or None for NONE (id 0, used with AEAD ciphers)."""
    if spec.type is TransformType.INTEG and spec.id == 0:
        return None
    return Integ(spec, key)
