"""IKE message dissector: RFC 7296 header and IKEv2 payload chain to immutable records.

Parsers are plain functions picked from :data:`PAYLOAD_PARSERS` by Next Payload number; each
gets the payload's generic-header fields and body and returns one record, or raises
:class:`DecodeError`. :func:`parse_message` and :func:`parse_payloads` catch it once, at the
message boundary, and return what parsed so far with ``error`` set. Nothing else escapes.

SK (46) and SKF (53) end the chain: what follows them is ciphertext, parsed later with
:func:`parse_payloads` once the core has decrypted it.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from typing import TypedDict

from ikeview.iana import IdType, PayloadType, TsType

from . import notify_data
from .errors import DecodeError, DecodeProblem
from .ike_der import SIGNATURE_OIDS, algorithm_identifier_oid, dn_to_text
from .ike_records import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    ConfigAttribute,
    CpPayload,
    DeletePayload,
    EapPayload,
    IdPayload,
    IkeHeader,
    IkeMessage,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    Proposal,
    SaPayload,
    SignatureInfo,
    SkfPayload,
    SkPayload,
    TrafficSelector,
    Transform,
    TransformAttribute,
    TsPayload,
    UnknownPayload,
    VendorIdPayload,
)
from .vendor_ids import vendor_name

# RFC 7296 3.1 IKE Header:
# IKE SA Initiator's SPI (8) | IKE SA Responder's SPI (8) | Next Payload (1) |
# MjVer:4 MnVer:4 (1) | Exchange Type (1) | Flags (1) | Message ID (4) | Length (4)
HEADER = struct.Struct("!8s8sBBBBII")

# RFC 7296 3.2 Generic Payload Header: Next Payload (1) | C:1 RESERVED:7 (1) | Payload Length (2)
GENERIC = struct.Struct("!BBH")

# RFC 7296 3.3.1 Proposal Substructure: Last Substruc (1) | RESERVED (1) | Proposal Length (2) |
# Proposal Num (1) | Protocol ID (1) | SPI Size (1) | Num Transforms (1)   [then SPI, transforms]
PROPOSAL = struct.Struct("!BBHBBBB")

# RFC 7296 3.3.2 Transform Substructure: Last Substruc (1) | RESERVED (1) | Transform Length (2) |
# Transform Type (1) | RESERVED (1) | Transform ID (2)   [then attributes]
TRANSFORM = struct.Struct("!BBHBBH")

# RFC 7296 3.3.5 Transform Attributes: A:1 Attribute Type:15 (2) | Length or Value (2)
ATTRIBUTE = struct.Struct("!HH")

# RFC 7296 3.4 Key Exchange Payload body: Diffie-Hellman Group Num (2) | RESERVED (2)
KE_BODY = struct.Struct("!HH")

# RFC 7296 3.10 Notify Payload body: Protocol ID (1) | SPI Size (1) | Notify Message Type (2)
NOTIFY_BODY = struct.Struct("!BBH")

# RFC 7296 3.11 Delete Payload body: Protocol ID (1) | SPI Size (1) | Num of SPIs (2)
DELETE_BODY = struct.Struct("!BBH")

# RFC 7296 3.13.1 Traffic Selector: TS Type (1) | IP Protocol ID (1) | Selector Length (2) |
# Start Port (2) | End Port (2)   [then Starting Address, Ending Address]
SELECTOR = struct.Struct("!BBHHH")

# RFC 7296 3.15.1 Configuration Attribute: R:1 Attribute Type:15 (2) | Length (2)
CFG_ATTRIBUTE = struct.Struct("!HH")

# RFC 7383 2.5 Encrypted Fragment Payload body: Fragment Number (2) | Total Fragments (2)
SKF_BODY = struct.Struct("!HH")

# RFC 3748 4 EAP packet: Code (1) | Identifier (1) | Length (2)   [then Type (1), Type-Data]
EAP_HEADER = struct.Struct("!BBH")

ATTR_KEY_LENGTH = 14  # RFC 7296 3.3.5: the only IKEv2 transform attribute
CERT_HASH_LEN = 20  # RFC 7296 3.7: SHA-1 of the CA's SubjectPublicKeyInfo
X509_ENCODINGS = frozenset({4, 12, 13})  # encodings whose CERTREQ data is a hash list

IKE_HEADER_LEN = HEADER.size  # 28

MAX_ITEMS = 1024
"""Records one payload chain may make: payloads, proposals, transforms, attributes, selectors
and configuration attributes together. A real message makes a few hundred at most (a large
strongSwan proposal: about 80 transforms); 65 KB of 4-byte payloads would make 16,000 records,
kept for the whole run, about 40 times the bytes that carry them. Past the budget the message is
marked damaged and the rest of its chain is not parsed."""


class _Budget:
    """What is left of MAX_ITEMS for one payload chain (shared by its parsers)."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_ITEMS

    def spend(self, at: int, n: int = 1) -> None:
        self.left -= n
        if self.left < 0:
            raise DecodeError(at, f"more than {MAX_ITEMS} payloads and substructures in one "
                                  "message; the rest is not parsed")  # fmt: skip


