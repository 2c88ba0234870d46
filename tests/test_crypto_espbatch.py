"""EspSa.open_batch (crypto.espbatch: one CBC call over the whole batch for AES-CBC and 3DES, a
tight loop for AES-GCM-16, packets read in place from one buffer) against EspSa.decrypt_clean
packet by packet: the same answer on every packet, good or damaged, in any order and in batches
of any size (pad lengths reaching into the previous packet of the batch included)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_crypto_esp_clean import _SUITES, _build, _suite_id

from ikeview.crypto.ciphers import make_cipher
from ikeview.crypto.esp import EspSa
from ikeview.crypto.espbatch import cbc_mac_batch, gcm16_batch
from ikeview.crypto.integ import make_integ
from ikeview.crypto.transforms import TransformType, lookup

ENCR, INTEG = TransformType.ENCR, TransformType.INTEG


def _batch(sa: EspSa, packets: list[bytes]) -> list:  # type: ignore[type-arg]
    """open_batch over the packets laid end to end in one buffer, as in a capture file."""
    buf, starts, ends, at = bytearray(b"junk"), [], [], 4
    for p in packets:
        starts.append(at)
        buf += p + b"\x00\x01\x02"  # other bytes between packets, as frame headers are
        ends.append(at + len(p))
        at = len(buf)
    return sa.open_batch(bytes(buf), starts, ends)


@pytest.mark.parametrize("suite", _SUITES, ids=_suite_id)
def test_batch_equals_clean_path(suite: tuple) -> None:
    rng = random.Random(4306)
    sa, packets = _build(suite, rng)
    rng.shuffle(packets)
    want = [sa.decrypt_clean(p) for p in packets]
    assert sum(w is not None for w in want) >= 18
    for size in (1, 2, 7, len(packets)):
        got = []
        for at in range(0, len(packets), size):
            got += _batch(sa, packets[at : at + size])
        assert got == want
    assert _batch(sa, []) == []


@pytest.mark.parametrize("join", [3, None])
@pytest.mark.parametrize("suite", _SUITES, ids=_suite_id)
def test_batches_longer_than_a_join(
    suite: tuple, join: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CBC ciphertexts are joined JOIN packets at a time: a batch of several joins, good and
    damaged packets mixed, gives what the packets give one by one (the chaining context goes on
    from one join to the next as from one batch to the next)."""
    from ikeview.crypto import espbatch

    if join is not None:
        monkeypatch.setattr(espbatch, "JOIN", join)
    rng = random.Random(4307)
    sa, packets = _build(suite, rng)
    packets = packets * (2 * espbatch.JOIN // len(packets) + 2)
    rng.shuffle(packets)
    assert len(packets) > 2 * espbatch.JOIN
    assert _batch(sa, packets) == [sa.decrypt_clean(p) for p in packets]


def test_the_fast_batches_are_the_ones_in_use() -> None:
    """The suites of the benchmark take the batch openers, not the per-packet loop."""
    gcm = EspSa(lookup(ENCR, 20, 128), bytes(20))
    cbc = EspSa(lookup(ENCR, 12, 128), bytes(16), lookup(INTEG, 12), bytes(32))
    assert gcm.open_batch.__qualname__.startswith(gcm16_batch.__name__)
    assert cbc.open_batch.__qualname__.startswith(cbc_mac_batch.__name__)
    des = EspSa(lookup(ENCR, 3), bytes(24), lookup(INTEG, 2), bytes(20))
    assert des.open_batch.__qualname__.startswith(cbc_mac_batch.__name__)
    esn = EspSa(lookup(ENCR, 20, 128), bytes(20), esn=True)
    assert not esn.open_batch.__qualname__.startswith(gcm16_batch.__name__)


def _cbc_packet(key: bytes, ikey: bytes, plain: bytes, rng: random.Random) -> bytes:
    spec, integ = lookup(ENCR, 12, 128), lookup(INTEG, 12)
    iv = rng.randbytes(16)
    ct, _ = make_cipher(spec, key).encrypt(iv, plain)
    body = bytes(8) + iv + ct
    mac = make_integ(integ, ikey)
    assert mac is not None
    return body + mac.compute(body)[:16]


def test_cbc_pad_length_past_the_start_never_reads_the_packet_before() -> None:
    """A Pad Length longer than the plaintext (ICV good: the sender's own mistake) is declined:
    in the batch buffer the octets before it belong to another packet and are never read."""
    rng = random.Random(7)
    key, ikey = rng.randbytes(16), rng.randbytes(32)
    sa = EspSa(lookup(ENCR, 12, 128), key, lookup(INTEG, 12), ikey)
    first = _cbc_packet(key, ikey, bytes(range(1, 31)) + bytes([0, 4]), rng)
    # 16 octets: pad length 17 reaches one octet before the start (into `first` in the buffer).
    second = _cbc_packet(key, ikey, bytes(range(1, 15)) + bytes([17, 4]), rng)
    assert [sa.decrypt_clean(p) for p in (first, second)] == [(4, first_payload(), True), None]
    assert _batch(sa, [first, second]) == [(4, first_payload(), True), None]


def first_payload() -> bytes:
    return bytes(range(1, 31))


_FUZZ_SAS = [
    EspSa(lookup(ENCR, 20, 128), bytes(20)),
    EspSa(lookup(ENCR, 12, 128), bytes(16), lookup(INTEG, 12), bytes(32)),
    EspSa(lookup(ENCR, 12, 256), bytes(32), lookup(INTEG, 2), bytes(20)),
]


@given(st.lists(st.binary(max_size=120), max_size=6))
@settings(max_examples=200, deadline=None)
def test_batch_equals_clean_path_on_any_bytes(packets: list[bytes]) -> None:
    for sa in _FUZZ_SAS:
        assert _batch(sa, packets) == [sa.decrypt_clean(p) for p in packets]
