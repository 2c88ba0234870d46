"""Immutable records for IKE messages and IKEv2 payloads (RFC 7296 section 3).

Every record is a frozen, slotted dataclass holding plain numbers, bytes and text; names of
numbers live in :mod:`ikeview.dissectors.iana`. Offsets count from the first byte of the IKE
header (or of a decrypted SK body plus the ``base_offset`` given to ``parse_payloads``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DecodeProblem
from .notify_records import NotifyDecoded

# RFC 7296 3.1: flag bits of the IKE header.
FLAG_INITIATOR = 0x08
FLAG_VERSION = 0x10
FLAG_RESPONSE = 0x20


@dataclass(frozen=True, slots=True)
class IkeHeader:
    """The fixed 28-byte IKE header (RFC 7296 3.1; ISAKMP RFC 2408 3.1 for version 1)."""

    spi_i: bytes
    """IKE SA Initiator's SPI (IKEv1: initiator cookie), 8 bytes."""
    spi_r: bytes
    """IKE SA Responder's SPI (IKEv1: responder cookie), 8 bytes; zero in IKE_SA_INIT requests."""
    next_payload: int
    """Type of the first payload (IANA IKEv2 Payload Types)."""
    major: int
    """Major version (2 for IKEv2, 1 for IKEv1)."""
    minor: int
    """Minor version."""
    exchange_type: int
    """Exchange type (IANA IKEv2 Exchange Types; IKEv1 uses its own numbers)."""
    flags: int
    """Flag octet: 0x08 Initiator, 0x10 Version, 0x20 Response (IKEv1: 0x01 E, 0x02 C, 0x04 A)."""
    message_id: int
    """Message ID (32-bit unsigned)."""
    length: int
    """Length of the whole message as the header states it."""

    @property
    def initiator(self) -> bool:
        """Sent by the original initiator of the IKE SA (I flag)."""
        return bool(self.flags & FLAG_INITIATOR)

    @property
    def response(self) -> bool:
        """This message is a response (R flag)."""
        return bool(self.flags & FLAG_RESPONSE)

    @property
    def higher_version(self) -> bool:
        """The sender could speak a higher major version (V flag)."""
        return bool(self.flags & FLAG_VERSION)


@dataclass(frozen=True, slots=True)
class _PayloadBase:
    """Fields every payload record carries (RFC 7296 3.2 generic payload header)."""

    payload_type: int
    """This payload's type (the Next Payload value that announced it)."""
    critical: bool
    """The Critical bit of the generic header."""
    offset: int
    """Offset of the generic header in the message (or decrypted body + base_offset)."""
    length: int
    """Payload Length from the generic header, header included."""
    body: bytes
    """The bytes after the 4-byte generic header (up to the declared length)."""


# ---------------------------------------------------------------- SA (RFC 7296 3.3)


@dataclass(frozen=True, slots=True)
class TransformAttribute:
    """One transform attribute (RFC 7296 3.3.5); TV when ``value`` is an int, TLV when bytes."""

    attr_type: int
    """Attribute type without the AF bit (14 = Key Length)."""
    value: int | bytes
    """The 16-bit value (TV format) or the variable-length value (TLV format)."""


@dataclass(frozen=True, slots=True)
class Transform:
    """One transform substructure (RFC 7296 3.3.2)."""

    transform_type: int
    """Transform type (1 ENCR, 2 PRF, 3 INTEG, 4 KE, 5 ESN, 6-12 ADDKE1-7)."""
    transform_id: int
    """Transform ID within that type's registry."""
    key_length: int | None
    """Key Length attribute (14) in bits, or None when absent."""
    attributes: tuple[TransformAttribute, ...]
    """All attributes, Key Length included."""
    offset: int
    """Offset of the transform substructure."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """One proposal substructure (RFC 7296 3.3.1)."""

    number: int
    """Proposal number (1 for the first, same number = AND in IKEv1 only)."""
    protocol_id: int
    """Security protocol (1 IKE, 2 AH, 3 ESP)."""
    spi: bytes
    """The sender's SPI (empty in the first IKE_SA_INIT, 8 bytes for IKE rekey, 4 for ESP/AH)."""
    transforms: tuple[Transform, ...]
    """The transforms in wire order."""
    offset: int
    """Offset of the proposal substructure."""


@dataclass(frozen=True, slots=True)
class SaPayload(_PayloadBase):
    """Security Association payload (RFC 7296 3.3)."""

    proposals: tuple[Proposal, ...]
    """The proposals in wire order."""


