"""Payload parsers on self-made bytes, for what the real captures do not carry.

Each message is built here with struct from the RFC layouts (the section is named in each
test); the real-capture comparison with tshark is in test_dissect_ikev2_tshark.py. DER values
come from ``cryptography`` (tests may use it) or are RFC 7427 appendix A's byte strings.
"""

from __future__ import annotations

import hashlib
import struct

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from ike_build import SPI_I, SPI_R, chain
from ike_build import ike_message as message
from ikeview.dissectors import notify_data as nd
from ikeview.dissectors.ike_records import (
    AuthPayload,
    CertReqPayload,
    CpPayload,
    DeletePayload,
    EapPayload,
    IdPayload,
    NotifyPayload,
    SkfPayload,
    SkPayload,
    TsPayload,
    UnknownPayload,
    VendorIdPayload,
)
from ikeview.dissectors.ikev2 import parse_message, parse_payloads
from ikeview.dissectors.vendor_ids import KNOWN, vendor_name


def test_header_fields_and_flags() -> None:
    msg = parse_message(message(exchange=37, flags=0x20, mid=7, first=0, body=b""))
    assert msg.error is None and msg.payloads == () and msg.version == 2
    h = msg.header
    assert h is not None
    assert (h.spi_i, h.spi_r, h.exchange_type, h.message_id, h.length) == (SPI_I, SPI_R, 37, 7, 28)
    assert (h.initiator, h.response, h.higher_version, h.major, h.minor) == (
        False,
        True,
        False,
        2,
        0,
    )


def test_id_types_to_text() -> None:
    dn = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CH"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "strongSwan"),
            x509.NameAttribute(NameOID.COMMON_NAME, "moon.strongswan.org"),
        ]
    ).public_bytes()
    ids = [
        (1, bytes([192, 0, 2, 1]), "192.0.2.1"),
        (2, b"vpn.example.org", "vpn.example.org"),
        (3, b"carol@example.org", "carol@example.org"),
        (5, bytes.fromhex("20010db8000000000000000000000001"), "2001:db8::1"),
        (9, dn, "C=CH, O=strongSwan, CN=moon.strongswan.org"),
        (11, b"\x01\x02\xfe", "0102fe"),
        (9, b"\x30\x05\x31", "300531"),  # broken DER: shown as hex
        # An attribute overrunning its RDN SET (though not the whole DN) is broken DER too.
        (9, bytes.fromhex("300d3105300906035504030c024141"), "300d3105300906035504030c024141"),
    ]
    for id_type, data, text in ids:
        msg = parse_message(message((35, bytes([id_type, 0, 0, 0]) + data)))
        (idp,) = msg.payloads
        assert isinstance(idp, IdPayload) and msg.error is None
        assert (idp.which, idp.id_type, idp.data, idp.text) == ("IDi", id_type, data, text)
        assert idp.body == bytes([id_type, 0, 0, 0]) + data  # AUTH signs IDi' = this body
    (idr,) = parse_message(message((36, b"\x02\x00\x00\x00moon"))).payloads
    assert isinstance(idr, IdPayload) and idr.which == "IDr" and idr.text == "moon"


# RFC 7427 appendix A: AlgorithmIdentifier DER for the common signature algorithms (the PSS
# one, SHA-256/MGF1-SHA-256/salt 32, was checked with `openssl asn1parse`).
ALGORITHMS = {
    "sha1WithRSAEncryption": "300d06092a864886f70d0101050500",
    "sha256WithRSAEncryption": "300d06092a864886f70d01010b0500",
    "ecdsa-with-SHA256": "300a06082a8648ce3d040302",
    "ecdsa-with-SHA512": "300a06082a8648ce3d040304",
    "Ed25519": "300506032b6570",
    "RSASSA-PSS": "304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a"
    "06092a864886f70d010108300d06096086480165030402010500a203020120",
}


