"""Every IKE message in every shared capture, compared with tshark 4.0 field by field.

tshark's PDML gives each field's value and its position, so offsets are compared too. For the
captures whose keys Wireshark has (wireshark/profile, tcpdump/wireshark_uat), tshark also shows
the decrypted SK body; we rebuild those inner bytes from its payload values and compare our
``parse_payloads`` on them the same way. Known differences are listed in KNOWN_DIFFERENCES.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
from ikeview.dissectors.ike_records import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    DeletePayload,
    IdPayload,
    IkeMessage,
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    SaPayload,
    SkfPayload,
    SkPayload,
    TsPayload,
    VendorIdPayload,
)
from ikeview.dissectors.ikev2 import parse_message, parse_payloads
from ikeview.dissectors.vendor_ids import vendor_name
from lab_support import LAB
from test_dissect_ikev2_support import all_captures, ike_messages

from ikeview import iana

pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]

SHARED = Path(__file__).resolve().parents[2] / "shared"
# The shared Wireshark/tcpdump captures plus the strongSwan/libreswan lab captures (which add
# SKF fragments, certificates, RFC 7427 AUTH, NAT-T on 4500, rekeys and failures).
CAPTURES = (all_captures(SHARED) if SHARED.is_dir() else []) + sorted(LAB.glob("**/capture.pcap"))

# truth.json proposal names -> Wireshark 4.0 IKEv2 table labels (ChaCha20 is not supported).
WIRESHARK_ENCR = {
    "3DES_CBC": "3DES [RFC2451]",
    "AES_CBC_128": "AES-CBC-128 [RFC3602]",
    "AES_CBC_256": "AES-CBC-256 [RFC3602]",
    "AES_GCM_16_256": "AES-GCM-256 with 16 octet ICV [RFC5282]",
}
WIRESHARK_INTEG = {
    "HMAC_SHA1_96": "HMAC_SHA1_96 [RFC2404]",
    "HMAC_SHA2_256_128": "HMAC_SHA2_256_128 [RFC4868]",
    "HMAC_SHA2_512_256": "HMAC_SHA2_512_256 [RFC4868]",
    None: "NONE [RFC4306]",
}


def _lab_table(truth: Path) -> str:
    """ikev2_decryption_table rows for a lab capture, from its truth.json SK_* values."""
    rows = []
    for sa in json.loads(truth.read_text())["ike_sas"]:
        parts = sa["proposal"].removeprefix("IKE:").split("/")
        integ = parts[1] if parts[1].startswith("HMAC") else None
        if parts[0] not in WIRESHARK_ENCR or integ not in WIRESHARK_INTEG:
            continue
        rows.append(
            f"{sa['spi_i']},{sa['spi_r']},{sa['sk_ei']},{sa['sk_er']},"
            f'"{WIRESHARK_ENCR[parts[0]]}",{sa.get("sk_ai") or ""},{sa.get("sk_ar") or ""},'
            f'"{WIRESHARK_INTEG[integ]}"'
        )
    return "\n".join(rows) + "\n"


# (capture name, frame) -> why our output differs from tshark's, on purpose.
KNOWN_DIFFERENCES: dict[tuple[str, int], str] = {
    ("ikev2-id-normal.pcap", 1): "tshark reads the IPv4 ID 3 bytes past the payload end",
    ("ikev2-id-short.pcap", 1): "tshark shows an ID from a 5-byte payload; we report an error",
}


def _config_dir(capture: Path, tmp: Path) -> Path:
    """A Wireshark config dir holding the capture's key table (or nothing)."""
    if capture.parent.name == "wireshark":
        return capture.parent / "profile"
    target = tmp / f"{capture.parent.name}-{capture.name}"
    target.mkdir(parents=True, exist_ok=True)
    table = capture.parent / "wireshark_uat" / "ikev2_decryption_table"
    if capture.name == "ikev2pI2.pcap" and table.exists():
        shutil.copy(table, target / "ikev2_decryption_table")
    truth = capture.parent / "truth.json"
    if truth.exists():
        (target / "ikev2_decryption_table").write_text(_lab_table(truth))
    return target


