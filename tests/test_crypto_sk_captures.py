"""sk.py on real captures: Wireshark's 8 IKEv2 decryption test captures (keys from its
ikev2_decryption_table.tmpl, via ../shared/vectors/wireshark-ikev2-decrypt-captures.json) and
tcpdump's ikev2pI2. Every encrypted message must decrypt with its ICV/tag verified and the
AUTH data Wireshark's tests expect must appear in the decrypted inner payloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_vectors
from scapy.layers.inet import UDP
from scapy.utils import rdpcap

from ikeview.crypto.sk import SK, SKF, SkDecryptor
from ikeview.crypto.transforms import TransformType, by_wireshark_label, lookup

CAPTURES = load_vectors("wireshark-ikev2-decrypt-captures.json")["captures"]
AUTH = 39
h = bytes.fromhex


def ike_messages(path: Path) -> list[bytes]:
    """IKE messages (UDP payloads, Non-ESP marker removed on port 4500) of a capture."""
    out = []
    for pkt in rdpcap(str(path)):
        if UDP in pkt:
            data = bytes(pkt[UDP].payload)
            if 4500 in (pkt[UDP].sport, pkt[UDP].dport):
                if data[:4] != bytes(4):
                    continue  # ESP in UDP
                data = data[4:]
            out.append(data)
    return out


def find_encrypted(message: bytes) -> tuple[int, int] | None:
    """(offset, type) of the SK/SKF payload, walking the 4-octet generic payload headers."""
    next_payload, offset = message[16], 28
    while next_payload not in (SK, SKF):
        if next_payload == 0 or offset + 4 > len(message):
            return None
        next_payload, length = message[offset], int.from_bytes(message[offset + 2 : offset + 4])
        offset += length
    return offset, next_payload


def inner_payloads(first: int, plaintext: bytes) -> list[tuple[int, bytes]]:
    """(type, body) of each inner payload, by the generic header chain."""
    out, ptype, off = [], first, 0
    while ptype != 0:
        nxt, length = plaintext[off], int.from_bytes(plaintext[off + 2 : off + 4])
        assert 4 <= length <= len(plaintext) - off
        out.append((ptype, plaintext[off + 4 : off + length]))
        ptype, off = nxt, off + length
    assert off == len(plaintext)
    return out


def _suite(c: dict):
    (encr,) = by_wireshark_label(TransformType.ENCR, c["encryption"])
    integ = by_wireshark_label(TransformType.INTEG, c["integrity"])
    return encr, (integ[0] if integ else None)


def _decryptors(c: dict, encr, integ, wrong: bool = False) -> dict[bool, SkDecryptor]:
    out = {}
    for initiator, ke, ka in ((True, "sk_ei", "sk_ai"), (False, "sk_er", "sk_ar")):
        sk_e = h(c[ke])
        if wrong:
            sk_e = bytes([sk_e[0] ^ 1]) + sk_e[1:]
        out[initiator] = SkDecryptor(encr, sk_e, integ, h(c[ka]))
    return out


def _decrypt_all(shared_dir: Path, c: dict, decryptors: dict[bool, SkDecryptor]):
    results = []
    for message in ike_messages(shared_dir / "vectors" / c["file"]):
        found = find_encrypted(message)
        if found is None:
            continue
        initiator = bool(message[19] & 0x08)  # RFC 7296 3.1: I flag picks SK_ei vs SK_er
        results.append(decryptors[initiator].decrypt(message, *found))
    return results


@pytest.mark.parametrize(
    "c",
    [c for c in CAPTURES if "aes128ccm12-2" not in c["file"]],
    ids=lambda c: Path(c["file"]).stem,
)
def test_wireshark_capture_decrypts_with_integrity(shared_dir: Path, c: dict) -> None:
    encr, integ = _suite(c)
    results = _decrypt_all(shared_dir, c, _decryptors(c, encr, integ))
    expected = [m for m in c["messages"] if m["exchange_type"] != 34]
    assert len(results) == len(expected) >= 2
    auth_seen = set()
    for r, m in zip(results, expected, strict=True):
        assert r.integrity_ok is True and r.error is None, r.error
        payloads = inner_payloads(r.next_payload, r.plaintext)
        assert [t for t, _ in payloads] == m["inner_types"]
        # AUTH payload body: Auth Method (1) + RESERVED (3) + Authentication Data.
        auth_seen |= {body[4:].hex() for t, body in payloads if t == AUTH}
    assert c["expected_isakmp_auth_data"] in auth_seen
    assert auth_seen == {m["auth_data"] for m in expected if "auth_data" in m}


@pytest.mark.parametrize(
    "c",
    # aes128ccm12-2's table row checks nothing; its wrong-key case is in the CCM test below.
    [c for c in CAPTURES if "aes128ccm12-2" not in c["file"]],
    ids=lambda c: Path(c["file"]).stem,
)
def test_wrong_key_gives_integrity_false(shared_dir: Path, c: dict) -> None:
    encr, integ = _suite(c)
    for r in _decrypt_all(shared_dir, c, _decryptors(c, encr, integ, wrong=True)):
        if encr.aead:
            assert r.integrity_ok is False and r.plaintext == b"" and "ICV" in r.error
        else:
            # A wrong SK_e with the right SK_a: the ICV still verifies, the content is garbage.
            assert r.integrity_ok is True


def test_wrong_integrity_key_is_reported(shared_dir: Path) -> None:
    (c,) = [c for c in CAPTURES if "aes256cbc" in c["file"]]
    encr, integ = _suite(c)
    bad = {
        i: SkDecryptor(encr, h(c[ke]), integ, bytes(32))
        for i, ke in ((True, "sk_ei"), (False, "sk_er"))
    }
    results = _decrypt_all(shared_dir, c, bad)
    assert results and all(r.integrity_ok is False for r in results)
    assert all("ICV does not verify" in r.error for r in results)


def test_aes128ccm12_2_as_ccm_and_as_wiresharks_ctr_view(shared_dir: Path) -> None:
    """The twist: Wireshark's table decodes this CCM capture as AES-CTR-128 with key
    K | 0x03 | salt and no ICV check. As CCM (key = first 16 octets, salt = last 3) every tag
    verifies; the CTR view must give the same plaintext with the ICV unchecked."""
    (c,) = [c for c in CAPTURES if "aes128ccm12-2" in c["file"]]
    ccm = lookup(TransformType.ENCR, 15, 128)
    as_ccm = {
        i: SkDecryptor(ccm, h(c[k])[:16] + h(c[k])[-3:])
        for i, k in ((True, "sk_ei"), (False, "sk_er"))
    }
    ccm_results = _decrypt_all(shared_dir, c, as_ccm)
    assert len(ccm_results) == 4
    assert all(r.integrity_ok is True and r.error is None for r in ccm_results)
    auth = {
        body[4:].hex()
        for r in ccm_results
        for t, body in inner_payloads(r.next_payload, r.plaintext)
        if t == AUTH
    }
    assert c["expected_isakmp_auth_data"] in auth
    wrong = {i: SkDecryptor(ccm, bytes(19)) for i in (True, False)}
    assert all(r.integrity_ok is False for r in _decrypt_all(shared_dir, c, wrong))
    # Wireshark's row: AES-CTR-128 + "ANY 96-bits" -> a 12-octet ICV that is not checked.
    ctr = lookup(TransformType.ENCR, 13, 128)
    icv12 = lookup(TransformType.INTEG, 2)  # any INTEG with a 12-octet ICV; no key given
    as_ctr = {
        i: SkDecryptor(ctr, h(c[k]), icv12, None) for i, k in ((True, "sk_ei"), (False, "sk_er"))
    }
    ctr_results = _decrypt_all(shared_dir, c, as_ctr)
    assert [r.plaintext for r in ctr_results] == [r.plaintext for r in ccm_results]
    assert all(r.integrity_ok is None for r in ctr_results)


def test_tcpdump_ikev2pi2_decrypts_but_its_icv_is_wrong(shared_dir: Path) -> None:
    """tcpdump's ikev2pI2 (libreswan): decrypts to IDi FQDN "west"; the capture's HMAC does not
    match SK_ai (tshark reports the ICD incorrect too), so integrity_ok must be False."""
    secrets = (shared_dir / "captures/tcpdump/ikev2pI2-secrets.txt").read_text()
    line = next(x for x in secrets.splitlines() if x.startswith("ikev2 I "))
    fields = line.split()
    sk_ai = h(fields[4].split(":0x")[1])
    sk_ei = h(fields[5].split(":0x")[1])
    (message,) = [
        m for m in ike_messages(shared_dir / "captures/tcpdump/ikev2pI2.pcap") if find_encrypted(m)
    ]
    dec = SkDecryptor(
        lookup(TransformType.ENCR, 12, 128), sk_ei, lookup(TransformType.INTEG, 2), sk_ai
    )
    r = dec.decrypt(message, *find_encrypted(message))
    assert r.integrity_ok is False and "ICV" in r.error
    payloads = inner_payloads(r.next_payload, r.plaintext)
    idi = next(body for t, body in payloads if t == 35)
    assert idi[0] == 2 and idi[4:] == b"west"  # ID_FQDN
