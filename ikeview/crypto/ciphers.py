"""ENCR transforms for SK payloads and ESP, one object per key, reused for every packet.

Uniform API: ``decrypt(iv, ciphertext, aad, icv) -> plaintext`` and
``encrypt(iv, plaintext, aad) -> (ciphertext, icv)``. Non-AEAD ciphers ignore ``aad`` and
expect an empty ``icv`` (integrity is the INTEG transform's job, see ``integ.py``). AEAD ciphers
raise :class:`AeadTagError` (an :class:`IntegrityError`) when the tag does not verify; tag
comparison is done inside OpenSSL (constant time). Keying material is passed as negotiated:
cipher key followed by the salt/nonce octets (RFC 7296 section 2.17, RFC 5282 section 7.1).
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from ikeview.crypto.mac import IntegrityError
from ikeview.crypto.octets import Octets
from ikeview.crypto.transforms import KeyLengthError, TransformSpec, TransformType


class AeadTagError(IntegrityError):
    """The AEAD tag (GCM, CCM, ChaCha20-Poly1305, GMAC) did not verify."""


class CipherInputError(ValueError):
    """IV, ciphertext or ICV of a length the transform cannot take."""


class EncrCipher:
    """Base class: one ENCR transform keyed once. Subclasses implement ``_decrypt``/``_encrypt``."""

    __slots__ = ("spec",)

    def __init__(self, spec: TransformSpec) -> None:
        self.spec = spec

    def decrypt(self, iv: bytes, ciphertext: Octets, aad: Octets = b"", icv: Octets = b"") -> bytes:
        """Plaintext of ``ciphertext``; AEAD tag ``icv`` checked over ``aad`` and the data."""
        self._check(iv, icv)
        if len(ciphertext) % self.spec.block_len:
            raise CipherInputError(
                f"{self.spec.short_name}: ciphertext of {len(ciphertext)} octets is not a multiple"
                f" of the {self.spec.block_len}-octet block"
            )
        return self._decrypt(iv, ciphertext, aad, icv)

    def decrypt_joined(self, iv: bytes, data: Octets, aad: Octets = b"") -> bytes:
        """Like ``decrypt`` for ``data`` = ciphertext | ICV, the layout of SK payloads and ESP.

        AEAD ciphers that take the tag appended skip the split (no copy of the payload).
        """
        cut = len(data) - self.spec.icv_len
        if cut < 0:
            raise CipherInputError(f"{self.spec.short_name}: shorter than the ICV")
        return self.decrypt(iv, data[:cut], aad, data[cut:])

    def encrypt(self, iv: bytes, plaintext: bytes, aad: Octets = b"") -> tuple[bytes, bytes]:
        """(ciphertext, icv) for ``plaintext``; used to build test packets and cross-checks."""
        self._check(iv, bytes(self.spec.icv_len))
        if len(plaintext) % self.spec.block_len:
            raise CipherInputError(f"{self.spec.short_name}: plaintext is not block aligned")
        return self._encrypt(iv, plaintext, aad)

    def _check(self, iv: bytes, icv: Octets) -> None:
        if len(iv) != self.spec.iv_len:
            raise CipherInputError(
                f"{self.spec.short_name}: IV must be {self.spec.iv_len} octets, got {len(iv)}"
            )
        if len(icv) != self.spec.icv_len:
            raise CipherInputError(
                f"{self.spec.short_name}: ICV must be {self.spec.icv_len} octets, got {len(icv)}"
            )

    def _decrypt(self, iv: bytes, ciphertext: Octets, aad: Octets, icv: Octets) -> bytes:
        raise NotImplementedError

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: Octets) -> tuple[bytes, bytes]:
        raise NotImplementedError


class NullCipher(EncrCipher):
    """ENCR_NULL (RFC 2410): the payload is sent in the clear."""

    __slots__ = ()

    def _decrypt(self, iv: bytes, ciphertext: Octets, aad: Octets, icv: Octets) -> bytes:
        return bytes(ciphertext)

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: Octets) -> tuple[bytes, bytes]:
        return bytes(plaintext), b""


class CbcCipher(EncrCipher):
    """AES-CBC (RFC 3602) and 3DES-CBC (RFC 2451): explicit IV in front of the ciphertext."""

    __slots__ = ("_algorithm", "_block", "chain_update")

    def __init__(self, spec: TransformSpec, key: bytes) -> None:
        super().__init__(spec)
        # The key schedule object is built once; only the mode (carrying the IV) is per packet.
        self._algorithm = TripleDES(key) if spec.id == 3 else algorithms.AES(key)
        self._block = spec.block_len
        # A new CBC context per packet costs ~6 us, several times the decryption itself. CBC
        # decryption is P[i] = D(C[i]) XOR C[i-1] (RFC 3602 section 2, NIST SP 800-38A 6.2), so
        # one long-lived context fed IV | C[0] .. C[n-1] gives D(IV) XOR <chain state> (thrown
        # away) and then exactly P[0] .. P[n-1], whatever packet went through it before. Fed
        # only whole blocks (padding is off), it never carries a partial block over.
        self.chain_update: Callable[[bytes], bytes] = (
            Cipher(self._algorithm, modes.CBC(bytes(self._block))).decryptor().update
        )
        """``chain_update(iv + ciphertext)[block_len:]`` is the plaintext; whole blocks only."""

    def _decrypt(self, iv: bytes, ciphertext: Octets, aad: Octets, icv: Octets) -> bytes:
        # decrypt() has checked the IV length and that the ciphertext is whole blocks.
        return self.chain_update(b"".join((iv, ciphertext)))[self._block :]

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: Octets) -> tuple[bytes, bytes]:
        enc = Cipher(self._algorithm, modes.CBC(iv)).encryptor()
        return enc.update(plaintext) + enc.finalize(), b""


class CtrCipher(EncrCipher):
    """AES-CTR (RFC 3686 for ESP, RFC 5930 for IKEv2).

    RFC 3686 section 4: counter block = nonce (4, the last octets of the keymat) | IV (8) |
    block counter (4, big endian) starting at 1.
    """

    __slots__ = ("_algorithm", "_nonce")

    def __init__(self, spec: TransformSpec, key: bytes, nonce: bytes) -> None:
        super().__init__(spec)
        self._algorithm = algorithms.AES(key)
        self._nonce = nonce

    def _keystream_xor(self, iv: bytes, data: Octets) -> bytes:
        ctx = Cipher(self._algorithm, modes.CTR(self._nonce + iv + b"\x00\x00\x00\x01"))
        enc = ctx.encryptor()
        return enc.update(data) + enc.finalize()

    def _decrypt(self, iv: bytes, ciphertext: Octets, aad: Octets, icv: Octets) -> bytes:
        return self._keystream_xor(iv, ciphertext)

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: Octets) -> tuple[bytes, bytes]:
        return self._keystream_xor(iv, plaintext), b""


class GcmCipher(EncrCipher):
    """AES-GCM with an 8, 12 or 16-octet ICV (RFC 4106 for ESP, RFC 5282 for IKEv2).

    RFC 4106 section 4: nonce = salt (4, the last octets of the keymat) | IV (8). The 8/12-octet
    ICVs are the leftmost octets of the GCM tag (RFC 4106 section 6). ``AESGCM`` only checks
    16-octet tags, so short tags go through ``modes.GCM(nonce, tag, min_tag_length=len(tag))``,
    which lets OpenSSL compare the truncated tag itself (constant time).
    """

    __slots__ = ("_algorithm", "aesgcm", "salt")

    def __init__(self, spec: TransformSpec, key: bytes, salt: bytes) -> None:
        super().__init__(spec)
        self.aesgcm = AESGCM(key)
        """The keyed AESGCM, public for ESP's GCM-16 hot path (tag appended, 16 octets)."""
        self._algorithm = algorithms.AES(key)
        self.salt = salt
        """The 4 salt octets in front of each IV in the nonce."""

    def _decrypt(self, iv: bytes, ciphertext: Octets, aad: Octets, icv: Octets) -> bytes:
        nonce = self.salt + iv
        try:
            if len(icv) == 16:
                return self.aesgcm.decrypt(nonce, b"".join((ciphertext, icv)), aad or None)
            dec = Cipher(self._algorithm, modes.GCM(nonce, bytes(icv), min_tag_length=len(icv)))
            ctx = dec.decryptor()
            if aad:
                ctx.authenticate_additional_data(aad)
            return ctx.update(ciphertext) + ctx.finalize()
        except InvalidTag:
            raise AeadTagError(f"{self.spec.short_name}: ICV does not verify") from None

    def decrypt_joined(self, iv: bytes, data: Octets, aad: Octets = b"") -> bytes:
        if self.spec.icv_len != 16 or len(iv) != 8 or len(data) < 16:
            return super().decrypt_joined(iv, data, aad)
        try:
            return self.aesgcm.decrypt(self.salt + iv, data, aad or None)
        except InvalidTag:
            raise AeadTagError(f"{self.spec.short_name}: ICV does not verify") from None

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: Octets) -> tuple[bytes, bytes]:
        out = self.aesgcm.encrypt(self.salt + iv, plaintext, aad or None)
        return out[:-16], out[-16 : len(out) - 16 + self.spec.icv_len]