@cache
def tshark_isakmp(capture: Path, tmp: Path) -> dict[int, tuple[ET.Element, bool]]:
    """Frame number -> (tshark's <proto name="isakmp"> element, tshark called it malformed)."""
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=str(_config_dir(capture, tmp)))
    pdml = subprocess.run(
        ["tshark", "-n", "-r", str(capture), "-T", "pdml", "-Y", "isakmp"],
        capture_output=True,
        check=True,
        env=env,
    ).stdout
    frames: dict[int, tuple[ET.Element, bool]] = {}
    for packet in ET.fromstring(pdml).iter("packet"):
        number = int(packet.find("proto[@name='geninfo']/field[@name='num']").get("show"))  # type: ignore[union-attr]
        proto = packet.find("proto[@name='isakmp']")
        if proto is not None:
            frames[number] = (proto, packet.find("proto[@name='_ws.malformed']") is not None)
    return frames


@pytest.fixture(scope="module")
def tshark_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wireshark-config")


# ---------------------------------------------------------------- tshark side


def kids(elem: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in elem if c.get("name") == name]


def show(elem: ET.Element, name: str) -> str | None:
    found = kids(elem, name)
    return found[0].get("show") if found else None


def hexval(elem: ET.Element, name: str) -> str:
    found = kids(elem, name)
    return (found[0].get("value") or "") if found else ""


def num(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text, 16) if text.startswith("0x") else int(text)


def tshark_payload(p: ET.Element, base: int) -> dict[str, object]:
    """Normalised description of one tshark payload element."""
    kind = int(p.get("show") or -1)
    d: dict[str, object] = {"type": kind, "offset": int(p.get("pos") or 0) - base}
    d["length"] = num(show(p, "isakmp.payloadlength"))
    if kind == 33:
        props = []
        for prop in kids(p, "isakmp.typepayload"):
            transforms = []
            for tf in kids(prop, "isakmp.typepayload"):
                tid = next(
                    c.get("show") for c in tf if (c.get("name") or "").startswith("isakmp.tf.id")
                )
                attrs = kids(tf, "isakmp.ike2.attr")
                key = num(show(attrs[0], "isakmp.ike2.attr.key_length")) if attrs else None
                transforms.append((num(show(tf, "isakmp.tf.type")), num(tid), key))
            props.append(
                (
                    num(show(prop, "isakmp.prop.number")),
                    num(show(prop, "isakmp.prop.protoid")),
                    hexval(prop, "isakmp.spi"),
                    tuple(transforms),
                )
            )
        d["proposals"] = tuple(props)
    elif kind == 34:
        d["group"] = num(show(p, "isakmp.key_exchange.dh_group"))
        d["data"] = hexval(p, "isakmp.key_exchange.data")
    elif kind in (35, 36):
        d["id_type"] = num(show(p, "isakmp.id.type"))
        (data,) = kids(p, "isakmp.id.data")
        text = [
            c.get("show")
            for c in data
            if c.get("name")
            in ("isakmp.id.data.ipv4_addr", "isakmp.id.data.fqdn", "isakmp.id.data.ipv6_addr")
        ]
        d["text"] = text[0] if text else None
    elif kind == 37:
        d["encoding"] = num(show(p, "isakmp.cert.encoding"))
        # tshark leaves cert.data's value empty (it dissects the X.509 inside): take the bytes
        # from the payload's own value after the generic header and the encoding octet.
        d["data"] = (p.get("value") or "")[10:]
    elif kind == 38:
        d["encoding"] = num(show(p, "isakmp.certreq.type"))
        d["hashes"] = tuple(a.get("value") for a in kids(p, "isakmp.ike.certreq.authority"))
    elif kind == 39:
        d["method"] = num(show(p, "isakmp.auth.method"))
        d["data"] = hexval(p, "isakmp.auth.data")
        if d["method"] == 14:  # RFC 7427: tshark splits the AlgorithmIdentifier off
            (auth,) = kids(p, "isakmp.auth.data")
            (der,) = kids(auth, "isakmp.auth.data.sig.asn1.data")
            oids = [f.get("show") for f in der.iter("field") if f.get("name") == "ber.unknown.OID"]
            d["signature"] = (der.get("value"), oids[0], hexval(auth, "isakmp.auth.data.sig.value"))
    elif kind == 40:
        d["data"] = hexval(p, "isakmp.nonce")
    elif kind == 41:
        d["protocol"] = num(show(p, "isakmp.notify.protoid"))
        d["spi"] = hexval(p, "isakmp.spi")
        d["notify"] = num(show(p, "isakmp.notify.msgtype"))
        d["data"] = hexval(p, "isakmp.notify.data")
    elif kind == 42:
        d["protocol"] = num(show(p, "isakmp.delete.protoid"))
        d["spi_size"] = num(show(p, "isakmp.spisize"))
        d["count"] = num(show(p, "isakmp.spinum"))
    elif kind == 43:
        d["data"] = hexval(p, "isakmp.vid_bytes") or hexval(p, "isakmp.vid_string")
    elif kind in (44, 45):
        sels = []
        for ts in kids(p, "isakmp.ts.data"):
            start = show(ts, "isakmp.ts.start_ipv4") or show(ts, "isakmp.ts.start_ipv6")
            end = show(ts, "isakmp.ts.end_ipv4") or show(ts, "isakmp.ts.end_ipv6")
            sels.append(
                (
                    num(show(ts, "isakmp.ts.type")),
                    num(show(ts, "isakmp.ts.protoid")),
                    num(show(ts, "isakmp.ts.start_port")),
                    num(show(ts, "isakmp.ts.end_port")),
                    start,
                    end,
                )
            )
        d["count"] = num(show(p, "isakmp.ts.number"))
        d["selectors"] = tuple(sels)
    elif kind == 46:
        d["first_inner"] = num(show(p, "isakmp.nextpayload"))
    return d


