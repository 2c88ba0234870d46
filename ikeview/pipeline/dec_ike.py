"""One IKE SA on the key side: its candidate key sets, the one that verified, SKF reassembly.

A candidate is a complete set of SK_* keys with algorithm ids: given in a key file, or derived
from one g^ir candidate (RFC 7296 section 2.14) or from the parent's SK_d (section 2.18). When
several are possible the first SK payload's integrity check picks one, and it stays pinned.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ikeview.crypto.keymat import IkeKeys, derive_ike_keys, derive_rekeyed_ike_keys
from ikeview.crypto.prf import Prf, get_prf
from ikeview.crypto.sk import SkDecryptor
from ikeview.crypto.transforms import (
    TransformType,
    UnsupportedTransform,
    encr_spec,
    integ_spec,
    is_aead,
    lookup,
)
from ikeview.keys.model import IkeSaKeys
from ikeview.pipeline.dec_records import derived_source
from ikeview.pipeline.ids import IkeSpis
from ikeview.pipeline.ike_seam import ChosenAlgorithms, IkeSaSetup


class KeySetupError(ValueError):
    """Keys that cannot be used with the negotiated (or given) algorithms."""


@dataclass(frozen=True, slots=True)
class IkeCandidate:
    """One complete key set for an IKE SA."""

    keys: IkeSaKeys
    """SK_* with algorithm ids filled in from the capture where the key file left them out."""
    origin: str
    """``derived from [[dh]] keys.toml:4`` or ``from [[ike_sa]] keys.toml:9``."""


@dataclass(slots=True)
class Fragments:
    """SKF fragments of one message (RFC 7383 section 2.6), decrypted, waiting for the rest."""

    total: int
    """Total Fragments of the message."""
    parts: dict[int, bytes] = field(default_factory=dict)
    """Fragment Number -> inner plaintext."""
    first_inner: int = 0
    """Next Payload of fragment 1: type of the first inner payload."""
    checked: bool = True
    """False as soon as one fragment's ICV could not be checked (no SK_a)."""


class IkeSaState:
    """Everything the decryptor keeps for one IKE SA."""

    __slots__ = (
        "_sk",
        "candidates",
        "fragments",
        "ids",
        "pinned",
        "setup",
        "spis",
        "verified",
    )

    def __init__(self, spis: IkeSpis, setup: IkeSaSetup | None) -> None:
        self.spis = spis
        self.setup = setup
        self.candidates: list[IkeCandidate] = []
        self.pinned: int | None = None
        self.verified = False
        """True once an ICV/tag verified with the pinned candidate."""
        self.fragments: dict[tuple[int, bool, bool], Fragments] = {}
        """Messages being reassembled, by (Message ID, from initiator, response)."""
        self.ids: set[str] = set()
        self._sk: dict[tuple[int, bool], SkDecryptor | str] = {}

    def chosen(self) -> IkeCandidate | None:
        """The pinned candidate, or the only one; None while it is ambiguous."""
        if self.pinned is not None:
            return self.candidates[self.pinned]
        return self.candidates[0] if len(self.candidates) == 1 else None

    def order(self) -> list[int]:
        """Candidates to try for the next message."""
        return [self.pinned] if self.pinned is not None else list(range(len(self.candidates)))

    def sk_decryptor(self, index: int, from_initiator: bool) -> SkDecryptor | str:
        """SK_e/SK_a of one direction keyed once, or why that is impossible."""
        key = (index, from_initiator)
        if key not in self._sk:
            self._sk[key] = _make_sk(self.candidates[index].keys, from_initiator)
        return self._sk[key]


def _make_sk(keys: IkeSaKeys, from_initiator: bool) -> SkDecryptor | str:
    sk_e = keys.sk_ei if from_initiator else keys.sk_er
    sk_a = keys.sk_ai if from_initiator else keys.sk_ar
    name_e = "SK_ei" if from_initiator else "SK_er"
    if keys.encr is None:
        return "the encryption algorithm is unknown"
    if sk_e is None:
        return f"no {name_e}"
    try:
        encr = encr_spec(keys.encr, keys.encr_key_bits, sk_e)
        integ = None if is_aead(encr) else integ_spec(keys.integ, keys.icv_unchecked)
        if not is_aead(encr) and integ is None:
            return "the integrity algorithm is unknown"
        if integ is not None and keys.icv_unchecked is not None and keys.integ is None:
            sk_a = None  # "ANY n-bits [No Checking]": skip n octets unverified
        return SkDecryptor(encr, sk_e, integ, sk_a)
    except (ValueError, UnsupportedTransform) as exc:
        return str(exc)


