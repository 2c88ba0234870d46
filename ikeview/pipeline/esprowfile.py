"""ESP packets read back from a classic pcap file on demand, for rows a load did not keep.

A TUI load on the batch path (``pipeline.fastsnap``) keeps, per SPI, counts at checkpoints
rather than a row per packet (``ikeview.tui.espindex``); the rows on screen are read here, from
the checkpoint before them: the file is walked as the load walked it (``fastwalk``), the ESP
frames of the SPIs asked for collected with their bytes, and each opened again with what the
load opened it with (``open_row``). Frames the load took on its general path are the caller's
(it kept their rows): ``skip`` names them, and they are left out here.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from typing import cast

from ikeview.crypto.espbatch import Buffer as BatchBuffer
from ikeview.dissectors.capture import PCAP_KINDS
from ikeview.dissectors.records import EspPacket, RawFrame
from ikeview.dissectors.stream import Dissector
from ikeview.pipeline.dec_esp import EspEntry, fast_opened
from ikeview.pipeline.fastesp import take_held
from ikeview.pipeline.fastwalk import Buffer, Lane, RecordHeader, walk_span
from ikeview.pipeline.seam import EspOpened

FileRow = tuple[int, float, int, int, int, bytes]
"""(frame, time, SPI, sequence number (low 32 bits), ESP length, ESP bytes SPI .. ICV)."""


class _Enough(Exception):
    """Raised through the walk once the rows asked for are in."""


class _RowSink:
    """Collects the ESP packets of some SPIs from a walk (the ``fastwalk.Sink`` protocol)."""

    def __init__(
        self,
        keep: Callable[[int], bool],
        skip: Callable[[int], bool],
        need: int,
        stop_frame: int,
        extra_ports: tuple[int, ...],
    ) -> None:
        self.lanes: dict[int, Lane] = {}
        self.rows: list[FileRow] = []
        self.last_frame = 0
        """The last frame walked (rows up to it are all in ``rows``)."""
        self._keep, self._skip = keep, skip
        self._need, self._stop = need, stop_frame
        self._mm: Buffer = bytearray()
        # The general path's frames, one at a time: an ESP packet the batch path would not
        # take (another link type, IPv6 extension headers, a fragment...).
        self._dissector = Dissector(extra_ports=extra_ports)

    def begin(self, mm: Buffer, linktype: int, record: RecordHeader) -> None:
        self._mm = mm

    def lane(self, spi: int, src: bytes, dst: bytes, udp: bool) -> Lane | None:
        lane = self.lanes[spi] = Lane(spi, src, dst, udp, None)
        return lane

    def frame(self, raw: RawFrame) -> None:
        self.flush()
        self.last_frame = raw.index
        keep, skip, rows = self._keep, self._skip, self.rows
        for rec in self._dissector.run((raw,)):
            if type(rec) is EspPacket and keep(rec.spi) and not skip(rec.flow.frame):
                f = rec.flow
                rows.append((f.frame, f.ts, rec.spi, rec.seq & 0xFFFFFFFF, rec.length, rec.data))
        self._check()

    def flush(self) -> None:
        lanes = take_held(self.lanes)
        if not lanes:
            return
        keep, skip, mm = self._keep, self._skip, self._mm
        self.last_frame = max(lane.items[-1][0] for lane in lanes)
        kept = sorted(
            (it[0], it[1], lane.spi, it[4], it[2], it[3])
            for lane in lanes
            if keep(lane.spi)
            for it in lane.items
        )
        rows = self.rows
        for f, ts, spi, seq, a, b in kept:
            if not skip(f):
                rows.append((f, ts, spi, seq, b - a, bytes(mm[a:b])))
        self._check()

    def _check(self) -> None:
        if len(self.rows) >= self._need or self.last_frame >= self._stop:
            raise _Enough


def read_rows(
    path: str | os.PathLike[str],
    start: tuple[int, int],
    keep: Callable[[int], bool],
    skip: Callable[[int], bool],
    need: int,
    stop_frame: int,
    extra_ports: tuple[int, ...] = (),
) -> tuple[list[FileRow], int]:
    """The ESP packets of the SPIs ``keep`` accepts, in capture order, from ``start`` (file
    offset of a record, frames before it) on, but for frames ``skip`` names; the walk stops
    once ``need`` rows are in or frame ``stop_frame`` is passed. Returns the rows and the last
    frame walked (every row up to it is there; the end of the file: a frame past all)."""
    offset, frames_before = start
    try:
        with open(path, "rb") as fh:
            kind = PCAP_KINDS.get(fh.read(4))
            size = os.fstat(fh.fileno()).st_size
            if kind is None or not 24 <= offset <= size:
                return [], frames_before
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                sink = _RowSink(keep, skip, need, stop_frame, extra_ports)
                try:
                    walk_span(mm, size, kind, sink, not extra_ports, (offset, size, frames_before))
                except _Enough:
                    return sink.rows, sink.last_frame
                return sink.rows, 1 << 62
    except (OSError, ValueError):
        return [], frames_before


def open_row(how: object, data: bytes) -> EspOpened | None:
    """What the load's batch path made of this packet, opened with ``how`` (the lane's: the
    SA's entry, pinned, without ESN, so opening is the same at any time and in any order; or
    the reason it was not opened): None when it was not."""
    if not isinstance(how, EspEntry) or how.pinned is None:
        return None
    clean = how.pinned.sa.open_batch(cast(BatchBuffer, data), [0], [len(data)])[0]
    return fast_opened(clean) if clean is not None else how.open(data)


__all__ = ["FileRow", "open_row", "read_rows"]