# ---------------------------------------------------------------- KE, ID, CERT, AUTH, Nonce


@dataclass(frozen=True, slots=True)
class KePayload(_PayloadBase):
    """Key Exchange payload (RFC 7296 3.4; also carries additional key exchanges, RFC 9370)."""

    group: int
    """Diffie-Hellman Group Num / Key Exchange Method."""
    data: bytes
    """Key Exchange Data (public value)."""


@dataclass(frozen=True, slots=True)
class IdPayload(_PayloadBase):
    """Identification payload IDi or IDr (RFC 7296 3.5)."""

    which: str
    """"IDi" (type 35) or "IDr" (type 36)."""
    id_type: int
    """ID Type (IANA IKEv2 Identification Payload ID Types)."""
    data: bytes
    """Identification Data."""
    text: str
    """Readable form: address, FQDN, RFC 822 name, DN summary or hex for KEY_ID and others."""


@dataclass(frozen=True, slots=True)
class CertPayload(_PayloadBase):
    """Certificate payload (RFC 7296 3.6)."""

    encoding: int
    """Certificate Encoding."""
    data: bytes
    """Certificate Data (DER certificate for encoding 4)."""


@dataclass(frozen=True, slots=True)
class CertReqPayload(_PayloadBase):
    """Certificate Request payload (RFC 7296 3.7)."""

    encoding: int
    """Certificate Encoding."""
    data: bytes
    """Certification Authority field."""
    hashes: tuple[bytes, ...]
    """For X.509 encodings: the 20-byte SHA-1 hashes of trusted CA public keys (empty otherwise
    or when the data is not a whole number of hashes)."""


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """RFC 7427 section 3 Digital Signature AUTH data, split up."""

    algorithm_der: bytes
    """The DER AlgorithmIdentifier as sent (after its one-octet length)."""
    oid: str
    """The algorithm OID in dotted form ("" if the DER did not parse)."""
    algorithm: str
    """Well-known name of the OID (e.g. "sha256WithRSAEncryption") or the dotted OID."""
    signature: bytes
    """The signature value that follows the AlgorithmIdentifier."""


@dataclass(frozen=True, slots=True)
class AuthPayload(_PayloadBase):
    """Authentication payload (RFC 7296 3.8)."""

    method: int
    """Auth Method (IANA IKEv2 Authentication Method)."""
    data: bytes
    """Authentication Data (for method 14 this includes the AlgorithmIdentifier)."""
    signature: SignatureInfo | None
    """For method 14 (RFC 7427), the parsed AlgorithmIdentifier and signature; else None."""


@dataclass(frozen=True, slots=True)
class NoncePayload(_PayloadBase):
    """Nonce payload Ni/Nr (RFC 7296 3.9)."""

    data: bytes
    """Nonce Data (16-256 bytes by the RFC; not enforced)."""


# ---------------------------------------------------------------- Notify (RFC 7296 3.10)


@dataclass(frozen=True, slots=True)
class NotifyPayload(_PayloadBase):
    """Notify payload (RFC 7296 3.10)."""

    protocol_id: int
    """Protocol ID the SPI belongs to (0 when there is no SPI)."""
    spi: bytes
    """SPI (REKEY_SA, DELETE-like notifies carry the Child SA SPI here)."""
    notify_type: int
    """Notify Message Type (IANA IKEv2 Notify Message Types)."""
    data: bytes
    """Notification Data as on the wire."""
    decoded: NotifyDecoded | None
    """Data decoded per the defining RFC (a record from ``notify_records``), or None."""


@dataclass(frozen=True, slots=True)
class DeletePayload(_PayloadBase):
    """Delete payload (RFC 7296 3.11)."""

    protocol_id: int
    """Protocol ID (1 IKE, 2 AH, 3 ESP)."""
    spi_size: int
    """SPI Size (0 for IKE, 4 for AH/ESP)."""
    spis: tuple[bytes, ...]
    """The SPIs to delete."""


@dataclass(frozen=True, slots=True)
class VendorIdPayload(_PayloadBase):
    """Vendor ID payload (RFC 7296 3.12)."""

    data: bytes
    """The Vendor ID."""
    name: str | None
    """Known vendor/feature name, or None."""


# ---------------------------------------------------------------- TS (RFC 7296 3.13)


