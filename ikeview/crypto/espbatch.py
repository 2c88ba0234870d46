"""Many ESP packets of one SA at once: the batch form of ``EspSa.decrypt_clean``.

Whole-file decryption spends most of its time on per-call costs, not on AES itself, so a batch
of one SA's packets is opened with as few calls into the cryptography layer as the mode allows:

- AES-GCM-16 (RFC 4106): one call per packet on the SA's keyed ``AESGCM`` (OpenSSL has no batch
  API for AEAD), from a tight loop without an intermediate function per packet.
- AES-CBC (RFC 3602) or 3DES-CBC (RFC 2451) with an HMAC (RFC 2404, RFC 4868) or AES-CMAC:
  each ICV on a copy of the keyed MAC context, then the ciphertext of every packet whose ICV
  verified in **one** call. CBC decryption is P[i] = D(C[i]) XOR C[i-1] with C[-1] = IV (NIST
  SP 800-38A section 6.2), so with the packets' IV | C laid end to end in one buffer B, one CBC
  decryption of B gives every plaintext block at once; the block decrypted for each IV (chained
  to the previous packet's last block) is never read. (An ECB call plus a numpy XOR gives the
  same bytes, but importing numpy alone costs ~0.1 s of CPU, as much as decrypting 200,000
  packets this way.)
- anything else: ``decrypt_clean`` per packet.

Every opener answers exactly what ``[decrypt_clean(p) for p in packets]`` answers (tests hold
them to that on good and damaged packets); None still means "ask ``EspSa.decrypt``". They are
for SAs without Extended Sequence Numbers (the ESN high bits depend on the order of packets).
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Sequence
from hmac import compare_digest
from itertools import compress, repeat
from operator import mod, sub

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherAlgorithm, algorithms, modes

from ikeview.crypto.transforms import TransformSpec

CleanPacket = tuple[int, bytes, bool | None]
"""(next header, payload, integrity_ok), as ``crypto.esp.CleanPacket``."""
Octets = bytes | bytearray
"""A packet or part of one, sliced from a Buffer."""
Buffer = bytes | bytearray | mmap.mmap
"""What a batch is read from: the mapped capture file, frames gathered from a reader, or bytes."""
BatchOpen = Callable[[Buffer, Sequence[int], Sequence[int]], list[CleanPacket | None]]
"""``(buffer, starts, ends)``: packet i (SPI .. ICV) of one SA is ``buffer[starts[i]:ends[i]]``
(the batch path passes the mapped capture file, so no packet is copied out whole) -> per packet
its clean result or None."""

# RFC 4303 section 2.4: default padding 1, 2, 3 ... followed by the Pad Length octet; compared
# with plain[-2 - n : -1] (an impossible n gives a shorter slice, which fails the comparison).
_PAD_TRAILERS = tuple(bytes(range(1, n + 1)) + bytes([n]) for n in range(256))
_RESERVED = 255  # next header 255 is reserved (IANA): a wrong key, never a payload
_ESP_HEADER = 8
JOIN = 128
"""Packets whose ciphertexts are joined into one buffer at most: a buffer past glibc's mmap
threshold (128 KiB at first) is a fresh mapping, paid in page faults every time (~0.1 s of system
time per 200,000 CBC packets joined 512 at a time)."""
_CBC: dict[int, Callable[[bytes], CipherAlgorithm]] = {3: TripleDES, 12: algorithms.AES}
"""ENCR_3DES (RFC 2451) and ENCR_AES_CBC (RFC 3602) by transform id."""


def gcm16_batch(decrypt: Callable[[bytes, Octets, Octets], bytes], salt: bytes) -> BatchOpen:
    """RFC 4106 without ESN: nonce = salt | IV (8), AAD = SPI | Seq, 16-octet tag at the end."""
    min_len = _ESP_HEADER + 8 + 2 + 16

    def one(buf: Buffer, a: int, b: int) -> bytes | None:
        if b - a < min_len:
            return None
        try:
            return decrypt(salt + buf[a + 8 : a + 16], buf[a + 16 : b], buf[a : a + 8])
        except InvalidTag:
            return None

    # Measured hot loop (one iteration per ESP packet of a whole file): the usual batch, every
    # packet long enough and authentic, decrypted in one comprehension (no call or test per
    # packet around AESGCM.decrypt: ~8% less than a loop that checks each); any other batch
    # packet by packet (a bad tag costs that batch its decryption twice, no more).
    def open_batch(
        buf: Buffer, starts: Sequence[int], ends: Sequence[int]
    ) -> list[CleanPacket | None]:
        plains: list[bytes | None]
        if min(map(sub, ends, starts), default=min_len) < min_len:
            plains = [one(buf, a, b) for a, b in zip(starts, ends, strict=True)]
        else:
            try:
                plains = [
                    decrypt(salt + buf[a + 8 : a + 16], buf[a + 16 : b], buf[a : a + 8])
                    for a, b in zip(starts, ends, strict=True)
                ]
            except InvalidTag:
                plains = [one(buf, a, b) for a, b in zip(starts, ends, strict=True)]
        return _trailers_checked(plains)

    return open_batch


def _trailers_checked(plains: list[bytes | None]) -> list[CleanPacket | None]:
    """Per decrypted packet (None: not decrypted) the clean result, or None when its Next
    Header is reserved or its padding not RFC 4303's default."""
    trailers, reserved = _PAD_TRAILERS, _RESERVED
    out: list[CleanPacket | None] = []
    add = out.append
    for plain in plains:
        if plain is None:
            add(None)
            continue
        pad_len = plain[-2]
        next_header = plain[-1]
        # RFC 4303 section 2.4: the padding and Pad Length just before the Next Header,
        # compared in place (a Pad Length past the start fails: the span is too short).
        # Ends counted from the back need no len(): once the trailer fits, -2 - pad_len is
        # at least -len(plain), so the payload slice is never empty by wrapping around.
        if next_header == reserved or not plain.endswith(trailers[pad_len], 0, -1):
            add(None)
        else:
            add((next_header, plain[: -2 - pad_len], True))
    return out


