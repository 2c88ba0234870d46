"""Many ESP packets of one SA at once: the batch form of ``EspSa.decrypt_clean``.

Whole-file decryption spends most of its time on per-call costs, not on AES itself, so a batch
of one SA's packets is opened with as few calls into the cryptography layer as the mode allows:

- AES-GCM-16 (RFC 4106): one call per packet on the SA's keyed ``AESGCM`` (OpenSSL has no batch
  API for AEAD), from a tight loop without an intermediate function per packet.
- AES-CBC (RFC 3602) with an HMAC (RFC 2404, RFC 4868): each ICV through the one-shot
  ``hmac.digest`` (no context object per packet), then the ciphertext of every packet whose ICV
  verified in **one** ECB call. CBC decryption is P[i] = D(C[i]) XOR C[i-1] with C[-1] = IV
  (NIST SP 800-38A section 6.2), so with the packets' IV | C laid end to end in one buffer B,
  D(B) shifted by one block XOR B gives every plaintext block at once (numpy does the XOR);
  the blocks that straddle two packets (an IV decrypted against the previous packet's last
  block) are simply never read.
- anything else: ``decrypt_clean`` per packet.

Every opener answers exactly what ``[decrypt_clean(p) for p in packets]`` answers (tests hold
them to that on good and damaged packets); None still means "ask ``EspSa.decrypt``". They are
for SAs without Extended Sequence Numbers (the ESN high bits depend on the order of packets).
"""

from __future__ import annotations

import hmac as std_hmac
from collections.abc import Callable, Sequence

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ikeview.crypto.transforms import TransformSpec

CleanPacket = tuple[int, bytes, bool | None]
"""(next header, payload, integrity_ok), as ``crypto.esp.CleanPacket``."""
BatchOpen = Callable[[Sequence[bytes]], list[CleanPacket | None]]
"""Packets (SPI .. ICV) of one SA -> per packet its clean result or None."""

# RFC 4303 section 2.4: default padding 1, 2, 3 ... followed by the Pad Length octet; compared
# with plain[-2 - n : -1] (an impossible n gives a shorter slice, which fails the comparison).
_PAD_TRAILERS = tuple(bytes(range(1, n + 1)) + bytes([n]) for n in range(256))
_RESERVED = 255  # next header 255 is reserved (IANA): a wrong key, never a payload
_ESP_HEADER = 8
# INTEG transform id -> hashlib name (RFC 2403/2404 HMAC-MD5/SHA1-96, RFC 4595-style -128/-160
# variants 6/7, RFC 4868 HMAC-SHA2-256/384/512): the ICV is the leftmost icv_len octets.
_HMAC_HASH = {1: "md5", 2: "sha1", 6: "md5", 7: "sha1", 12: "sha256", 13: "sha384", 14: "sha512"}
_AES_CBC = 12


def gcm16_batch(decrypt: Callable[[bytes, bytes, bytes], bytes], salt: bytes) -> BatchOpen:
    """RFC 4106 without ESN: nonce = salt | IV (8), AAD = SPI | Seq, 16-octet tag at the end."""
    trailers, reserved = _PAD_TRAILERS, _RESERVED
    min_len = _ESP_HEADER + 8 + 2 + 16

    # Measured hot loop (one iteration per ESP packet of a whole file): kept inline.
    def open_batch(packets: Sequence[bytes]) -> list[CleanPacket | None]:
        out: list[CleanPacket | None] = []
        add = out.append
        for packet in packets:
            if len(packet) < min_len:
                add(None)
                continue
            try:
                plain = decrypt(salt + packet[8:16], packet[16:], packet[:8])
            except InvalidTag:
                add(None)
                continue
            pad_len = plain[-2]
            next_header = plain[-1]
            if plain[-2 - pad_len : -1] != trailers[pad_len] or next_header == reserved:
                add(None)
            else:
                add((next_header, plain[: -2 - pad_len], True))
        return out

    return open_batch


def cbc_hmac_batch(
    encr: TransformSpec, encr_key: bytes, integ: TransformSpec, integ_key: bytes
) -> BatchOpen | None:
    """AES-CBC with an HMAC, without ESN; None for other pairs (the caller loops instead)."""
    hash_name = _HMAC_HASH.get(integ.id)
    if encr.id != _AES_CBC or hash_name is None or len(integ_key) != integ.key_len:
        return None
    ecb = Cipher(algorithms.AES(encr_key), modes.ECB()).decryptor().update
    icv_len = integ.icv_len
    body_start = _ESP_HEADER + encr.iv_len
    min_len = body_start + 2 + icv_len
    digest, same = std_hmac.digest, std_hmac.compare_digest
    key = bytes(integ_key)

    # Measured hot loop (one iteration per ESP packet of a whole file): kept inline.
    def open_batch(packets: Sequence[bytes]) -> list[CleanPacket | None]:
        out: list[CleanPacket | None] = [None] * len(packets)
        good: list[int] = []
        chunks: list[bytes] = []
        for i, packet in enumerate(packets):
            icv_start = len(packet) - icv_len
            # Whole blocks only (RFC 3602 section 3): anything else is for EspSa.decrypt to say.
            if len(packet) < min_len or (icv_start - body_start) & 15:
                continue
            # RFC 4303 section 3.4.4: the ICV over SPI .. ciphertext, checked before decrypting.
            if not same(digest(key, packet[:icv_start], hash_name)[:icv_len], packet[icv_start:]):
                continue
            good.append(i)
            chunks.append(packet[_ESP_HEADER:icv_start])  # IV | ciphertext
        if not good:
            return out
        plain = _cbc_plain(ecb, b"".join(chunks))
        trailers, reserved = _PAD_TRAILERS, _RESERVED
        at = 0
        for i, chunk in zip(good, chunks, strict=True):
            end = at + len(chunk) - 16  # plain holds no block for the IV
            pad_len = plain[end - 2]
            next_header = plain[end - 1]
            if (
                plain[end - 2 - pad_len : end - 1] == trailers[pad_len]
                and next_header != reserved
                and end - 2 - pad_len >= at
            ):
                out[i] = (next_header, plain[at : end - 2 - pad_len], True)
            at = end + 16
        return out

    return open_batch


def _cbc_plain(ecb: Callable[[bytes], bytes], buf: bytes) -> bytes:
    """``buf`` = IV | C of several packets end to end (whole 16-octet blocks). Returns
    D(buf[16:]) XOR buf[:-16]: octet j is the CBC plaintext of octet j + 16 of ``buf``, so a
    packet whose IV starts at ``at`` has its plaintext at ``[at, at + len(IV | C) - 16)``."""
    decrypted = np.frombuffer(ecb(buf), dtype=np.uint64)
    chained = np.frombuffer(buf, dtype=np.uint64)
    return (decrypted[2:] ^ chained[:-2]).tobytes()


def per_packet(clean: Callable[[bytes], CleanPacket | None]) -> BatchOpen:
    """The batch form of any per-packet opener."""

    def open_batch(packets: Sequence[bytes]) -> list[CleanPacket | None]:
        return [clean(p) for p in packets]

    return open_batch


__all__ = ["BatchOpen", "cbc_hmac_batch", "gcm16_batch", "per_packet"]
