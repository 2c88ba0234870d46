"""PRFs by IANA id and prf+ against RFC and implementation vectors (../shared/vectors)."""

from __future__ import annotations

import pytest
from conftest import load_vectors

from ikeview.crypto import transforms
from ikeview.crypto.prf import PRF_PLUS_MAX_BLOCKS, PrfId, get_prf, prf_plus, supported_prfs

_HASH_TO_PRF = {
    "md5": 1,
    "sha1": 2,
    "sha256": 5,
    "sha384": 6,
    "sha512": 7,
    "HMAC-SHA-256": 5,
    "HMAC-SHA-384": 6,
    "HMAC-SHA-512": 7,
}


def _cases(name: str, *path: str) -> list[dict]:
    node = load_vectors(name)
    for key in path:
        node = node[key]
    return node


# RFC 2202: HMAC-MD5 and HMAC-SHA-1 are PRF 1 and 2.
@pytest.mark.parametrize(
    ("prf_id", "case"),
    [(1, c) for c in _cases("rfc2202-hmac-md5-sha1.json", "hmac_md5")]
    + [(2, c) for c in _cases("rfc2202-hmac-md5-sha1.json", "hmac_sha1")],
)
def test_rfc2202(prf_id: int, case: dict) -> None:
    prf = get_prf(prf_id)
    assert prf(bytes.fromhex(case["key"]), bytes.fromhex(case["data"])).hex() == case["digest"]


# RFC 4231 section 4: HMAC-SHA-256/384/512 (PRF 5/6/7).
@pytest.mark.parametrize(
    ("prf_id", "case"),
    [
        (_HASH_TO_PRF[h], c)
        for h in ("sha256", "sha384", "sha512")
        for c in _cases("rfc4231-hmac-sha2.json", f"hmac_{h}")
    ],
)
def test_rfc4231(prf_id: int, case: dict) -> None:
    prf = get_prf(prf_id)
    assert prf(bytes.fromhex(case["key"]), bytes.fromhex(case["data"])).hex() == case["hmac"]


# RFC 4868 section 2.7.1: PRF-HMAC-SHA2-* test cases.
@pytest.mark.parametrize(
    ("hash_name", "case"),
    [
        (h, c)
        for h, cases in load_vectors("rfc4868-hmac-sha2-ipsec.json")["prf"].items()
        for c in cases
    ],
)
def test_rfc4868_prf(hash_name: str, case: dict) -> None:
    prf = get_prf(_HASH_TO_PRF[hash_name])
    out = prf(bytes.fromhex(case["key"]), bytes.fromhex(case["data"]))
    assert out.hex() == case[f"prf_hmac_{hash_name}"]


# RFC 4434 section 5: AES-XCBC-PRF-128 with 16-, 10- (padded) and 18-octet (compressed) keys.
@pytest.mark.parametrize("case", _cases("rfc4434-aes-xcbc-prf-128.json", "vectors"))
def test_rfc4434_aes_xcbc_prf(case: dict) -> None:
    prf = get_prf(PrfId.PRF_AES128_XCBC)
    out = prf(bytes.fromhex(case["key"]), bytes.fromhex(case["message"]))
    assert out.hex() == case["aes_xcbc_prf_128"]


# RFC 4615 section 4: AES-CMAC-PRF-128 with 18-, 16- and 10-octet keys.
@pytest.mark.parametrize("case", _cases("rfc4615-aes-cmac-prf-128.json", "vectors"))
def test_rfc4615_aes_cmac_prf(case: dict) -> None:
    prf = get_prf(PrfId.PRF_AES128_CMAC)
    out = prf(bytes.fromhex(case["key"]), bytes.fromhex(case["message"]))
    assert out.hex() == case["aes_cmac_prf_128"]


# strongSwan kdf_prf.c: SKEYSEED-shaped prf(Ni | Nr, g^ir) with min/max nonce sizes.
@pytest.mark.parametrize(
    "case", _cases("strongswan-ikev2-prf-prfplus.json", "skeyseed_prf"), ids=lambda c: c["name"]
)
def test_strongswan_prf(case: dict) -> None:
    prf = get_prf(_HASH_TO_PRF[case["prf"]])
    out = prf(bytes.fromhex(case["salt_ni_nr"]), bytes.fromhex(case["key_g_ir"]))
    assert out.hex() == case["skeyseed"]


