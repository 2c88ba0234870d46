"""The load's seek table: one frame read back from a checkpoint, not by walking the whole file.

Real captures are small (one read chunk), so the chunk is shrunk here to put many checkpoints in
them; the expected bytes are tshark's.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest
from ikeview.dissectors import capture
from ikeview.dissectors.capture import CaptureError, SeekTable, read_capture
from test_tui_esp import tshark_frame
from tui_support import LAB

from ikeview.framebytes import esp_frame_bytes, read_frame
from ikeview.pipeline.analyze import iter_analysis


def table_of(path: Path) -> tuple[SeekTable, int]:
    """The seek table a full read of ``path`` leaves, and its frame count."""
    reader = read_capture(path)
    count = sum(1 for _ in reader)
    assert reader.seek_table is not None
    return reader.seek_table, count


def last_esp_frames(path: Path, n: int = 2) -> list[int]:
    out = subprocess.run(
        ["tshark", "-r", str(path), "-Y", "esp", "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [int(x) for x in out[-n:]]


def check_near_the_end(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture, "_CHUNK", 256)
    table, count = table_of(path)
    assert len(table.points) > 10
    for frame in (*last_esp_frames(path), count):
        start = table.before(frame)
        # The read starts within a chunk of the frame, not at the first frame.
        assert start is not None and start.frames_before + 1 <= frame
        assert start.frames_before >= frame - 3
        got = read_frame(path, frame, table)
        assert got is not None and got.index == frame
        assert got.data == tshark_frame(path, frame)
    for frame in last_esp_frames(path):
        esp = esp_frame_bytes(path, frame, seek=table)
        assert esp is not None and esp.data == tshark_frame(path, frame)
        assert esp.esp_offset is not None
    assert read_frame(path, count + 1, table) is None


@pytest.mark.tshark
def test_pcap_frames_near_the_end_from_a_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    check_near_the_end(LAB / "rekey-dpd" / "capture.pcap", monkeypatch)


@pytest.mark.tshark
def test_pcapng_frames_near_the_end_from_a_checkpoint(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wireshark's pcapng (scapy's NAT-T exchange with ESP in UDP 4500): each checkpoint carries
    the section's byte order and interfaces."""
    check_near_the_end(shared_dir / "captures/public/scapy_ikev2_nat_t.pcapng", monkeypatch)


@pytest.mark.tshark
def test_pcapng_written_by_editcap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rekey-dpd.pcapng"
    src = LAB / "rekey-dpd" / "capture.pcap"
    subprocess.run(["editcap", "-F", "pcapng", str(src), str(path)], check=True)
    check_near_the_end(path, monkeypatch)


def test_a_changed_file_is_walked_and_gzip_has_no_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(capture, "_CHUNK", 256)
    path = tmp_path / "c.pcap"
    shutil.copy(LAB / "rekey-dpd" / "capture.pcap", path)
    table, count = table_of(path)
    want = read_frame(path, count)
    # Another capture under the same name: the table no longer fits, the file is walked.
    shutil.copy(LAB / "cookie" / "capture.pcap", path)
    assert not table.fits(path)
    assert read_frame(path, 3, table) == read_frame(path, 3)
    shutil.copy(LAB / "rekey-dpd" / "capture.pcap", path)
    assert read_frame(path, count) == want
    packed = tmp_path / "c.pcap.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    reader = read_capture(packed)
    assert reader.seek_table is None
    reader.close()
    with pytest.raises(CaptureError):
        read_capture(packed, table.points[-1])


def test_the_last_analysis_step_carries_the_table() -> None:
    steps = list(iter_analysis(LAB / "rekey-dpd" / "capture.pcap", every=5))
    assert all(s.seek is None for s in steps[:-1])
    assert steps[-1].seek is not None and steps[-1].seek.points


def test_a_pcapng_of_many_interfaces_keeps_checkpoints_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile: 2,000 interface blocks before the packets. Checkpoints stop once the section
    has more interfaces than the cap (each would copy the whole list); frames are still found."""
    import struct

    monkeypatch.setattr(capture, "_CHUNK", 256)

    def block(kind: int, body: bytes) -> bytes:
        size = 12 + len(body)
        return struct.pack("<II", kind, size) + body + struct.pack("<I", size)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idbs = block(1, struct.pack("<HHI", 1, 0, 65535)) * 2000
    epbs = b"".join(
        block(6, struct.pack("<IIIII", 1999, 0, k, 16, 16) + bytes([k]) * 16) for k in range(50)
    )
    path = tmp_path / "many.pcapng"
    path.write_bytes(shb + idbs + epbs)
    table, count = table_of(path)
    assert count == 50
    assert all(len(c.interfaces) <= capture._SEEK_INTERFACES for c in table.points)
    got = read_frame(path, 50, table)
    assert got is not None and got.data == bytes([49]) * 16 and got.linktype == 1
