"""ciphers.py against external vectors (GCM spec, strongSwan CCM, RFC 7634/7539, RFC 3686,
RFC 3602, NIST TDES MMT3) and, where no vector exists (AES-GMAC, RFC 4543), against the
``openssl`` command line."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import load_vectors

from ikeview.crypto.ciphers import (
    AeadTagError,
    CipherInputError,
    make_cipher,
)
from ikeview.crypto.mac import IntegrityError
from ikeview.crypto.transforms import KeyLengthError, TransformType, lookup

ENCR = TransformType.ENCR
GCM_IDS = {8: 18, 12: 19, 16: 20}
CCM_IDS = {8: 14, 12: 15, 16: 16}
h = bytes.fromhex


def _flip(b: bytes) -> bytes:
    return bytes([b[0] ^ 1]) + b[1:] if b else b


def _check_aead(spec, keymat: bytes, v: dict) -> None:
    c = make_cipher(spec, keymat)
    iv, aad, pt, ct, icv = (
        h(v["iv"]),
        h(v["aad"]),
        h(v["plaintext"]),
        h(v["ciphertext"]),
        h(v.get("icv") or v["tag"]),
    )
    assert c.decrypt(iv, ct, aad, icv) == pt
    assert c.decrypt_joined(iv, ct + icv, aad) == pt
    assert c.encrypt(iv, pt, aad) == (ct, icv)
    with pytest.raises(AeadTagError):
        c.decrypt(iv, ct, aad, _flip(icv))
    with pytest.raises(IntegrityError):
        c.decrypt_joined(iv, ct + _flip(icv), aad)
    if ct:
        with pytest.raises(AeadTagError):
            c.decrypt(iv, _flip(ct), aad, icv)
    with pytest.raises(AeadTagError):
        c.decrypt(iv, ct, aad + b"\x00", icv)


@pytest.mark.parametrize(
    "v", load_vectors("gcm-spec-test-cases.json")["vectors"], ids=lambda v: v["name"]
)
def test_aes_gcm_spec_cases(v: dict) -> None:
    key = h(v["key"])
    spec = lookup(ENCR, GCM_IDS[v["icv_len"]], len(key) * 8)
    _check_aead(spec, key + h(v["salt"]), v)


@pytest.mark.parametrize(
    "v", load_vectors("strongswan-aes-ccm-esp.json")["vectors"], ids=lambda v: v["name"]
)
def test_aes_ccm_strongswan(v: dict) -> None:
    key = h(v["key"])
    if len(key) not in (16, 24, 32):
        # aes_ccm15: the literal is longer than key+salt; the file's note says the first
        # 16 octets are the key.
        key = key[:16]
    spec = lookup(ENCR, CCM_IDS[v["icv_len"]], len(key) * 8)
    _check_aead(spec, key + h(v["salt"]), v)


@pytest.mark.parametrize(
    "name",
    [
        "rfc7634_appendix_A_esp",
        "rfc7634_appendix_B_ikev2",
        "rfc7539_section_2.8.2",
        "rfc7539_appendix_A.5",
    ],
)
def test_chacha20_poly1305(name: str) -> None:
    v = load_vectors("rfc7634-chacha20-poly1305.json")["vectors"][name]
    _check_aead(lookup(ENCR, 28), h(v["keymat"]), v)


@pytest.mark.parametrize(
    "v", load_vectors("rfc3686-aes-ctr.json")["vectors"], ids=lambda v: f"tv{v['test_vector']}"
)
def test_aes_ctr_rfc3686(v: dict) -> None:
    keymat = h(v["keymat"])
    c = make_cipher(lookup(ENCR, 13, (len(keymat) - 4) * 8), keymat)
    assert h(v["first_counter_block"]) == h(v["nonce"]) + h(v["iv"]) + b"\0\0\0\1"
    assert c.decrypt(h(v["iv"]), h(v["ciphertext"])) == h(v["plaintext"])
    assert c.encrypt(h(v["iv"]), h(v["plaintext"])) == (h(v["ciphertext"]), b"")


@pytest.mark.parametrize(
    "v", load_vectors("rfc3602-aes-cbc.json")["vectors"][:4], ids=lambda v: f"case{v['case']}"
)
def test_aes_cbc_rfc3602(v: dict) -> None:
    key = h(v["key"])
    c = make_cipher(lookup(ENCR, 12, len(key) * 8), key)
    assert c.decrypt(h(v["iv"]), h(v["ciphertext"])) == h(v["plaintext"])
    assert c.encrypt(h(v["iv"]), h(v["plaintext"]))[0] == h(v["ciphertext"])


_TDES = load_vectors("nist-tdes-cbc-mmt3.json")


@pytest.mark.parametrize(
    "v",
    _TDES["vectors"] + _TDES["strongswan_vectors"],
    ids=lambda v: f"{v.get('mode', 'ss')}-{v.get('count', v.get('name'))}",
)
def test_3des_cbc_nist_mmt3(v: dict) -> None:
    c = make_cipher(lookup(ENCR, 3), h(v["key"]))
    assert c.decrypt(h(v["iv"]), h(v["ciphertext"])) == h(v["plaintext"])
    assert c.encrypt(h(v["iv"]), h(v["plaintext"]))[0] == h(v["ciphertext"])


def test_null_cipher() -> None:
    c = make_cipher(lookup(ENCR, 11), b"")
    assert c.decrypt(b"", b"abc") == b"abc"
    assert c.encrypt(b"", b"abc") == (b"abc", b"")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
@pytest.mark.parametrize("bits", [128, 192, 256])
def test_aes_gmac_against_openssl(bits: int, tmp_path) -> None:
    """RFC 4543 has no test vectors: the tag over SPI|SN|IV|payload is recomputed with
    ``openssl mac GMAC`` (OpenSSL's own GMAC, independent of the AESGCM object used here)."""
    key, salt, iv = (
        bytes(range(bits // 8)),
        bytes.fromhex("cafebabe"),
        bytes.fromhex("0102030405060708"),
    )
    aad = bytes.fromhex("0000432100000007")
    payload = b"cleartext ESP payload, padded" + bytes([1, 2, 3, 3, 4])
    c = make_cipher(lookup(ENCR, 21, bits), key + salt)
    data, tag = c.encrypt(iv, payload, aad)
    assert data == payload
    (tmp_path / "in").write_bytes(aad + iv + payload)
    out = subprocess.run(
        ["openssl", "mac", "-cipher", f"AES-{bits}-GCM", "-macopt", f"hexkey:{key.hex()}",
         "-macopt", f"hexiv:{(salt + iv).hex()}", "-in", str(tmp_path / "in"), "GMAC"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert out.lower() == tag.hex()
    assert c.decrypt(iv, payload, aad, tag) == payload
    with pytest.raises(AeadTagError):
        c.decrypt(iv, _flip(payload), aad, tag)


def test_wrong_lengths_are_refused() -> None:
    gcm = lookup(ENCR, 20, 128)
    with pytest.raises(KeyLengthError, match="20 octets"):
        make_cipher(gcm, bytes(16))
    c = make_cipher(gcm, bytes(20))
    with pytest.raises(CipherInputError, match="IV must be 8"):
        c.decrypt(bytes(12), b"", b"", bytes(16))
    with pytest.raises(CipherInputError, match="ICV must be 16"):
        c.decrypt(bytes(8), b"", b"", bytes(8))
    cbc = make_cipher(lookup(ENCR, 12, 128), bytes(16))
    with pytest.raises(CipherInputError, match="multiple"):
        cbc.decrypt(bytes(16), bytes(17))
    with pytest.raises(ValueError, match="not an encryption"):
        make_cipher(lookup(TransformType.INTEG, 12), bytes(32))