class _Common(TypedDict):
    """The generic-header fields every payload record takes (``_PayloadBase``), passed as
    ``**common`` so each parser names only its own fields."""

    payload_type: int
    critical: bool
    offset: int
    length: int
    body: bytes


class _Ctx:
    """Where a payload sits, so its parser can raise errors at absolute offsets."""

    __slots__ = ("body_offset", "budget", "common", "next_type")

    def __init__(self, common: _Common, body_offset: int, next_type: int, budget: _Budget) -> None:
        self.budget = budget
        """The chain's record budget (MAX_ITEMS)."""
        self.common = common
        """The fields every payload record has (payload_type, critical, offset, ...)."""
        self.body_offset = body_offset
        """Offset of the body (after the generic header) in the message."""
        self.next_type = next_type
        """Next Payload of this payload's generic header (SK/SKF: first inner type)."""

    def need(self, body: bytes, size: int, what: str) -> None:
        if len(body) < size:
            raise DecodeError(
                self.common["offset"],
                f"{what}: payload body {len(body)} bytes, needs at least {size}",
            )


# ---------------------------------------------------------------- payload parsers


def _parse_sa(ctx: _Ctx, body: bytes) -> SaPayload:
    proposals: list[Proposal] = []
    pos = 0
    while pos < len(body):
        at = ctx.body_offset + pos
        if len(body) - pos < PROPOSAL.size:
            raise DecodeError(at, f"proposal header truncated ({len(body) - pos} bytes left)")
        _last, _res, plen, number, protocol, spi_size, _count = PROPOSAL.unpack_from(body, pos)
        if plen < PROPOSAL.size + spi_size or pos + plen > len(body):
            raise DecodeError(at, f"proposal length {plen} does not fit ({len(body) - pos} left)")
        spi_end = pos + PROPOSAL.size + spi_size
        spi = body[pos + PROPOSAL.size : spi_end]
        ctx.budget.spend(at)
        transforms = _parse_transforms(
            body[spi_end : pos + plen], ctx.body_offset + spi_end, ctx.budget
        )
        proposals.append(Proposal(number, protocol, spi, transforms, at))
        pos += plen
    return SaPayload(**ctx.common, proposals=tuple(proposals))


def _parse_transforms(data: bytes, base: int, budget: _Budget) -> tuple[Transform, ...]:
    transforms: list[Transform] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < TRANSFORM.size:
            raise DecodeError(base + pos, "transform header truncated")
        _last, _res, tlen, ttype, _res2, tid = TRANSFORM.unpack_from(data, pos)
        if tlen < TRANSFORM.size or pos + tlen > len(data):
            raise DecodeError(base + pos, f"transform length {tlen} does not fit")
        budget.spend(base + pos)
        attributes = _parse_attributes(
            data[pos + TRANSFORM.size : pos + tlen], base + pos + TRANSFORM.size, budget
        )
        key_length = next(
            (
                a.value
                for a in attributes
                if a.attr_type == ATTR_KEY_LENGTH and isinstance(a.value, int)
            ),
            None,
        )
        transforms.append(Transform(ttype, tid, key_length, attributes, base + pos))
        pos += tlen
    return tuple(transforms)