def complete(keys: IkeSaKeys, algs: ChosenAlgorithms | None) -> IkeSaKeys:
    """Fill algorithm ids a key file left out with the ones the capture negotiated."""
    if algs is None:
        return keys
    if keys.encr is not None:
        # The file names its own cipher (e.g. Wireshark's CTR trick for a CCM SA): keep it.
        return keys if keys.prf is not None else _with(keys, prf=algs.prf)
    return _with(
        keys,
        encr=algs.encr,
        encr_key_bits=algs.encr_key_bits,
        integ=keys.integ if keys.integ is not None else (algs.integ or 0),
        prf=keys.prf if keys.prf is not None else algs.prf,
    )


def _with(keys: IkeSaKeys, **changes: Any) -> IkeSaKeys:
    return replace(keys, **changes)


@dataclass(frozen=True, slots=True)
class Lengths:
    """What SKEYSEED expansion needs from the negotiated transforms."""

    prf: Prf
    encr_key_len: int
    integ_key_len: int


def lengths(algs: ChosenAlgorithms) -> Lengths:
    """PRF and key lengths of an IKE SA's chosen transforms (raises KeySetupError)."""
    if algs.prf is None:
        raise KeySetupError("no PRF was negotiated")
    try:
        prf = get_prf(algs.prf)
        encr = lookup(TransformType.ENCR, algs.encr, algs.encr_key_bits)
        integ = None if is_aead(encr) else integ_spec(algs.integ)
    except (KeyError, UnsupportedTransform) as exc:
        raise KeySetupError(str(exc).strip("'\"")) from None
    return Lengths(prf, encr.keymat_len, integ.key_len if integ else 0)


def as_record(keys: IkeKeys, spis: IkeSpis, algs: ChosenAlgorithms, origin: str) -> IkeSaKeys:
    """Derived keys as a key-ring record (for Wireshark tables and reports)."""
    return IkeSaKeys(
        spi_i=spis[0],
        spi_r=spis[1],
        sk_d=keys.sk_d,
        sk_ai=keys.sk_ai or None,
        sk_ar=keys.sk_ar or None,
        sk_ei=keys.sk_ei,
        sk_er=keys.sk_er,
        sk_pi=keys.sk_pi,
        sk_pr=keys.sk_pr,
        encr=algs.encr,
        encr_key_bits=algs.encr_key_bits,
        integ=algs.integ or 0,
        prf=algs.prf,
        icv_unchecked=None,
        source=derived_source(origin),
    )


def derive(setup: IkeSaSetup, g_ir: bytes, lens: Lengths) -> IkeKeys:
    """RFC 7296 section 2.14: SKEYSEED = prf(Ni | Nr, g^ir), then prf+ into SK_*."""
    return derive_ike_keys(
        lens.prf,
        g_ir,
        setup.ni,
        setup.nr,
        setup.spis[0],
        setup.spis[1],
        encr_key_len=lens.encr_key_len,
        integ_key_len=lens.integ_key_len,
    )


def derive_rekey(setup: IkeSaSetup, parent: IkeSaKeys, g_ir: bytes, lens: Lengths) -> IkeKeys:
    """RFC 7296 section 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), old SA's PRF."""
    if parent.sk_d is None or parent.prf is None:
        raise KeySetupError("the old IKE SA's SK_d or PRF is unknown")
    return derive_rekeyed_ike_keys(
        get_prf(parent.prf),
        parent.sk_d,
        lens.prf,
        g_ir,
        setup.ni,
        setup.nr,
        setup.spis[0],
        setup.spis[1],
        encr_key_len=lens.encr_key_len,
        integ_key_len=lens.integ_key_len,
    )