# ---------------------------------------------------------------- our side


def our_payload(p: Payload) -> dict[str, object]:
    """The same normalised description from our records."""
    d: dict[str, object] = {"type": p.payload_type, "offset": p.offset, "length": p.length}
    if isinstance(p, SaPayload):
        d["proposals"] = tuple(
            (
                prop.number,
                prop.protocol_id,
                prop.spi.hex(),
                tuple((t.transform_type, t.transform_id, t.key_length) for t in prop.transforms),
            )
            for prop in p.proposals
        )
    elif isinstance(p, KePayload):
        d["group"], d["data"] = p.group, p.data.hex()
    elif isinstance(p, IdPayload):
        d["id_type"] = p.id_type
        d["text"] = p.text if p.id_type in (1, 2, 5) else None
    elif isinstance(p, CertPayload):
        d["encoding"], d["data"] = p.encoding, p.data.hex()
    elif isinstance(p, CertReqPayload):
        d["encoding"], d["hashes"] = p.encoding, tuple(h.hex() for h in p.hashes)
    elif isinstance(p, AuthPayload):
        d["method"], d["data"] = p.method, p.data.hex()
        if p.signature is not None:
            sig = p.signature
            d["signature"] = (sig.algorithm_der.hex(), sig.oid, sig.signature.hex())
    elif isinstance(p, NoncePayload):
        d["data"] = p.data.hex()
    elif isinstance(p, NotifyPayload):
        d["protocol"], d["spi"], d["notify"] = p.protocol_id, p.spi.hex(), p.notify_type
        d["data"] = p.data.hex()
    elif isinstance(p, DeletePayload):
        d["protocol"], d["spi_size"], d["count"] = p.protocol_id, p.spi_size, len(p.spis)
    elif isinstance(p, VendorIdPayload):
        d["data"] = p.data.hex()
    elif isinstance(p, TsPayload):
        d["count"] = len(p.selectors)
        d["selectors"] = tuple(
            (s.ts_type, s.ip_protocol, s.start_port, s.end_port, s.start_address, s.end_address)
            for s in p.selectors
        )
    elif isinstance(p, SkPayload):
        d["first_inner"] = p.first_inner
    return d


def header_fields(msg: IkeMessage) -> dict[str, object]:
    h = msg.header
    assert h is not None
    return {
        "ispi": h.spi_i.hex(),
        "rspi": h.spi_r.hex(),
        "next": h.next_payload,
        "major": h.major,
        "minor": h.minor,
        "exchange": h.exchange_type,
        "flags": h.flags,
        "mid": h.message_id,
        "length": h.length,
    }


def tshark_header(proto: ET.Element) -> dict[str, object]:
    (version,) = kids(proto, "isakmp.version")
    return {
        "ispi": hexval(proto, "isakmp.ispi"),
        "rspi": hexval(proto, "isakmp.rspi"),
        "next": num(show(proto, "isakmp.nextpayload")),
        "major": num(show(version, "isakmp.mjver")),
        "minor": num(show(version, "isakmp.mnver")),
        "exchange": num(show(proto, "isakmp.exchangetype")),
        "flags": num(show(proto, "isakmp.flags")),
        "mid": num(show(proto, "isakmp.messageid")),
        "length": num(show(proto, "isakmp.length")),
    }


