"""sk.py on the RFC 7634 Appendix B IKEv2 example, on SK/SKF messages built with the
``openssl`` command line (an implementation independent of the code under test), and on
malformed input."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import load_vectors
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st
from ike_build import ike_header

from ikeview.crypto.sk import SK, SKF, SkDecryptor, decrypt_sk
from ikeview.crypto.transforms import TransformType, lookup

ENCR, INTEG = TransformType.ENCR, TransformType.INTEG
h = bytes.fromhex
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")


def test_rfc7634_appendix_b_ikev2() -> None:
    """Rebuild the IKE message of RFC 7634 Appendix B from its decoded fields, run sk.py."""
    v = load_vectors("rfc7634-chacha20-poly1305.json")["vectors"]["rfc7634_appendix_B_ikev2"]
    ike = v["ikev2"]
    header = (
        h(ike["spi_i"])
        + h(ike["spi_r"])
        + bytes([ike["next_payload"], ike["version"], ike["exchange_type"], ike["flags"]])
        + h(ike["message_id"])
        + ike["ike_length"].to_bytes(4, "big")
    )
    message = header + h(ike["sk_payload_derived"])
    assert len(message) == ike["ike_length"]
    assert message[: len(h(v["aad"]))] == h(v["aad"])
    spec = lookup(ENCR, 28)
    r = decrypt_sk(message, 28, SK, spec, h(v["keymat"]))
    assert r.integrity_ok is True and r.error is None
    assert r.next_payload == ike["sk_next_payload"] == 41  # Notify
    assert r.pad_length == 0
    assert r.plaintext == h(v["plaintext"])[:-1]  # minus the Pad Length octet
    wrong = decrypt_sk(message, 28, SK, spec, bytes(36))
    assert wrong.integrity_ok is False and wrong.plaintext == b""
    # The IKE header is in the AAD: a changed Message ID must fail the tag.
    tampered = message[:20] + b"\x00\x00\x00\x0a" + message[24:]
    assert decrypt_sk(tampered, 28, SK, spec, h(v["keymat"])).integrity_ok is False


def _openssl(*args: str, data: bytes) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def _build_with_openssl(
    encr_name: str, encr, sk_e: bytes, integ_hash: str, integ, sk_a: bytes, skf: bool
) -> tuple[bytes, bytes]:
    """An IKE message with an SK or SKF payload, encrypted and MACed by openssl."""
    inner = h("2900000c010000000a000001") + h("0000000c01000000c0a80101")  # IDi + another
    block = encr.block_len if encr.block_len > 1 else 4
    pad = (-(len(inner) + 1)) % block + (block if block > 1 else 0)
    plaintext = inner + bytes(range(0xA0, 0xA0 + pad)) + bytes([pad])  # any padding octets
    iv = bytes(range(0x10, 0x10 + encr.iv_len))
    key = sk_e[: encr.key_len]
    if encr.id == 13:  # RFC 5930: counter block nonce | IV | 1, as an openssl -iv
        cipher, ivarg = f"aes-{encr.key_bits}-ctr", (sk_e[encr.key_len :] + iv + h("00000001"))
    else:
        cipher, ivarg = f"aes-{encr.key_bits}-cbc", iv
    ct = _openssl(
        "enc", f"-{cipher}", "-K", key.hex(), "-iv", ivarg.hex(), "-nopad", data=plaintext
    )
    hdr_len = 8 if skf else 4
    sk_len = hdr_len + len(iv) + len(ct) + integ.icv_len
    sk_hdr = bytes([35, 0]) + sk_len.to_bytes(2, "big") + (h("00010002") if skf else b"")
    msg = ike_header(SKF if skf else SK, 28 + sk_len) + sk_hdr + iv + ct
    mac = _openssl("dgst", f"-{integ_hash}", "-mac", "HMAC", "-macopt", f"hexkey:{sk_a.hex()}",
                   "-binary", data=msg)  # fmt: skip
    return msg + mac[: integ.icv_len], inner


@needs_openssl
@pytest.mark.parametrize("skf", [False, True], ids=["SK", "SKF"])
@pytest.mark.parametrize(
    ("encr_id", "bits", "integ_id", "hash_name"),
    [
        (12, 128, 12, "sha256"),
        (13, 192, 14, "sha512"),
        (13, 256, 2, "sha1"),
        (12, 256, 13, "sha384"),
    ],
)
def test_cbc_ctr_hmac_against_openssl(encr_id, bits, integ_id, hash_name, skf) -> None:
    encr, integ = lookup(ENCR, encr_id, bits), lookup(INTEG, integ_id)
    sk_e = bytes(range(1, 1 + encr.keymat_len))
    sk_a = bytes(range(100, 100 + integ.key_len))
    msg, inner = _build_with_openssl(encr.short_name, encr, sk_e, hash_name, integ, sk_a, skf)
    dec = SkDecryptor(encr, sk_e, integ, sk_a)
    r = dec.decrypt(msg, 28, SKF if skf else SK)
    assert r.integrity_ok is True and r.error is None
    assert r.plaintext == inner and r.next_payload == 35
    assert (r.fragment_number, r.total_fragments) == ((1, 2) if skf else (None, None))
    # The ICV covers the IKE header and, for SKF, the fragment fields.
    pos = 28 + 5 if skf else 20
    tampered = msg[:pos] + bytes([msg[pos] ^ 1]) + msg[pos + 1 :]
    assert dec.decrypt(tampered, 28, SKF if skf else SK).integrity_ok is False


def test_skf_aead_aad_includes_fragment_fields() -> None:
    """RFC 7383 2.5.3: for AEAD the AAD runs to the end of the SKF header, frag fields included.
    Built here with AESGCM directly (self-made; no external SKF vector exists)."""
    encr = lookup(ENCR, 20, 128)
    keymat = bytes(range(20))
    inner = h("2900000c010000000a000001") + b"\x00"
    iv = bytes(8)
    sk_len = 8 + 8 + len(inner) + 16
    aad = ike_header(SKF, 28 + sk_len) + bytes([35, 0]) + sk_len.to_bytes(2, "big") + h("00020002")
    sealed = AESGCM(keymat[:16]).encrypt(keymat[16:] + iv, inner, aad)
    msg = aad + iv + sealed
    r = SkDecryptor(encr, keymat).decrypt(msg, 28, SKF)
    assert r.integrity_ok and r.plaintext == inner[:-1] and r.fragment_number == 2
    bad = msg[:33] + b"\x01" + msg[34:]  # fragment number 2 -> 1
    assert SkDecryptor(encr, keymat).decrypt(bad, 28, SKF).integrity_ok is False
    # Read as SK (wrong payload type), the AAD and IV are different: must not verify.
    assert SkDecryptor(encr, keymat).decrypt(msg, 28, SK).integrity_ok is False


def test_bad_padding_and_truncation_are_reported() -> None:
    encr = lookup(ENCR, 20, 128)
    keymat = bytes(20)
    body = b"\x00\x01\x02" + b"\x09"  # pad length 9 > 3 octets before it
    sk_len = 4 + 8 + len(body) + 16
    aad = ike_header(SK, 28 + sk_len) + bytes([0, 0]) + sk_len.to_bytes(2, "big")
    msg = aad + bytes(8) + AESGCM(bytes(16)).encrypt(bytes(4) + bytes(8), body, aad)
    dec = SkDecryptor(encr, keymat)
    r = dec.decrypt(msg, 28)
    assert r.integrity_ok is True and r.pad_length == 9 and "pad length 9" in r.error
    assert r.plaintext == b""
    short = dec.decrypt(msg[:-5], 28)
    assert short.integrity_ok is False and "does not fit" in short.error
    assert "no room" in dec.decrypt(msg[:30], 28).error
    with pytest.raises(ValueError, match="neither SK"):
        dec.decrypt(msg, 28, 33)
    with pytest.raises(ValueError, match="combined mode"):
        SkDecryptor(encr, keymat, lookup(INTEG, 12), bytes(32))


def test_cbc_misaligned_ciphertext_is_an_error() -> None:
    encr, integ = lookup(ENCR, 12, 128), lookup(INTEG, 12)
    sk_len = 4 + 16 + 15 + 16
    msg = ike_header(SK, 28 + sk_len) + bytes([0, 0]) + sk_len.to_bytes(2, "big")
    msg += bytes(16 + 15 + 16)
    r = SkDecryptor(encr, bytes(16), integ, bytes(32)).decrypt(msg, 28)
    assert r.integrity_ok is False and "multiple" in r.error and r.plaintext == b""


_FUZZ = [
    SkDecryptor(lookup(ENCR, 20, 128), bytes(20)),
    SkDecryptor(lookup(ENCR, 19, 128), bytes(20)),
    SkDecryptor(lookup(ENCR, 15, 128), bytes(19)),
    SkDecryptor(lookup(ENCR, 12, 256), bytes(32), lookup(INTEG, 12), bytes(32)),
    SkDecryptor(lookup(ENCR, 3), bytes(24), lookup(INTEG, 7), bytes(20)),
]


@given(st.binary(max_size=160), st.integers(-4, 170), st.sampled_from([SK, SKF]))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_a_result_never_an_exception(message: bytes, offset: int, ptype) -> None:
    for dec in _FUZZ:
        r = dec.decrypt(message, offset, ptype)
        assert isinstance(r.error, str) and r.integrity_ok is not True
