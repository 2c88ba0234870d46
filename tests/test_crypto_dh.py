"""DH groups: public values and g^ir against RFC vectors, strongSwan MODP data and openssl."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import load_vectors
from hypothesis import given, settings
from hypothesis import strategies as st

from ikeview.crypto import transforms
from ikeview.crypto.dh import DhError, get_group, public_value, shared_secret, supported_groups


def _h(value: str) -> bytes:
    return bytes.fromhex(value)


def _ke_payload(group_id: int, data: bytes) -> bytes:
    # RFC 7296 section 3.4: generic header (next payload 0, flags 0, length), DH Group Num,
    # RESERVED, Key Exchange Data.
    return struct.pack("!BBHHH", 0, 0, 8 + len(data), group_id, 0) + data


# --- MODP 1, 2, 5, 14-18: strongSwan modp.c (no RFC vectors exist) ----------------------------
@pytest.mark.parametrize(
    "case",
    load_vectors("strongswan-modp-dh.json")["vectors"],
    ids=lambda c: f"group{c['dh_group']}",
)
def test_strongswan_modp(case: dict) -> None:
    gid = case["dh_group"]
    assert get_group(gid).public_len * 8 == case["modp_bits"]
    assert public_value(gid, _h(case["private_i"])).hex() == case["public_i"]
    assert public_value(gid, _h(case["private_r"])).hex() == case["public_r"]
    assert (
        shared_secret(gid, _h(case["private_i"]), _h(case["public_r"])).hex()
        == (case["shared_secret"])
    )
    assert (
        shared_secret(gid, _h(case["private_r"]), _h(case["public_i"])).hex()
        == (case["shared_secret"])
    )


# --- MODP 22-24 and ECP 25, 26 (+ 19-21 curves): RFC 5114 Appendix A --------------------------
_RFC5114 = load_vectors("rfc5114-appendix-a.json")


@pytest.mark.parametrize("case", _RFC5114["modp"], ids=lambda c: f"group{c['dh_group']}")
def test_rfc5114_modp(case: dict) -> None:
    gid = case["dh_group"]
    grp = get_group(gid)
    assert (grp.prime, grp.generator, grp.order) == tuple(int(case[k], 16) for k in ("p", "g", "q"))
    assert public_value(gid, _h(case["xA"])).hex() == case["yA"]
    assert public_value(gid, _h(case["xB"])).hex() == case["yB"]
    assert shared_secret(gid, _h(case["xA"]), _h(case["yB"])).hex() == case["Z"]
    assert shared_secret(gid, _h(case["xB"]), _h(case["yA"])).hex() == case["Z"]


@pytest.mark.parametrize("case", _RFC5114["ecp"], ids=lambda c: f"group{c['dh_group']}")
def test_rfc5114_ecp(case: dict) -> None:
    gid = case["dh_group"]
    q_a = _h(case["x_qA"] + case["y_qA"])
    q_b = _h(case["x_qB"] + case["y_qB"])
    assert public_value(gid, _h(case["dA"])) == q_a
    assert public_value(gid, _h(case["dB"])) == q_b
    assert shared_secret(gid, _h(case["dA"]), q_b).hex() == case["x_Z"]
    assert shared_secret(gid, _h(case["dB"]), q_a).hex() == case["x_Z"]


# --- ECP 19-21: RFC 5903 section 8, including the complete KE payloads -------------------------
@pytest.mark.parametrize(
    "case", load_vectors("rfc5903-ecp-groups.json")["vectors"], ids=lambda c: c["section"]
)
def test_rfc5903(case: dict) -> None:
    gid = case["dh_group"]
    g_i = public_value(gid, _h(case["i"]))
    g_r = public_value(gid, _h(case["r"]))
    assert g_i == _h(case["gix"] + case["giy"])
    assert g_r == _h(case["grx"] + case["gry"])
    assert _ke_payload(gid, g_i).hex() == case["KEi"]
    assert _ke_payload(gid, g_r).hex() == case["KEr"]
    # RFC 5903 section 7 (errata 9): g^ir is the x coordinate only.
    assert shared_secret(gid, _h(case["i"]), g_r).hex() == case["girx"]
    assert shared_secret(gid, _h(case["r"]), g_i).hex() == case["girx"]


# --- Curve25519 / Curve448: RFC 7748 and RFC 8031 ----------------------------------------------
_RFC7748 = load_vectors("rfc7748-x25519-x448.json")
_MONT = {"X25519": 31, "X448": 32}


@pytest.mark.parametrize(
    ("curve", "case"),
    [(c, v) for c in ("X25519", "X448") for v in _RFC7748["scalar_mult"][c]],
)
def test_rfc7748_scalar_mult(curve: str, case: dict) -> None:
    out = shared_secret(_MONT[curve], _h(case["scalar"]), _h(case["u"]))
    assert out.hex() == case["output_u"]


@pytest.mark.parametrize("curve", ["X25519", "X448"])
def test_rfc7748_iterations(curve: str) -> None:
    """RFC 7748 section 5.2: k' = X(k, u), u' = k; 1 and 1,000 rounds (not the 1,000,000 one)."""
    vec = _RFC7748["scalar_mult"][f"{curve}_iterations"]
    gid = _MONT[curve]
    size = get_group(gid).public_len
    k = u = bytes([9 if curve == "X25519" else 5]) + bytes(size - 1)
    for rounds in range(1, 1001):
        k, u = shared_secret(gid, k, u), k
        if rounds == 1:
            assert k.hex() == vec["after_1_iteration"]
    assert k.hex() == vec["after_1000_iterations"]


@pytest.mark.parametrize("case", _RFC7748["diffie_hellman"], ids=lambda c: c["section"])
def test_rfc7748_dh(case: dict) -> None:
    gid = _MONT[case["curve"]]
    assert public_value(gid, _h(case["alice_private"])).hex() == case["alice_public"]
    assert public_value(gid, _h(case["bob_private"])).hex() == case["bob_public"]
    for priv, pub in (("alice_private", "bob_public"), ("bob_private", "alice_public")):
        assert shared_secret(gid, _h(case[priv]), _h(case[pub])).hex() == case["shared_secret"]


@pytest.mark.parametrize("case", load_vectors("rfc8031-curve25519-ikev2.json")["vectors"])
def test_rfc8031(case: dict) -> None:
    pub_i = public_value(31, _h(case["private_i"]))
    pub_r = public_value(31, _h(case["private_r"]))
    assert pub_i.hex() == case["public_i"]
    assert pub_r.hex() == case["public_r"]
    assert _ke_payload(31, pub_i).hex() == case["KEi_payload_derived"]
    assert _ke_payload(31, pub_r).hex() == case["KEr_payload_derived"]
    assert shared_secret(31, _h(case["private_i"]), pub_r).hex() == case["shared_secret"]
    assert shared_secret(31, _h(case["private_r"]), pub_i).hex() == case["shared_secret"]


# --- Brainpool 27-30 (RFC 6954): no published IKE vectors, so openssl is the independent side --
_BRAINPOOL = {
    27: "brainpoolP224r1",
    28: "brainpoolP256r1",
    29: "brainpoolP384r1",
    30: "brainpoolP512r1",
}


def _openssl(*args: str) -> bytes:
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


def _openssl_ec_key(tmp: Path, name: str, curve: str) -> tuple[Path, Path, bytes, bytes]:
    """A fresh openssl EC key: (key.pem, pub.pem, private scalar, uncompressed point)."""
    key, pub = tmp / f"{name}.pem", tmp / f"{name}.pub.pem"
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}", "-out", str(key)
    )
    _openssl("pkey", "-in", str(key), "-pubout", "-out", str(pub))
    text = _openssl("pkey", "-in", str(key), "-text", "-noout").decode()
    blocks = dict(re.findall(r"^(priv|pub):\s*\n((?:\s+[0-9a-f:]+\n)+)", text, re.M))
    priv = bytes.fromhex(re.sub(r"[\s:]", "", blocks["priv"]))
    point = bytes.fromhex(re.sub(r"[\s:]", "", blocks["pub"]))
    return key, pub, priv, point


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize("gid", sorted(_BRAINPOOL))
def test_brainpool_against_openssl(gid: int, tmp_path: Path) -> None:
    curve = _BRAINPOOL[gid]
    a_key, _, a_priv, a_point = _openssl_ec_key(tmp_path, "a", curve)
    _, b_pub, b_priv, b_point = _openssl_ec_key(tmp_path, "b", curve)
    assert a_point[0] == 4
    assert public_value(gid, a_priv) == a_point[1:]
    assert public_value(gid, b_priv) == b_point[1:]
    expected = _openssl("pkeyutl", "-derive", "-inkey", str(a_key), "-peerkey", str(b_pub))
    assert len(expected) == get_group(gid).secret_len
    assert shared_secret(gid, a_priv, b_point[1:]) == expected
    assert shared_secret(gid, b_priv, a_point[1:]) == expected


# --- lengths agree with the registry, and bad input is refused --------------------------------
@pytest.mark.parametrize("gid", supported_groups())
def test_agrees_with_transform_registry(gid: int) -> None:
    spec = transforms.lookup(transforms.TransformType.DH, gid)
    assert spec.dh_public_len == get_group(gid).public_len


@pytest.mark.parametrize("gid", [0, 3, 4, 33, 1000])
def test_unsupported_group(gid: int) -> None:
    with pytest.raises(KeyError, match=str(gid)):
        get_group(gid)


@pytest.mark.parametrize("gid", supported_groups())
def test_wrong_public_length(gid: int) -> None:
    grp = get_group(gid)
    with pytest.raises(DhError, match="octets"):
        shared_secret(gid, b"\x01" * 32, bytes(grp.public_len - 1))


@pytest.mark.parametrize("gid", [2, 14, 22])
def test_modp_degenerate_peer(gid: int) -> None:
    grp = get_group(gid)
    for bad in (1, grp.prime - 1, 0):
        with pytest.raises(DhError):
            shared_secret(gid, b"\x05" * 20, bad.to_bytes(grp.public_len, "big"))
    with pytest.raises(DhError, match="private"):
        public_value(gid, b"\x00")


@pytest.mark.parametrize("gid", [19, 21, 25, 27, 28])
def test_ecp_point_not_on_curve(gid: int) -> None:
    grp = get_group(gid)
    good = public_value(gid, b"\x07")
    bad = good[:-1] + bytes([good[-1] ^ 1])
    with pytest.raises(DhError):
        shared_secret(gid, b"\x05", bad)
    with pytest.raises(DhError, match="zero"):
        public_value(gid, bytes(grp.secret_len))
    with pytest.raises(DhError):
        public_value(gid, b"\xff" * (grp.secret_len + 1))


def test_x25519_low_order_point_refused() -> None:
    # RFC 8031 section 2: an all-zero shared secret must be rejected (u = 0 is of small order).
    with pytest.raises(DhError):
        shared_secret(31, b"\x11" * 32, bytes(32))
    with pytest.raises(DhError, match="octets"):
        public_value(32, b"\x11" * 32)


def test_group27_arithmetic_is_consistent() -> None:
    """Group 27 runs on plain integers: public_value and ECDH must agree on small multiples."""
    d = (123456789).to_bytes(4, "big")
    d1 = (123456790).to_bytes(4, "big")
    p_d = public_value(27, d)
    gen = public_value(27, b"\x01")
    assert shared_secret(27, d1, gen) == public_value(27, d1)[:28]
    assert shared_secret(27, b"\x01", p_d) == p_d[:28]


@pytest.mark.parametrize("gid", supported_groups())
@settings(max_examples=4, deadline=None)
@given(a=st.integers(min_value=2, max_value=2**160), b=st.integers(min_value=2, max_value=2**160))
def test_both_sides_agree(gid: int, a: int, b: int) -> None:
    """Property: g^ir is the same from either side, and has the group's fixed length."""
    grp = get_group(gid)
    if grp.kind == "montgomery":
        size = grp.public_len
        priv_a, priv_b = a.to_bytes(size, "little"), b.to_bytes(size, "little")
    else:
        priv_a, priv_b = a.to_bytes(21, "big"), b.to_bytes(21, "big")
    pub_a, pub_b = public_value(gid, priv_a), public_value(gid, priv_b)
    assert len(pub_a) == grp.public_len
    secret = shared_secret(gid, priv_a, pub_b)
    assert secret == shared_secret(gid, priv_b, pub_a)
    assert len(secret) == grp.secret_len
