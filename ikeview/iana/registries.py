"""IANA IKEv2 registries: one IntEnum per registry and a ``name()`` that never raises.

Values follow IANA's "Internet Key Exchange Version 2 (IKEv2) Parameters" and "IKEv2 Notify
Message Types" registries (plus RFC 7427's hash algorithm registry). Member names are IANA's
names without the registry prefix where IANA has none (``NotifyType.NO_PROPOSAL_CHOSEN``) and
with it where IANA uses one (``EncrId.ENCR_AES_GCM_16``), so names print as IANA writes them.

Each registry is wrapped in a :class:`Registry` that also knows the RESERVED, Unassigned and
Private Use ranges, like Wireshark's ``range_string`` tables, so every number gets a name:
``NOTIFY_TYPES.name(40960) == "PRIVATE_USE(40960)"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from ikeview.iana.transform_type import TransformType as TransformType


class ExchangeType(IntEnum):
    """IKEv2 Exchange Types (RFC 7296 3.1 and later RFCs). 0-33 reserved."""

    IKE_SA_INIT = 34
    IKE_AUTH = 35
    CREATE_CHILD_SA = 36
    INFORMATIONAL = 37
    IKE_SESSION_RESUME = 38  # RFC 5723
    GSA_AUTH = 39  # G-IKEv2
    GSA_REGISTRATION = 40
    GSA_REKEY = 41
    GSA_INBAND_REKEY = 42
    IKE_INTERMEDIATE = 43  # RFC 9242
    IKE_FOLLOWUP_KE = 44  # RFC 9370


class PayloadType(IntEnum):
    """IKEv2 Payload Types (RFC 7296 3.2). 1-32 reserved (IKEv1 numbers)."""

    NO_NEXT_PAYLOAD = 0
    SA = 33
    KE = 34
    IDi = 35
    IDr = 36
    CERT = 37
    CERTREQ = 38
    AUTH = 39
    NONCE = 40  # Ni / Nr
    N = 41  # Notify
    D = 42  # Delete
    V = 43  # Vendor ID
    TSi = 44
    TSr = 45
    SK = 46
    CP = 47
    EAP = 48
    GSPM = 49  # RFC 6467
    IDg = 50  # G-IKEv2 group identification
    GSA = 51  # G-IKEv2 group security association
    KD = 52  # G-IKEv2 key download
    SKF = 53  # RFC 7383
    PS = 54  # RFC 8019 puzzle solution


class EncrId(IntEnum):
    """Transform Type 1 - Encryption Algorithm Transform IDs."""

    ENCR_DES_IV64 = 1
    ENCR_DES = 2
    ENCR_3DES = 3
    ENCR_RC5 = 4
    ENCR_IDEA = 5
    ENCR_CAST = 6
    ENCR_BLOWFISH = 7
    ENCR_3IDEA = 8
    ENCR_DES_IV32 = 9
    ENCR_NULL = 11
    ENCR_AES_CBC = 12
    ENCR_AES_CTR = 13
    ENCR_AES_CCM_8 = 14
    ENCR_AES_CCM_12 = 15
    ENCR_AES_CCM_16 = 16
    ENCR_AES_GCM_8 = 18
    ENCR_AES_GCM_12 = 19
    ENCR_AES_GCM_16 = 20
    ENCR_NULL_AUTH_AES_GMAC = 21
    ENCR_CAMELLIA_CBC = 23
    ENCR_CAMELLIA_CTR = 24
    ENCR_CAMELLIA_CCM_8 = 25
    ENCR_CAMELLIA_CCM_12 = 26
    ENCR_CAMELLIA_CCM_16 = 27
    ENCR_CHACHA20_POLY1305 = 28
    ENCR_AES_CCM_8_IIV = 29
    ENCR_AES_GCM_16_IIV = 30
    ENCR_CHACHA20_POLY1305_IIV = 31
    ENCR_KUZNYECHIK_MGM_KTREE = 32
    ENCR_MAGMA_MGM_KTREE = 33
    ENCR_KUZNYECHIK_MGM_MAC_KTREE = 34
    ENCR_MAGMA_MGM_MAC_KTREE = 35


class PrfId(IntEnum):
    """Transform Type 2 - Pseudorandom Function Transform IDs."""

    PRF_HMAC_MD5 = 1
    PRF_HMAC_SHA1 = 2
    PRF_HMAC_TIGER = 3
    PRF_AES128_XCBC = 4
    PRF_HMAC_SHA2_256 = 5
    PRF_HMAC_SHA2_384 = 6
    PRF_HMAC_SHA2_512 = 7
    PRF_AES128_CMAC = 8
    PRF_HMAC_STREEBOG_512 = 9


class IntegId(IntEnum):
    """Transform Type 3 - Integrity Algorithm Transform IDs."""

    NONE = 0
    AUTH_HMAC_MD5_96 = 1
    AUTH_HMAC_SHA1_96 = 2
    AUTH_DES_MAC = 3
    AUTH_KPDK_MD5 = 4
    AUTH_AES_XCBC_96 = 5
    AUTH_HMAC_MD5_128 = 6
    AUTH_HMAC_SHA1_160 = 7
    AUTH_AES_CMAC_96 = 8
    AUTH_AES_128_GMAC = 9
    AUTH_AES_192_GMAC = 10
    AUTH_AES_256_GMAC = 11
    AUTH_HMAC_SHA2_256_128 = 12
    AUTH_HMAC_SHA2_384_192 = 13
    AUTH_HMAC_SHA2_512_256 = 14


class DhGroup(IntEnum):
    """Transform Type 4 - Key Exchange Method (Diffie-Hellman group) Transform IDs.

    Also used by transform types 6-12 (ADDKE1-7), the KE payload and INVALID_KE_PAYLOAD.
    """

    NONE = 0
    MODP_768 = 1
    MODP_1024 = 2
    MODP_1536 = 5
    MODP_2048 = 14
    MODP_3072 = 15
    MODP_4096 = 16
    MODP_6144 = 17
    MODP_8192 = 18
    ECP_256 = 19
    ECP_384 = 20
    ECP_521 = 21
    MODP_1024_160 = 22
    MODP_2048_224 = 23
    MODP_2048_256 = 24
    ECP_192 = 25
    ECP_224 = 26
    BRAINPOOL_P224R1 = 27
    BRAINPOOL_P256R1 = 28
    BRAINPOOL_P384R1 = 29
    BRAINPOOL_P512R1 = 30
    CURVE25519 = 31
    CURVE448 = 32
    GOST3410_2012_256 = 33
    GOST3410_2012_512 = 34
    ML_KEM_512 = 35
    ML_KEM_768 = 36
    ML_KEM_1024 = 37


class EsnId(IntEnum):
    """Transform Type 5 - Extended Sequence Numbers Transform IDs."""

    NO_ESN = 0
    ESN = 1


class ProtocolId(IntEnum):
    """IKEv2 Security Protocol Identifiers (proposals, Notify, Delete)."""

    IKE = 1
    AH = 2
    ESP = 3
    FC_ESP_HEADER = 4
    FC_CT_AUTHENTICATION = 5
    GIKE_UPDATE = 6  # G-IKEv2 (RFC 9838)


class IdType(IntEnum):
    """IKEv2 Identification Payload ID Types (RFC 7296 3.5)."""

    ID_IPV4_ADDR = 1
    ID_FQDN = 2
    ID_RFC822_ADDR = 3
    ID_IPV6_ADDR = 5
    ID_DER_ASN1_DN = 9
    ID_DER_ASN1_GN = 10
    ID_KEY_ID = 11
    ID_FC_NAME = 12
    ID_NULL = 13  # RFC 7619


class AuthMethod(IntEnum):
    """IKEv2 Authentication Method (RFC 7296 3.8 and later)."""

    RSA_DIGITAL_SIGNATURE = 1
    SHARED_KEY_MIC = 2
    DSS_DIGITAL_SIGNATURE = 3
    ECDSA_SHA256_P256 = 9  # RFC 4754
    ECDSA_SHA384_P384 = 10
    ECDSA_SHA512_P521 = 11
    GSPM = 12  # RFC 6467 Generic Secure Password Methods
    NULL = 13  # RFC 7619
    DIGITAL_SIGNATURE = 14  # RFC 7427


class CertEncoding(IntEnum):
    """IKEv2 Certificate Encodings (RFC 7296 3.6)."""

    PKCS7_X509 = 1
    PGP = 2
    DNS_SIGNED_KEY = 3
    X509_SIGNATURE = 4
    KERBEROS_TOKEN = 6
    CRL = 7
    ARL = 8
    SPKI = 9
    X509_ATTRIBUTE = 10
    RAW_RSA_KEY = 11  # deprecated by RFC 7670
    HASH_URL_X509_CERT = 12
    HASH_URL_X509_BUNDLE = 13
    OCSP_CONTENT = 14  # RFC 4806
    RAW_PUBLIC_KEY = 15  # RFC 7670


class TsType(IntEnum):
    """IKEv2 Traffic Selector Types (RFC 7296 3.13.1). 0-6 reserved."""

    TS_IPV4_ADDR_RANGE = 7
    TS_IPV6_ADDR_RANGE = 8
    TS_FC_ADDR_RANGE = 9  # RFC 4595
    TS_SECLABEL = 10  # RFC 9478


class CfgType(IntEnum):
    """IKEv2 Configuration Payload CFG Types (RFC 7296 3.15)."""

    CFG_REQUEST = 1
    CFG_REPLY = 2
    CFG_SET = 3
    CFG_ACK = 4


class CfgAttribute(IntEnum):
    """IKEv2 Configuration Payload Attribute Types (RFC 7296 3.15.1 and later)."""

    INTERNAL_IP4_ADDRESS = 1
    INTERNAL_IP4_NETMASK = 2
    INTERNAL_IP4_DNS = 3
    INTERNAL_IP4_NBNS = 4
    INTERNAL_IP4_DHCP = 6
    APPLICATION_VERSION = 7
    INTERNAL_IP6_ADDRESS = 8
    INTERNAL_IP6_DNS = 10
    INTERNAL_IP6_DHCP = 12
    INTERNAL_IP4_SUBNET = 13
    SUPPORTED_ATTRIBUTES = 14
    INTERNAL_IP6_SUBNET = 15
    MIP6_HOME_PREFIX = 16
    INTERNAL_IP6_LINK = 17
    INTERNAL_IP6_PREFIX = 18
    HOME_AGENT_ADDRESS = 19
    P_CSCF_IP4_ADDRESS = 20
    P_CSCF_IP6_ADDRESS = 21
    FTT_KAT = 22
    EXTERNAL_SOURCE_IP4_NAT_INFO = 23
    TIMEOUT_PERIOD_FOR_LIVENESS_CHECK = 24
    INTERNAL_DNS_DOMAIN = 25  # RFC 8598
    INTERNAL_DNSSEC_TA = 26  # RFC 8598
    ENCDNS_IP4 = 27  # RFC 9464
    ENCDNS_IP6 = 28
    ENCDNS_DIGEST_INFO = 29


class HashAlgorithm(IntEnum):
    """IKEv2 Hash Algorithms (RFC 7427 section 7, SIGNATURE_HASH_ALGORITHMS)."""

    SHA1 = 1
    SHA2_256 = 2
    SHA2_384 = 3
    SHA2_512 = 4
    IDENTITY = 5  # RFC 8420
    STREEBOG_256 = 6  # RFC 9385
    STREEBOG_512 = 7


class NotifyType(IntEnum):
    """IKEv2 Notify Message Types: error types 0-16383, status types 16384-65535."""

    # Error types (RFC 7296 3.10.1 unless noted)
    UNSUPPORTED_CRITICAL_PAYLOAD = 1
    INVALID_IKE_SPI = 4
    INVALID_MAJOR_VERSION = 5
    INVALID_SYNTAX = 7
    INVALID_MESSAGE_ID = 9
    INVALID_SPI = 11
    NO_PROPOSAL_CHOSEN = 14
    INVALID_KE_PAYLOAD = 17
    AUTHENTICATION_FAILED = 24
    SINGLE_PAIR_REQUIRED = 34
    NO_ADDITIONAL_SAS = 35
    INTERNAL_ADDRESS_FAILURE = 36
    FAILED_CP_REQUIRED = 37
    TS_UNACCEPTABLE = 38
    INVALID_SELECTORS = 39
    UNACCEPTABLE_ADDRESSES = 40  # RFC 4555
    UNEXPECTED_NAT_DETECTED = 41  # RFC 4555
    USE_ASSIGNED_HoA = 42  # RFC 5026
    TEMPORARY_FAILURE = 43
    CHILD_SA_NOT_FOUND = 44
    INVALID_GROUP_ID = 45  # G-IKEv2
    AUTHORIZATION_FAILED = 46  # G-IKEv2
    STATE_NOT_FOUND = 47  # RFC 9370
    TS_MAX_QUEUE = 48  # RFC 9611
    REGISTRATION_FAILED = 49  # G-IKEv2 (RFC 9838)
    # Status types
    INITIAL_CONTACT = 16384
    SET_WINDOW_SIZE = 16385
    ADDITIONAL_TS_POSSIBLE = 16386
    IPCOMP_SUPPORTED = 16387
    NAT_DETECTION_SOURCE_IP = 16388
    NAT_DETECTION_DESTINATION_IP = 16389
    COOKIE = 16390
    USE_TRANSPORT_MODE = 16391
    HTTP_CERT_LOOKUP_SUPPORTED = 16392
    REKEY_SA = 16393
    ESP_TFC_PADDING_NOT_SUPPORTED = 16394
    NON_FIRST_FRAGMENTS_ALSO = 16395
    MOBIKE_SUPPORTED = 16396  # RFC 4555
    ADDITIONAL_IP4_ADDRESS = 16397
    ADDITIONAL_IP6_ADDRESS = 16398
    NO_ADDITIONAL_ADDRESSES = 16399
    UPDATE_SA_ADDRESSES = 16400
    COOKIE2 = 16401
    NO_NATS_ALLOWED = 16402
    AUTH_LIFETIME = 16403  # RFC 4478
    MULTIPLE_AUTH_SUPPORTED = 16404  # RFC 4739
    ANOTHER_AUTH_FOLLOWS = 16405
    REDIRECT_SUPPORTED = 16406  # RFC 5685
    REDIRECT = 16407
    REDIRECTED_FROM = 16408
    TICKET_LT_OPAQUE = 16409  # RFC 5723
    TICKET_REQUEST = 16410
    TICKET_ACK = 16411
    TICKET_NACK = 16412
    TICKET_OPAQUE = 16413
    LINK_ID = 16414  # RFC 5739
    USE_WESP_MODE = 16415  # RFC 5840
    ROHC_SUPPORTED = 16416  # RFC 5857
    EAP_ONLY_AUTHENTICATION = 16417  # RFC 5998
    CHILDLESS_IKEV2_SUPPORTED = 16418  # RFC 6023
    QUICK_CRASH_DETECTION = 16419  # RFC 6290
    IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420  # RFC 6311
    IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421
    IKEV2_MESSAGE_ID_SYNC = 16422
    IPSEC_REPLAY_COUNTER_SYNC = 16423
    SECURE_PASSWORD_METHODS = 16424  # RFC 6467
    PSK_PERSIST = 16425  # RFC 6631
    PSK_CONFIRM = 16426
    ERX_SUPPORTED = 16427  # RFC 6867
    IFOM_CAPABILITY = 16428
    SENDER_REQUEST_ID = 16429  # G-IKEv2
    IKEV2_FRAGMENTATION_SUPPORTED = 16430  # RFC 7383
    SIGNATURE_HASH_ALGORITHMS = 16431  # RFC 7427
    CLONE_IKE_SA_SUPPORTED = 16432  # RFC 7791
    CLONE_IKE_SA = 16433
    PUZZLE = 16434  # RFC 8019
    USE_PPK = 16435  # RFC 8784
    PPK_IDENTITY = 16436
    NO_PPK_AUTH = 16437
    INTERMEDIATE_EXCHANGE_SUPPORTED = 16438  # RFC 9242
    IP4_ALLOWED = 16439  # RFC 8983
    IP6_ALLOWED = 16440
    ADDITIONAL_KEY_EXCHANGE = 16441  # RFC 9370
    USE_AGGFRAG = 16442  # RFC 9347
    SUPPORTED_AUTH_METHODS = 16443  # RFC 9593
    SA_RESOURCE_INFO = 16444  # RFC 9611
    USE_PPK_INT = 16445  # RFC 9867
    PPK_IDENTITY_KEY = 16446


@dataclass(frozen=True, slots=True)
class Registry:
    """One IANA registry: its enum plus named ranges for the numbers it does not assign."""

    title: str
    """IANA's registry title."""
    enum: type[IntEnum]
    """The assigned values."""
    ranges: tuple[tuple[int, int, str], ...]
    """(low, high, label) for unassigned / reserved / private ranges, inclusive."""
    maximum: int
    """Largest number the field can hold (255 or 65535)."""

    def name(self, value: int) -> str:
        """IANA name of ``value``; for unassigned numbers ``LABEL(value)``. Never raises."""
        member = self.enum._value2member_map_.get(value)
        if member is not None:
            return member.name
        for low, high, label in self.ranges:
            if low <= value <= high:
                return f"{label}({value})"
        return f"UNKNOWN({value})"

    def __contains__(self, value: object) -> bool:
        return value in self.enum._value2member_map_