def cbc_mac_batch(
    encr: TransformSpec,
    encr_key: bytes,
    keyed_copy: Callable[[], hmac.HMAC | cmac.CMAC],
    icv_len: int,
) -> BatchOpen | None:
    """AES-CBC or 3DES-CBC with an HMAC or AES-CMAC (a keyed context to copy per packet), without
    ESN; None for other ciphers (the caller loops instead)."""
    algorithm = _CBC.get(encr.id)
    if algorithm is None:
        return None
    # One long-lived CBC context (whole blocks only: it never holds a partial block) fed IV | C
    # of every packet end to end XORs each decrypted block with the block before it, inside a
    # packet its chaining, at a packet's first block its IV; the output for each IV is skipped.
    chain = Cipher(algorithm(encr_key), modes.CBC(bytes(encr.block_len))).decryptor().update
    block = encr.block_len
    body_start = _ESP_HEADER + encr.iv_len
    min_len = body_start + 2 + icv_len
    same = compare_digest
    skip = body_start + icv_len  # whole blocks: (length - skip) % block == 0
    overhead = _ESP_HEADER + block + icv_len
    verified = _icv_check(keyed_copy, icv_len, body_start, block)

    # Measured hot loop (one iteration per ESP packet of a whole file): kept inline.
    def open_batch(
        buf: Buffer, starts: Sequence[int], ends: Sequence[int]
    ) -> list[CleanPacket | None]:
        out: list[CleanPacket | None] = [None] * len(starts)
        lens = list(map(sub, ends, starts))
        # The packets are read through a view of the buffer: the MAC and the join below each
        # copy a packet once, not twice (a slice, then its copy). Every slice of the view is
        # gone by the time it is released (a mapped file or a buffer to refill stays free).
        with memoryview(buf) as view:
            if (
                lens
                and min(lens) >= min_len
                and not any(map(mod, map(sub, lens, repeat(skip)), repeat(block)))
            ):
                # RFC 4303 section 3.4.4: the ICV over SPI .. ciphertext, checked before
                # decrypting, on a copy of the keyed context per packet (measured 1.6 us for
                # HMAC-SHA-256 over 600 octets, against 3.9 us for the one-shot hmac.digest,
                # which keys it every time); one comprehension, no call around it.
                n, copy = icv_len, keyed_copy
                ok = [
                    same(
                        (mac := copy()).update(view[a : b - n]) or mac.finalize()[:n],  # type: ignore[arg-type]
                        view[b - n : b],
                    )
                    for a, b in zip(starts, ends, strict=True)
                ]
            else:
                ok = [verified(view, a, b) for a, b in zip(starts, ends, strict=True)]
            authentic = list(compress(range(len(ok)), ok))
            # IV | ciphertext of each, end to end, JOIN packets at a time; the overhead: the
            # octets of a packet that are not its plaintext (ESP header, IV, ICV).
            for k in range(0, len(authentic), JOIN):
                good = authentic[k : k + JOIN]
                joined = b"".join([view[starts[i] + _ESP_HEADER : ends[i] - icv_len] for i in good])
                _cbc_outcomes(out, chain(joined), good, lens, block, overhead)
        return out

    return open_batch


