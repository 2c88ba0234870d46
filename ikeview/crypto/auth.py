"""IKEv2 AUTH payload checks: shared-key MIC (PSK, NULL) and signatures (RFC 7296 2.15, RFC 7427).

Nothing here raises on bad peer data: every check returns an ``AuthVerdict`` that says whether
the AUTH data verified and, if not, why. Signatures are verified against the public key of the
certificate from the CERT payload (X.509 DER, or a bare SubjectPublicKeyInfo for RFC 7670 raw
public keys).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ikeview.crypto.prf import Prf
from ikeview.iana import AuthMethod as AuthMethod  # IANA's registry, re-exported for callers

# RFC 7296 section 2.15: the pad string mixed into the shared secret, without a NUL.
KEY_PAD = b"Key Pad for IKEv2"


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    """The outcome of checking one AUTH payload."""

    verified: bool
    """True if the AUTH data matched."""
    reason: str
    """Why it did or did not verify, in words for the user."""
    algorithm: str = ""
    """What was checked, e.g. ``RSASSA-PSS SHA-256`` or ``shared key MIC``."""


@dataclass(frozen=True, slots=True)
class AuthSide:
    """Everything one side's AUTH payload covers (RFC 7296 section 2.15)."""

    real_message: bytes = field(repr=False)
    """The whole IKE_SA_INIT message this side sent (initiator: message 1, responder: 2)."""
    peer_nonce: bytes = field(repr=False)
    """Nonce Data of the other side (the initiator signs Nr, the responder Ni)."""
    id_body: bytes = field(repr=False)
    """This side's ID payload after the generic header: ID Type, RESERVED, data."""
    sk_p: bytes = field(repr=False)
    """SK_pi for the initiator, SK_pr for the responder."""
    auth_data: bytes = field(repr=False)
    """Authentication Data of this side's AUTH payload."""


@dataclass(frozen=True, slots=True)
class PskCandidate:
    """A pre-shared key to try, with a label safe to show."""

    label: str
    """Name shown in reports (never the secret)."""
    secret: bytes = field(repr=False)
    """The shared secret octets."""


@dataclass(frozen=True, slots=True)
class PskMatch:
    """Which candidate PSK produced each side's AUTH (None: no candidate did)."""

    initiator: str | None
    """Label of the PSK that verified the initiator's AUTH."""
    responder: str | None
    """Label of the PSK that verified the responder's AUTH."""

    @property
    def any_matched(self) -> bool:
        """True if at least one side's AUTH was explained by a candidate."""
        return self.initiator is not None or self.responder is not None


# --- shared key MIC (RFC 7296 section 2.15) ---------------------------------------------------
#   InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
#   MACedIDForI = prf(SK_pi, RestOfInitIDPayload)
#   (and the same for the responder with RealMessage2, NonceIData, SK_pr, RestOfRespIDPayload)
def signed_octets(
    prf: Prf, real_message: bytes, peer_nonce: bytes, sk_p: bytes, id_body: bytes
) -> bytes:
    """The octets one side's AUTH covers."""
    return real_message + peer_nonce + prf(sk_p, id_body)


def side_signed_octets(prf: Prf, side: AuthSide) -> bytes:
    """``signed_octets`` for an ``AuthSide``."""
    return signed_octets(prf, side.real_message, side.peer_nonce, side.sk_p, side.id_body)


#   AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <InitiatorSignedOctets>)
def psk_auth(prf: Prf, secret: bytes, octets: bytes) -> bytes:
    """Shared-key MIC AUTH data; ``secret`` is the PSK (or the EAP MSK, RFC 7296 2.16)."""
    return prf(prf(secret, KEY_PAD), octets)


def compute_psk_auth(prf: Prf, secret: bytes, side: AuthSide) -> bytes:
    """The AUTH data ``side`` would send with shared secret ``secret``."""
    return psk_auth(prf, secret, side_signed_octets(prf, side))


def verify_psk(prf: Prf, secret: bytes, side: AuthSide) -> AuthVerdict:
    """Check a Shared Key MIC AUTH payload (method 2) against one secret."""
    if compute_psk_auth(prf, secret, side) == side.auth_data:
        return AuthVerdict(True, "AUTH matches the shared key", "shared key MIC")
    return AuthVerdict(False, "AUTH does not match the shared key", "shared key MIC")


def verify_null_auth(prf: Prf, side: AuthSide) -> AuthVerdict:
    """Check a NULL Authentication AUTH payload (method 13): the MIC with an empty secret.

    RFC 7619 section 2.1 computes it as the shared-key MIC with a zero-length key.
    """
    if compute_psk_auth(prf, b"", side) == side.auth_data:
        return AuthVerdict(True, "NULL authentication MIC matches", "NULL authentication")
    return AuthVerdict(False, "NULL authentication MIC does not match", "NULL authentication")