def _parse_attributes(data: bytes, base: int, budget: _Budget) -> tuple[TransformAttribute, ...]:
    attributes: list[TransformAttribute] = []
    pos = 0
    while pos < len(data):
        budget.spend(base + pos)
        if len(data) - pos < ATTRIBUTE.size:
            raise DecodeError(base + pos, "transform attribute truncated")
        kind, value = ATTRIBUTE.unpack_from(data, pos)
        pos += ATTRIBUTE.size
        if kind & 0x8000:  # AF=1: TV, the value is in the second field
            attributes.append(TransformAttribute(kind & 0x7FFF, value))
            continue
        if pos + value > len(data):
            raise DecodeError(base + pos - ATTRIBUTE.size, f"attribute length {value} overruns")
        attributes.append(TransformAttribute(kind, data[pos : pos + value]))
        pos += value
    return tuple(attributes)


def _parse_ke(ctx: _Ctx, body: bytes) -> KePayload:
    ctx.need(body, KE_BODY.size, "KE")
    group, _res = KE_BODY.unpack_from(body)
    return KePayload(**ctx.common, group=group, data=body[KE_BODY.size :])


def id_text(id_type: int, data: bytes) -> str:
    """Readable form of Identification Data (RFC 7296 3.5). Never raises."""
    try:
        if id_type == IdType.ID_IPV4_ADDR and len(data) == 4:
            return str(ipaddress.IPv4Address(data))
        if id_type == IdType.ID_IPV6_ADDR and len(data) == 16:
            return str(ipaddress.IPv6Address(data))
        if id_type in (IdType.ID_FQDN, IdType.ID_RFC822_ADDR):
            return data.decode("utf-8", errors="backslashreplace")
        if id_type == IdType.ID_DER_ASN1_DN:
            return dn_to_text(data)
        if id_type == IdType.ID_NULL:
            return ""
    except DecodeError:
        pass
    return data.hex()


def _parse_id(ctx: _Ctx, body: bytes) -> IdPayload:
    ctx.need(body, 4, "ID")
    id_type = body[0]
    data = body[4:]
    which = "IDi" if ctx.common["payload_type"] == PayloadType.IDi else "IDr"
    return IdPayload(
        **ctx.common, which=which, id_type=id_type, data=data, text=id_text(id_type, data)
    )


def _parse_cert(ctx: _Ctx, body: bytes) -> CertPayload:
    ctx.need(body, 1, "CERT")
    return CertPayload(**ctx.common, encoding=body[0], data=body[1:])


