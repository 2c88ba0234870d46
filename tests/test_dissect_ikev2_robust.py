"""parse_message never raises: every truncation of every real IKE message, trailing bytes,
random bytes and mutated real messages (h11 test_io / fuzz shape, as hypothesis properties)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ike_build import chain, ike_message
from ikeview.dissectors.ike_records import IkeMessage
from ikeview.dissectors.ikev2 import PAYLOAD_PARSERS, parse_message, parse_payloads
from lab_support import LAB
from test_dissect_ikev2_support import all_captures, ike_messages

SHARED = Path(__file__).resolve().parents[2] / "shared"
CAPTURES = (all_captures(SHARED) if SHARED.is_dir() else []) + sorted(LAB.glob("**/capture.pcap"))
REAL: list[tuple[str, bytes]] = [
    (f"{capture.parent.name}/{capture.name}#{frame}", data)
    for capture in CAPTURES
    for frame, data in ike_messages(capture)
]
INTERNAL = "internal dissector error"


def sane(msg: IkeMessage, data: bytes) -> None:
    """The invariant: a record comes back, and any error is a documented one at a real offset."""
    assert isinstance(msg, IkeMessage)
    assert msg.raw == data
    if msg.error is not None:
        assert INTERNAL not in msg.error.reason, msg.error
        assert 0 <= msg.error.offset <= len(data), msg.error
    for payload in msg.payloads:
        assert payload.offset >= 28 and payload.offset + payload.length <= len(data)


def test_there_are_real_messages() -> None:
    assert len(REAL) > 100


@pytest.mark.parametrize(("name", "data"), REAL, ids=[n for n, _ in REAL])
def test_every_truncation(name: str, data: bytes) -> None:
    full = parse_message(data)
    sane(full, data)
    assert full.header is not None
    for size in range(len(data)):
        part = data[:size]
        msg = parse_message(part)
        sane(msg, part)
        assert msg.error is not None, size  # a cut message never looks complete
        if size < 28:
            assert msg.header is None and msg.error.offset == 0
            continue
        assert msg.header == full.header
        # What parsed is exactly what the whole message gave, up to the cut.
        assert msg.payloads == full.payloads[: len(msg.payloads)]
        assert all(p.offset + p.length <= size for p in msg.payloads)
        assert msg.error.offset >= (msg.payloads[-1].offset if msg.payloads else 28) or (
            msg.error.offset == size
        )


@pytest.mark.parametrize(("name", "data"), REAL[::7], ids=[n for n, _ in REAL[::7]])
def test_trailing_bytes_are_ignored(name: str, data: bytes) -> None:
    full = parse_message(data)
    longer = parse_message(data + b"\x00\xff" * 9)
    assert (longer.header, longer.payloads, longer.error) == (
        full.header,
        full.payloads,
        full.error,
    )


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    sane(parse_message(data), data)


@settings(max_examples=300)
@given(st.sampled_from([d for _, d in REAL]), st.data())
def test_mutated_real_messages(data: bytes, draw: st.DataObject) -> None:
    mutable = bytearray(data)
    for _ in range(draw.draw(st.integers(1, 8))):
        kind = draw.draw(st.sampled_from(["flip", "insert", "delete"]))
        pos = draw.draw(st.integers(0, max(len(mutable) - 1, 0)))
        if kind == "flip" and mutable:
            mutable[pos] = draw.draw(st.integers(0, 255))
        elif kind == "insert":
            mutable[pos:pos] = draw.draw(st.binary(min_size=1, max_size=8))
        elif mutable:
            del mutable[pos : pos + draw.draw(st.integers(1, 8))]
    mutated = bytes(mutable)
    sane(parse_message(mutated), mutated)


# A chain of well-framed payloads with random bodies reaches every payload parser.
_payload = st.tuples(
    st.sampled_from([*sorted(PAYLOAD_PARSERS), 0, 1, 99, 200]), st.binary(max_size=80)
)


@settings(max_examples=400)
@given(st.lists(_payload, max_size=6), st.sampled_from([1, 2]))
def test_random_framed_payloads(items: list[tuple[int, bytes]], major: int) -> None:
    first, body = chain(*items)
    data = ike_message(*items, version=major << 4, spi_i=b"i" * 8, spi_r=b"r" * 8)
    sane(parse_message(data), data)
    payloads, problem = parse_payloads(first, body, 100)
    assert problem is None or INTERNAL not in problem.reason
    assert all(p.offset >= 100 for p in payloads)