@pytest.mark.parametrize(("name", "der_hex"), ALGORITHMS.items())
def test_auth_digital_signature(name: str, der_hex: str) -> None:
    """RFC 7427 3: ASN.1 length (1) | AlgorithmIdentifier | signature value."""
    der, sig = bytes.fromhex(der_hex), b"\xaa" * 64
    msg = parse_message(message((39, b"\x0e\x00\x00\x00" + bytes([len(der)]) + der + sig)))
    (auth,) = msg.payloads
    assert isinstance(auth, AuthPayload) and msg.error is None
    assert auth.method == 14 and auth.signature is not None
    assert (auth.signature.algorithm_der, auth.signature.algorithm) == (der, name)
    assert auth.signature.signature == sig
    assert auth.data == bytes([len(der)]) + der + sig


def test_auth_psk_and_bad_signature_blob() -> None:
    (psk,) = parse_message(message((39, b"\x02\x00\x00\x00" + b"\x11" * 32))).payloads
    assert isinstance(psk, AuthPayload) and psk.signature is None and psk.data == b"\x11" * 32
    # Method 14 whose ASN.1 length runs past the data: kept raw, no signature info, no error.
    msg = parse_message(message((39, b"\x0e\x00\x00\x00\x50\x30")))
    (odd,) = msg.payloads
    assert msg.error is None and isinstance(odd, AuthPayload) and odd.signature is None
    # Method 14 with a well-framed but unparsable AlgorithmIdentifier: OID unknown.
    msg = parse_message(message((39, b"\x0e\x00\x00\x00\x02\x04\x00" + b"\x01")))
    (odd,) = msg.payloads
    assert isinstance(odd, AuthPayload) and odd.signature is not None
    assert odd.signature.oid == "" and odd.signature.signature == b"\x01"


def test_certreq_hash_list_and_cert() -> None:
    hashes = [hashlib.sha1(bytes([i])).digest() for i in range(3)]
    msg = parse_message(message((38, b"\x04" + b"".join(hashes)), (37, b"\x04\x30\x00")))
    certreq, cert = msg.payloads
    assert isinstance(certreq, CertReqPayload) and certreq.hashes == tuple(hashes)
    assert cert.encoding == 4 and cert.data == b"\x30\x00"  # type: ignore[union-attr]
    (odd,) = parse_message(message((38, b"\x04" + b"\x00" * 21))).payloads
    assert isinstance(odd, CertReqPayload) and odd.hashes == ()


def test_traffic_selectors_v4_v6_and_raw() -> None:
    """RFC 7296 3.13.1: TS_IPV4_ADDR_RANGE (16 bytes), TS_IPV6_ADDR_RANGE (40), others raw."""
    v4 = struct.pack("!BBHHH4s4s", 7, 6, 16, 443, 443, bytes([10, 0, 0, 0]), bytes([10, 0, 0, 255]))
    v6 = struct.pack(
        "!BBHHH16s16s",
        8,
        0,
        40,
        0,
        65535,
        b"\x20\x01\x0d\xb8" + b"\x00" * 12,
        b"\x20\x01\x0d\xb8" + b"\xff" * 12,
    )
    seclabel = struct.pack("!BBH", 10, 0, 8) + b"sys\x00"
    msg = parse_message(message((44, b"\x03\x00\x00\x00" + v4 + v6 + seclabel)))
    (ts,) = msg.payloads
    assert isinstance(ts, TsPayload) and msg.error is None and ts.which == "TSi"
    a, b, c = ts.selectors
    assert (a.ts_type, a.ip_protocol, a.start_port, a.end_port) == (7, 6, 443, 443)
    assert (a.start_address, a.end_address) == ("10.0.0.0", "10.0.0.255")
    assert (b.start_address, b.end_address) == (
        "2001:db8::",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    )
    assert (c.ts_type, c.start_address, c.raw) == (10, None, seclabel)
    # An IPv4 selector with a length that is not 16 is an error at that selector.
    bad = struct.pack("!BBHHH", 7, 0, 12, 0, 0) + b"\x00" * 4
    msg = parse_message(message((45, b"\x01\x00\x00\x00" + bad)))
    assert msg.payloads == () and msg.error is not None and msg.error.offset == 28 + 4 + 4


