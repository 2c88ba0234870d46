"""Readable values of IKEv2 payloads, as an engineer reads them (never a Python repr).

``payload_label`` is the one-line name of a payload, ``payload_details`` its detail lines,
``header_lines`` the IKE header with addresses, ports, time, version, exchange and length. The
TUI and the transcript both use them; the TUI may not import the dissectors, this module may
(it reads their data-only records and IANA names, never their parsers).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable

from ikeview import iana
from ikeview.certinfo import describe, describe_lines, identity_matches
from ikeview.dissectors import ike_records as rec
from ikeview.dissectors import notify_data as nd
from ikeview.pipeline.model import Message, ts_text
from ikeview.timebase import TimeBase, wall_date

SHOW_BYTES = 16

TransformsText = Callable[[tuple[rec.Transform, ...]], str]
"""How a view writes a proposal's transforms (the TUI's short form, the report's)."""
"""Bytes of a long value shown in hex before ``…``."""

_NAT_SOURCE = int(iana.NotifyType.NAT_DETECTION_SOURCE_IP)
_NAT_DEST = int(iana.NotifyType.NAT_DETECTION_DESTINATION_IP)
_AUTH_LIFETIME = int(iana.NotifyType.AUTH_LIFETIME)
_WINDOW = int(iana.NotifyType.SET_WINDOW_SIZE)
_IPCOMP = {1: "IPCOMP_OUI", 2: "IPCOMP_DEFLATE", 3: "IPCOMP_LZS", 4: "IPCOMP_LZJH"}
_GATEWAY_TYPE = {1: "IPv4", 2: "IPv6", 3: "FQDN"}


def hex_short(data: bytes) -> str:
    """Hex of ``data``, cut after ``SHOW_BYTES`` bytes with the full length."""
    if len(data) <= SHOW_BYTES:
        return data.hex()
    return f"{data[:SHOW_BYTES].hex()}… ({len(data)} bytes)"


def hex_sized(data: bytes) -> str:
    """Hex of ``data`` with its length in bytes (cut after ``SHOW_BYTES`` bytes)."""
    if len(data) <= SHOW_BYTES:
        return f"{data.hex()} ({plural(len(data), 'byte')})"
    return hex_short(data)


