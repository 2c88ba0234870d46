"""IKEv2 pseudorandom functions by IANA id (Transform Type 2) and prf+ (RFC 7296 section 2.13).

Every ``Prf`` is a small immutable description; calling it computes ``prf(key, data)``.
All PRFs run on the keyed MACs of ``ikeview.crypto.mac`` (over ``cryptography``); the AES PRFs
add their RFC's rule for keys that are not exactly 128 bits.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.crypto import mac
from ikeview.crypto.transforms import TRANSFORMS, TransformType
from ikeview.iana import PrfId as PrfId  # IANA's registry, re-exported for callers

# RFC 4434 section 2 / RFC 4615 section 3: the AES PRFs take a 128-bit key internally.
_AES_KEY_LEN = 16


@dataclass(frozen=True, slots=True)
class Prf:
    """One IKEv2 PRF; ``prf(key, data)`` returns ``output_len`` octets."""

    transform_id: int
    """IANA Transform Type 2 id."""
    name: str
    """IANA name, e.g. ``PRF_HMAC_SHA2_256``."""
    kind: str
    """``hmac``, ``xcbc`` or ``cmac``: how the output is computed."""
    algorithm: str
    """Hash name for HMAC PRFs (``sha256`` ...), ``aes128`` for the AES PRFs."""
    output_len: int
    """Octets of one prf() output (the block size of prf+)."""
    key_len: int
    """Preferred key size in octets: the length of SK_d, SK_pi and SK_pr (RFC 7296 2.14)."""

    @property
    def fixed_key(self) -> bool:
        """True if the PRF takes a fixed-size key, so SKEYSEED uses only 64 bits of each nonce.

        RFC 7296 section 2.14: "if the negotiated PRF requires a fixed-length key ... half the
        bits must come from Ni and half from Nr".
        """
        return self.kind != "hmac"

    def keyed(self, key: bytes) -> mac.Mac:
        """The PRF keyed once with ``key``, for many ``compute(data)`` calls."""
        if self.kind == "hmac":
            return mac.Hmac(self.algorithm, key)
        return _aes_mac(self.kind, _aes_prf_key(self.kind, key))

    def __call__(self, key: bytes, data: bytes) -> bytes:
        """prf(key, data)."""
        return self.keyed(key).compute(data)


def _aes_mac(kind: str, key: bytes) -> mac.Mac:
    """AES-XCBC-MAC or AES-CMAC (full 128-bit output) under a 16-octet ``key``."""
    return mac.AesXcbcMac(key) if kind == "xcbc" else mac.AesCmac(key)


def _aes_prf_key(kind: str, key: bytes) -> bytes:
    # A 16-octet key is used as is by both AES PRFs; a longer one becomes MAC(K = 0^128, key).
    # Shorter keys differ: RFC 4434 section 2 (XCBC) pads them on the right with zeros, while
    # RFC 4615 section 3 (CMAC) also runs them through AES-CMAC(0^128, key).
    if len(key) == _AES_KEY_LEN:
        return key
    if len(key) < _AES_KEY_LEN and kind == "xcbc":
        return key.ljust(_AES_KEY_LEN, b"\x00")
    return _aes_mac(kind, bytes(_AES_KEY_LEN)).compute(key)


def _prf(transform_id: int, kind: str, algorithm: str) -> Prf:
    # Name and lengths come from the one transform table; only how to compute it is said here.
    spec = TRANSFORMS[(TransformType.PRF, transform_id, None)]
    return Prf(transform_id, spec.name, kind, algorithm, spec.output_len, spec.key_len)


_PRFS: dict[int, Prf] = {
    p.transform_id: p
    for p in (
        _prf(1, "hmac", "md5"),  # RFC 2104
        _prf(2, "hmac", "sha1"),  # RFC 2104
        _prf(4, "xcbc", "aes128"),  # RFC 4434
        _prf(5, "hmac", "sha256"),  # RFC 4868
        _prf(6, "hmac", "sha384"),
        _prf(7, "hmac", "sha512"),
        _prf(8, "cmac", "aes128"),  # RFC 4615
    )
}


def supported_prfs() -> tuple[int, ...]:
    """IANA ids of every PRF this module computes."""
    return tuple(_PRFS)


def get_prf(transform_id: int) -> Prf:
    """The PRF with IANA Transform Type 2 id ``transform_id``.

    Raises ``KeyError`` naming the id if ikeview does not implement it (3 PRF_HMAC_TIGER and
    private-use ids).
    """
    try:
        return _PRFS[transform_id]
    except KeyError:
        raise KeyError(f"PRF transform id {transform_id} is not supported") from None


# RFC 7296 section 2.13: prf+ (K,S) = T1 | T2 | T3 | T4 | ...
#   T1 = prf (K, S | 0x01), T2 = prf (K, T1 | S | 0x02), ...
# The counter is one octet, so prf+ ends after 255 blocks.
PRF_PLUS_MAX_BLOCKS = 255


def prf_plus(prf: Prf, key: bytes, seed: bytes, length: int) -> bytes:
    """The first ``length`` octets of prf+(key, seed) (RFC 7296 section 2.13)."""
    if length < 0:
        raise ValueError(f"prf+ length must not be negative, got {length}")
    blocks = -(-length // prf.output_len)
    if blocks > PRF_PLUS_MAX_BLOCKS:
        raise ValueError(
            f"prf+ with {prf.name} yields at most {PRF_PLUS_MAX_BLOCKS * prf.output_len} "
            f"octets, {length} asked for"
        )
    keyed = prf.keyed(key)
    out = bytearray()
    t = b""
    for counter in range(1, blocks + 1):
        t = keyed.compute(t, seed, bytes([counter]))
        out += t
    return bytes(out[:length])
