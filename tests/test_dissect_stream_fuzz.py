"""The dissector's invariant as hypothesis properties: whatever the bytes, dissect() yields
records (some carrying errors) and never raises; a file that is no capture raises only
CaptureError, when opened. Inputs are random bytes and mutated real frames."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ikeview.dissectors.capture import CaptureError, CaptureReader
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, NatKeepalive, RawFrame
from ikeview.dissectors.stream import dissect
from ikeview.dissectors.transport import TcpStreams

SHARED = Path(__file__).resolve().parents[2] / "shared" / "captures"
REAL = [
    "tcpdump/isakmp4500.pcap",
    "tcpdump/ikev2four.pcap",
    "wireshark/esp-bug-12671.pcapng.gz",
    "wireshark/ikev2-decrypt-aes256gcm16.pcap",
]
LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105, -1]
RECORD_TYPES = (IkeDatagram, EspPacket, NatKeepalive, FrameError)


def _real_frames() -> list[RawFrame]:
    frames: list[RawFrame] = []
    for name in REAL:
        frames += list(CaptureReader(SHARED / name))
    return frames


REAL_FRAMES = _real_frames() if SHARED.is_dir() else []
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(frames: list[RawFrame], extra_ports: tuple[int, ...] = ()) -> None:
    for rec in dissect(frames, extra_ports=extra_ports):
        assert isinstance(rec, RECORD_TYPES)


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(LINKTYPES), st.binary(max_size=200)), min_size=1, max_size=8
    ),
    st.sampled_from([(), (4501,), (443, 4500)]),
)
def test_random_frames_never_raise(
    frames: list[tuple[int, bytes]], extra_ports: tuple[int, ...]
) -> None:
    _check([RawFrame(i, 0.0, lt, d, len(d)) for i, (lt, d) in enumerate(frames, 1)], extra_ports)


@FUZZ
@given(
    st.integers(min_value=0, max_value=max(len(REAL_FRAMES) - 1, 0)),
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=6),
    st.integers(min_value=0, max_value=2000),
)
def test_mutated_real_frames_never_raise(
    which: int, flips: list[tuple[int, int]], cut: int
) -> None:
    """Overwrite bytes of a real frame (headers are where it hurts) and cut it anywhere."""
    assert REAL_FRAMES, f"no shared captures under {SHARED}"
    frame = REAL_FRAMES[which]
    data = bytearray(frame.data)
    for pos, val in flips:
        if data:
            data[pos % len(data)] = val
    mutated = bytes(data[: cut or None])
    _check([frame._replace(data=mutated), frame._replace(index=2, data=bytes(data))])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([b"", b"\xd4\xc3\xb2\xa1", b"\x0a\x0d\x0d\x0a"]))
def test_random_files_raise_only_capture_error(body: bytes, magic: bytes) -> None:
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(magic + body)
        f.flush()
        try:
            records = dissect(f.name)
        except CaptureError:
            return
        for rec in records:
            assert isinstance(rec, RECORD_TYPES)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 2**32 - 1),
            st.integers(0, 0x3F),
            st.sampled_from([b"IKETCP", b"IKE", b"TCP", b"\x00\x08\x00\x00\x00\x00ab", b"\x00"])
            | st.binary(max_size=40),
        ),
        max_size=30,
    )
)
def test_tcp_streams_never_raise_and_stay_bounded(
    segments: list[tuple[int, int, int, bytes]],
) -> None:
    t = TcpStreams(max_streams=2, max_ahead=4, max_buffer=256)
    for key, seq, flags, payload in segments:
        out = t.add(key, key ^ 1, seq, flags, payload)
        assert out is None or isinstance(out, list)
        assert len(t._streams) <= 2
        for s in t._streams.values():
            assert len(s.ahead) <= 5
