"""One packet's bytes again, read back from the capture file on demand.

The analysis keeps no packet bytes (memory grows with SAs, not packets): the TUI's ESP rows hold
a frame number, and when the user opens a packet this module reads that one frame from the file,
dissects it alone and, given the decryptor of the run that analysed the file, decrypts it again.
Where the load left a seek table (``CaptureReader.seek_table``: a checkpoint per MiB of a plain
pcap or pcapng file), the read starts at the last checkpoint before the frame and walks at most
about a MiB, wherever the frame lies. A gzip file has no table (its stream cannot seek): the
frame is found by walking from the start, about 0.8 us a frame (80 ms at 100,000 frames), which
the TUI does in a worker thread and says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ikeview.dissectors.capture import CaptureError, SeekTable, read_capture
from ikeview.dissectors.records import EspPacket, RawFrame
from ikeview.dissectors.stream import Dissector
from ikeview.pipeline.seam import Decryptor


@dataclass(frozen=True, slots=True)
class EspFrameBytes:
    """What the capture holds of one ESP packet, and its plaintext when it could be opened."""

    frame: int
    """1-based frame number."""
    data: bytes
    """The frame as captured (link header, outer IP, UDP when encapsulated, ESP)."""
    esp_offset: int | None
    """Where the ESP header (SPI) starts in ``data``; None when the frame alone does not give
    an ESP packet (a reassembled IP fragment, ESP in TCP)."""
    esp_length: int
    """Captured ESP bytes from the SPI on (0 when ``esp_offset`` is None)."""
    inner: bytes | None
    """The decrypted inner packet (or transport payload); None when not decrypted."""
    note: str
    """What was (not) done: decrypted, why not, or why the ESP bytes could not be found."""


def read_frame(
    path: str | os.PathLike[str], frame: int, seek: SeekTable | None = None
) -> RawFrame | None:
    """Frame number ``frame`` of the capture file; None when the file has fewer frames or
    cannot be read. ``seek``: the table the load recorded for this file, used only while the
    file is unchanged (same size and modification time), else the file is walked."""
    if frame < 1:
        return None
    start = seek.before(frame) if seek is not None and seek.fits(path) else None
    try:
        with read_capture(path, start) as reader:
            for raw in reader:
                if raw.index == frame:
                    return raw
                if raw.index > frame:
                    break
    except (CaptureError, OSError):
        return None
    return None


def esp_frame_bytes(
    path: str | os.PathLike[str],
    frame: int,
    decryptor: Decryptor | None = None,
    extra_ports: tuple[int, ...] = (),
    seek: SeekTable | None = None,
) -> EspFrameBytes | None:
    """The bytes of ESP frame ``frame``, decrypted again with ``decryptor`` (the one that read
    the capture: it holds the child SAs' keys) when given; None when the frame is not there.

    The decryptor must not be in use by another thread (the TUI asks once its load is over).
    ``seek``: the load's seek table for this file (see ``read_frame``).
    """
    raw = read_frame(path, frame, seek)
    if raw is None:
        return None
    # A Dissector of its own: one frame, no reassembly state (a fragment stays unread).
    packet = next(
        (r for r in Dissector(extra_ports=extra_ports).run([raw]) if isinstance(r, EspPacket)),
        None,
    )
    if packet is None:
        return EspFrameBytes(
            frame,
            raw.data,
            None,
            0,
            None,
            "this frame alone holds no whole ESP packet (reassembled from IP fragments or a "
            "TCP stream): the bytes shown are the frame's",
        )
    offset = raw.data.find(packet.data)
    if decryptor is None:
        inner, note = None, "not decrypted (no keys)"
    else:
        opened = decryptor.esp(packet)
        inner = opened.inner if opened.decrypted else None
        note = "decrypted" if inner is not None else f"not decrypted: {opened.problem or 'no keys'}"
    return EspFrameBytes(
        frame, raw.data, offset if offset >= 0 else None, len(packet.data), inner, note
    )
