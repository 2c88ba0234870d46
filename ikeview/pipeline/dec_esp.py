"""ESP SAs on the key side: candidate keys per SPI, keyed once, with ESN high-bit tracking.

RFC 4303 section 2.2.1 / Appendix A: with Extended Sequence Numbers only the low 32 bits are
sent; the receiver infers the high 32 bits from the highest sequence number it has accepted.
We do the same per SA, so the ICV (which covers the high bits) can be checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import overload

from ikeview.crypto.esp import CleanPacket, EspResult, EspSa
from ikeview.crypto.transforms import (
    TRANSFORMS,
    TransformSpec,
    TransformType,
    UnsupportedTransform,
    encr_spec,
    integ_spec,
    is_aead,
)
from ikeview.keys.model import EspKeys
from ikeview.pipeline.ids import IkeSpis, IntegrityVerdict
from ikeview.pipeline.seam import EspOpened

_HALF = 1 << 31
# Tried, in this order, when a key file gives an integrity key but no algorithm: the HMACs
# (RFC 2403/2404/4868) whose key length equals the key's.
_GUESSED_INTEG = (2, 12, 13, 14, 1)
# Likewise ciphers: AES-CBC first, then 3DES, AES-CTR, AES-GCM-16.
_GUESSED_ENCR = (12, 3, 13, 20)
_LOW_MASK = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class EspCandidate:
    """One way to decrypt an SA: keys plus transforms, keyed once."""

    sa: EspSa
    """The keyed cipher/MAC objects (reused for every packet)."""
    keys: EspKeys
    """The keys as a key-ring record."""
    origin: str
    """Where they came from, for problem lines."""
    dh: str = ""
    """The unscoped ``[[dh]]`` whose g^ir made this PFS KEYMAT by trial (``key_origin``), or
    empty: lets a silent SA be keyed by elimination once the other secrets found their SAs."""


class EspEntry:
    """One ESP SA (SPI + outer addresses) and its candidate keys."""

    __slots__ = (
        "candidates",
        "dst",
        "esn",
        "fast",
        "ike",
        "last_seq",
        "pinned",
        "spi",
        "src",
        "verified",
    )

    def __init__(
        self, spi: int, src: str | None, dst: str | None, *, esn: bool, ike: IkeSpis | None
    ) -> None:
        self.spi = spi
        self.src = None if src in (None, "*") else src
        self.dst = None if dst in (None, "*") else dst
        self.esn = esn
        self.ike = ike
        self.candidates: list[EspCandidate] = []
        self.pinned: EspCandidate | None = None
        self.fast: Callable[..., CleanPacket | None] | None = None
        """The pinned SA's ``decrypt_clean``, when no per-packet state (ESN) is needed: the hot
        path, fed to :func:`fast_opened`."""
        self.verified = False
        """True once a packet's ICV/tag verified with the pinned keys."""
        self.last_seq = 0
        """Highest sequence number (64 bits with ESN) that verified."""

    def matches(self, src: str, dst: str) -> bool:
        """True when a packet from ``src`` to ``dst`` can belong to this SA."""
        return (self.src is None or self.src == src) and (self.dst is None or self.dst == dst)

    def chosen(self) -> EspCandidate | None:
        """The candidate that verified, or the only one."""
        if self.pinned is not None:
            return self.pinned
        return self.candidates[0] if len(self.candidates) == 1 else None

    def open(self, data: bytes) -> EspOpened:
        """Decrypt one packet (SPI .. ICV) with the pinned keys, or find the keys that fit."""
        pinned = self.pinned
        if pinned is not None:
            if self.esn:
                # Hot path with ESN: the epoch inferred from the highest verified sequence
                # number; anything but a clean packet (a late one from the other side of a
                # wrap, a bad ICV ...) goes the full way below.
                low = int.from_bytes(data[4:8], "big")
                high = _infer_high(self.last_seq, low)
                clean = pinned.sa.decrypt_clean(data, high)
                if clean is not None:
                    if clean[2]:
                        seq = high << 32 | low
                        if seq > self.last_seq:
                            self.last_seq = seq
                    return fast_opened(clean)
            result = self._decrypt(pinned, data)
            return _opened(result, self.spi, pinned.origin)
        last: tuple[EspResult, EspCandidate] | None = None
        for cand in self.candidates:
            result = self._decrypt(cand, data)
            if result.integrity_ok or (result.integrity_ok is None and result.error is None):
                self.pinned = cand
                self.verified = bool(result.integrity_ok)
                self.fast = None if self.esn else cand.sa.decrypt_clean
                return _opened(result, self.spi, cand.origin)
            last = (result, cand)
        if last is None:
            return EspOpened(False, None, None, None, f"no keys for ESP SPI 0x{self.spi:08x}")
        if len(self.candidates) > 1:
            tried = ", ".join(c.origin for c in self.candidates)
            return EspOpened(
                False,
                "failed" if last[0].integrity_ok is False else None,
                None,
                None,
                f"none of {len(self.candidates)} candidate keys for ESP SPI 0x{self.spi:08x}"
                f" verifies ({tried})",
            )
        return _opened(last[0], self.spi, last[1].origin)

    def _decrypt(self, cand: EspCandidate, data: bytes) -> EspResult:
        if not self.esn:
            return cand.sa.decrypt(data)
        low = int.from_bytes(data[4:8], "big")
        high = _infer_high(self.last_seq, low)
        result = cand.sa.decrypt(data, high)
        if result.integrity_ok is False:
            # A packet from just behind a wrap of the low half: try the neighbouring epoch.
            for other in (high + 1, high - 1):
                if other < 0:
                    continue
                retry = cand.sa.decrypt(data, other)
                if retry.integrity_ok:
                    result = retry
                    break
        if result.integrity_ok and result.seq > self.last_seq:
            self.last_seq = result.seq
        return result