def plural(n: int, word: str) -> str:
    """``1 proposal``, ``2 proposals``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def seconds_words(seconds: int) -> str:
    """``9841 s (2 h 44 min)``; ``45 s``; ``3600 s (1 h)``."""
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes else [])
    return f"{seconds} s ({' '.join(parts)})"


def dh_group(group: int) -> str:
    """``group 19 (ECP-256)``."""
    return f"group {group} ({iana.DH_GROUPS.name(group).replace('_', '-')})"


def hash_names(algorithms: tuple[int, ...]) -> str:
    """``SHA2-256, SHA2-384, SHA2-512, Identity`` (RFC 7427 section 7 numbers)."""
    spelled = {1: "SHA1", 2: "SHA2-256", 3: "SHA2-384", 4: "SHA2-512", 5: "Identity"}
    return ", ".join(spelled.get(a, iana.HASH_ALGORITHMS.name(a)) for a in algorithms) or "none"


def nat_hash(spi_i: bytes, spi_r: bytes, address: str, port: int) -> bytes | None:
    """RFC 7296 section 2.23: SHA-1(SPIi | SPIr | IP | port); None for an unusable address."""
    try:
        packed = ipaddress.ip_address(address).packed
    except ValueError:
        return None
    return hashlib.sha1(spi_i + spi_r + packed + port.to_bytes(2, "big")).digest()


def nat_match(p: rec.NotifyPayload, digest: bytes, m: Message | None) -> str | None:
    """Whether a NAT_DETECTION_* digest matches the address and port the packet was seen with."""
    if m is None or not m.flow.src:
        return None
    if p.notify_type == _NAT_SOURCE:
        where, addr, port = "source", m.flow.src, m.flow.sport
    else:
        where, addr, port = "destination", m.flow.dst, m.flow.dport
    want = nat_hash(m.spi_i, m.spi_r, addr, port)
    if want is None:
        return None
    seen = f"{addr}:{port}" if ":" not in addr else f"[{addr}]:{port}"
    if want == digest:
        return f"matches the {where} {seen} as captured: no NAT changed it"
    return f"differs from the {where} {seen} as captured: a NAT (or port change) on the way"


def _decoded_lines(p: rec.NotifyPayload, m: Message | None) -> list[str]:
    d = p.decoded
    if isinstance(d, nd.NotifyHash):
        lines = [f"digest {d.digest.hex()}"]
        match = nat_match(p, d.digest, m)
        return lines + ([match] if match else [])
    if isinstance(d, nd.NotifyGroup):
        return [f"wants {dh_group(d.group)}"]
    if isinstance(d, nd.NotifyHashAlgorithms):
        return [f"hash algorithms {hash_names(d.algorithms)}"]
    if isinstance(d, nd.NotifyCount):
        if p.notify_type == _AUTH_LIFETIME:
            return [f"re-authenticate within {seconds_words(d.value)}"]
        if p.notify_type == _WINDOW:
            return [f"window size {d.value}"]
        return [f"value {d.value}"]
    if isinstance(d, nd.NotifyCookie):
        return [f"cookie {hex_sized(d.cookie)}"]
    if isinstance(d, nd.NotifyMessageId):
        return [f"message ID {d.message_id}"]
    if isinstance(d, nd.NotifySpi):
        return [] if d.spi == p.spi else [f"SPI {d.spi.hex()}"]
    if isinstance(d, nd.NotifyIpcomp):
        return [f"CPI 0x{d.cpi:04x}, {_IPCOMP.get(d.transform_id, str(d.transform_id))}"]
    if isinstance(d, nd.NotifyRedirect):
        kind = _GATEWAY_TYPE.get(d.gw_ident_type, str(d.gw_ident_type))
        extra = f", nonce {hex_short(d.nonce)}" if d.nonce else ""
        return [f"gateway {d.gateway} ({kind}){extra}"]
    if isinstance(d, nd.NotifyAddress):
        return [f"address {d.address}"]
    if isinstance(d, nd.NotifyPayloadType):
        return [f"payload type {iana.PAYLOAD_TYPES.name(d.payload_type)} ({d.payload_type})"]
    if isinstance(d, nd.NotifyPpkIdentity):
        kind = {1: "PPK_ID_OPAQUE", 2: "PPK_ID_FIXED"}.get(d.ppk_id_type, str(d.ppk_id_type))
        return [f"{kind} {hex_short(d.ppk_id)}"]
    if isinstance(d, nd.NotifyAuthMethods):
        return ["accepts " + ", ".join(iana.AUTH_METHODS.name(a.method) for a in d.announcements)]
    if isinstance(d, nd.NotifyMessageIdSync):
        return [
            f"nonce 0x{d.nonce:08x}, next request sent {d.expected_send_req_mid}, "
            f"next expected {d.expected_recv_req_mid}"
        ]
    if isinstance(d, nd.NotifyList16):
        return ["values " + ", ".join(str(v) for v in d.values)]
    if isinstance(d, nd.NotifyFlag):
        return [f"unexpected data {hex_short(d.extra)}"] if d.extra else []
    if isinstance(d, nd.NotifyMalformed):
        return [f"malformed: {d.reason}", f"data {hex_short(p.data)}"]
    return [f"data {hex_short(p.data)}"] if p.data else []


def notify_lines(p: rec.NotifyPayload, m: Message | None = None) -> list[str]:
    """Detail lines of a Notify: its SPI and its data in words."""
    lines = []
    if p.spi:
        lines.append(f"{iana.PROTOCOL_IDS.name(p.protocol_id)} SPI {p.spi.hex()}")
    return lines + _decoded_lines(p, m)


def _cert_lines(p: rec.CertPayload, m: Message | None) -> list[str]:
    lines = [f"encoding {iana.CERT_ENCODINGS.name(p.encoding)}, {plural(len(p.data), 'byte')}"]
    if p.encoding != int(iana.CertEncoding.X509_SIGNATURE):
        return lines
    info = describe(p.data)
    lines.extend(describe_lines(info))
    ident = _own_id(m)
    if ident is not None and not info.error:
        ok = identity_matches(info, ident.id_type, ident.text, ident.data)
        word = "matches" if ok else "does NOT match"
        lines.append(f"{ident.which} {ident.text} {word} this certificate")
    return lines


def _own_id(m: Message | None) -> rec.IdPayload | None:
    """The sender's own identity in the message carrying a CERT: IDi from the initiator, IDr
    from the responder (an initiator's IDr names the peer it wants, not itself)."""
    if m is None:
        return None
    own = "IDi" if m.from_initiator else "IDr"
    for q in (*m.payloads, *m.inner):
        if isinstance(q, rec.IdPayload) and q.which == own:
            return q
    return None


def payload_label(p: object) -> str:
    """``N(NAT_DETECTION_SOURCE_IP)``, ``SA (1 proposal)``, ``KE group 19 (ECP-256)``…"""
    kind = iana.PAYLOAD_TYPES.name(getattr(p, "payload_type", 0))
    if isinstance(p, rec.NotifyPayload):
        return f"{kind}({iana.NOTIFY_TYPES.name(p.notify_type)})"
    if isinstance(p, rec.SaPayload):
        return f"{kind} ({plural(len(p.proposals), 'proposal')})"
    if isinstance(p, rec.KePayload):
        return f"{kind} {dh_group(p.group)}"
    if isinstance(p, rec.IdPayload):
        return f"{kind} {iana.ID_TYPES.name(p.id_type)} {p.text}"
    if isinstance(p, rec.AuthPayload):
        return f"{kind} {iana.AUTH_METHODS.name(p.method)}"
    if isinstance(p, rec.TsPayload):
        return f"{kind} " + ", ".join(ts_text(s) for s in p.selectors)
    if isinstance(p, rec.SkfPayload):
        return f"{kind} fragment {p.fragment_number}/{p.total_fragments}"
    if isinstance(p, rec.DeletePayload):
        return f"{kind} {iana.PROTOCOL_IDS.name(p.protocol_id)} ({plural(len(p.spis), 'SPI')})"
    if isinstance(p, rec.VendorIdPayload):
        return f"{kind} {p.name or hex_short(p.data)}"
    if isinstance(p, rec.CertPayload):
        return f"{kind} {iana.CERT_ENCODINGS.name(p.encoding)}"
    if isinstance(p, rec.CpPayload):
        return f"{kind} {iana.CFG_TYPES.name(p.cfg_type)}"
    return kind


def _proposal_lines(p: rec.SaPayload, short: TransformsText) -> list[str]:
    return [
        f"proposal #{prop.number} {iana.PROTOCOL_IDS.name(prop.protocol_id)}"
        + (f" SPI {prop.spi.hex()}" if prop.spi else "")
        + f": {short(prop.transforms)}"
        for prop in p.proposals
    ]


def _cfg_value(a: rec.ConfigAttribute) -> str:
    if len(a.value) in (4, 16) and a.attr_type in (1, 3, 8, 10, 20, 21):
        try:
            return str(ipaddress.ip_address(a.value))
        except ValueError:
            pass
    if len(a.value) == 17 and a.attr_type == 8:
        return f"{ipaddress.ip_address(a.value[:16])}/{a.value[16]}"
    return hex_short(a.value) if a.value else "(empty: a request)"


def payload_details(p: object, m: Message | None, short: TransformsText) -> list[str]:
    """Detail lines under a payload; ``short`` writes a proposal's transforms."""
    base = getattr(p, "offset", 0), getattr(p, "length", 0)
    head = [
        f"offset {base[0]}, length {base[1]}"
        + (", critical" if getattr(p, "critical", False) else "")
    ]
    if isinstance(p, rec.SaPayload):
        return head + _proposal_lines(p, short)
    if isinstance(p, rec.NotifyPayload):
        return head + notify_lines(p, m)
    if isinstance(p, rec.KePayload):
        return [*head, f"public value {hex_sized(p.data)}"]
    if isinstance(p, rec.AuthPayload):
        sig = [f"signature algorithm {p.signature.algorithm}"] if p.signature else []
        return [*head, *sig, f"data {hex_short(p.data)}"]
    if isinstance(p, rec.DeletePayload):
        return head + [f"SPI {s.hex()}" for s in p.spis]
    if isinstance(p, rec.CpPayload):
        return head + [
            f"{iana.CFG_ATTRIBUTES.name(a.attr_type)}: {_cfg_value(a)}" for a in p.attributes
        ]
    if isinstance(p, rec.SkPayload | rec.SkfPayload):
        return [*head, f"first inner payload {iana.PAYLOAD_TYPES.name(p.first_inner)}"]
    if isinstance(p, rec.CertPayload):
        return head + _cert_lines(p, m)
    if isinstance(p, rec.CertReqPayload):
        return head + [f"trusted CA key hash {h.hex()}" for h in p.hashes]
    if isinstance(p, rec.NoncePayload | rec.IdPayload | rec.UnknownPayload | rec.EapPayload):
        data = getattr(p, "data", b"")
        return [*head, f"data {hex_sized(data)}"]
    return head


def header_lines(m: Message, clock: TimeBase) -> list[str]:
    """The IKE header as read: who to whom, when, version, exchange, flags, length."""
    f = m.flow
    version = "2.0"
    if len(m.raw) > 17:
        version = f"{m.raw[17] >> 4}.{m.raw[17] & 0x0F}"
    flags = []
    if m.from_initiator:
        flags.append("Initiator")
    if m.response:
        flags.append("Response")
    when = clock.format(m.ts)
    return [
        f"{f.src}:{f.sport} → {f.dst}:{f.dport} ({f.transport.upper()})",
        f"time {when} · {wall_date(m.ts)}",
        f"IKE version {version} · exchange {iana.EXCHANGE_TYPES.name(m.exchange_type)} "
        f"({m.exchange_type}) · message ID {m.message_id}",
        f"flags {', '.join(flags) or 'none'} · length {m.length} bytes",
        f"SPIi {m.spi_i.hex()} · SPIr {m.spi_r.hex()}",
    ]