def test_notify_with_spi_delete_and_vendor() -> None:
    """RFC 7296 3.10 (REKEY_SA with an ESP SPI), 3.11 (Delete of two ESP SPIs), 3.12."""
    rekey = struct.pack("!BBH", 3, 4, 16393) + b"\xc0\x01\x02\x03"
    delete = struct.pack("!BBH", 3, 4, 2) + b"\xc0\x00\x00\x01\xc0\x00\x00\x02"
    vid = bytes.fromhex("882fe56d6fd20dbc2251613b2ebe5beb")
    msg = parse_message(message((41, rekey), (42, delete), (43, vid), exchange=36))
    n, d, v = msg.payloads
    assert msg.error is None
    assert isinstance(n, NotifyPayload) and (n.protocol_id, n.spi, n.notify_type) == (
        3,
        b"\xc0\x01\x02\x03",
        16393,
    )
    assert n.decoded == nd.NotifySpi(b"\xc0\x01\x02\x03")
    assert isinstance(d, DeletePayload) and d.spis == (b"\xc0\x00\x00\x01", b"\xc0\x00\x00\x02")
    assert isinstance(v, VendorIdPayload) and v.name == "strongSwan"
    # A Delete announcing more SPIs than it holds is an error at the Delete payload.
    short = struct.pack("!BBH", 3, 4, 3) + b"\x00" * 8
    msg = parse_message(message((42, short)))
    assert msg.error is not None and msg.error.offset == 28


def test_cp_and_eap() -> None:
    """RFC 7296 3.15 (CP with empty request attributes) and 3.16 (EAP Request/Identity)."""
    cp = (
        b"\x01\x00\x00\x00"
        + struct.pack("!HH", 1, 0)
        + struct.pack("!HH", 10, 0)
        + (struct.pack("!HH", 0x8000 | 3, 4) + bytes([8, 8, 8, 8]))
    )
    eap = struct.pack("!BBHB", 1, 7, 5 + 4, 1) + b"user"
    success = struct.pack("!BBH", 3, 8, 4)
    msg = parse_message(message((47, cp), (48, eap), (48, success)))
    c, e, s = msg.payloads
    assert msg.error is None
    assert isinstance(c, CpPayload) and c.cfg_type == 1
    assert [(a.attr_type, a.value) for a in c.attributes] == [
        (1, b""),
        (10, b""),
        (3, bytes([8, 8, 8, 8])),
    ]
    assert isinstance(e, EapPayload) and (e.code, e.identifier, e.eap_type, e.data) == (
        1,
        7,
        1,
        b"user",
    )
    assert isinstance(s, EapPayload) and (s.code, s.eap_type, s.data) == (3, None, b"")


def test_sk_and_skf_end_the_chain() -> None:
    """RFC 7296 3.14 / RFC 7383 2.5: what follows SK/SKF is ciphertext, never walked."""
    sk_body = b"\x01" * 8 + b"\x02" * 32 + b"\x03" * 16
    msg = parse_message(message((46, sk_body), first=46, body=None))
    (sk,) = msg.payloads
    assert isinstance(sk, SkPayload) and sk.first_inner == 0 and sk.data == sk_body
    # First inner type comes from the SK header's Next Payload field.
    raw = struct.pack("!BBH", 35, 0, 4 + len(sk_body)) + sk_body
    msg = parse_message(message(first=46, body=raw))
    (sk,) = msg.payloads
    assert isinstance(sk, SkPayload) and (sk.first_inner, sk.offset) == (35, 28)
    assert msg.raw[: sk.offset + 4][-4:] == raw[:4]  # AEAD AAD = header + SK generic header
    skf_body = struct.pack("!HH", 2, 3) + b"\x09" * 40
    raw = struct.pack("!BBH", 0, 0, 4 + len(skf_body)) + skf_body
    msg = parse_message(message(first=53, body=raw))
    (skf,) = msg.payloads
    assert isinstance(skf, SkfPayload) and msg.error is None
    assert (skf.first_inner, skf.fragment_number, skf.total_fragments) == (0, 2, 3)
    assert skf.data == b"\x09" * 40 and skf.body == skf_body


