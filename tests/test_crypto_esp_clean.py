"""EspSa.decrypt_clean (the hot path) against EspSa.decrypt (the full record) and the reused
CBC context: same answer on every packet, good or bad, in any order."""

from __future__ import annotations

import random

import pytest
from conftest import load_vectors
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from ikeview.crypto.ciphers import make_cipher
from ikeview.crypto.esp import EspSa
from ikeview.crypto.integ import make_integ
from ikeview.crypto.transforms import TransformSpec, TransformType, lookup

ENCR, INTEG = TransformType.ENCR, TransformType.INTEG
h = bytes.fromhex


def _expected(sa: EspSa, packet: bytes, high: int = 0) -> tuple[int, bytes, bool | None] | None:
    r = sa.decrypt(packet, high)
    if r.error is not None or r.integrity_ok is False:
        return None
    assert r.next_header is not None
    return r.next_header, r.payload, r.integrity_ok


# (encr spec, keymat length, integ spec or None, integ key: bytes, None = ICV not checkable)
_SUITES: list[tuple[TransformSpec, int, TransformSpec | None, bool]] = [
    (lookup(ENCR, 20, 128), 20, None, True),
    (lookup(ENCR, 20, 256), 36, None, True),
    (lookup(ENCR, 12, 128), 16, lookup(INTEG, 12), True),
    (lookup(ENCR, 12, 256), 32, lookup(INTEG, 14), True),
    (lookup(ENCR, 12, 128), 16, lookup(INTEG, 12), False),
    (lookup(ENCR, 12, 128), 16, None, True),
    (lookup(ENCR, 3), 24, lookup(INTEG, 2), True),
    (lookup(ENCR, 12, 128), 16, lookup(INTEG, 8), True),
    (lookup(ENCR, 12, 128), 16, lookup(INTEG, 5), True),
    (lookup(ENCR, 13, 128), 20, lookup(INTEG, 12), True),
    (lookup(ENCR, 18, 128), 20, None, True),
    (lookup(ENCR, 28), 36, None, True),
]


def _suite_id(s: tuple[TransformSpec, int, TransformSpec | None, bool]) -> str:
    encr, _, integ, keyed = s
    return f"{encr.short_name}+{integ.short_name if integ else 'none'}{'' if keyed else '-nokey'}"


def _build(
    suite: tuple[TransformSpec, int, TransformSpec | None, bool],
    rng: random.Random,
    high: int | None = None,
) -> tuple[EspSa, list[bytes]]:
    """The SA and valid packets of assorted sizes, plus damaged variants of each; with
    ``high`` an ESN SA whose packets carry those high sequence bits in their ICV."""
    encr, keymat_len, integ, keyed = suite
    keymat = rng.randbytes(keymat_len)
    ikey = rng.randbytes(integ.key_len) if integ else b""
    cipher = make_cipher(encr, keymat)
    mac = make_integ(integ, ikey) if integ else None
    sa = EspSa(encr, keymat, integ, ikey if keyed else None, esn=high is not None)
    hidden = b"" if high is None else high.to_bytes(4, "big")
    block = max(encr.block_len, 4)
    packets: list[bytes] = []
    for seq, size in enumerate((0, 1, 14, 15, 16, 17, 64, 300, 1400), start=1):
        for next_header, bad_pad in ((4, False), (41, False), (255, False), (4, True)):
            payload = rng.randbytes(size)
            pad = (-(size + 2)) % block
            padding = bytes(range(1, pad + 1))
            if bad_pad and pad:
                padding = bytes([padding[0] ^ 0x80]) + padding[1:]
            plain = payload + padding + bytes([pad, next_header])
            head = (0x1234).to_bytes(4, "big") + seq.to_bytes(4, "big")
            iv = rng.randbytes(encr.iv_len)
            ct, icv = cipher.encrypt(iv, plain, head[:4] + hidden + head[4:])
            packet = head + iv + ct + icv
            if mac is not None:
                packet += mac.compute(packet, hidden)
            packets.append(packet)
            flipped = bytearray(packet)
            flipped[rng.randrange(8, len(packet))] ^= 1
            packets.append(bytes(flipped))
            packets.append(packet[:-1])
            packets.append(packet[: len(packet) - block])
    return sa, packets


@pytest.mark.parametrize("suite", _SUITES, ids=_suite_id)
def test_clean_path_equals_full_decrypt(suite: tuple) -> None:
    rng = random.Random(4303)
    sa, packets = _build(suite, rng)
    rng.shuffle(packets)  # bad packets between good ones: no state leaks from one to the next
    clean = 0
    for packet in packets:
        got = sa.decrypt_clean(packet)
        assert got == _expected(sa, packet)
        clean += got is not None
    assert clean >= 18  # the undamaged packets with next header 4 and 41