def compare_chain(
    ours: tuple[Payload, ...],
    theirs: list[ET.Element],
    base: int,
    v1: bool,
    offsets: bool = True,
) -> None:
    want = [tshark_payload(p, base) for p in theirs]
    if v1:  # IKEv1 payloads are only listed: compare type, offset, length
        want = [{k: d[k] for k in ("type", "offset", "length")} for d in want]
        got = [{"type": p.payload_type, "offset": p.offset, "length": p.length} for p in ours]
    else:
        got = [our_payload(p) for p in ours]
    if not offsets:
        for d in want + got:
            d.pop("offset")
    assert got == want


def inner_bytes(sk: ET.Element) -> tuple[bytes, list[ET.Element]] | None:
    """The decrypted inner payload chain tshark shows, rebuilt from its payload values."""
    decrypted = kids(sk, "isakmp.enc.decrypted")
    if not decrypted:
        return None
    contained = kids(decrypted[0], "isakmp.enc.contained")
    if not contained:
        return None
    payloads = kids(contained[0], "isakmp.typepayload")
    data = b"".join(bytes.fromhex(p.get("value") or "") for p in payloads)
    assert len(data) == int(contained[0].get("size") or 0)
    return data, payloads


def _case_id(capture: Path) -> str:
    return f"lab-{capture.parent.name}" if capture.name == "capture.pcap" else capture.name


CASES = [pytest.param(c, id=_case_id(c)) for c in CAPTURES if ike_messages(c)]


@pytest.mark.parametrize("capture", CASES)
def test_matches_tshark(capture: Path, tshark_tmp: Path) -> None:
    theirs = tshark_isakmp(capture, tshark_tmp)
    ours = dict(ike_messages(capture))
    assert sorted(ours) == sorted(theirs), "tshark and scapy disagree on which frames are IKE"
    inner_checked = 0
    for frame, data in ours.items():
        proto, malformed = theirs[frame]
        msg = parse_message(data)
        assert header_fields(msg) == tshark_header(proto), f"frame {frame}"
        if (capture.name, frame) in KNOWN_DIFFERENCES:
            continue
        v1 = msg.version == 1
        if v1 and msg.header and msg.header.flags & 1:
            assert msg.payloads == ()
            continue
        chain = kids(proto, "isakmp.typepayload")
        if v1 and malformed and msg.error is None:
            # tshark stops inside an IKEv1 payload it finds malformed; we only list IKEv1
            # payloads, so we get further. Compare what tshark did show.
            assert len(msg.payloads) > len(chain)
            compare_chain(msg.payloads[: len(chain)], chain, int(proto.get("pos") or 0), v1)
            continue
        if msg.error is not None:
            if msg.error.offset == msg.header.length and len(chain) == len(msg.payloads):
                # The last payload still announces a Next Payload: tshark stops silently
                # (isakmp-no-none-np), we report it at the message end.
                assert "announced but the message ends" in msg.error.reason
            else:
                # Otherwise only where tshark also gives up: compare what both got through.
                assert malformed or len(chain) > len(msg.payloads), f"{frame}: {msg.error}"
                chain = chain[: len(msg.payloads)]
        compare_chain(msg.payloads, chain, int(proto.get("pos") or 0), v1)
        if msg.payloads and isinstance(msg.payloads[-1], SkPayload):
            inner = inner_bytes(chain[-1])
            if inner is not None:
                data_in, inner_chain = inner
                payloads, problem = parse_payloads(msg.payloads[-1].first_inner, data_in)
                assert problem is None, f"frame {frame}: {problem}"
                compare_chain(payloads, inner_chain, 0, False)
                inner_checked += 1
        if msg.payloads and isinstance(msg.payloads[-1], SkfPayload):
            # With keys tshark reassembles RFC 7383 fragments and shows the whole inner chain
            # under the last fragment. Its PDML positions there mix two buffers (the payloads
            # after a certificate lose the base), so offsets are not compared for these.
            inner_chain = kids(chain[-1], "isakmp.typepayload")
            if inner_chain:
                base = int(inner_chain[0].get("pos") or 0)
                data_in = b"".join(bytes.fromhex(p.get("value") or "") for p in inner_chain)
                first = int(inner_chain[0].get("show") or 0)
                payloads, problem = parse_payloads(first, data_in, base)
                assert problem is None, f"frame {frame}: {problem}"
                compare_chain(payloads, inner_chain, 0, False, offsets=False)
                inner_checked += 1
    if capture.parent.name == "wireshark" and capture.name.startswith("ikev2"):
        assert inner_checked >= 2  # both IKE_AUTH messages were decrypted by tshark and matched
    if capture.name == "ikev2pI2.pcap":
        assert inner_checked == 1  # the IKE_AUTH request: IDi FQDN "west", AUTH RSA (1)
    truth = capture.parent / "truth.json"
    if truth.exists() and _lab_table(truth).strip():
        assert inner_checked >= 2  # tshark decrypted (and reassembled) with truth.json keys