_U8_TAIL = ((201, 255, "PRIVATE_USE"),)
_U16_TAIL = ((1024, 65535, "PRIVATE_USE"),)


EXCHANGE_TYPES = Registry(
    "IKEv2 Exchange Types",
    ExchangeType,
    ((0, 33, "RESERVED"), (45, 239, "UNASSIGNED"), (240, 255, "PRIVATE_USE")),
    255,
)
PAYLOAD_TYPES = Registry(
    "IKEv2 Payload Types",
    PayloadType,
    ((1, 32, "RESERVED"), (55, 127, "UNASSIGNED"), (128, 255, "PRIVATE_USE")),
    255,
)
TRANSFORM_TYPES = Registry(
    "Transform Type Values",
    TransformType,
    ((0, 0, "RESERVED"), (15, 240, "UNASSIGNED"), (241, 255, "PRIVATE_USE")),
    255,
)
ENCR = Registry(
    "Transform Type 1 - Encryption Algorithm Transform IDs",
    EncrId,
    (
        (0, 0, "RESERVED"),
        (10, 10, "RESERVED"),
        (17, 17, "UNASSIGNED"),
        (22, 22, "RESERVED"),
        (36, 1023, "UNASSIGNED"),
        *_U16_TAIL,
    ),
    65535,
)
PRF = Registry(
    "Transform Type 2 - Pseudorandom Function Transform IDs",
    PrfId,
    ((0, 0, "RESERVED"), (10, 1023, "UNASSIGNED"), *_U16_TAIL),
    65535,
)
INTEG = Registry(
    "Transform Type 3 - Integrity Algorithm Transform IDs",
    IntegId,
    ((15, 1023, "UNASSIGNED"), *_U16_TAIL),
    65535,
)
DH_GROUPS = Registry(
    "Transform Type 4 - Key Exchange Method Transform IDs",
    DhGroup,
    (
        (3, 4, "RESERVED"),
        (6, 13, "UNASSIGNED"),
        (38, 1023, "UNASSIGNED"),
        *_U16_TAIL,
    ),
    65535,
)
ESN = Registry(
    "Transform Type 5 - Extended Sequence Numbers Transform IDs",
    EsnId,
    ((2, 65535, "UNASSIGNED"),),
    65535,
)
PROTOCOL_IDS = Registry(
    "IKEv2 Security Protocol Identifiers",
    ProtocolId,
    ((0, 0, "RESERVED"), (7, 200, "UNASSIGNED"), *_U8_TAIL),
    255,
)
ID_TYPES = Registry(
    "IKEv2 Identification Payload ID Types",
    IdType,
    (
        (0, 0, "RESERVED"),
        (4, 4, "UNASSIGNED"),
        (6, 8, "UNASSIGNED"),
        (14, 200, "UNASSIGNED"),
        *_U8_TAIL,
    ),
    255,
)
AUTH_METHODS = Registry(
    "IKEv2 Authentication Method",
    AuthMethod,
    ((0, 0, "RESERVED"), (4, 8, "UNASSIGNED"), (15, 200, "UNASSIGNED"), *_U8_TAIL),
    255,
)
CERT_ENCODINGS = Registry(
    "IKEv2 Certificate Encodings",
    CertEncoding,
    ((0, 0, "RESERVED"), (5, 5, "RESERVED"), (16, 200, "UNASSIGNED"), *_U8_TAIL),
    255,
)
TS_TYPES = Registry(
    "IKEv2 Traffic Selector Types",
    TsType,
    ((0, 6, "RESERVED"), (11, 240, "UNASSIGNED"), (241, 255, "PRIVATE_USE")),
    255,
)
CFG_TYPES = Registry(
    "IKEv2 Configuration Payload CFG Types",
    CfgType,
    ((0, 0, "RESERVED"), (5, 127, "UNASSIGNED"), (128, 255, "PRIVATE_USE")),
    255,
)
CFG_ATTRIBUTES = Registry(
    "IKEv2 Configuration Payload Attribute Types",
    CfgAttribute,
    (
        (0, 0, "RESERVED"),
        (5, 5, "RESERVED"),
        (9, 9, "RESERVED"),
        (11, 11, "RESERVED"),
        (30, 16383, "UNASSIGNED"),
        (16384, 32767, "PRIVATE_USE"),
        # The attribute type field is 15 bits; 32768+ only appears if the R bit was kept.
        (32768, 65535, "INVALID"),
    ),
    65535,
)
HASH_ALGORITHMS = Registry(
    "IKEv2 Hash Algorithms",
    HashAlgorithm,
    ((0, 0, "RESERVED"), (8, 1023, "UNASSIGNED"), *_U16_TAIL),
    65535,
)
NOTIFY_TYPES = Registry(
    "IKEv2 Notify Message Types",
    NotifyType,
    (
        (0, 0, "RESERVED"),
        (2, 46, "RESERVED"),  # the holes between RFC 7296 error types are reserved
        (50, 8191, "UNASSIGNED_ERROR"),
        (8192, 16383, "PRIVATE_USE_ERROR"),
        (16447, 40959, "UNASSIGNED_STATUS"),
        (40960, 65535, "PRIVATE_USE"),
    ),
    65535,
)

