"""integ.py: the truncated ICVs against RFC 2202 (HMAC-MD5-96, HMAC-SHA1-96 and the full
RFC 4595 lengths), RFC 4868 (HMAC-SHA2-*), RFC 3566 (AES-XCBC-96), RFC 4494 (AES-CMAC-96)."""

from __future__ import annotations

import pytest
from conftest import load_vectors

from ikeview.crypto.integ import IcvMismatch, Integ, make_integ
from ikeview.crypto.mac import IntegrityError
from ikeview.crypto.transforms import KeyLengthError, TransformType, lookup

INTEG = TransformType.INTEG
h = bytes.fromhex
RFC2202 = load_vectors("rfc2202-hmac-md5-sha1.json")
RFC4868 = load_vectors("rfc4868-hmac-sha2-ipsec.json")["auth"]


def _assert_icv(tid: int, key: bytes, data: bytes, expected: str) -> None:
    integ = Integ(lookup(INTEG, tid), key)
    icv = integ.compute(data)
    assert icv.hex() == expected
    assert integ.verify(icv, data)
    assert integ.verify(icv, data[:1], data[1:])
    assert not integ.verify(bytes([icv[0] ^ 0x80]) + icv[1:], data)
    assert not integ.verify(icv[:-1], data)
    integ.check(icv, data)
    with pytest.raises(IcvMismatch):
        integ.check(icv, data + b"x")


def _rfc2202(kind: str) -> list[dict]:
    # Only the cases whose key has the transform's key size: INTEG keys are fixed length.
    size = 16 if kind == "hmac_md5" else 20
    return [v for v in RFC2202[kind] if len(h(v["key"])) == size]


@pytest.mark.parametrize("v", _rfc2202("hmac_md5"), ids=lambda v: f"tc{v['test_case']}")
def test_hmac_md5_96_and_128(v: dict) -> None:
    _assert_icv(1, h(v["key"]), h(v["data"]), v["digest_96"])
    _assert_icv(6, h(v["key"]), h(v["data"]), v["digest"])


@pytest.mark.parametrize("v", _rfc2202("hmac_sha1"), ids=lambda v: f"tc{v['test_case']}")
def test_hmac_sha1_96_and_160(v: dict) -> None:
    _assert_icv(2, h(v["key"]), h(v["data"]), v["digest_96"])
    _assert_icv(7, h(v["key"]), h(v["data"]), v["digest"])


@pytest.mark.parametrize(
    ("tid", "field", "v"),
    [(12, "hmac_sha256_128", v) for v in RFC4868["sha256"]]
    + [(13, "hmac_sha384_192", v) for v in RFC4868["sha384"]]
    + [(14, "hmac_sha512_256", v) for v in RFC4868["sha512"]],
    ids=lambda x: x["test_case"] if isinstance(x, dict) else str(x),
)
def test_hmac_sha2_rfc4868(tid: int, field: str, v: dict) -> None:
    _assert_icv(tid, h(v["key"]), h(v["data"]), v[field])


@pytest.mark.parametrize(
    "v",
    load_vectors("rfc3566-aes-xcbc-mac-96.json")["vectors"],
    ids=lambda v: f"tc{v['test_case']}",
)
def test_aes_xcbc_96_rfc3566(v: dict) -> None:
    data = h(v["message"]) if "message" in v else bytes(v["message_len"])
    _assert_icv(5, h(v["key"]), data, v["aes_xcbc_mac_96"])


@pytest.mark.parametrize(
    "v",
    load_vectors("rfc4493-4494-aes-cmac.json")["rfc4494"],
    ids=lambda v: f"tc{v['test_case']}",
)
def test_aes_cmac_96_rfc4494(v: dict) -> None:
    _assert_icv(8, h(v["key"]), h(v["message"]), v["aes_cmac_96"])


def test_key_lengths_and_none() -> None:
    with pytest.raises(KeyLengthError, match="32 octets"):
        Integ(lookup(INTEG, 12), bytes(20))
    assert make_integ(lookup(INTEG, 0), b"") is None
    assert issubclass(IcvMismatch, IntegrityError)
