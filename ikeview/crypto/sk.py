"""Decrypt and verify an Encrypted (SK) or Encrypted Fragment (SKF) payload of an IKEv2 message.

Inputs are the whole message as received and the offset of the payload's generic header; the
caller picks SK_ei/SK_ai or SK_er/SK_ar (by the header's Initiator flag). Nothing here parses
the inner payloads: the plaintext comes back as bytes, with the type of the first inner
payload taken from the SK header.

RFC 7296 section 3.14, Encrypted payload:

    Next Payload (1) | C + RESERVED (1) | Payload Length (2) | IV | encrypted
    [inner payloads | padding | Pad Length (1)] | Integrity Checksum Data

RFC 7383 section 2.5, Encrypted Fragment payload: the generic header is followed by Fragment
Number (2) and Total Fragments (2), then the same IV | encrypted | ICV.

Integrity (RFC 7296 section 3.14): the INTEG MAC covers the message from the first octet of
the IKE header to the last octet before the ICV. AEAD (RFC 5282 section 5.1, RFC 7383
section 2.5.3): the AAD is the message from the IKE header to the end of the SK header, or of
the SKF header including the fragment fields, i.e. everything before the IV.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.crypto.ciphers import CipherInputError
from ikeview.crypto.mac import IntegrityError
from ikeview.crypto.suite import key_suite
from ikeview.crypto.transforms import TransformSpec, is_aead

SK = 46
"""Payload type of the Encrypted and Authenticated payload (RFC 7296)."""
SKF = 53
"""Payload type of the Encrypted and Authenticated Fragment payload (RFC 7383)."""
IKE_HEADER_LEN = 28


@dataclass(frozen=True, slots=True)
class SkResult:
    """Outcome of decrypting one SK/SKF payload."""

    plaintext: bytes
    """The inner payloads, with padding and Pad Length removed (empty if decryption failed)."""
    integrity_ok: bool | None
    """ICV/tag verified; None only when the caller supplied no integrity key to check with."""
    pad_length: int | None
    """Pad Length octet; None when the plaintext could not be obtained."""
    error: str | None
    """What went wrong (bad ICV, bad padding, truncated payload); None when all is well."""
    next_payload: int | None = None
    """Type of the first inner payload (SK header's Next Payload; for SKF only meaningful in
    fragment 1)."""
    fragment_number: int | None = None
    """SKF Fragment Number; None for SK."""
    total_fragments: int | None = None
    """SKF Total Fragments; None for SK."""


class SkDecryptor:
    """ENCR (+INTEG) of one direction of an IKE SA, keyed once for all its messages.

    ``integ_key=None`` with a keyed INTEG spec skips the ICV check (integrity_ok None), for
    key tables that give no SK_a (Wireshark's "ANY n-bits of Authentication [No Checking]").
    """

    __slots__ = ("_aead", "_cipher", "_icv_len", "_integ", "encr", "integ")

    def __init__(
        self,
        encr: TransformSpec,
        sk_e: bytes,
        integ: TransformSpec | None = None,
        sk_a: bytes | None = b"",
    ) -> None:
        self.encr = encr
        self.integ = integ
        self._cipher, self._integ, self._icv_len = key_suite(encr, sk_e, integ, sk_a)
        self._aead = is_aead(encr)

    def decrypt(self, message: bytes, offset: int, payload_type: int = SK) -> SkResult:
        """Verify and decrypt the SK (``payload_type`` 46) or SKF (53) payload at ``offset``."""
        if payload_type not in (SK, SKF):
            raise ValueError(f"payload type {payload_type} is neither SK (46) nor SKF (53)")
        msg = memoryview(message)
        header_len = 4 if payload_type == SK else 8
        if offset < IKE_HEADER_LEN or offset + header_len > len(msg):
            return SkResult(b"", False, None, f"no room for the payload header at {offset}")
        next_payload = msg[offset]
        length = int.from_bytes(msg[offset + 2 : offset + 4], "big")
        frag = total = None
        if payload_type == SKF:
            frag = int.from_bytes(msg[offset + 4 : offset + 6], "big")
            total = int.from_bytes(msg[offset + 6 : offset + 8], "big")
        end = offset + length
        iv_start = offset + header_len
        body_start = iv_start + self.encr.iv_len
        icv_start = end - self._icv_len
        if end > len(msg) or icv_start - body_start < 1:
            return SkResult(
                b"", False, None,
                f"payload length {length} at offset {offset} does not fit the message"
                f" ({len(msg)} octets) with IV {self.encr.iv_len} and ICV {self._icv_len}",
                next_payload, frag, total,
            )  # fmt: skip
        iv = bytes(msg[iv_start:body_start])
        integrity_ok: bool | None = None
        errors: list[str] = []
        try:
            if self._aead:
                plain = self._cipher.decrypt_joined(iv, msg[body_start:end], msg[:iv_start])
                integrity_ok = True
            else:
                if self._integ is not None:
                    integrity_ok = self._integ.verify(msg[icv_start:end], msg[:icv_start])
                    if not integrity_ok:
                        errors.append(f"{self._integ.spec.short_name} ICV does not verify")
                # Still decrypted after a bad ICV (a wrong SK_a with a right SK_e reads fine);
                # integrity_ok False tells the caller not to trust it.
                plain = self._cipher.decrypt(iv, msg[body_start:icv_start])
        except IntegrityError:
            return SkResult(
                b"", False, None, f"{self.encr.short_name} ICV does not verify",
                next_payload, frag, total,
            )  # fmt: skip
        except CipherInputError as exc:
            return SkResult(b"", integrity_ok, None, str(exc), next_payload, frag, total)
        inner, pad_length = _unpad(plain, errors)
        error = "; ".join(errors) if errors else None
        return SkResult(inner, integrity_ok, pad_length, error, next_payload, frag, total)


def _unpad(plain: bytes, errors: list[str]) -> tuple[bytes, int]:
    """(inner payloads, Pad Length) of a decrypted SK body; a Pad Length too large for it is
    noted in ``errors`` and leaves nothing."""
    # RFC 7296 section 3.14: the last octet is Pad Length; the padding octets may hold any
    # value, so only their count can be checked.
    pad_length = plain[-1]
    cut = len(plain) - 1 - pad_length
    if cut < 0:
        errors.append(f"pad length {pad_length} exceeds the {len(plain) - 1} decrypted octets")
        cut = 0
    return plain[:cut], pad_length


def decrypt_sk(
    message: bytes,
    offset: int,
    payload_type: int,
    encr: TransformSpec,
    sk_e: bytes,
    integ: TransformSpec | None = None,
    sk_a: bytes | None = b"",
) -> SkResult:
    """One-shot form of :meth:`SkDecryptor.decrypt` (keys the transforms on every call)."""
    return SkDecryptor(encr, sk_e, integ, sk_a).decrypt(message, offset, payload_type)