def test_parse_payloads_for_a_decrypted_body() -> None:
    kind, data = chain(
        (41, struct.pack("!BBH", 0, 0, 16384)), (35, b"\x01\x00\x00\x00\x0a\x00\x00\x01")
    )
    payloads, problem = parse_payloads(kind, data, base_offset=60)
    assert problem is None and [p.offset for p in payloads] == [60, 68]
    payloads, problem = parse_payloads(kind, data[:-1], base_offset=60)
    assert len(payloads) == 1 and problem is not None and problem.offset == 68


def test_unknown_payload_kept_raw_and_critical_bit() -> None:
    msg = parse_message(message((200, b"opaque", True), (49, b"gspm")))
    unknown, gspm = msg.payloads
    assert isinstance(unknown, UnknownPayload) and unknown.critical and unknown.body == b"opaque"
    assert isinstance(gspm, UnknownPayload) and gspm.payload_type == 49 and not gspm.critical


def test_chain_errors() -> None:
    # Payload length below 4.
    kind, data = chain((41, b""))
    data = data[:2] + b"\x00\x03" + data[4:]
    msg = parse_message(message(first=kind, body=data))
    assert msg.error is not None and msg.error.offset == 28 and "< 4" in msg.error.reason
    # Header says more than was captured but the chain ended cleanly.
    full = message((43, b"vendor"))
    msg = parse_message(full[:24] + struct.pack("!I", len(full) + 10) + full[28:])
    assert msg.error is not None and msg.error.offset == len(full)
    assert "truncated" in msg.error.reason and len(msg.payloads) == 1
    # Unsupported major version.
    msg = parse_message(full[:17] + b"\x30" + full[18:])
    assert msg.error is not None and msg.error.offset == 17 and msg.version == 3


# ---------------------------------------------------------------- notify data