@dataclass(frozen=True, slots=True)
class TrafficSelector:
    """One traffic selector (RFC 7296 3.13.1)."""

    ts_type: int
    """TS Type (7 IPv4 range, 8 IPv6 range, others kept raw)."""
    ip_protocol: int | None
    """IP Protocol ID (0 = any); None for types without it."""
    start_port: int | None
    """Start Port; None for non-IP types."""
    end_port: int | None
    """End Port; None for non-IP types."""
    start_address: str | None
    """Starting Address as text; None for non-IP types."""
    end_address: str | None
    """Ending Address as text; None for non-IP types."""
    raw: bytes
    """The whole selector as on the wire."""


@dataclass(frozen=True, slots=True)
class TsPayload(_PayloadBase):
    """Traffic Selector payload TSi or TSr (RFC 7296 3.13)."""

    which: str
    """"TSi" (type 44) or "TSr" (type 45)."""
    selectors: tuple[TrafficSelector, ...]
    """The selectors in wire order."""


# ---------------------------------------------------------------- SK, SKF


@dataclass(frozen=True, slots=True)
class SkPayload(_PayloadBase):
    """Encrypted and Authenticated payload (RFC 7296 3.14); always the last in the chain."""

    first_inner: int
    """Next Payload of the SK header: type of the first payload inside."""
    data: bytes
    """IV | ciphertext | ICV as on the wire (equal to ``body``)."""


@dataclass(frozen=True, slots=True)
class SkfPayload(_PayloadBase):
    """Encrypted and Authenticated Fragment payload (RFC 7383 2.5)."""

    first_inner: int
    """Next Payload: first inner type in fragment 1, 0 in the others."""
    fragment_number: int
    """Fragment Number, 1-based."""
    total_fragments: int
    """Total Fragments."""
    data: bytes
    """IV | ciphertext | ICV of this fragment (``body`` minus the 4 fragment-number octets)."""


# ---------------------------------------------------------------- CP, EAP, other


@dataclass(frozen=True, slots=True)
class ConfigAttribute:
    """One configuration attribute (RFC 7296 3.15.1)."""

    attr_type: int
    """Attribute Type (15 bits; the reserved top bit dropped)."""
    value: bytes
    """Value (may be empty, e.g. in a CFG_REQUEST)."""


@dataclass(frozen=True, slots=True)
class CpPayload(_PayloadBase):
    """Configuration payload (RFC 7296 3.15)."""

    cfg_type: int
    """CFG Type (1 REQUEST, 2 REPLY, 3 SET, 4 ACK)."""
    attributes: tuple[ConfigAttribute, ...]
    """Configuration attributes in wire order."""


@dataclass(frozen=True, slots=True)
class EapPayload(_PayloadBase):
    """EAP payload (RFC 7296 3.16) carrying one EAP message (RFC 3748 4)."""

    code: int
    """EAP Code (1 Request, 2 Response, 3 Success, 4 Failure)."""
    identifier: int
    """EAP Identifier."""
    eap_type: int | None
    """EAP Type for Request/Response, None for Success/Failure."""
    data: bytes
    """Type-Data after the type octet (empty for Success/Failure)."""


@dataclass(frozen=True, slots=True)
class UnknownPayload(_PayloadBase):
    """A payload type with no parser here (or an IKEv1 payload); ``body`` holds its bytes."""


Payload = (
    SaPayload
    | KePayload
    | IdPayload
    | CertPayload
    | CertReqPayload
    | AuthPayload
    | NoncePayload
    | NotifyPayload
    | DeletePayload
    | VendorIdPayload
    | TsPayload
    | SkPayload
    | SkfPayload
    | CpPayload
    | EapPayload
    | UnknownPayload
)


@dataclass(frozen=True, slots=True)
class IkeMessage:
    """One IKE message as received (one UDP datagram or one TCP-framed message)."""

    header: IkeHeader | None
    """The decoded header, None when fewer than 28 bytes arrived."""
    payloads: tuple[Payload, ...]
    """Payloads in chain order, as far as they parsed (SK/SKF end the chain)."""
    error: DecodeProblem | None
    """Where and why decoding stopped early; None for a clean message."""
    raw: bytes
    """The whole message as received."""
    version: int
    """2 for IKEv2, 1 for IKEv1 (header decoded, payloads only listed), any other major
    version as sent (payloads not read), 0 when there is no header."""

    @property
    def sk(self) -> SkPayload | SkfPayload | None:
        """The SK or SKF payload that ends the chain, if any."""
        if self.payloads and isinstance(self.payloads[-1], SkPayload | SkfPayload):
            return self.payloads[-1]
        return None