# ---------------------------------------------------------------- names as tshark prints them

# tshark 4.0 value strings that differ from IANA's names on purpose.
TSHARK_ENCR_NAMES = {
    "AES-GCM with a 8 octet ICV": "ENCR_AES_GCM_8",
    "AES-GCM with a 12 octet ICV": "ENCR_AES_GCM_12",
    "AES-GCM with a 16 octet ICV": "ENCR_AES_GCM_16",
    "ENCR_AES-CCM_8": "ENCR_AES_CCM_8",
    "ENCR-AES-CCM_12": "ENCR_AES_CCM_12",
    "ENCR-AES-CCM_16": "ENCR_AES_CCM_16",
}

NAMED_FIELDS = {
    "isakmp.exchangetype": (iana.EXCHANGE_TYPES, {}),
    "isakmp.notify.msgtype": (iana.NOTIFY_TYPES, {}),
    "isakmp.tf.id.encr": (iana.ENCR, TSHARK_ENCR_NAMES),
    # Wireshark 4.0 names PRF 4 "PRF_AES128_CBC"; IANA (RFC 4434) says PRF_AES128_XCBC.
    "isakmp.tf.id.prf": (
        iana.PRF,
        # tshark 4.0 spells PRF 8 with a stray digit
        {"PRF_AES128_CBC": "PRF_AES128_XCBC", "PRF_AES128_CMAC6": "PRF_AES128_CMAC"},
    ),
    "isakmp.tf.id.integ": (iana.INTEG, {}),
    "isakmp.tf.id.esn": (
        iana.ESN,
        {"No Extended Sequence Numbers": "NO_ESN", "Extended Sequence Numbers": "ESN"},
    ),
    "isakmp.ts.type": (iana.TS_TYPES, {}),
    "isakmp.notify.data.signature_hash_algorithms": (
        iana.HASH_ALGORITHMS,
        {
            "SHA2-256": "SHA2_256",
            "SHA2-384": "SHA2_384",
            "SHA2-512": "SHA2_512",
            "Identity": "IDENTITY",
        },
    ),
}


def _showname_label(showname: str) -> tuple[str, int]:
    """ "Notify Message Type: COOKIE (16390)" -> ("COOKIE", 16390)."""
    label = showname.split(": ", 1)[1]
    text, _, number = label.rpartition(" (")
    return text.strip(), int(number.rstrip(")"))


@pytest.mark.parametrize("capture", CASES)
def test_names_match_tshark(capture: Path, tshark_tmp: Path) -> None:
    """Every IKEv2 name tshark prints for these fields is the IANA name we print."""
    checked = 0
    v2_messages = 0
    for proto, _ in tshark_isakmp(capture, tshark_tmp).values():
        if (show(proto, "isakmp.version") or "") != "0x20":
            continue
        v2_messages += 1
        for field in proto.iter("field"):
            entry = NAMED_FIELDS.get(field.get("name") or "")
            if entry is None:
                continue
            registry, aliases = entry
            text, value = _showname_label(field.get("showname") or "")
            if text == "Unknown":  # tshark's value_string has no range for this number
                continue
            assert registry.name(value) == aliases.get(text, text), field.get("showname")
            checked += 1
    # IKEv1-only captures (by content, whatever their name) have nothing to compare.
    assert checked or not v2_messages


def test_vendor_ids_named_where_tshark_names_them(tshark_tmp: Path) -> None:
    """Every Vendor ID tshark recognises in the captures (IKEv1 ones too) gets a name here."""
    seen = 0
    for capture in CAPTURES:
        for proto, _ in tshark_isakmp(capture, tshark_tmp).values():
            for field in proto.iter("field"):
                if field.get("name") != "isakmp.vid_string":
                    continue
                data = bytes.fromhex(field.get("value") or "")
                if field.get("show") != "Unknown Vendor ID":
                    assert vendor_name(data), field.get("show")
                    seen += 1
    assert seen >= 40