def _infer_high(last: int, low: int) -> int:
    # RFC 4303 Appendix A2.2 in spirit: pick the epoch that puts `low` closest to the highest
    # sequence number seen so far.
    th, tl = last >> 32, last & _LOW_MASK
    if low >= tl:
        return th - 1 if low - tl > _HALF and th > 0 else th
    return th + 1 if tl - low > _HALF else th


# The generated __init__ of a frozen dataclass sets each field through object.__setattr__, which
# costs about as much as decrypting a small packet. A good packet's EspOpened is filled as an
# instance of a plain twin class with the same slots (plain attribute stores) and then given its
# real class; CPython allows that switch between identical slot layouts and the result is an
# ordinary frozen EspOpened (same type, equality, hash). ~0.22 us against ~0.35 us through the
# slot descriptors, on a path that runs once per ESP packet.
class _EspOpenedFill:
    __slots__ = EspOpened.__slots__
    # Declared for the type checker only (no class attributes, so no clash with the slots).
    decrypted: bool
    integrity: IntegrityVerdict | None
    next_header: int | None
    inner: bytes | None
    problem: str | None


_new = object.__new__
_VERDICT: dict[bool | None, IntegrityVerdict | None] = {True: "ok", None: None}


@overload
def fast_opened(clean: CleanPacket) -> EspOpened: ...
@overload
def fast_opened(clean: None) -> None: ...
def fast_opened(clean: CleanPacket | None) -> EspOpened | None:
    """EspOpened for a packet that decrypted cleanly; None when the slow path must judge it."""
    if clean is None:
        return None
    out = _new(_EspOpenedFill)
    out.decrypted = True
    out.next_header, out.inner, ok = clean
    out.integrity = _VERDICT[ok]
    out.problem = None
    out.__class__ = EspOpened  # type: ignore[assignment]  # the class switch (see above)
    return out  # type: ignore[return-value]  # an EspOpened now: mypy cannot follow it


def _opened(result: EspResult, spi: int, origin: str) -> EspOpened:
    ok = result.integrity_ok
    if ok is False:
        return EspOpened(
            False,
            "failed",
            None,
            None,
            f"ICV check failed for ESP SPI 0x{spi:08x}: keys {origin} do not verify"
            f" ({result.error})",
        )
    verdict: IntegrityVerdict | None = "ok" if ok else None
    if result.pad_len is None or (ok is None and result.error is not None):
        return EspOpened(
            False,
            verdict,
            result.next_header,
            None,
            f"ESP SPI 0x{spi:08x} did not decrypt with keys {origin}: {result.error}",
        )
    return EspOpened(True, verdict, result.next_header, result.payload, result.error)


def build_candidates(keys: EspKeys, origin: str, *, esn: bool) -> tuple[list[EspCandidate], str]:
    """Keyed candidates for one EspKeys record; guesses algorithms a key file left out.

    Returns the candidates and, when there are none, why.
    """
    encr_rows = _encr_guesses(keys)
    if not encr_rows:
        return [], "the encryption algorithm is unknown and the key length fits none"
    out: list[EspCandidate] = []
    why = ""
    for encr in encr_rows:
        integ_rows = [(None, b"")] if is_aead(encr) else _integ_guesses(keys)
        for integ, ikey in integ_rows:
            try:
                sa = EspSa(encr, keys.encr_key or b"", integ, ikey, esn=esn)
            except (ValueError, UnsupportedTransform) as exc:
                why = str(exc)
                continue
            out.append(EspCandidate(sa, keys, origin))
    return out, why


def _encr_guesses(keys: EspKeys) -> list[TransformSpec]:
    key = keys.encr_key or b""
    if keys.encr is not None:
        try:
            return [encr_spec(keys.encr, keys.encr_key_bits, key)]
        except UnsupportedTransform:
            return []
    # No algorithm given: every cipher whose keying material is this long (CBC first).
    rows = [
        r
        for r in TRANSFORMS.values()
        if r.type is TransformType.ENCR and r.keymat_len == len(key) and r.id in _GUESSED_ENCR
    ]
    return sorted(rows, key=lambda r: _GUESSED_ENCR.index(r.id))


def _integ_guesses(keys: EspKeys) -> list[tuple[TransformSpec | None, bytes | None]]:
    if keys.integ is not None or keys.icv_unchecked is not None:
        try:
            spec = integ_spec(keys.integ, keys.icv_unchecked)
        except UnsupportedTransform:
            return []
        if spec is not None and keys.integ is None:
            return [(spec, None)]  # ICV of known length, no key to check it with
        return [(spec, keys.integ_key or b"")]
    if keys.integ_key is None:
        return [(None, b"")]
    return [
        (r, keys.integ_key)
        for r in TRANSFORMS.values()
        if r.type is TransformType.INTEG
        and r.key_len == len(keys.integ_key)
        and r.id in _GUESSED_INTEG
    ]
