"""Key records: what a keys file, a table or a log told us, before any crypto.

Every record is frozen and carries the ``SourceRef`` (file and line) it came from, so the core can
say *which* key failed. Secrets never appear in ``repr()``: byte fields holding key material are
``repr=False`` and ``describe()`` (describe.py) prints lengths only.
Byte strings are as on the wire: IKE SPIs are 8 bytes, ESP SPIs are ints, keys are raw bytes
(SK_e and ESP encryption keys include the salt/nonce where the cipher has one, as RFC 7296
section 2.14 / RFC 4106 section 8.1 take it from KEYMAT).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a record came from."""

    path: str
    """File as the user named it."""
    line: int
    """1-based line of the record's start (its table header, row or log line); 0 if unknown."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, slots=True)
class Psk:
    """A pre-shared key (RFC 7296 section 2.15), optionally scoped to one peer or identity."""

    secret: bytes = field(repr=False)
    """The shared secret as bytes (text secrets are UTF-8 encoded)."""
    label: str
    """A name for reports: ``psk #N`` or what the source called it."""
    peer: str | None
    """Only for IKE SAs with this peer address; None = any."""
    id: str | None
    """Only for this identity (IDi/IDr data as text, e.g. ``moon.example``); None = any."""
    source: SourceRef


@dataclass(frozen=True, slots=True)
class DhSecret:
    """One side's Diffie-Hellman input: the shared secret g^ir, or a private value to compute it.

    Exactly one of ``shared_secret`` and ``private_key`` is set.
    """

    shared_secret: bytes | None = field(repr=False)
    """g^ir as used in SKEYSEED (RFC 7296 section 2.14) or child KEYMAT (section 2.17)."""
    private_key: bytes | None = field(repr=False)
    """One peer's DH private value (its KE payload's secret exponent / scalar)."""
    spi_i: bytes | None
    """SPIi (8 bytes) of the IKE SA this belongs to; None = try it on every IKE SA."""
    child: bool
    """True for a CREATE_CHILD_SA PFS exchange's g^ir instead of an IKE SA's."""
    child_spi: int | None
    """For a child: either ESP SPI of the child SA; None = try every PFS exchange."""
    source: SourceRef


@dataclass(frozen=True, slots=True)
class IkeSaKeys:
    """Derived keys of one IKE SA (RFC 7296 section 2.14), any subset of the seven."""

    spi_i: bytes
    """SPIi, 8 bytes."""
    spi_r: bytes
    """SPIr, 8 bytes."""
    sk_d: bytes | None = field(repr=False)
    """SK_d, seeds child SA and rekeyed IKE SA keys."""
    sk_ai: bytes | None = field(repr=False)
    """SK_ai, integrity key for messages the initiator sends."""
    sk_ar: bytes | None = field(repr=False)
    """SK_ar, integrity key for messages the responder sends."""
    sk_ei: bytes | None = field(repr=False)
    """SK_ei including the salt/nonce for CTR, GCM and CCM."""
    sk_er: bytes | None = field(repr=False)
    """SK_er including the salt/nonce for CTR, GCM and CCM."""
    sk_pi: bytes | None = field(repr=False)
    """SK_pi, for the initiator's AUTH payload."""
    sk_pr: bytes | None = field(repr=False)
    """SK_pr, for the responder's AUTH payload."""
    encr: int | None
    """IANA ENCR transform id; None = unknown (take it from the capture)."""
    encr_key_bits: int | None
    """Key Length attribute in bits; None for fixed-size ciphers or when unknown."""
    integ: int | None
    """IANA INTEG transform id; 0 is NONE (AEAD); None = unknown."""
    prf: int | None
    """IANA PRF transform id; None = unknown."""
    icv_unchecked: int | None
    """ICV length in bytes to skip unverified, when only that is known (Wireshark "ANY n-bits")."""
    source: SourceRef