@pytest.mark.parametrize(
    ("ntype", "spi", "data", "decoded"),
    [
        (17, b"", b"\x00\x13", nd.NotifyGroup(19)),
        (17, b"", b"\x13", nd.NotifyMalformed("expected 2 bytes of data, got 1")),
        (16388, b"", b"\x01" * 20, nd.NotifyHash(b"\x01" * 20)),
        (16389, b"", b"\x01" * 19, nd.NotifyMalformed("expected 20 bytes of data, got 19")),
        (16390, b"", b"cookie", nd.NotifyCookie(b"cookie")),
        (16431, b"", b"\x00\x02\x00\x03\x00\x04", nd.NotifyHashAlgorithms((2, 3, 4))),
        (16431, b"", b"\x00\x02\x00", nd.NotifyMalformed("odd data length 3")),
        (9, b"", b"\x00\x00\x00\x05", nd.NotifyMessageId(5)),
        (11, b"", b"\xc0\x00\x00\x01", nd.NotifySpi(b"\xc0\x00\x00\x01")),
        (16385, b"", b"\x00\x00\x00\x0a", nd.NotifyCount(10)),
        (16403, b"", b"\x00\x00\x0e\x10", nd.NotifyCount(3600)),
        (16387, b"", b"\x12\x34\x02", nd.NotifyIpcomp(0x1234, 2)),
        (16407, b"", b"\x01\x04\xc0\x00\x02\x01nonce", nd.NotifyRedirect(1, "192.0.2.1", b"nonce")),
        (16408, b"", b"\x03\x07gw.test", nd.NotifyRedirect(3, "gw.test", b"")),
        (16407, b"", b"\x01\x09\x00", nd.NotifyMalformed("gateway identity truncated")),
        (16397, b"", b"\xc0\x00\x02\x02", nd.NotifyAddress("192.0.2.2")),
        (1, b"", b"\x2f", nd.NotifyPayloadType(47)),
        (16436, b"", b"\x02ppk-id", nd.NotifyPpkIdentity(2, b"ppk-id")),
        (16391, b"", b"", nd.NotifyFlag(b"")),
        (16430, b"", b"", nd.NotifyFlag(b"")),
        (16394, b"", b"x", nd.NotifyFlag(b"x")),
        (16393, b"", b"", nd.NotifyMalformed("no SPI")),
        (16422, b"", struct.pack("!III", 7, 8, 9), nd.NotifyMessageIdSync(7, 8, 9)),
        (16424, b"", b"\x00\x01\x00\x02", nd.NotifyList16((1, 2))),
        (
            16443,
            b"",
            b"\x02\x02" + b"\x03\x01\x01" + b"\x09\x0e\x00" + bytes.fromhex("300506032b6570")[:6],
            nd.NotifyAuthMethods(
                (
                    nd.AuthAnnouncement(2, None, b""),
                    nd.AuthAnnouncement(1, 1, b""),
                    nd.AuthAnnouncement(14, 0, bytes.fromhex("300506032b65")),
                )
            ),
        ),
        (14, b"", b"", None),
        (40960, b"", b"private", None),
    ],
)
def test_notify_data(ntype: int, spi: bytes, data: bytes, decoded: object) -> None:
    assert nd.decode(ntype, spi, data) == decoded
    body = struct.pack("!BBH", 3 if spi else 0, len(spi), ntype) + spi + data
    (n,) = parse_message(message((41, body))).payloads
    assert isinstance(n, NotifyPayload) and n.decoded == decoded and n.data == data


# ---------------------------------------------------------------- vendor IDs


def test_vendor_md5_sources() -> None:
    """Where the table notes the string a Vendor ID is the MD5 of, it really is."""
    checked = 0
    for value, _, source in KNOWN:
        if source is not None:
            assert hashlib.md5(source.encode()).hexdigest() == value, source
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("hexed", "name"),
    [
        ("882fe56d6fd20dbc2251613b2ebe5beb", "strongSwan"),
        ("12f5f28c457168a9702d9fe274cc0100", "Cisco Unity"),  # version 1.0 after the prefix
        ("afcad71368a1f1c96b8696fc77570100", "RFC 3706 DPD (Dead Peer Detection)"),
        ("4048b7d56ebce88525e7de7f00d6c2d380000000", "Cisco IKE Fragmentation"),
        ("4048b7d56ebce88525e7de7f00d6c2d3", "Microsoft L2TP/IPsec VPN Client (FRAGMENTATION)"),
        ("1e2b516905991c7d7c96fcbfb587e46100000005", "Microsoft Windows Vista"),
        ("1e2b516905991c7d7c96fcbfb587e46100000009", "Microsoft MS NT5 ISAKMPOAKLEY v9"),
        ("26244d38eddb61b3172a36e3d0cfb819", "Microsoft Vid-Initial-Contact"),
        ("f4ed19e0c114eb516faaac0ee37daf2807b4381f000000010000000200000000", "Check Point"),
        ("4f45726c415c6e51756b5352", "libreswan/Openswan/FreeS/WAN"),
        (b"FLEXVPN-SUPPORTED".hex(), "Cisco FLEXVPN-SUPPORTED"),
        (
            b"CISCO(COPYRIGHT)&Copyright (c) 2009 Cisco Systems, Inc.".hex(),
            "Cisco CISCO(COPYRIGHT)&Copyright (c) 2009 Cisco Systems, Inc.",
        ),
        ("3ac5957214a85b93db6a509869fdb330", None),
        ("", None),
    ],
)
def test_vendor_names(hexed: str, name: str | None) -> None:
    assert vendor_name(bytes.fromhex(hexed)) == name
