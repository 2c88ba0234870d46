"""The IKE half of the seam between correlation and decryption (seam.py holds the protocol
and ESP's record): the setups the correlator hands the decryptor when an IKE SA or a child SA
is made, what opening an SK payload gave, AUTH claims and verdicts, EAP runs.

Imported by the IKE side only (correlate/messages.py and what it uses, the decryptor's IKE
methods): a capture of ESP alone never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ikeview.pipeline.ids import AuthVerified, IkeSpis, IntegrityVerdict, Side

if TYPE_CHECKING:
    from ikeview.dissectors.ike_records import AuthPayload, CertPayload, IdPayload, Payload


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


__all__ = [
    "AuthClaim",
    "AuthVerdict",
    "ChildSaSetup",
    "ChosenAlgorithms",
    "EapRun",
    "IkeSaSetup",
    "KeyExchange",
    "Opened",
]