class GmacCipher(EncrCipher):
    """ENCR_NULL_AUTH_AES_GMAC (RFC 4543): integrity only, the payload stays in the clear.

    RFC 4543 section 3.2/5: nonce = salt | IV as for GCM; the GCM plaintext is empty and the
    AAD is SPI | sequence number [| ESN high] | IV | payload (with padding and trailer), so the
    caller's ``aad`` is extended here with the IV and the cleartext data.
    """

    __slots__ = ("_aead", "_salt")

    def __init__(self, spec: TransformSpec, key: bytes, salt: bytes) -> None:
        super().__init__(spec)
        self._aead = AESGCM(key)
        self._salt = salt

    def _decrypt(self, iv: bytes, ciphertext: Octets, aad: Octets, icv: Octets) -> bytes:
        try:
            self._aead.decrypt(self._salt + iv, icv, b"".join((aad, iv, ciphertext)))
        except InvalidTag:
            raise AeadTagError(f"{self.spec.short_name}: ICV does not verify") from None
        return bytes(ciphertext)

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: Octets) -> tuple[bytes, bytes]:
        return bytes(plaintext), self._aead.encrypt(
            self._salt + iv, b"", b"".join((aad, iv, plaintext))
        )


class _PlainAead(EncrCipher):
    """Shared body of CCM and ChaCha20-Poly1305: nonce = salt | IV, tag after the data."""

    __slots__ = ("_aead", "_salt")

    def __init__(self, spec: TransformSpec, aead: AESCCM | ChaCha20Poly1305, salt: bytes) -> None:
        super().__init__(spec)
        self._aead = aead
        self._salt = salt

    def _decrypt(self, iv: bytes, ciphertext: Octets, aad: Octets, icv: Octets) -> bytes:
        try:
            return self._aead.decrypt(self._salt + iv, b"".join((ciphertext, icv)), aad or None)
        except InvalidTag:
            raise AeadTagError(f"{self.spec.short_name}: ICV does not verify") from None

    def decrypt_joined(self, iv: bytes, data: Octets, aad: Octets = b"") -> bytes:
        if len(iv) != 8 or len(data) < self.spec.icv_len:
            return super().decrypt_joined(iv, data, aad)
        try:
            return self._aead.decrypt(self._salt + iv, data, aad or None)
        except InvalidTag:
            raise AeadTagError(f"{self.spec.short_name}: ICV does not verify") from None

    def _encrypt(self, iv: bytes, plaintext: bytes, aad: Octets) -> tuple[bytes, bytes]:
        out = self._aead.encrypt(self._salt + iv, plaintext, aad or None)
        cut = len(out) - self.spec.icv_len
        return out[:cut], out[cut:]


