"""Records of decoded Notification Data (RFC 7296 3.10 and the RFCs defining each type).

Data only: the decoders that build them live in :mod:`ikeview.dissectors.notify_data`, which
re-exports these names. Views may import this module (tests/test_architecture.py RECORD_MODULES).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NotifyMalformed:
    """The data does not have the size or shape its RFC gives it."""

    reason: str
    """What was wrong."""


@dataclass(frozen=True, slots=True)
class NotifyFlag:
    """A status notify whose RFC defines no data (e.g. USE_TRANSPORT_MODE)."""

    extra: bytes
    """Data sent anyway (should be empty)."""


@dataclass(frozen=True, slots=True)
class NotifyHash:
    """NAT_DETECTION_SOURCE_IP / _DESTINATION_IP (RFC 7296 2.23): SHA-1(SPIi|SPIr|IP|port)."""

    digest: bytes
    """The 20-byte hash."""


@dataclass(frozen=True, slots=True)
class NotifyCookie:
    """COOKIE (RFC 7296 2.6) or COOKIE2 (RFC 4555 3.6): an opaque value to echo."""

    cookie: bytes
    """The cookie (1-64 bytes for COOKIE)."""


@dataclass(frozen=True, slots=True)
class NotifyGroup:
    """INVALID_KE_PAYLOAD (RFC 7296 1.3): the group the responder wants."""

    group: int
    """Accepted Diffie-Hellman group / key exchange method."""


@dataclass(frozen=True, slots=True)
class NotifyHashAlgorithms:
    """SIGNATURE_HASH_ALGORITHMS (RFC 7427 4): the hash algorithms the sender supports."""

    algorithms: tuple[int, ...]
    """IANA IKEv2 Hash Algorithm numbers in the order sent."""


@dataclass(frozen=True, slots=True)
class NotifyMessageId:
    """INVALID_MESSAGE_ID (RFC 7296 3.10.1): the message ID that was rejected."""

    message_id: int
    """The rejected message ID."""


@dataclass(frozen=True, slots=True)
class NotifySpi:
    """A notify naming an SPI: INVALID_SPI (in the data), REKEY_SA and CHILD_SA_NOT_FOUND
    (in the SPI field, RFC 7296 1.3.3 / RFC 7296 3.10.1)."""

    spi: bytes
    """The SPI concerned."""


@dataclass(frozen=True, slots=True)
class NotifyCount:
    """A 32-bit count: SET_WINDOW_SIZE (window size) or AUTH_LIFETIME (seconds, RFC 4478)."""

    value: int
    """The number."""


@dataclass(frozen=True, slots=True)
class NotifyIpcomp:
    """IPCOMP_SUPPORTED (RFC 7296 2.22): the sender's CPI and IPComp transform."""

    cpi: int
    """Compression Parameter Index."""
    transform_id: int
    """IPComp transform (1 OUI, 2 DEFLATE, 3 LZS, 4 LZJH)."""


@dataclass(frozen=True, slots=True)
class NotifyRedirect:
    """REDIRECT / REDIRECTED_FROM (RFC 5685 8): the new (or original) gateway."""

    gw_ident_type: int
    """1 IPv4, 2 IPv6, 3 FQDN."""
    gateway: str
    """The gateway identity as text."""
    nonce: bytes
    """The initiator's Ni (REDIRECT in IKE_SA_INIT only; empty otherwise)."""


@dataclass(frozen=True, slots=True)
class NotifyAddress:
    """ADDITIONAL_IP4_ADDRESS / ADDITIONAL_IP6_ADDRESS (RFC 4555 3.4)."""

    address: str
    """The address as text."""


@dataclass(frozen=True, slots=True)
class NotifyPayloadType:
    """UNSUPPORTED_CRITICAL_PAYLOAD (RFC 7296 3.10.1): the payload type not understood."""

    payload_type: int
    """The critical payload's type."""


@dataclass(frozen=True, slots=True)
class NotifyPpkIdentity:
    """PPK_IDENTITY (RFC 8784 3): which post-quantum preshared key is used."""

    ppk_id_type: int
    """1 PPK_ID_OPAQUE, 2 PPK_ID_FIXED."""
    ppk_id: bytes
    """The identifier."""


@dataclass(frozen=True, slots=True)
class AuthAnnouncement:
    """One entry of SUPPORTED_AUTH_METHODS (RFC 9593 3)."""

    method: int
    """IKEv2 Authentication Method."""
    cert_link: int | None
    """Index of the CERTREQ it relates to (0 = any), None when absent."""
    algorithm: bytes
    """DER AlgorithmIdentifier for method 14 (empty otherwise)."""


@dataclass(frozen=True, slots=True)
class NotifyAuthMethods:
    """SUPPORTED_AUTH_METHODS (RFC 9593 3): authentication methods the sender accepts."""

    announcements: tuple[AuthAnnouncement, ...]
    """Announcements in the order sent."""


@dataclass(frozen=True, slots=True)
class NotifyMessageIdSync:
    """IKEV2_MESSAGE_ID_SYNC (RFC 6311 4.2): nonce and the expected message IDs."""

    nonce: int
    """Random 32-bit nonce."""
    expected_send_req_mid: int
    """Next request message ID the sender will send."""
    expected_recv_req_mid: int
    """Next request message ID the sender expects to receive."""


@dataclass(frozen=True, slots=True)
class NotifyList16:
    """A list of 16-bit numbers: SECURE_PASSWORD_METHODS (RFC 6467)."""

    values: tuple[int, ...]
    """The numbers in the order sent."""


NotifyDecoded = (
    NotifyMalformed
    | NotifyFlag
    | NotifyHash
    | NotifyCookie
    | NotifyGroup
    | NotifyHashAlgorithms
    | NotifyMessageId
    | NotifySpi
    | NotifyCount
    | NotifyIpcomp
    | NotifyRedirect
    | NotifyAddress
    | NotifyPayloadType
    | NotifyPpkIdentity
    | NotifyAuthMethods
    | NotifyMessageIdSync
    | NotifyList16
)
