"""ikeview's TOML keys file: every table, every typo the loader must catch with a line number."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_support import LAB

from ikeview.keys.errors import KeysFileError
from ikeview.keys.hexutil import parse_hex
from ikeview.keys.model import KeyRing
from ikeview.keys.toml_keys import load_toml, looks_like

FULL = """\
# every table once
[[psk]]
secret = "moon-sun"
id = "moon.example"

[[psk]]
hex = "0x6d:6f:6f:6e"
peer = "192.0.2.1"
label = "colons"

[[dh]]
shared_secret = "0011223344444444444444444444444444444444444444444444444444444444"
spi_i = "0x0123456789abcdef"

[[dh]]
private_key = "aabb"

[[dh]]
shared_secret = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
child = true
spi = "c0ffee01"

[[ike_sa]]
spi_i = "0123456789abcdef"
spi_r = "fedcba9876543210"
sk_ei = "00112233445566778899aabbccddeeff"
sk_er = "ffeeddccbbaa99887766554433221100"
sk_d = "01"
encr = "AES-CBC-128"
integ = "AUTH_HMAC_SHA2_256_128"
prf = "prfsha256"

[[esp]]
spi = "0xc0ffee01"
encr_key = "00112233445566778899aabbccddeeff01020304"
src = "192.0.2.1"
dst = "192.0.2.2"
encr = 20
key_bits = 128
integ = "NONE"
"""

G32 = "0011223344444444444444444444444444444444444444444444444444444444"
"""A 32-byte g^ir (Curve25519/ECP-256 length): DH secrets must have a group's length."""


def test_full_file() -> None:
    ring = KeyRing.of(load_toml(FULL, "keys.toml"))
    a, b = ring.psks
    assert (a.secret, a.id, a.peer, a.source.line) == (b"moon-sun", "moon.example", None, 2)
    assert (b.secret, b.peer, b.label, b.source.line) == (b"moon", "192.0.2.1", "colons", 6)
    g, priv, child = ring.dh_secrets
    assert g.shared_secret == bytes.fromhex(G32) and g.spi_i.hex() == "0123456789abcdef"
    assert priv.private_key == b"\xaa\xbb" and priv.shared_secret is None
    assert child.child and child.child_spi == 0xC0FFEE01 and child.source.line == 18
    (ike,) = ring.ike_sas
    assert (ike.encr, ike.encr_key_bits, ike.integ, ike.prf) == (12, 128, 12, 5)
    assert ike.sk_d == b"\x01" and ike.sk_pi is None
    (esp,) = ring.esp_sas
    assert (esp.spi, esp.encr, esp.encr_key_bits, esp.integ) == (0xC0FFEE01, 20, 128, 0)
    assert esp.source.line == 33


def test_repr_hides_secrets() -> None:
    ring = KeyRing.of(load_toml(FULL, "keys.toml"))
    text = repr(ring)
    for secret in ("moon-sun", "b'moon'", "00112233", "aabb", "\\xaa"):
        assert secret not in text
    assert "SourceRef" in text


@pytest.mark.parametrize("toml", sorted(LAB.glob("*/keys.toml")), ids=lambda p: p.parent.name)
def test_lab_keys_files(toml: Path) -> None:
    ring = KeyRing.of(load_toml(toml.read_text(), str(toml)))
    assert ring.dh_secrets and all(d.shared_secret for d in ring.dh_secrets)


def _err(text: str) -> str:
    with pytest.raises(KeysFileError) as e:
        load_toml(text, "keys.toml")
    return e.value.msg


def test_unknown_field_suggests() -> None:
    msg = _err('[[psk]]\nsecret = "x"\n\n[[dh]]\nshared_secrt = "00"\n')
    assert msg == (
        "keys.toml:5: unknown field 'shared_secrt' in [[dh]] (did you mean 'shared_secret'?)"
    )


def test_unknown_table_suggests() -> None:
    assert (
        _err('[[pks]]\nsecret = "x"\n') == "keys.toml:1: unknown table 'pks' (did you mean 'psk'?)"
    )


def test_bad_hex_names_line() -> None:
    text = f'[[dh]]\nshared_secret = "{G32}"\n\n[[dh]]\n# second\nshared_secret = "abc"\n'
    assert _err(text) == "keys.toml:6: [[dh]] shared_secret is not hex (odd length, 3 digits)"
    assert "not hex ('g' at position 2)" in _err('[[dh]]\nshared_secret = "0g"\n')


def test_wrong_spi_length() -> None:
    text = '[[ike_sa]]\nspi_i = "0123"\nspi_r = "0123456789abcdef"\nsk_ei = "00"\n'
    assert _err(text) == (
        "keys.toml:2: [[ike_sa]] spi_i must be 8 bytes (16 hex digits), got 2 bytes"
    )
    assert "at most 4 bytes" in _err('[[esp]]\nspi = "0102030405"\nencr_key = "00"\n')


def test_missing_required_fields() -> None:
    assert _err('[[ike_sa]]\nspi_i = "0123456789abcdef"\nsk_ei = "00"\n') == (
        "keys.toml:1: [[ike_sa]] missing required field 'spi_r'"
    )
    assert "missing required field 'spi'" in _err('[[esp]]\nencr_key = "00"\n')
    assert "exactly one of 'shared_secret' or 'private_key'" in _err("[[dh]]\nspi_i = '00'\n")
    assert "exactly one of 'secret'" in _err('[[psk]]\nsecret = "a"\nhex = "61"\n')
    assert "gives no keys" in _err(
        '[[ike_sa]]\nspi_i = "0123456789abcdef"\nspi_r = "0123456789abcdef"\n'
    )


def test_type_and_algorithm_errors() -> None:
    assert "must be a string" in _err("[[dh]]\nshared_secret = 5\n")
    assert "unknown encryption algorithm 'AES-XYZ'" in _err(
        '[[esp]]\nspi = 1\nencr_key = "00"\nencr = "AES-XYZ"\n'
    )
    assert "contradicts" in _err(
        '[[esp]]\nspi = 1\nencr_key = "00"\nencr = "aes128"\nkey_bits = 256\n'
    )
    assert "add child = true" in _err('[[dh]]\nshared_secret = "00"\nspi = "01"\n')


def test_toml_syntax_error_has_line() -> None:
    msg = _err('[[psk]]\nsecret = "x"\nbroken = \n')
    assert msg.startswith("keys.toml:3: not valid TOML")


def test_child_dh_with_spi_pair_and_ike_spi() -> None:
    text = (
        f'[[dh]]\nshared_secret = "{G32}"\nchild = true\nspi_i = "236a6c4e"\nspi_r = "0c95ce69"\n'
    )
    text += 'ike_spi_i = "0b565aa031f61c1d"\n'
    (d,) = load_toml(text, "k.toml")
    assert d.child_spi == 0x236A6C4E and d.spi_i == bytes.fromhex("0b565aa031f61c1d")


def test_detection() -> None:
    assert looks_like(FULL)
    assert not looks_like("a = 1\n")
    assert not looks_like("0x1@1.2.3.4 3des-cbc:0x00\n")


@given(data=st.binary(max_size=40), sep=st.sampled_from(["", ":", " ", "-"]), prefix=st.booleans())
def test_hex_spellings_property(data: bytes, sep: str, prefix: bool) -> None:
    text = ("0x" if prefix else "") + sep.join(f"{b:02X}" for b in data)
    assert parse_hex(text) == data
