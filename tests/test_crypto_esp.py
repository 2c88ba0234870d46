"""esp.py on complete ESP packet vectors (draft-mcgrew-gcm-test incl. 64-bit ESN AAD,
RFC 3602 cases 5-8, RFC 7634 Appendix A), on packets built with the ``openssl`` command line
(AES-CTR/CBC + HMAC with and without ESN: no external vector exists for those), and on
malformed packets."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import load_vectors
from hypothesis import given, settings
from hypothesis import strategies as st

from ikeview.crypto.ciphers import make_cipher
from ikeview.crypto.esp import EspSa
from ikeview.crypto.transforms import TransformType, lookup

ENCR, INTEG = TransformType.ENCR, TransformType.INTEG
h = bytes.fromhex
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")


@pytest.mark.parametrize(
    "v",
    load_vectors("draft-mcgrew-gcm-test-esp.json")["vectors"],
    ids=lambda v: f"case{v['case']}{'-esn' if v['esn'] else ''}",
)
def test_mcgrew_gcm_esp_packets(v: dict) -> None:
    keymat = h(v["keymat"])
    spec = lookup(ENCR, 20, (len(keymat) - 4) * 8)
    sa = EspSa(spec, keymat, esn=v["esn"])
    seq = int(v["sequence_number"], 16)
    high = seq >> 32 if v["esn"] else 0
    packet = h(v["esp_packet"])
    r = sa.decrypt(packet, esn_high=high)
    plain = h(v["plaintext"])
    assert r.integrity_ok is True and r.error is None
    assert (r.spi, r.seq) == (int(v["spi"], 16), seq)
    assert (r.next_header, r.pad_len) == (v["next_header"], v["pad_length"])
    assert r.payload == plain[: len(plain) - 2 - v["pad_length"]]
    if v["esn"]:
        # The high 32 bits are only in the AAD: other high bits must fail the tag.
        assert sa.decrypt(packet, esn_high=high ^ 1).integrity_ok is False
    wrong = bytes([keymat[0] ^ 1]) + keymat[1:]
    bad = EspSa(spec, wrong, esn=v["esn"]).decrypt(packet, esn_high=high)
    assert bad.integrity_ok is False and bad.payload == b"" and "ICV" in bad.error


@pytest.mark.parametrize(
    "v", load_vectors("rfc3602-aes-cbc.json")["vectors"][4:], ids=lambda v: f"case{v['case']}"
)
def test_rfc3602_esp_packets(v: dict) -> None:
    key = h(v["key"])
    r = EspSa(lookup(ENCR, 12, len(key) * 8), key).decrypt(h(v["esp_packet"]))
    assert r.integrity_ok is None and r.error is None  # the RFC cases carry no ICV
    assert (r.next_header, r.pad_len) == (v["next_header"], v["pad_length"])
    assert r.payload == h(v["payload"])
    assert r.seq == v["sequence_number"]


def test_rfc7634_appendix_a_esp() -> None:
    v = load_vectors("rfc7634-chacha20-poly1305.json")["vectors"]["rfc7634_appendix_A_esp"]
    sa = EspSa(lookup(ENCR, 28), h(v["keymat"]))
    r = sa.decrypt(h(v["esp"]["esp_packet_derived"]))
    plain = h(v["plaintext"])
    assert r.integrity_ok is True and r.error is None
    assert (r.spi, r.seq, r.next_header, r.pad_len) == (0x01020304, 5, 4, 2)
    assert r.payload == plain[:-4]


def _openssl(*args: str, data: bytes) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


@needs_openssl
@pytest.mark.parametrize("esn", [False, True], ids=["no-esn", "esn"])
@pytest.mark.parametrize(
    ("encr_id", "bits", "integ_id", "hash_name"),
    [(13, 128, 12, "sha256"), (13, 256, 14, "sha512"), (12, 192, 2, "sha1"), (12, 128, 1, "md5")],
)
def test_hmac_suites_against_openssl(encr_id, bits, integ_id, hash_name, esn) -> None:
    """ESP packets encrypted and MACed by openssl; with ESN the MAC input has the high 32 bits
    of the sequence number appended (RFC 4303 section 3.3.2.1) but the packet does not."""
    encr, integ = lookup(ENCR, encr_id, bits), lookup(INTEG, integ_id)
    keymat = bytes(range(7, 7 + encr.keymat_len))
    ikey = bytes(range(50, 50 + integ.key_len))
    payload = bytes(range(60)) * 2
    block = max(encr.block_len, 4)
    pad = (-(len(payload) + 2)) % block
    plaintext = payload + bytes(range(1, pad + 1)) + bytes([pad, 41])
    iv = bytes(range(0x20, 0x20 + encr.iv_len))
    if encr_id == 13:
        cipher, ivarg = f"aes-{bits}-ctr", keymat[encr.key_len :] + iv + h("00000001")
    else:
        cipher, ivarg = f"aes-{bits}-cbc", iv
    key = keymat[: encr.key_len]
    ct = _openssl(
        "enc", f"-{cipher}", "-K", key.hex(), "-iv", ivarg.hex(), "-nopad", data=plaintext
    )
    packet = h("c0ffee01") + h("00000010") + iv + ct
    high = h("00000003") if esn else b""
    mac = _openssl("dgst", f"-{hash_name}", "-mac", "HMAC", "-macopt", f"hexkey:{ikey.hex()}",
                   "-binary", data=packet + high)  # fmt: skip
    packet += mac[: integ.icv_len]
    sa = EspSa(encr, keymat, integ, ikey, esn=esn)
    r = sa.decrypt(packet, esn_high=3)
    assert r.integrity_ok is True and r.error is None
    assert (r.payload, r.next_header, r.pad_len) == (payload, 41, pad)
    assert r.seq == ((3 << 32) | 16 if esn else 16)
    if esn:
        assert sa.decrypt(packet, esn_high=2).integrity_ok is False


@pytest.mark.parametrize(
    ("encr_id", "bits"), [(14, 128), (15, 192), (16, 256), (18, 128), (19, 256), (21, 128)]
)
@pytest.mark.parametrize("esn", [False, True], ids=["no-esn", "esn"])
def test_aead_roundtrip_with_esn_aad(encr_id: int, bits: int, esn: bool) -> None:
    """Self-made ESP packets for suites without packet vectors (the primitives have vectors):
    the AAD is SPI | [ESN high] | SN low (RFC 4106 5, RFC 4309 5, RFC 4543 3.3)."""
    spec = lookup(ENCR, encr_id, bits)
    keymat = bytes(range(spec.keymat_len))
    payload = b"inner packet bytes"
    pad = (-(len(payload) + 2)) % 4
    plaintext = payload + bytes(range(1, pad + 1)) + bytes([pad, 6])
    header, iv = h("0000abcd") + h("fffffffe"), h("0102030405060708")
    aad = header[:4] + h("00000007") + header[4:] if esn else header
    ct, icv = make_cipher(spec, keymat).encrypt(iv, plaintext, aad)
    packet = header + iv + ct + icv
    sa = EspSa(spec, keymat, esn=esn)
    r = sa.decrypt(packet, esn_high=7)
    assert r.integrity_ok is True and r.error is None and r.payload == payload
    assert r.next_header == 6
    assert sa.decrypt(packet, esn_high=8).integrity_ok is (not esn)
    if encr_id == 21:  # GMAC: integrity only, the payload is visible in the packet
        assert plaintext in packet


def _null_sa() -> EspSa:
    return EspSa(lookup(ENCR, 11), b"", lookup(INTEG, 12), bytes(32))


def _null_packet(trailer_body: bytes) -> bytes:
    sa_integ = _null_sa()
    body = h("00000001") + h("00000001") + trailer_body
    return body + sa_integ._integ.compute(body)  # type: ignore[union-attr]


def test_null_encryption_and_trailer_checks() -> None:
    sa = _null_sa()
    good = sa.decrypt(_null_packet(b"data" + h("0102") + h("0204")))
    assert good.integrity_ok and good.error is None and good.payload == b"data"
    bad_pad = sa.decrypt(_null_packet(b"data" + h("0302") + h("0204")))
    assert bad_pad.integrity_ok and "padding" in bad_pad.error and bad_pad.payload == b"data"
    too_long = sa.decrypt(_null_packet(b"ab" + h("0904")))
    assert "pad length 9" in too_long.error and too_long.payload == b""
    reserved = sa.decrypt(_null_packet(b"abcd" + h("00ff")))
    assert "255" in reserved.error
    dummy = sa.decrypt(_null_packet(b"abcd" + h("003b")))  # 59: dummy packet, not an error
    assert dummy.error is None and dummy.next_header == 59
    tampered = bytearray(_null_packet(b"data" + h("0102") + h("0204")))
    tampered[9] ^= 1
    t = sa.decrypt(bytes(tampered))
    assert t.integrity_ok is False and "ICV" in t.error


def test_truncated_packets() -> None:
    sa = EspSa(lookup(ENCR, 20, 128), bytes(20))
    assert "truncated" in sa.decrypt(b"\x00" * 7).error
    r = sa.decrypt(bytes(8 + 8 + 17))
    assert r.payload == b"" and "too short" in r.error
    cbc = EspSa(lookup(ENCR, 12, 128), bytes(16))
    assert "multiple" in cbc.decrypt(bytes(8 + 16 + 20)).error
    with pytest.raises(ValueError, match="combined mode"):
        EspSa(lookup(ENCR, 20, 128), bytes(20), lookup(INTEG, 12), bytes(32))


def test_fast_result_equals_a_normally_built_record() -> None:
    """The hot path fills EspResult through its slots; it must be the same record."""
    from dataclasses import FrozenInstanceError

    from ikeview.crypto.esp import EspResult

    sa = _null_sa()
    r = sa.decrypt(_null_packet(b"data" + h("0102") + h("0204")))
    assert type(r) is EspResult
    assert r == EspResult(1, 1, 4, b"data", 2, True, None)
    assert hash(r) == hash(EspResult(1, 1, 4, b"data", 2, True, None))
    with pytest.raises(FrozenInstanceError):
        r.payload = b""  # type: ignore[misc]


_FUZZ_SAS = [
    EspSa(lookup(ENCR, 20, 128), bytes(20)),
    EspSa(lookup(ENCR, 18, 256), bytes(36), esn=True),
    EspSa(lookup(ENCR, 14, 128), bytes(19)),
    EspSa(lookup(ENCR, 28), bytes(36)),
    EspSa(lookup(ENCR, 21, 128), bytes(20)),
    EspSa(lookup(ENCR, 12, 128), bytes(16), lookup(INTEG, 12), bytes(32)),
    EspSa(lookup(ENCR, 3), bytes(24), lookup(INTEG, 2), None),
    EspSa(lookup(ENCR, 13, 128), bytes(20), lookup(INTEG, 5), bytes(16)),
    EspSa(lookup(ENCR, 11), b""),
]


@given(st.binary(max_size=120), st.integers(0, 2**32 - 1))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_a_result_never_an_exception(packet: bytes, high: int) -> None:
    for sa in _FUZZ_SAS:
        r = sa.decrypt(packet, esn_high=high)
        assert r.error is None or isinstance(r.error, str)
        # Random bytes never carry a valid ICV (at least 64 bits of tag).
        assert r.integrity_ok is not True
