"""Capture reader: pcap (both byte orders, us/ns), pcapng (interfaces, resolutions, sections),
gzip, damaged files. Real captures first; the self-made files below are written byte by byte
from the pcap/pcapng specs (draft-ietf-opsawg-pcap / -pcapng) to hit each variant."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
from ikeview.dissectors.capture import CaptureError, CaptureReader, read_capture
from truncation_support import every_truncation

REAL = [
    ("wireshark/ikev2-decrypt-aes256gcm16.pcap", "pcap", 6, 1),
    ("wireshark/ikev2-decrypt-aes256cbc.pcapng", "pcapng", 4, 1),
    ("wireshark/esp-bug-12671.pcapng.gz", "pcapng+gzip", 6, 1),
    ("tcpdump/ikev2four.pcap", "pcap", 21, 0),
    ("tcpdump/ikev2pI2-segfault.pcapng", "pcapng", 1, 0),
]


@pytest.mark.parametrize(("name", "fmt", "frames", "linktype"), REAL)
def test_real_captures(shared_dir: Path, name: str, fmt: str, frames: int, linktype: int) -> None:
    reader = read_capture(shared_dir / "captures" / name)
    got = list(reader)
    assert reader.stats.format == fmt
    assert [f.index for f in got] == list(range(1, frames + 1))
    assert {f.linktype for f in got} == {linktype}
    assert not reader.stats.truncated
    assert reader.stats.frames == frames


def test_real_timestamps_match_tshark_epoch(shared_dir: Path) -> None:
    # tshark -r esp-bug-12671.pcapng.gz -T fields -e frame.time_epoch, frame 1
    got = list(read_capture(shared_dir / "captures/wireshark/esp-bug-12671.pcapng.gz"))
    assert got[0].ts == pytest.approx(1468273390.119564, abs=1e-6)
    # esp_truncated.pcap: 46 bytes captured of 65613 on the wire
    (f,) = list(read_capture(shared_dir / "captures/tcpdump/esp_truncated.pcap"))
    assert (len(f.data), f.orig_len) == (46, 65613)


# -- self-made files -------------------------------------------------------------------------


def pcap_bytes(
    frames: list[tuple[float, bytes]], *, linktype: int = 1, endian: str = "<", nano: bool = False
) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)]
    for ts, data in frames:
        sec = int(ts)
        frac = round((ts - sec) * (1e9 if nano else 1e6))
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), len(data)) + data)
    return b"".join(out)


def _block(endian: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)


def shb(endian: str = "<") -> bytes:
    return _block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(endian: str, linktype: int, tsresol: int | None = None, tsoffset: int = 0) -> bytes:
    opts = b""
    if tsresol is not None:
        opts += struct.pack(endian + "HH", 9, 1) + bytes([tsresol]) + b"\0\0\0"
    if tsoffset:
        opts += struct.pack(endian + "HHq", 14, 8, tsoffset)
    if opts:
        opts += struct.pack(endian + "HH", 0, 0)
    return _block(endian, 1, struct.pack(endian + "HHI", linktype, 0, 0) + opts)


def epb(endian: str, iface: int, raw_ts: int, data: bytes) -> bytes:
    head = struct.pack(endian + "IIIII", iface, raw_ts >> 32, raw_ts & 0xFFFFFFFF, len(data), 999)
    return _block(endian, 6, head + data)


def spb(endian: str, data: bytes) -> bytes:
    return _block(endian, 3, struct.pack(endian + "I", len(data)) + data)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_pcap_byte_orders_and_resolutions(tmp_path: Path, endian: str, nano: bool) -> None:
    frames = [(1_600_000_000.123456, b"a" * 20), (1_600_000_001.5, b"b" * 3)]
    p = write(tmp_path, "x.pcap", pcap_bytes(frames, linktype=101, endian=endian, nano=nano))
    reader = CaptureReader(p)
    got = list(reader)
    assert reader.stats.format == ("pcap-ns" if nano else "pcap")
    assert reader.linktype == 101
    assert [(f.index, f.linktype, f.data) for f in got] == [(1, 101, b"a" * 20), (2, 101, b"bbb")]
    assert got[0].ts == pytest.approx(1_600_000_000.123456, abs=1e-6)


def test_pcapng_interfaces_resolutions_blocks_and_sections(tmp_path: Path) -> None:
    body = b"".join(
        [
            shb("<"),
            idb("<", 1),  # default microseconds
            idb("<", 101, tsresol=9),  # power of ten: nanoseconds
            _block("<", 5, b"interface statistics, skipped"),
            epb("<", 0, 1_000_000_500_000, b"eth"),
            epb("<", 1, 2_000_000_000_250_000_000, b"raw"),
            spb("<", b"simple"),
            epb("<", 7, 0, b"no such interface"),
            # A second section written big-endian: interfaces start again from 0.
            shb(">"),
            idb(">", 113, tsresol=0x80 | 10, tsoffset=100),  # power of two: 1/1024 s
            epb(">", 0, 1024 * 3 + 512, b"sll"),
        ]
    )
    reader = CaptureReader(write(tmp_path, "x.pcapng", body))
    got = list(reader)
    assert [(f.index, f.linktype, f.data) for f in got] == [
        (1, 1, b"eth"),
        (2, 101, b"raw"),
        (3, 1, b"simple"),
        (4, -8, b"no such interface"),
        (5, 113, b"sll"),
    ]
    assert got[0].ts == pytest.approx(1_000_000.5)
    assert got[1].ts == pytest.approx(2_000_000_000.25)
    assert got[2].ts == 0.0
    assert got[4].ts == pytest.approx(103.5)
    assert got[0].orig_len == 999
    assert reader.stats.skipped_blocks == 1
    assert not reader.stats.truncated


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_gzip_detected_by_magic_not_name(tmp_path: Path, kind: str) -> None:
    if kind == "pcap":
        raw = pcap_bytes([(1.0, b"x" * 30)])
    else:
        raw = shb() + idb("<", 1) + epb("<", 0, 10, b"x" * 30)
    reader = CaptureReader(write(tmp_path, "no-gz-suffix.cap", gzip.compress(raw)))
    assert [f.data for f in reader] == [b"x" * 30]
    assert reader.stats.format == f"{kind}+gzip"


def test_truncated_gzip_stops_with_note(tmp_path: Path) -> None:
    raw = pcap_bytes([(float(i), bytes(range(256)) * 4) for i in range(50)])
    comp = gzip.compress(raw)
    reader = CaptureReader(write(tmp_path, "cut.pcap.gz", comp[: len(comp) // 2]))
    got = list(reader)
    assert 0 < len(got) < 50
    assert reader.stats.truncated
    assert "compressed" in (reader.stats.note or "")


def test_every_truncation_of_real_pcap_and_pcapng(shared_dir: Path) -> None:
    """Cut two small real captures at every byte: frames before the cut come out, the reader
    notes the damage, and nothing raises except CaptureError for a cut inside the header.
    The cuts live in memory (truncation_support), not in ~3,100 files."""
    for name in ("ikev2-decrypt-aes256gcm8.pcap", "ikev2-decrypt-aes256ccm16.pcapng"):
        whole = (shared_dir / "captures/wireshark" / name).read_bytes()
        full = [f.data for f in CaptureReader(shared_dir / "captures/wireshark" / name)]
        cuts = 0
        for cut, p in every_truncation(whole):
            cuts += 1
            try:
                reader = CaptureReader(p)
            except CaptureError:
                assert cut < 28, f"header cut at {cut} should still open"
                continue
            got = [f.data for f in reader]
            assert got == full[: len(got)], cut
            if reader.stats.truncated:
                assert 0 <= reader.stats.damage_offset <= cut
        assert cuts == len(whole)


def test_corrupt_record_length_stops_cleanly(tmp_path: Path) -> None:
    raw = pcap_bytes([(1.0, b"good"), (2.0, b"bad!")])
    bad = raw[:-20] + struct.pack("<IIII", 2, 0, 0x7FFFFFFF, 4) + b"bad!"
    reader = CaptureReader(write(tmp_path, "c.pcap", bad))
    assert [f.data for f in reader] == [b"good"]
    assert reader.stats.truncated
    assert "impossible length" in (reader.stats.note or "")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"hello, this is not a capture file at all", "not a pcap or pcapng"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "header cut short"),
        (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x00\x00\x00\x00", "byte-order"),
    ],
)
def test_unreadable_files_raise_capture_error(tmp_path: Path, content: bytes, words: str) -> None:
    p = write(tmp_path, "bad.bin", content)
    with pytest.raises(CaptureError) as info:
        CaptureReader(p)
    assert str(p) in str(info.value)
    assert words in str(info.value)


def test_missing_file_raises_capture_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot open"):
        CaptureReader(tmp_path / "nope.pcap")


def test_reader_is_lazy(tmp_path: Path) -> None:
    raw = pcap_bytes([(float(i), b"z" * 100) for i in range(1000)])
    it = iter(CaptureReader(write(tmp_path, "lazy.pcap", raw)))
    first = next(it)
    assert first.index == 1
    it.close()


def test_position_for_progress(shared_dir: Path) -> None:
    path = shared_dir / "captures/wireshark/esp-bug-12671.pcapng.gz"
    reader = CaptureReader(path)
    assert 0 < reader.position() <= reader.size == path.stat().st_size
    list(reader)
    assert reader.position() == reader.size