@pytest.mark.parametrize(
    "v",
    load_vectors("draft-mcgrew-gcm-test-esp.json")["vectors"],
    ids=lambda v: f"case{v['case']}{'-esn' if v['esn'] else ''}",
)
def test_clean_path_on_gcm_vectors(v: dict) -> None:
    keymat = h(v["keymat"])
    sa = EspSa(lookup(ENCR, 20, (len(keymat) - 4) * 8), keymat, esn=v["esn"])
    high = int(v["sequence_number"], 16) >> 32 if v["esn"] else 0
    packet = h(v["esp_packet"])
    plain = h(v["plaintext"])
    payload = plain[: len(plain) - 2 - v["pad_length"]]
    assert sa.decrypt_clean(packet, high) == (v["next_header"], payload, True)
    assert sa.decrypt_clean(packet[:-1] + bytes([packet[-1] ^ 1]), high) is None
    if v["esn"]:
        assert sa.decrypt_clean(packet, high ^ 1) is None


@pytest.mark.parametrize(
    "v", load_vectors("rfc3602-aes-cbc.json")["vectors"][4:], ids=lambda v: f"case{v['case']}"
)
def test_clean_path_on_rfc3602_packets(v: dict) -> None:
    key = h(v["key"])
    sa = EspSa(lookup(ENCR, 12, len(key) * 8), key)
    packet = h(v["esp_packet"])
    for _ in range(2):  # twice: the reused CBC context must not carry the first packet over
        assert sa.decrypt_clean(packet) == (v["next_header"], h(v["payload"]), None)


_FUZZ_SAS = [
    EspSa(lookup(ENCR, 20, 128), bytes(20)),
    EspSa(lookup(ENCR, 12, 128), bytes(16), lookup(INTEG, 12), bytes(32)),
    EspSa(lookup(ENCR, 12, 128), bytes(16)),
    EspSa(lookup(ENCR, 3), bytes(24), lookup(INTEG, 2), None),
    EspSa(lookup(ENCR, 3), bytes(24)),
    EspSa(lookup(ENCR, 13, 128), bytes(20), lookup(INTEG, 5), bytes(16)),
    EspSa(lookup(ENCR, 11), b""),
    EspSa(lookup(ENCR, 20, 128), bytes(20), esn=True),
    EspSa(lookup(ENCR, 12, 128), bytes(16), lookup(INTEG, 12), bytes(32), esn=True),
]


@pytest.mark.parametrize("suite", _SUITES, ids=_suite_id)
def test_clean_path_equals_full_decrypt_with_esn(suite: tuple) -> None:
    rng = random.Random(4304)
    high = 0x00000002
    sa, packets = _build(suite, rng, high)
    rng.shuffle(packets)
    clean = 0
    for packet in packets:
        for guess in (high, high - 1, high + 1, 0):
            got = sa.decrypt_clean(packet, guess)
            assert got == _expected(sa, packet, guess)
            clean += got is not None
    assert clean >= 18


@given(st.binary(max_size=120), st.integers(0, 2**32 - 1))
@settings(max_examples=300, deadline=None)
def test_clean_path_equals_full_decrypt_on_any_bytes(packet: bytes, high: int) -> None:
    for sa in _FUZZ_SAS:
        assert sa.decrypt_clean(packet, high) == _expected(sa, packet, high)


@pytest.mark.parametrize("spec_id,key_len", [(12, 16), (12, 32), (3, 24)])
def test_cbc_chained_context_matches_a_fresh_context(spec_id: int, key_len: int) -> None:
    rng = random.Random(spec_id * 100 + key_len)
    spec = lookup(ENCR, spec_id, key_len * 8 if spec_id == 12 else None)
    key = rng.randbytes(key_len)
    cipher = make_cipher(spec, key)
    algorithm = algorithms.AES(key) if spec_id == 12 else TripleDES(key)
    block = spec.block_len
    for blocks in (0, 1, 2, 5, 90, 3, 1):
        iv, ct = rng.randbytes(block), rng.randbytes(blocks * block)
        dec = Cipher(algorithm, modes.CBC(iv)).decryptor()
        assert cipher.decrypt(iv, ct) == dec.update(ct) + dec.finalize()


@pytest.mark.parametrize("pad_len", [13, 14, 15, 255])
def test_clean_path_pad_length_at_and_past_the_start(pad_len: int) -> None:
    """Pad Length reaching exactly the first octet is a clean, empty payload; one more is the
    error decrypt() reports, and the hot path must then decline."""
    key = bytes(range(16))
    spec = lookup(ENCR, 12, 128)
    plain = bytes(range(1, 15))[: min(pad_len, 14)].rjust(14, b"\x00") + bytes([pad_len, 4])
    iv = bytes(16)
    ct, _ = make_cipher(spec, key).encrypt(iv, plain)
    packet = bytes(8) + iv + ct
    sa = EspSa(spec, key)
    want = {13: (4, b"\x00", None), 14: (4, b"", None)}.get(pad_len)
    assert sa.decrypt_clean(packet) == _expected(sa, packet) == want
