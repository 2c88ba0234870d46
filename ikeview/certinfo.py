"""X.509 certificates from CERT payloads, described for people (cryptography.x509).

``describe(der)`` never raises: a certificate that does not parse gives a ``CertInfo`` whose
``error`` says why. ``identity_matches`` answers "does IDi/IDr name this certificate" the way
RFC 7296 section 3.5 and RFC 4945 expect: the ID appears as subject DN or a subjectAltName.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa


@dataclass(frozen=True, slots=True)
class CertInfo:
    """What an engineer reads off a certificate."""

    subject: str
    """Subject DN in RFC 4514 form ("" when it did not parse)."""
    issuer: str
    """Issuer DN in RFC 4514 form."""
    san: tuple[str, ...]
    """subjectAltName entries as ``DNS:x``, ``IP:x``, ``email:x``, ``URI:x``, ``DN:x``."""
    not_before: datetime | None
    """Start of validity (UTC)."""
    not_after: datetime | None
    """End of validity (UTC)."""
    key: str
    """Public key type and size, e.g. ``RSA 3072``, ``ECDSA P-256``, ``Ed25519``."""
    serial: str
    """Serial number in hex."""
    subject_der: bytes = b""
    """The subject Name as DER (what an ID_DER_ASN1_DN payload carries)."""
    error: str | None = None
    """Why the bytes are no certificate; the other fields are then empty."""


def _key_text(cert: x509.Certificate) -> str:
    try:
        key = cert.public_key()
    except (ValueError, TypeError) as err:
        return f"unsupported key ({err})"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name} ({key.key_size} bits)"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    return type(key).__name__


def _san(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return ()
    out: list[str] = []
    for name in ext:
        if isinstance(name, x509.DNSName):
            out.append(f"DNS:{name.value}")
        elif isinstance(name, x509.IPAddress):
            out.append(f"IP:{name.value}")
        elif isinstance(name, x509.RFC822Name):
            out.append(f"email:{name.value}")
        elif isinstance(name, x509.UniformResourceIdentifier):
            out.append(f"URI:{name.value}")
        elif isinstance(name, x509.DirectoryName):
            out.append(f"DN:{name.value.rfc4514_string()}")
    return tuple(out)


def describe(der: bytes) -> CertInfo:
    """Subject, issuer, SAN, validity and key of a DER certificate (never raises)."""
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        return CertInfo(
            subject=subject,
            issuer=issuer,
            san=_san(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            key=_key_text(cert),
            serial=f"{cert.serial_number:x}",
            subject_der=cert.subject.public_bytes(),
        )
    except (ValueError, TypeError) as err:
        return CertInfo("", "", (), None, None, "", "", error=f"not a DER certificate: {err}")


def identity_matches(
    info: CertInfo, id_type: int, id_text: str, id_data: bytes = b""
) -> bool | None:
    """Whether an ID payload names the certificate; None when the certificate did not parse.

    ID types (RFC 7296 3.5): 1 IPv4, 5 IPv6, 2 FQDN, 3 RFC822, 9 DER_ASN1_DN; others (KEY_ID)
    cannot be matched against a certificate and give False.
    """
    if info.error:
        return None
    if id_type in (1, 5):
        try:
            want = ipaddress.ip_address(id_text)
        except ValueError:
            return False
        return any(s == f"IP:{want}" for s in info.san)
    if id_type == 2:
        return f"dns:{id_text}".lower() in {s.lower() for s in info.san}
    if id_type == 3:
        return f"email:{id_text}".lower() in {s.lower() for s in info.san}
    if id_type == 9:
        # The ID carries the DER Name: byte equality with the subject is the strict test.
        return bool(id_data) and id_data == info.subject_der
    return False


def describe_lines(info: CertInfo) -> list[str]:
    """The certificate as short lines for a tree or a card."""
    if info.error:
        return [info.error]
    lines = [f"subject {info.subject}", f"issuer {info.issuer}"]
    if info.san:
        lines.append("SAN " + ", ".join(info.san))
    if info.not_before and info.not_after:
        lines.append(
            f"valid {info.not_before:%Y-%m-%d %H:%M} to {info.not_after:%Y-%m-%d %H:%M} UTC"
        )
    lines.append(f"key {info.key} · serial {info.serial}")
    return lines
