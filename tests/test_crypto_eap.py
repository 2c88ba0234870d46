"""EAP key material: MD4 against RFC 1320's test suite, MS-CHAPv2 against RFC 2759 section 9.2,
the MPPE master and start keys against RFC 3079 section 3.5.3 (the same User/clientPass inputs)."""

from __future__ import annotations

import pytest

from ikeview.crypto import eap

# RFC 1320 appendix A.5 ("MD4 test suite").
MD4_SUITE = [
    (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
    (b"a", "bde52cb31de33e46245e05fbdbd6fb24"),
    (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
    (b"message digest", "d9130a8164549fe818874806e1c7014b"),
    (b"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"),
    (
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "043f8582f241db351ce627e153e7f0e4",
    ),
    (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
]

# RFC 2759 section 9.2.
USER, PASSWORD = b"User", "clientPass"
AUTH_CHALLENGE = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
PEER_CHALLENGE = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
CHALLENGE = "d02e4386bce91226"
PASSWORD_HASH = "44ebba8d5312b8d611474411f56989ae"
NT_RESPONSE = "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df"
PASSWORD_HASH_HASH = "41c00c584bd2d91c4017a2a12fa59f3f"
AUTHENTICATOR_RESPONSE = "S=407A5589115FD0D6209F510FE9C04566932CDA56"
# RFC 3079 section 3.5.3 (128-bit keys).
MASTER_KEY = "fdece3717a8c838cb388e527ae3cdd31"
SEND_START_KEY_128 = "8b7cdc149b993a1ba118cb153f56dccb"


@pytest.mark.parametrize(("message", "digest"), MD4_SUITE)
def test_md4_rfc1320_suite(message: bytes, digest: str) -> None:
    assert eap.md4(message).hex() == digest


def test_md4_block_boundaries_are_consistent() -> None:
    # 55/56/63/64 octets straddle the one-or-two padding block boundary.
    for n in (55, 56, 63, 64, 119, 120):
        assert len(eap.md4(b"x" * n)) == 16
    assert eap.md4(b"x" * 55) != eap.md4(b"x" * 56)


def test_mschapv2_rfc2759_vectors() -> None:
    assert eap.challenge_hash(PEER_CHALLENGE, AUTH_CHALLENGE, USER).hex() == CHALLENGE
    assert eap.nt_password_hash(PASSWORD).hex() == PASSWORD_HASH
    nt = eap.nt_response(AUTH_CHALLENGE, PEER_CHALLENGE, USER, PASSWORD)
    assert nt.hex() == NT_RESPONSE
    assert eap.md4(bytes.fromhex(PASSWORD_HASH)).hex() == PASSWORD_HASH_HASH
    got = eap.authenticator_response(PASSWORD, nt, PEER_CHALLENGE, AUTH_CHALLENGE, USER)
    assert got == AUTHENTICATOR_RESPONSE


def test_domain_part_is_left_out_of_the_challenge_hash() -> None:
    assert eap.challenge_hash(PEER_CHALLENGE, AUTH_CHALLENGE, b"DOMAIN\\User").hex() == CHALLENGE


def test_mppe_rfc3079_vectors() -> None:
    master = eap.master_key(bytes.fromhex(PASSWORD_HASH_HASH), bytes.fromhex(NT_RESPONSE))
    assert master.hex() == MASTER_KEY
    # RFC 3079 3.5.3 derives SendStartKey128 as the server's send key (Magic3), which is also
    # the client's receive key.
    assert eap.asymmetric_start_key(master, send=True, server=True).hex() == SEND_START_KEY_128
    assert eap.asymmetric_start_key(master, send=False, server=False).hex() == SEND_START_KEY_128
    assert eap.asymmetric_start_key(master, send=False, server=True) == (
        eap.asymmetric_start_key(master, send=True, server=False)
    )


def test_mschapv2_msk_layout() -> None:
    msk = eap.mschapv2_msk(PASSWORD, bytes.fromhex(NT_RESPONSE))
    master = bytes.fromhex(MASTER_KEY)
    assert len(msk) == 64 and msk[32:] == bytes(32)
    assert msk[:16] == eap.asymmetric_start_key(master, send=False, server=True)
    assert msk[16:32].hex() == SEND_START_KEY_128


def test_mschapv2_type_data_parsers() -> None:
    challenge = bytes([1, 7, 0, 26, 16]) + AUTH_CHALLENGE + b"strongSwan"
    assert eap.mschapv2_challenge(challenge) == AUTH_CHALLENGE
    nt = bytes.fromhex(NT_RESPONSE)
    response = bytes([2, 7, 0, 58, 49]) + PEER_CHALLENGE + bytes(8) + nt + b"\x00" + USER
    assert eap.mschapv2_response(response) == (PEER_CHALLENGE, nt, USER)
    for cut in range(len(response) - len(USER)):
        assert eap.mschapv2_response(response[:cut]) is None
    assert eap.mschapv2_challenge(challenge[:20]) is None
    assert eap.mschapv2_challenge(response) is None
