"""Keyed MAC building blocks: HMAC, AES-XCBC-MAC (RFC 3566) and AES-CMAC (RFC 4493).

Each class is keyed once and reused for every message: the expensive part (key schedule, HMAC
inner/outer pads, XCBC subkeys) happens in ``__init__``, ``compute`` only feeds data. Outputs are
the full, untruncated MAC; truncation to an ICV (``*_96``, ``*_128`` ...) lives in ``integ.py`` and
the PRF key-length rules (RFC 4434, RFC 4615) live in ``prf.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cryptography.hazmat.primitives import cmac, hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ikeview.crypto.octets import Octets

AES_BLOCK = 16
_ZERO_BLOCK = bytes(AES_BLOCK)

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class IntegrityError(ValueError):
    """A MAC, ICV or AEAD tag did not match: the data or the key is wrong."""


class Mac(Protocol):
    """A keyed MAC: ``compute`` returns ``size`` octets over ``data``."""

    size: int

    def compute(self, data: Octets, *more: Octets) -> bytes:
        """MAC over the concatenation of ``data`` and ``more`` (avoids copying big buffers)."""
        ...


class Hmac:
    """HMAC (RFC 2104) with one of md5, sha1, sha256, sha384, sha512, keyed once."""

    __slots__ = ("_base", "hash_name", "keyed_copy", "size")

    def __init__(self, hash_name: str, key: bytes) -> None:
        try:
            algorithm = _HASHES[hash_name]()
        except KeyError:
            known = list(_HASHES)
            raise ValueError(f"HMAC: unknown hash {hash_name!r}, expected one of {known}") from None
        self.hash_name = hash_name
        self.size = algorithm.digest_size
        # HMAC accepts any key length (longer keys are hashed, RFC 2104 section 2); the copy()
        # below reuses the already-padded inner/outer state for every message.
        self._base = hmac.HMAC(bytes(key), algorithm)
        self.keyed_copy: Callable[[], hmac.HMAC] = self._base.copy
        """A fresh context, already keyed, per call: for callers that feed it inline."""

    def compute(self, data: Octets, *more: Octets) -> bytes:
        h = self._base.copy()
        h.update(data)
        for part in more:
            h.update(part)
        return h.finalize()


class AesCmac:
    """AES-CMAC (RFC 4493, NIST SP 800-38B) over cryptography's CMAC, 16-octet output."""

    __slots__ = ("_base", "keyed_copy", "size")

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError(f"AES-CMAC: key must be 16, 24 or 32 octets, got {len(key)}")
        self.size = AES_BLOCK
        self._base = cmac.CMAC(algorithms.AES(bytes(key)))
        self.keyed_copy: Callable[[], cmac.CMAC] = self._base.copy
        """A fresh context, already keyed, per call: for callers that feed it inline."""

    def compute(self, data: Octets, *more: Octets) -> bytes:
        c = self._base.copy()
        c.update(data)  # type: ignore[arg-type]  # reads any buffer; its stub says bytes
        for part in more:
            c.update(part)  # type: ignore[arg-type]  # as above
        return c.finalize()


def _xor16(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(AES_BLOCK, "big")


class AesXcbcMac:
    """AES-XCBC-MAC (RFC 3566) with a 128-bit key, full 16-octet output.

    cryptography has no XCBC, so it is built from AES-ECB (subkeys) and AES-CBC with a zero IV
    (the CBC-MAC chain over all blocks but the last).
    """

    __slots__ = ("_aes_k1", "_k2", "_k3", "size")

    def __init__(self, key: bytes) -> None:
        if len(key) != AES_BLOCK:
            # RFC 3566 section 4: the key is exactly 128 bits; other lengths are the PRF's
            # business (RFC 4434 section 2 pads or compresses them first).
            raise ValueError(f"AES-XCBC-MAC: key must be 16 octets, got {len(key)}")
        # RFC 3566 section 4 (1): K1 = AES(K, 0x01..01), K2 = AES(K, 0x02..02),
        # K3 = AES(K, 0x03..03).
        enc = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
        subkeys = enc.update(b"\x01" * 16 + b"\x02" * 16 + b"\x03" * 16) + enc.finalize()
        self._aes_k1 = algorithms.AES(subkeys[:16])
        self._k2 = subkeys[16:32]
        self._k3 = subkeys[32:48]
        self.size = AES_BLOCK

    def compute(self, data: Octets, *more: Octets) -> bytes:
        message = b"".join((data, *more)) if more else bytes(data)
        n = len(message)
        # RFC 3566 section 4 (2)-(3): all blocks but the last go through the plain CBC-MAC
        # chain E[i] = AES(K1, M[i] XOR E[i-1]) with E[0] = 0. The last block is complete
        # when the message is a non-empty multiple of 16 octets.
        if n and n % AES_BLOCK == 0:
            head, last, subkey = message[: n - AES_BLOCK], message[n - AES_BLOCK :], self._k2
        else:
            cut = n - n % AES_BLOCK
            tail = message[cut:]
            # Pad with a single 1 bit then zeros (10*), and use K3.
            last = tail + b"\x80" + bytes(AES_BLOCK - 1 - len(tail))
            head, subkey = message[:cut], self._k3
        # CBC with a zero IV is exactly that chain, so the last step is fed through the same
        # encryptor: it XORs E[n-1] itself, giving E[n] = AES(K1, M[n] XOR E[n-1] XOR K2|K3)
        # (RFC 3566 section 4 (3)(a)/(b)).
        enc = Cipher(self._aes_k1, modes.CBC(_ZERO_BLOCK)).encryptor()
        if head:
            enc.update(head)
        return enc.update(_xor16(last, subkey))
