"""The seam between correlation and decryption.

The correlator (correlate/) knows the protocol: which message set up which SA, who is initiator,
which nonces and KE payloads belong together. The decryptor (decrypt.py) knows the keys and the
crypto. They meet only through the records below, so each can be tested without the other.
All byte strings are as on the wire; SPIs of IKE SAs are 8-byte strings, ESP SPIs are ints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ikeview.dissectors.records import EspPacket
from ikeview.keys.model import KeyRing
from ikeview.pipeline.dec_records import DerivedEspSa, DerivedIkeSa
from ikeview.pipeline.ids import AuthVerified, IkeSpis, IntegrityVerdict, Side

if TYPE_CHECKING:
    # Named in annotations only: the IKE payload records load with the first IKE message.
    from ikeview.dissectors.ike_records import (
        AuthPayload,
        CertPayload,
        IdPayload,
        IkeHeader,
        Payload,
        SkfPayload,
        SkPayload,
    )


@dataclass(frozen=True, slots=True)
class ChosenAlgorithms:
    """The one transform of each type a responder picked (IANA ids)."""

    encr: int
    """ENCR transform id."""
    encr_key_bits: int | None
    """Key Length attribute, None when the transform has a fixed key size."""
    integ: int | None
    """INTEG transform id; None or 0 (NONE) with an AEAD cipher."""
    prf: int | None
    """PRF transform id (IKE SAs only)."""
    dh: int | None
    """DH/KE group, None when no key exchange is part of the proposal."""
    esn: bool = False
    """Extended sequence numbers (child SAs only)."""


@dataclass(frozen=True, slots=True)
class KeyExchange:
    """Both public values of one Diffie-Hellman exchange."""

    group: int
    initiator_public: bytes
    """KE data sent by the initiator of the exchange."""
    responder_public: bytes
    """KE data sent by the responder of the exchange."""


@dataclass(frozen=True, slots=True)
class IkeSaSetup:
    """How an IKE SA's keys were made: IKE_SA_INIT, or a CREATE_CHILD_SA that rekeyed an IKE SA."""

    spis: IkeSpis
    """SPIi and SPIr of the new IKE SA (for a rekey: the exchange initiator's new SPI first)."""
    ni: bytes
    """Nonce of the exchange initiator."""
    nr: bytes
    """Nonce of the exchange responder."""
    algorithms: ChosenAlgorithms
    ke: KeyExchange | None
    initiator: str
    """Address of the (exchange) initiator."""
    responder: str
    init_request: bytes | None
    """Raw IKE_SA_INIT request (the initiator's RealMessage1 for AUTH); None for a rekey."""
    init_response: bytes | None
    """Raw IKE_SA_INIT response (RealMessage2); None for a rekey."""
    parent: IkeSpis | None = None
    """For an IKE SA rekey, the old SA whose SK_d seeds SKEYSEED (RFC 7296 2.18)."""


@dataclass(frozen=True, slots=True)
class ChildSaSetup:
    """How a child SA's keys were made (IKE_AUTH or CREATE_CHILD_SA)."""

    ike: IkeSpis
    """The IKE SA whose SK_d derives this child SA's KEYMAT."""
    spi_at_initiator: int
    """ESP SPI the exchange initiator chose: it receives on it (responder-to-initiator traffic)."""
    spi_at_responder: int
    """ESP SPI the exchange responder chose: initiator-to-responder traffic carries it."""
    algorithms: ChosenAlgorithms
    ni: bytes | None
    """Nonces of a CREATE_CHILD_SA; None for the first child SA (IKE_SA_INIT nonces are used)."""
    nr: bytes | None
    ke: KeyExchange | None
    """PFS key exchange of a CREATE_CHILD_SA, if any."""
    initiator: str
    """Address of the exchange initiator."""
    responder: str


@dataclass(frozen=True, slots=True)
class Opened:
    """The result of opening one SK or SKF payload."""

    payloads: tuple[Payload, ...] | None
    """Inner payloads (dissector records) when decrypted; None otherwise. For an SKF fragment
    that is not the last one needed, None with `pending` True."""
    integrity: IntegrityVerdict | None
    """None when no key was available to check it."""
    problem: str | None
    """What went wrong or is missing, naming the IKE SA, the message and what would unlock it."""
    pending: bool = False
    """An SKF fragment stored until the rest of its message arrives."""


