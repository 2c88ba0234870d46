"""Just enough DER (X.690) to name things in IKE payloads: OIDs and Distinguished Names.

Used for RFC 7427 AlgorithmIdentifiers in AUTH payloads and ID_DER_ASN1_DN identities. This
is a reader for display only; it never validates certificates (that needs real crypto).
"""

from __future__ import annotations

from .errors import DecodeError

TAG_SEQUENCE = 0x30
TAG_SET = 0x31
TAG_OID = 0x06

# Well-known signature algorithm OIDs (RFC 7427 appendix A; RFC 8017, 5758, 8410).
SIGNATURE_OIDS: dict[str, str] = {
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.10040.4.3": "dsa-with-sha1",
    "2.16.840.1.101.3.4.3.2": "dsa-with-sha256",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}

# X.520 attribute types as OpenSSL/strongSwan print them in DNs.
DN_ATTRIBUTE_OIDS: dict[str, str] = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.42": "GN",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "E",
}


def read_tlv(data: bytes, pos: int, limit: int | None = None) -> tuple[int, int, int]:
    """X.690 8.1: one TLV at ``pos``: returns (tag, value_start, value_end).

    ``limit`` is the end of the enclosing value (default: the end of ``data``); the element
    must fit inside it.
    """
    if limit is None:
        limit = len(data)
    if pos + 2 > limit:
        raise DecodeError(pos, "DER element truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DecodeError(pos, "DER high tag numbers not supported")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > limit:
            raise DecodeError(pos - 1, "bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > limit:
        raise DecodeError(pos, f"DER value of {length} bytes overruns its container")
    return tag, pos, pos + length


def decode_oid(value: bytes) -> str:
    """X.690 8.19: the content octets of an OBJECT IDENTIFIER as a dotted string."""
    arcs: list[int] = []
    acc = 0
    for byte in value:
        if acc >> 128:
            # No real OID arc is this large; a hostile run of continuation bytes would make an
            # ever larger integer (quadratic time, and too many digits for str()).
            raise DecodeError(0, "OID arc longer than 128 bits")
        acc = (acc << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(acc)
            acc = 0
    if not arcs:
        return ""
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


def algorithm_identifier_oid(der: bytes) -> str:
    """RFC 5280 4.1.1.2: the algorithm OID of an AlgorithmIdentifier SEQUENCE."""
    tag, start, end = read_tlv(der, 0)
    if tag != TAG_SEQUENCE:
        raise DecodeError(0, "AlgorithmIdentifier is not a SEQUENCE")
    tag, ostart, oend = read_tlv(der, start, end)
    if tag != TAG_OID:
        raise DecodeError(start, "AlgorithmIdentifier does not start with an OID")
    return decode_oid(der[ostart:oend])


def dn_to_text(der: bytes) -> str:
    """RFC 5280 4.1.2.4: a DER Name (RDNSequence) as "C=CH, O=strongSwan, CN=moon"."""
    tag, start, end = read_tlv(der, 0)
    if tag != TAG_SEQUENCE:
        raise DecodeError(0, "Name is not a SEQUENCE")
    parts: list[str] = []
    pos = start
    while pos < end:
        tag, sstart, send = read_tlv(der, pos, end)
        if tag != TAG_SET:
            raise DecodeError(pos, "RDN is not a SET")
        inner = sstart
        while inner < send:
            _, astart, aend = read_tlv(der, inner, send)
            otag, ostart, oend = read_tlv(der, astart, aend)
            if otag != TAG_OID:
                raise DecodeError(astart, "attribute type is not an OID")
            oid = decode_oid(der[ostart:oend])
            _, vstart, vend = read_tlv(der, oend, aend)
            value = der[vstart:vend].decode("utf-8", errors="replace")
            parts.append(f"{DN_ATTRIBUTE_OIDS.get(oid, oid)}={value}")
            inner = aend
        pos = send
    return ", ".join(parts)