@dataclass(frozen=True, slots=True)
class EspKeys:
    """Keys of one ESP SA, one direction (RFC 4303; KEYMAT split per RFC 7296 section 2.17)."""

    spi: int
    """The SA's SPI as in the ESP header."""
    encr_key: bytes | None = field(repr=False)
    """Encryption key including the salt/nonce where the cipher has one; None = unknown."""
    integ_key: bytes | None = field(repr=False)
    """Integrity key; None for AEAD ciphers, no integrity, or unknown."""
    src: str | None
    """Outer source address; None or ``*`` = any."""
    dst: str | None
    """Outer destination address; None or ``*`` = any."""
    encr: int | None
    """IANA ENCR transform id; None = unknown."""
    encr_key_bits: int | None
    """Key size in bits for variable-size ciphers; None for fixed-size ones or unknown."""
    integ: int | None
    """IANA INTEG transform id; 0 is NONE; None = unknown."""
    icv_unchecked: int | None
    """ICV length in bytes to skip unverified, when only that is known (tcpdump "-hmac96")."""
    source: SourceRef


@dataclass(frozen=True, slots=True)
class EapSecret:
    """An EAP user's credentials (RFC 7296 section 2.16): the MSK of EAP-MSCHAPv2 is derived
    from them, and with it the AUTH of the side that used EAP is checked."""

    identity: str
    """The EAP identity (the name in EAP-Identity / the MS-CHAPv2 Name); ``*`` = any."""
    password: str = field(repr=False)
    """The user's password as text."""
    source: SourceRef


SK_FIELDS = ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr")
"""The seven key fields of ``IkeSaKeys``, in RFC 7296 section 2.14 order."""

KeyRecord = Psk | DhSecret | IkeSaKeys | EspKeys | EapSecret
"""Any one record a key source yields."""


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Everything the user gave us, in file order; immutable, combined with ``merge()``."""

    psks: tuple[Psk, ...] = ()
    """Pre-shared keys."""
    dh_secrets: tuple[DhSecret, ...] = ()
    """DH shared secrets and private values."""
    ike_sas: tuple[IkeSaKeys, ...] = ()
    """Derived IKE SA keys."""
    esp_sas: tuple[EspKeys, ...] = ()
    """ESP SA keys."""
    eap_secrets: tuple[EapSecret, ...] = ()
    """EAP identities and passwords."""

    @classmethod
    def of(cls, records: Iterable[KeyRecord]) -> KeyRing:
        """Sort a stream of records into a ring, keeping their order."""
        psks: list[Psk] = []
        dhs: list[DhSecret] = []
        ikes: list[IkeSaKeys] = []
        esps: list[EspKeys] = []
        eaps: list[EapSecret] = []
        for rec in records:
            match rec:
                case Psk():
                    psks.append(rec)
                case DhSecret():
                    dhs.append(rec)
                case IkeSaKeys():
                    ikes.append(rec)
                case EspKeys():
                    esps.append(rec)
                case EapSecret():
                    eaps.append(rec)
                case _:
                    raise TypeError(f"not a key record: {type(rec).__name__}")
        return cls(tuple(psks), tuple(dhs), tuple(ikes), tuple(esps), tuple(eaps))

    def merge(self, *others: KeyRing) -> KeyRing:
        """A new ring with this ring's records followed by each other ring's."""
        rings = (self, *others)
        return KeyRing(
            psks=tuple(p for r in rings for p in r.psks),
            dh_secrets=tuple(d for r in rings for d in r.dh_secrets),
            ike_sas=tuple(k for r in rings for k in r.ike_sas),
            esp_sas=tuple(e for r in rings for e in r.esp_sas),
            eap_secrets=tuple(e for r in rings for e in r.eap_secrets),
        )

    def records(self) -> tuple[KeyRecord, ...]:
        """All records, grouped by kind (PSKs, DH secrets, IKE SAs, ESP SAs)."""
        return (*self.psks, *self.dh_secrets, *self.ike_sas, *self.esp_sas, *self.eap_secrets)

    def __len__(self) -> int:
        return (
            len(self.psks)
            + len(self.dh_secrets)
            + len(self.ike_sas)
            + len(self.esp_sas)
            + len(self.eap_secrets)
        )

    def __bool__(self) -> bool:
        return len(self) > 0

    def ike_keys_for(self, spi_i: bytes, spi_r: bytes) -> tuple[IkeSaKeys, ...]:
        """Derived keys given for exactly this (SPIi, SPIr)."""
        return tuple(k for k in self.ike_sas if k.spi_i == spi_i and k.spi_r == spi_r)

    def esp_keys_for(self, spi: int) -> tuple[EspKeys, ...]:
        """ESP keys given for this SPI (any addresses; the caller checks src/dst)."""
        return tuple(e for e in self.esp_sas if e.spi == spi)