REGISTRIES: dict[str, Registry] = {
    "exchange_type": EXCHANGE_TYPES,
    "payload_type": PAYLOAD_TYPES,
    "transform_type": TRANSFORM_TYPES,
    "encr": ENCR,
    "prf": PRF,
    "integ": INTEG,
    "dh_group": DH_GROUPS,
    "esn": ESN,
    "protocol_id": PROTOCOL_IDS,
    "id_type": ID_TYPES,
    "auth_method": AUTH_METHODS,
    "cert_encoding": CERT_ENCODINGS,
    "ts_type": TS_TYPES,
    "cfg_type": CFG_TYPES,
    "cfg_attribute": CFG_ATTRIBUTES,
    "hash_algorithm": HASH_ALGORITHMS,
    "notify_type": NOTIFY_TYPES,
}
"""Every registry by a short key, e.g. for the TUI's name lookups and for tests."""

# Transform type -> registry of its transform IDs (RFC 9370: ADDKE1-7 share KE's registry).
TRANSFORM_ID_REGISTRIES: dict[int, Registry] = {
    1: ENCR,
    2: PRF,
    3: INTEG,
    4: DH_GROUPS,
    5: ESN,
    **{t: DH_GROUPS for t in range(6, 13)},
}


def transform_id_name(transform_type: int, transform_id: int) -> str:
    """Name of a transform ID given its transform type. Never raises."""
    registry = TRANSFORM_ID_REGISTRIES.get(transform_type)
    if registry is None:
        return f"ID({transform_id})"
    return registry.name(transform_id)