class CcmCipher(_PlainAead):
    """AES-CCM, ICV 8/12/16 (RFC 4309 section 4: nonce = salt (3) | IV (8), 11 octets)."""

    __slots__ = ()

    def __init__(self, spec: TransformSpec, key: bytes, salt: bytes) -> None:
        super().__init__(spec, AESCCM(key, tag_length=spec.icv_len), salt)


class ChaCha20Poly1305Cipher(_PlainAead):
    """ChaCha20-Poly1305 (RFC 7634 section 2: nonce = salt (4) | IV (8), 16-octet tag)."""

    __slots__ = ()

    def __init__(self, spec: TransformSpec, key: bytes, salt: bytes) -> None:
        super().__init__(spec, ChaCha20Poly1305(key), salt)


def make_cipher(spec: TransformSpec, keymat: bytes) -> EncrCipher:
    """Key one ENCR transform; ``keymat`` is key | salt exactly as drawn from prf+ / SK_e*."""
    if spec.type is not TransformType.ENCR:
        raise ValueError(f"{spec.name} is not an encryption transform")
    if len(keymat) != spec.keymat_len:
        raise KeyLengthError(
            f"{spec.short_name}: keying material must be {spec.keymat_len} octets"
            f" ({spec.key_len} key + {spec.salt_len} salt), got {len(keymat)}"
        )
    key, salt = bytes(keymat[: spec.key_len]), bytes(keymat[spec.key_len :])
    match spec.id:
        case 11:
            return NullCipher(spec)
        case 3 | 12:
            return CbcCipher(spec, key)
        case 13:
            return CtrCipher(spec, key, salt)
        case 18 | 19 | 20:
            return GcmCipher(spec, key, salt)
        case 14 | 15 | 16:
            return CcmCipher(spec, key, salt)
        case 21:
            return GmacCipher(spec, key, salt)
        case 28:
            return ChaCha20Poly1305Cipher(spec, key, salt)
    raise ValueError(f"{spec.name}: no cipher implementation")