# strongSwan kdf_prf_plus.c: prf+ (RFC 7296 section 2.13).
@pytest.mark.parametrize(
    "case", _cases("strongswan-ikev2-prf-prfplus.json", "prf_plus"), ids=lambda c: c["name"]
)
def test_strongswan_prf_plus(case: dict) -> None:
    prf = get_prf(_HASH_TO_PRF[case["prf"]])
    out = prf_plus(prf, bytes.fromhex(case["key"]), bytes.fromhex(case["seed"]), case["length"])
    assert out.hex() == case["output"]


_NSS_PRF = {"sha1": 2, "sha256": 5, "sha384": 6, "sha512": 7, "aes-xcbc": 4}


# NSS ike-*-vectors.h, ikePlus entries: prf+ incl. AES-XCBC-PRF-128 and odd output sizes.
@pytest.mark.parametrize(
    ("prf_id", "case"),
    [
        (_NSS_PRF[name], c)
        for name, cases in load_vectors("nss-ike-prf-vectors.json")["vectors"].items()
        for c in cases
        if c["type"] == "ikePlus"
    ],
)
def test_nss_prf_plus(prf_id: int, case: dict) -> None:
    out = prf_plus(
        get_prf(prf_id), bytes.fromhex(case["key"]), bytes.fromhex(case["seed"]), case["size"]
    )
    assert out.hex() == case["output"]


def test_prf_plus_structure() -> None:
    """prf+ output is T1 | T2 ... with T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)."""
    prf = get_prf(PrfId.PRF_HMAC_SHA2_256)
    key, seed = b"k" * 32, b"seed"
    t1 = prf(key, seed + b"\x01")
    t2 = prf(key, t1 + seed + b"\x02")
    assert prf_plus(prf, key, seed, 64) == t1 + t2
    assert prf_plus(prf, key, seed, 40) == (t1 + t2)[:40]
    assert prf_plus(prf, key, seed, 0) == b""


@pytest.mark.parametrize("prf_id", supported_prfs())
def test_prf_plus_limit(prf_id: int) -> None:
    prf = get_prf(prf_id)
    assert len(prf_plus(prf, b"k", b"s", PRF_PLUS_MAX_BLOCKS * prf.output_len)) == (
        PRF_PLUS_MAX_BLOCKS * prf.output_len
    )
    with pytest.raises(ValueError, match="at most"):
        prf_plus(prf, b"k", b"s", PRF_PLUS_MAX_BLOCKS * prf.output_len + 1)
    with pytest.raises(ValueError):
        prf_plus(prf, b"k", b"s", -1)


@pytest.mark.parametrize("prf_id", [0, 3, 9, 1024])
def test_unsupported_prf(prf_id: int) -> None:
    with pytest.raises(KeyError, match=str(prf_id)):
        get_prf(prf_id)


@pytest.mark.parametrize("prf_id", supported_prfs())
def test_agrees_with_transform_registry(prf_id: int) -> None:
    """Lengths here and in transforms.py (the registry keymat.py's callers read) agree."""
    prf = get_prf(prf_id)
    spec = transforms.lookup(transforms.TransformType.PRF, prf_id)
    assert (spec.name, spec.key_len, spec.output_len) == (prf.name, prf.key_len, prf.output_len)
    assert prf.fixed_key == (prf_id in (4, 8))


def test_aes_prf_key_rule() -> None:
    """RFC 4434: short keys zero-padded; RFC 4615: short keys compressed; long keys both."""
    xcbc, cmac = get_prf(PrfId.PRF_AES128_XCBC), get_prf(PrfId.PRF_AES128_CMAC)
    short, long_key = b"\x01" * 10, bytes(range(20))
    assert xcbc(short, b"m") == xcbc(short + bytes(6), b"m")
    assert xcbc(b"", b"m") == xcbc(bytes(16), b"m")
    assert cmac(short, b"m") == cmac(cmac(bytes(16), short), b"m")
    assert cmac(short, b"m") != cmac(short + bytes(6), b"m")
    for prf in (xcbc, cmac):
        assert prf(long_key, b"m") == prf(prf(bytes(16), long_key), b"m")