def _icv_check(
    keyed_copy: Callable[[], hmac.HMAC | cmac.CMAC], icv_len: int, body_start: int, block: int
) -> Callable[[memoryview, int, int], bool]:
    """Whether the packet at ``view[a:b]`` has whole blocks and a good ICV."""
    min_len = body_start + 2 + icv_len

    def verified(view: memoryview, a: int, b: int) -> bool:
        icv_start = b - icv_len
        # Whole blocks only (RFC 3602 section 3): anything else is for EspSa.decrypt to say.
        if b - a < min_len or (icv_start - a - body_start) % block:
            return False
        mac = keyed_copy()
        mac.update(view[a:icv_start])  # type: ignore[arg-type]  # bytes-like, as CMAC takes
        return compare_digest(mac.finalize()[:icv_len], view[icv_start:b])

    return verified


def _cbc_outcomes(
    out: list[CleanPacket | None],
    plain: bytes,
    good: list[int],
    lens: list[int],
    block: int,
    overhead: int,
) -> list[CleanPacket | None]:
    """``out`` with the clean result of each packet ``good`` names: ``plain`` is their
    plaintexts end to end, each after the garbage block its IV decrypted to; ``lens`` the
    packets' lengths, ``overhead`` the octets of each that are not plaintext."""
    # Measured hot loop (one iteration per ESP packet of a whole file): kept inline.
    trailers, reserved = _PAD_TRAILERS, _RESERVED
    at = 0
    for i in good:
        at += block  # the output for the IV block: garbage
        end = at + lens[i] - overhead
        pad_len = plain[end - 2]
        next_header = plain[end - 1]
        # The padding and Pad Length compared in place, within this packet's plaintext only (a
        # Pad Length past its start fails: the span is shorter than the trailer).
        if next_header != reserved and plain.endswith(trailers[pad_len], at, end - 1):
            out[i] = (next_header, plain[at : end - 2 - pad_len], True)
        at = end
    return out


def per_packet(clean: Callable[[Octets], CleanPacket | None]) -> BatchOpen:
    """The batch form of any per-packet opener."""

    def open_batch(
        buf: Buffer, starts: Sequence[int], ends: Sequence[int]
    ) -> list[CleanPacket | None]:
        return [clean(buf[a:b]) for a, b in zip(starts, ends, strict=True)]

    return open_batch


__all__ = ["JOIN", "BatchOpen", "cbc_mac_batch", "gcm16_batch", "per_packet"]