@dataclass(frozen=True, slots=True)
class EapRun:
    """The EAP conversation of an IKE_AUTH (RFC 7296 section 2.16), as far as an AUTH computed
    after it depends on it: the decryptor derives the MSK from these and a password."""

    identity: bytes | None
    """Type-Data of the peer's EAP-Response/Identity."""
    method: int | None
    """EAP method type the peer answered (not Identity or Nak)."""
    success: bool | None
    """True after EAP-Success, False after EAP-Failure, None before either."""
    mschapv2: tuple[bytes, bytes, bytes, bytes] | None = None
    """EAP-MSCHAPv2: (authenticator challenge, peer challenge, NT-Response, name)."""


@dataclass(frozen=True, slots=True)
class AuthClaim:
    """One side's AUTH payload with what it covers, as the IKE_AUTH exchange carried it."""

    side: Side
    auth: AuthPayload
    identity: IdPayload | None
    """The IDi/IDr payload the AUTH signs (with EAP, from an earlier round)."""
    certs: tuple[CertPayload, ...]
    """CERT payloads the same side sent."""
    eap: EapRun | None = None
    """For an AUTH sent after EAP (RFC 7296 2.16): the EAP conversation its MSK comes from."""


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    """One side's AUTH payload, checked."""

    side: Side
    method: int
    verified: AuthVerified
    """True/False when checked; None when nothing was available to check it with."""
    psk: str | None
    """Label of the PSK that reproduced it (its source: file and line)."""
    detail: str
    """One line for humans: what was checked with what, or what is missing."""


@dataclass(frozen=True, slots=True)
class EspOpened:
    """One ESP packet, decrypted (or not)."""

    decrypted: bool
    integrity: IntegrityVerdict | None
    next_header: int | None
    inner: bytes | None
    """The inner packet (tunnel mode: an IP packet) or transport payload."""
    problem: str | None


EspObserver = Callable[[EspPacket, EspOpened], None]
"""Sees every ESP packet with what the decryptor made of it (the TUI's per-packet rows)."""

DerivedKeys = tuple[DerivedIkeSa | DerivedEspSa, ...]


class Decryptor(Protocol):
    """What the correlator asks of the key side; decrypt.py implements it."""

    has_keys: bool
    """False when nothing can ever be decrypted: the correlator then skips ESP altogether."""

    def ike_sa(self, setup: IkeSaSetup) -> str | None:
        """Register an IKE SA; returns a problem line when no key can possibly unlock it."""

    def open(self, header: IkeHeader, raw: bytes, sk: SkPayload | SkfPayload) -> Opened:
        """Decrypt and verify the SK/SKF payload ``sk`` of the message ``raw`` (whose header is
        ``header``: it names the IKE SA, the sender and the message)."""

    def verify_auth(self, spis: IkeSpis, claims: tuple[AuthClaim, ...]) -> tuple[AuthVerdict, ...]:
        """Check the AUTH payloads of an IKE SA, both sides in one call (a PSK scoped to one
        side's identity, or matching one side only, explains the other's verdict); one verdict
        per claim, in order."""

    def check_eap_password(self, run: EapRun) -> tuple[bool | None, str] | None:
        """For an EAP-MSCHAPv2 conversation the server refused (no final AUTH to check):
        whether an ``[[eap]]`` password reproduces the peer's NT-Response, with one line saying
        so; None when there is nothing to check."""

    def child_sa(self, setup: ChildSaSetup) -> str | None:
        """Register a child SA; returns a problem line when its keys cannot be derived."""

    def esp(self, packet: EspPacket) -> EspOpened:
        """Decrypt one ESP packet of a registered child SA (or keys given directly)."""

    def derived_keys(self) -> DerivedKeys:
        """Every key set in use (for reports and key exports); empty without keys."""


__all__ = [
    "AuthClaim",
    "AuthVerdict",
    "ChildSaSetup",
    "ChosenAlgorithms",
    "Decryptor",
    "DerivedKeys",
    "EapRun",
    "EspObserver",
    "EspOpened",
    "IkeSaSetup",
    "IkeSpis",
    "IntegrityVerdict",
    "KeyExchange",
    "KeyRing",
    "Opened",
    "Side",
]