def _parse_certreq(ctx: _Ctx, body: bytes) -> CertReqPayload:
    ctx.need(body, 1, "CERTREQ")
    data = body[1:]
    hashes: tuple[bytes, ...] = ()
    if body[0] in X509_ENCODINGS and data and len(data) % CERT_HASH_LEN == 0:
        ctx.budget.spend(ctx.body_offset, len(data) // CERT_HASH_LEN)
        hashes = tuple(data[i : i + CERT_HASH_LEN] for i in range(0, len(data), CERT_HASH_LEN))
    return CertReqPayload(**ctx.common, encoding=body[0], data=data, hashes=hashes)


def signature_info(data: bytes) -> SignatureInfo | None:
    """RFC 7427 3: ASN.1 Length (1) | AlgorithmIdentifier (DER) | Signature Value."""
    if not data or len(data) < 1 + data[0]:
        return None
    der = data[1 : 1 + data[0]]
    try:
        oid = algorithm_identifier_oid(der)
    except DecodeError:
        oid = ""
    return SignatureInfo(der, oid, SIGNATURE_OIDS.get(oid, oid), data[1 + data[0] :])


def _parse_auth(ctx: _Ctx, body: bytes) -> AuthPayload:
    ctx.need(body, 4, "AUTH")
    method, data = body[0], body[4:]
    sig = signature_info(data) if method == 14 else None
    return AuthPayload(**ctx.common, method=method, data=data, signature=sig)


def _parse_nonce(ctx: _Ctx, body: bytes) -> NoncePayload:
    return NoncePayload(**ctx.common, data=body)


def _parse_notify(ctx: _Ctx, body: bytes) -> NotifyPayload:
    ctx.need(body, NOTIFY_BODY.size, "Notify")
    protocol, spi_size, ntype = NOTIFY_BODY.unpack_from(body)
    ctx.need(body, NOTIFY_BODY.size + spi_size, "Notify SPI")
    spi = body[NOTIFY_BODY.size : NOTIFY_BODY.size + spi_size]
    data = body[NOTIFY_BODY.size + spi_size :]
    return NotifyPayload(
        **ctx.common,
        protocol_id=protocol,
        spi=spi,
        notify_type=ntype,
        data=data,
        decoded=notify_data.decode(ntype, spi, data),
    )


def _parse_delete(ctx: _Ctx, body: bytes) -> DeletePayload:
    ctx.need(body, DELETE_BODY.size, "Delete")
    protocol, spi_size, count = DELETE_BODY.unpack_from(body)
    if spi_size == 0:
        # An IKE SA Delete carries no SPIs (RFC 7296 3.11: SPI Size 0, Num of SPIs 0). A count
        # with SPI size 0 is carried by no bytes at all, so it cannot make records: a hostile
        # "65535 SPIs of 0 bytes" would otherwise cost half a megabyte per 8-byte payload.
        return DeletePayload(**ctx.common, protocol_id=protocol, spi_size=0, spis=())
    ctx.need(body, DELETE_BODY.size + spi_size * count, f"Delete of {count} SPIs")
    start = DELETE_BODY.size
    spis = tuple(body[start + i * spi_size : start + (i + 1) * spi_size] for i in range(count))
    return DeletePayload(**ctx.common, protocol_id=protocol, spi_size=spi_size, spis=spis)


def _parse_vendor(ctx: _Ctx, body: bytes) -> VendorIdPayload:
    return VendorIdPayload(**ctx.common, data=body, name=vendor_name(body))


_ADDRESS_TYPES: dict[int, tuple[int, type[ipaddress.IPv4Address | ipaddress.IPv6Address]]] = {
    TsType.TS_IPV4_ADDR_RANGE: (4, ipaddress.IPv4Address),
    TsType.TS_IPV6_ADDR_RANGE: (16, ipaddress.IPv6Address),
}


def _parse_ts(ctx: _Ctx, body: bytes) -> TsPayload:
    # RFC 7296 3.13: Number of TSs (1) | RESERVED (3) | Traffic Selectors
    ctx.need(body, 4, "TS")
    count = body[0]
    selectors: list[TrafficSelector] = []
    pos = 4
    for _ in range(count):
        at = ctx.body_offset + pos
        ctx.budget.spend(at)
        if len(body) - pos < 4:
            raise DecodeError(at, f"traffic selector truncated ({len(body) - pos} bytes left)")
        ts_type, proto, slen = body[pos], body[pos + 1], int.from_bytes(body[pos + 2 : pos + 4])
        if slen < 4 or pos + slen > len(body):
            raise DecodeError(at, f"selector length {slen} does not fit ({len(body) - pos} left)")
        raw = body[pos : pos + slen]
        known = _ADDRESS_TYPES.get(ts_type)
        if known is not None:
            size, cls = known
            if slen != SELECTOR.size + 2 * size:
                raise DecodeError(at, f"selector length {slen} wrong for TS type {ts_type}")
            _, _, _, sport, eport = SELECTOR.unpack_from(raw)
            start = str(cls(raw[SELECTOR.size : SELECTOR.size + size]))
            end = str(cls(raw[SELECTOR.size + size :]))
            selectors.append(TrafficSelector(ts_type, proto, sport, eport, start, end, raw))
        else:  # TS_FC_ADDR_RANGE, TS_SECLABEL, private types: kept raw
            selectors.append(TrafficSelector(ts_type, None, None, None, None, None, raw))
        pos += slen
    which = "TSi" if ctx.common["payload_type"] == PayloadType.TSi else "TSr"
    return TsPayload(**ctx.common, which=which, selectors=tuple(selectors))


def _parse_sk(ctx: _Ctx, body: bytes) -> SkPayload:
    return SkPayload(**ctx.common, first_inner=ctx.next_type, data=body)


def _parse_skf(ctx: _Ctx, body: bytes) -> SkfPayload:
    ctx.need(body, SKF_BODY.size, "SKF")
    number, total = SKF_BODY.unpack_from(body)
    return SkfPayload(
        **ctx.common,
        first_inner=ctx.next_type,
        fragment_number=number,
        total_fragments=total,
        data=body[SKF_BODY.size :],
    )


def _parse_cp(ctx: _Ctx, body: bytes) -> CpPayload:
    # RFC 7296 3.15: CFG Type (1) | RESERVED (3) | Configuration Attributes
    ctx.need(body, 4, "CP")
    attributes: list[ConfigAttribute] = []
    pos = 4
    while pos < len(body):
        ctx.budget.spend(ctx.body_offset + pos)
        if len(body) - pos < CFG_ATTRIBUTE.size:
            raise DecodeError(ctx.body_offset + pos, "configuration attribute truncated")
        kind, alen = CFG_ATTRIBUTE.unpack_from(body, pos)
        start = pos + CFG_ATTRIBUTE.size
        if start + alen > len(body):
            raise DecodeError(ctx.body_offset + pos, f"attribute length {alen} overruns")
        attributes.append(ConfigAttribute(kind & 0x7FFF, body[start : start + alen]))
        pos = start + alen
    return CpPayload(**ctx.common, cfg_type=body[0], attributes=tuple(attributes))


def _parse_eap(ctx: _Ctx, body: bytes) -> EapPayload:
    ctx.need(body, EAP_HEADER.size, "EAP")
    code, identifier, elen = EAP_HEADER.unpack_from(body)
    if elen < EAP_HEADER.size or elen > len(body):
        raise DecodeError(ctx.body_offset, f"EAP length {elen} does not fit {len(body)} bytes")
    if code in (1, 2) and elen > EAP_HEADER.size:  # Request/Response carry a Type
        eap_type, data = body[EAP_HEADER.size], body[EAP_HEADER.size + 1 : elen]
    else:
        eap_type, data = None, body[EAP_HEADER.size : elen]
    return EapPayload(**ctx.common, code=code, identifier=identifier, eap_type=eap_type, data=data)


def _parse_unknown(ctx: _Ctx, body: bytes) -> UnknownPayload:
    return UnknownPayload(**ctx.common)


PAYLOAD_PARSERS: dict[int, Callable[[_Ctx, bytes], Payload]] = {
    PayloadType.SA: _parse_sa,
    PayloadType.KE: _parse_ke,
    PayloadType.IDi: _parse_id,
    PayloadType.IDr: _parse_id,
    PayloadType.CERT: _parse_cert,
    PayloadType.CERTREQ: _parse_certreq,
    PayloadType.AUTH: _parse_auth,
    PayloadType.NONCE: _parse_nonce,
    PayloadType.N: _parse_notify,
    PayloadType.D: _parse_delete,
    PayloadType.V: _parse_vendor,
    PayloadType.TSi: _parse_ts,
    PayloadType.TSr: _parse_ts,
    PayloadType.SK: _parse_sk,
    PayloadType.CP: _parse_cp,
    PayloadType.EAP: _parse_eap,
    PayloadType.SKF: _parse_skf,
}
"""Next Payload number -> parser. Anything else becomes an UnknownPayload."""

CHAIN_ENDERS = frozenset({PayloadType.SK, PayloadType.SKF})


# ---------------------------------------------------------------- chain and message


def _walk(
    first_type: int,
    data: bytes,
    base_offset: int,
    out: list[Payload],
    parsers: dict[int, Callable[[_Ctx, bytes], Payload]],
    enders: frozenset[int] = CHAIN_ENDERS,
) -> None:
    """RFC 7296 3.2: follow Next Payload from ``first_type`` through ``data``.

    Appends each parsed payload to ``out`` (so a caller catching DecodeError keeps them).
    """
    kind = first_type
    pos = 0
    budget = _Budget()
    while kind != PayloadType.NO_NEXT_PAYLOAD:
        at = base_offset + pos
        budget.spend(at)
        if pos == len(data):
            raise DecodeError(at, f"Next Payload {kind} announced but the message ends")
        if len(data) - pos < GENERIC.size:
            raise DecodeError(at, f"generic payload header truncated ({len(data) - pos} bytes)")
        next_type, flags, length = GENERIC.unpack_from(data, pos)
        if length < GENERIC.size:
            raise DecodeError(at, f"payload length {length} < 4")
        if pos + length > len(data):
            raise DecodeError(
                at, f"payload length {length} exceeds the {len(data) - pos} bytes left"
            )
        body = data[pos + GENERIC.size : pos + length]
        common: _Common = {
            "payload_type": kind,
            "critical": bool(flags & 0x80),
            "offset": at,
            "length": length,
            "body": body,
        }
        parser = parsers.get(kind, _parse_unknown)
        out.append(parser(_Ctx(common, at + GENERIC.size, next_type, budget), body))
        if kind in enders:
            return
        kind = next_type
        pos += length


def parse_payloads(
    first_type: int, data: bytes, base_offset: int = 0
) -> tuple[tuple[Payload, ...], DecodeProblem | None]:
    """Parse a payload chain (e.g. a decrypted SK body without padding). Never raises.

    Offsets in the records are positions in ``data`` plus ``base_offset``.
    """
    out: list[Payload] = []
    try:
        _walk(first_type, bytes(data), base_offset, out, PAYLOAD_PARSERS)
    except DecodeError as exc:
        return tuple(out), exc.problem()
    except Exception as exc:  # a parser bug must not stop a capture; say where it happened
        return tuple(out), DecodeProblem(base_offset, f"internal dissector error: {exc!r}")
    return tuple(out), None


def parse_header(data: bytes) -> IkeHeader:
    """RFC 7296 3.1: decode the 28-byte header; raises DecodeError if it is not there."""
    if len(data) < IKE_HEADER_LEN:
        raise DecodeError(0, f"{len(data)} bytes, shorter than the 28-byte IKE header")
    spi_i, spi_r, next_payload, version, exchange, flags, mid, length = HEADER.unpack_from(data)
    return IkeHeader(
        spi_i, spi_r, next_payload, version >> 4, version & 0x0F, exchange, flags, mid, length
    )


def parse_message(data: bytes) -> IkeMessage:
    """Dissect one IKE message (the UDP payload after any non-ESP marker). Never raises."""
    data = bytes(data)
    try:
        return _parse_message(data)
    except Exception as exc:  # a dissector bug must not stop a capture: report it instead
        return IkeMessage(None, (), DecodeProblem(0, f"internal dissector error: {exc!r}"), data, 0)


def _parse_message(data: bytes) -> IkeMessage:
    try:
        header = parse_header(data)
    except DecodeError as exc:
        return IkeMessage(None, (), exc.problem(), data, 0)
    problem: DecodeProblem | None
    if header.major not in (1, 2):
        problem = DecodeProblem(17, f"unsupported IKE major version {header.major}")
        return IkeMessage(header, (), problem, data, header.major)
    if header.length < IKE_HEADER_LEN:
        problem = DecodeProblem(24, f"header Length {header.length} < 28")
        return IkeMessage(header, (), problem, data, header.major)
    # Bytes past the header's Length are not part of the message (tshark: "Extra data").
    body = data[IKE_HEADER_LEN : min(header.length, len(data))]
    if header.major == 1:
        payloads, problem = _list_v1(header, body)
    else:
        payloads, problem = parse_payloads(header.next_payload, body, IKE_HEADER_LEN)
    if problem is None and header.length > len(data):
        problem = DecodeProblem(
            len(data),
            f"message truncated: header Length {header.length}, {len(data)} bytes captured",
        )
    return IkeMessage(header, payloads, problem, data, header.major)


def _list_v1(header: IkeHeader, body: bytes) -> tuple[tuple[Payload, ...], DecodeProblem | None]:
    """IKEv1 (RFC 2408 3.1-3.2): payloads only listed, as UnknownPayload records.

    The generic payload header has IKEv2's shape (its critical bit is reserved). With the
    Encryption flag set everything after the header is ciphertext, so nothing is listed.
    """
    if header.flags & 0x01:
        return (), None
    out: list[Payload] = []
    try:
        _walk(header.next_payload, body, IKE_HEADER_LEN, out, {}, frozenset())
    except DecodeError as exc:
        return tuple(out), exc.problem()
    return tuple(out), None