def match_psks(
    prf: Prf,
    candidates: Iterable[PskCandidate | tuple[str, bytes]],
    initiator: AuthSide | None,
    responder: AuthSide | None,
) -> PskMatch:
    """Find the candidate PSK behind each side's AUTH; each side may use its own key."""
    pool = [c if isinstance(c, PskCandidate) else PskCandidate(c[0], c[1]) for c in candidates]

    def first_match(side: AuthSide | None) -> str | None:
        if side is None:
            return None
        octets = side_signed_octets(prf, side)
        for cand in pool:
            if psk_auth(prf, cand.secret, octets) == side.auth_data:
                return cand.label
        return None

    return PskMatch(first_match(initiator), first_match(responder))


# --- signatures --------------------------------------------------------------------------------

PeerPublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
"""Key types an IKEv2 peer certificate may carry that ikeview verifies signatures with."""


class _Rejected(Exception):
    """Internal: stops a check with a reason; turned into a failed verdict at the top."""


class _BadSignature(Exception):
    """Internal: a well-formed signature that does not verify; carries the algorithm label."""

    def __init__(self, algorithm: str) -> None:
        super().__init__(algorithm)
        self.algorithm = algorithm


def load_peer_public_key(cert_data: bytes) -> PeerPublicKey:
    """The public key in CERT payload data: an X.509 certificate or a raw SPKI (RFC 7670).

    Raises ``ValueError`` if the data is neither or holds an unsupported key type.
    """
    # x509 and serialization (which loads the SSH key format) are imported here, when a CERT
    # payload is met: start-up time every command would otherwise pay (PSK-only captures never
    # need them).
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key: PublicKeyTypes
    try:
        key = x509.load_der_x509_certificate(cert_data).public_key()
    except ValueError:
        try:
            key = serialization.load_der_public_key(cert_data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise ValueError("CERT data is neither an X.509 certificate nor a public key") from exc
    if not isinstance(key, PeerPublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


# RFC 4754 section 7 / RFC 7296 section 3.8: ECDSA methods fix both curve and hash, and the
# signature is r | s, each the size of the curve's order.
_ECDSA_METHODS: dict[int, tuple[str, type[hashes.HashAlgorithm], int]] = {
    9: ("secp256r1", hashes.SHA256, 32),
    10: ("secp384r1", hashes.SHA384, 48),
    11: ("secp521r1", hashes.SHA512, 66),
}


def verify_signature(
    auth_method: int, auth_data: bytes, octets: bytes, cert_data: bytes
) -> AuthVerdict:
    """Verify a signature AUTH payload (methods 1, 9, 10, 11, 14) over ``octets``.

    ``cert_data`` is the CERT payload's Certificate Data of the signer (X.509 DER or SPKI).
    """
    try:
        key = load_peer_public_key(cert_data)
    except ValueError as exc:
        return AuthVerdict(False, str(exc))
    try:
        if auth_method == AuthMethod.RSA_DIGITAL_SIGNATURE:
            algorithm = "RSASSA-PKCS1-v1_5 SHA-1"
            _verify_rsa_pkcs1(key, auth_data, octets, hashes.SHA1())
        elif auth_method in _ECDSA_METHODS:
            curve, hash_cls, size = _ECDSA_METHODS[auth_method]
            algorithm = f"ECDSA {hash_cls().name.upper()} {curve}"
            _verify_ecdsa_fixed(key, auth_data, octets, curve, hash_cls(), size)
        elif auth_method == AuthMethod.DIGITAL_SIGNATURE:
            algorithm = "RFC 7427 digital signature"
            try:
                algorithm = _verify_rfc7427(key, auth_data, octets)
            except _BadSignature as exc:
                algorithm = exc.algorithm
                raise InvalidSignature from None
        else:
            return AuthVerdict(False, f"auth method {auth_method} is not a signature method")
    except _Rejected as exc:
        return AuthVerdict(False, str(exc), algorithm)
    except InvalidSignature:
        return AuthVerdict(False, "signature does not verify with the certificate's key", algorithm)
    return AuthVerdict(True, "signature verifies with the certificate's key", algorithm)


def verify_side_signature(
    prf: Prf, auth_method: int, side: AuthSide, cert_data: bytes
) -> AuthVerdict:
    """``verify_signature`` over the signed octets of ``side``."""
    return verify_signature(auth_method, side.auth_data, side_signed_octets(prf, side), cert_data)


def _verify_rsa_pkcs1(
    key: PeerPublicKey, sig: bytes, octets: bytes, hash_alg: hashes.HashAlgorithm
) -> None:
    if not isinstance(key, rsa.RSAPublicKey):
        raise _Rejected(f"RSA signature but the certificate holds a {_key_kind(key)} key")
    key.verify(sig, octets, padding.PKCS1v15(), hash_alg)


def _verify_ecdsa_fixed(
    key: PeerPublicKey,
    sig: bytes,
    octets: bytes,
    curve: str,
    hash_alg: hashes.HashAlgorithm,
    size: int,
) -> None:
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != curve:
        raise _Rejected(f"method needs a {curve} key, the certificate holds a {_key_kind(key)} key")
    if len(sig) != 2 * size:
        raise _Rejected(f"ECDSA signature must be {2 * size} octets (r | s), got {len(sig)}")
    r = int.from_bytes(sig[:size], "big")
    s = int.from_bytes(sig[size:], "big")
    key.verify(encode_dss_signature(r, s), octets, ec.ECDSA(hash_alg))


def _key_kind(key: PeerPublicKey) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return "Ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "Ed448"


# --- RFC 7427 Digital Signature ----------------------------------------------------------------
# RFC 7427 section 3: Authentication Data = Length of ASN.1 object (1 octet) |
#   AlgorithmIdentifier ASN.1 object (DER) | Signature Value.

_OID_RSA_PKCS1: dict[str, type[hashes.HashAlgorithm]] = {
    "1.2.840.113549.1.1.5": hashes.SHA1,  # sha1WithRSAEncryption
    "1.2.840.113549.1.1.14": hashes.SHA224,  # sha224WithRSAEncryption
    "1.2.840.113549.1.1.11": hashes.SHA256,  # sha256WithRSAEncryption
    "1.2.840.113549.1.1.12": hashes.SHA384,  # sha384WithRSAEncryption
    "1.2.840.113549.1.1.13": hashes.SHA512,  # sha512WithRSAEncryption
}
_OID_ECDSA: dict[str, type[hashes.HashAlgorithm]] = {
    "1.2.840.10045.4.1": hashes.SHA1,  # ecdsa-with-SHA1
    "1.2.840.10045.4.3.1": hashes.SHA224,  # ecdsa-with-SHA224
    "1.2.840.10045.4.3.2": hashes.SHA256,  # ecdsa-with-SHA256
    "1.2.840.10045.4.3.3": hashes.SHA384,  # ecdsa-with-SHA384
    "1.2.840.10045.4.3.4": hashes.SHA512,  # ecdsa-with-SHA512
}
_OID_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "1.3.14.3.2.26": hashes.SHA1,
    "2.16.840.1.101.3.4.2.4": hashes.SHA224,
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
_OID_RSASSA_PSS = "1.2.840.113549.1.1.10"
_OID_MGF1 = "1.2.840.113549.1.1.8"
_OID_ED25519 = "1.3.101.112"
_OID_ED448 = "1.3.101.113"

_TAG_INTEGER, _TAG_NULL, _TAG_OID, _TAG_SEQUENCE = 0x02, 0x05, 0x06, 0x30


def _der_next(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """(tag, content, offset after the element) of the DER element at ``offset``."""
    if offset + 2 > len(data):
        raise _Rejected("AlgorithmIdentifier: truncated DER")
    tag, first = data[offset], data[offset + 1]
    offset += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or offset + n > len(data):
            raise _Rejected("AlgorithmIdentifier: bad DER length")
        length = int.from_bytes(data[offset : offset + n], "big")
        offset += n
    if offset + length > len(data):
        raise _Rejected("AlgorithmIdentifier: DER element runs past its end")
    return tag, data[offset : offset + length], offset + length


def _der_oid(content: bytes) -> str:
    # X.690 section 8.19: base-128 subidentifiers; the first one packs the first two arcs.
    arcs: list[int] = []
    value = 0
    for octet in content:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    if not arcs or content[-1] & 0x80:
        raise _Rejected("AlgorithmIdentifier: malformed OBJECT IDENTIFIER")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))


def _algorithm_identifier(der: bytes) -> tuple[str, bytes | None]:
    """(OID, DER of the parameters or None) of an AlgorithmIdentifier (RFC 5280 4.1.1.2)."""
    tag, body, end = _der_next(der, 0)
    if tag != _TAG_SEQUENCE or end != len(der):
        raise _Rejected("AlgorithmIdentifier: not a single DER SEQUENCE")
    tag, oid, pos = _der_next(body, 0)
    if tag != _TAG_OID:
        raise _Rejected("AlgorithmIdentifier: no OBJECT IDENTIFIER")
    return _der_oid(oid), (body[pos:] or None)


def _hash_from_algid(der: bytes) -> type[hashes.HashAlgorithm]:
    oid, _ = _algorithm_identifier(der)
    if oid not in _OID_HASH:
        raise _Rejected(f"RSASSA-PSS: unsupported hash {oid}")
    return _OID_HASH[oid]


def _pss_parameters(params: bytes | None) -> tuple[hashes.HashAlgorithm, padding.PSS, str]:
    """Hash, padding and a label from RSASSA-PSS-params (RFC 4055 section 3.1)."""
    # Defaults of RFC 4055: SHA-1, MGF1 with SHA-1, salt length 20, trailer field 1.
    hash_cls: type[hashes.HashAlgorithm] = hashes.SHA1
    mgf_hash: type[hashes.HashAlgorithm] = hashes.SHA1
    salt_len = 20
    if params is not None:
        tag, body, end = _der_next(params, 0)
        if tag != _TAG_SEQUENCE or end != len(params):
            raise _Rejected("RSASSA-PSS: parameters are not a SEQUENCE")
        pos = 0
        while pos < len(body):
            tag, inner, pos = _der_next(body, pos)
            if tag == 0xA0:  # [0] hashAlgorithm
                hash_cls = _hash_from_algid(inner)
            elif tag == 0xA1:  # [1] maskGenAlgorithm: MGF1 with its hash AlgorithmIdentifier
                oid, mgf_params = _algorithm_identifier(inner)
                if oid != _OID_MGF1 or mgf_params is None:
                    raise _Rejected(f"RSASSA-PSS: unsupported mask generation {oid}")
                mgf_hash = _hash_from_algid(mgf_params)
            elif tag == 0xA2:  # [2] saltLength
                itag, value, _ = _der_next(inner, 0)
                if itag != _TAG_INTEGER:
                    raise _Rejected("RSASSA-PSS: saltLength is not an INTEGER")
                salt_len = int.from_bytes(value, "big")
            elif tag == 0xA3:  # [3] trailerField: only trailerFieldBC (1) exists
                itag, value, _ = _der_next(inner, 0)
                if itag != _TAG_INTEGER or int.from_bytes(value, "big") != 1:
                    raise _Rejected("RSASSA-PSS: trailerField must be 1")
            else:
                raise _Rejected(f"RSASSA-PSS: unexpected parameter tag {tag:#x}")
    label = f"RSASSA-PSS {hash_cls().name.upper()} MGF1-{mgf_hash().name.upper()} salt {salt_len}"
    return hash_cls(), padding.PSS(padding.MGF1(mgf_hash()), salt_len), label


def _verify_rfc7427(key: PeerPublicKey, auth_data: bytes, octets: bytes) -> str:
    """Verify RFC 7427 AUTH data; returns the algorithm label or raises."""
    if not auth_data:
        raise _Rejected("RFC 7427 AUTH data is empty")
    n = auth_data[0]
    if 1 + n > len(auth_data):
        raise _Rejected("RFC 7427 AlgorithmIdentifier length runs past the AUTH data")
    oid, params = _algorithm_identifier(auth_data[1 : 1 + n])
    sig = auth_data[1 + n :]
    if oid in _OID_RSA_PKCS1:
        hash_alg = _OID_RSA_PKCS1[oid]()
        label = f"RSASSA-PKCS1-v1_5 {hash_alg.name.upper()}"
        try:
            _verify_rsa_pkcs1(key, sig, octets, hash_alg)
        except InvalidSignature:
            raise _BadSignature(label) from None
        return label
    if oid == _OID_RSASSA_PSS:
        hash_alg, pss, label = _pss_parameters(params)
        if not isinstance(key, rsa.RSAPublicKey):
            raise _Rejected(
                f"RSASSA-PSS signature but the certificate holds a {_key_kind(key)} key"
            )
        try:
            key.verify(sig, octets, pss, hash_alg)
        except InvalidSignature:
            raise _BadSignature(label) from None
        return label
    if oid in _OID_ECDSA:
        hash_alg = _OID_ECDSA[oid]()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise _Rejected(f"ECDSA signature but the certificate holds a {_key_kind(key)} key")
        label = f"ECDSA {hash_alg.name.upper()} {key.curve.name}"
        # RFC 7427 section 3: the ECDSA value is the DER Ecdsa-Sig-Value, as in X.509.
        try:
            key.verify(sig, octets, ec.ECDSA(hash_alg))
        except (InvalidSignature, ValueError):
            raise _BadSignature(label) from None
        return label
    if oid in (_OID_ED25519, _OID_ED448):
        # RFC 8420 section 2: pure EdDSA over the signed octets.
        want = ed25519.Ed25519PublicKey if oid == _OID_ED25519 else ed448.Ed448PublicKey
        if not isinstance(key, want):
            raise _Rejected(f"EdDSA signature but the certificate holds a {_key_kind(key)} key")
        label = "Ed25519" if oid == _OID_ED25519 else "Ed448"
        try:
            key.verify(sig, octets)
        except InvalidSignature:
            raise _BadSignature(label) from None
        return label
    raise _Rejected(f"RFC 7427: unsupported signature algorithm {oid}")
