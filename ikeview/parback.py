"""``report`` / ``export --jobs`` on unlocated ranges: a later range's frames that are not plain
ESP streamed back to the first range's process as the range meets them.

The first range's process reads every frame of the capture that is not plain ESP (IKE,
fragments, anything the batch path does not take), in order, after its own range: they make
the IKE SAs, their exchanges and the diagnosis. A later range handed them back with its
result, so they could only be read once that range was done, after every other process had
stopped: on 1M packets of the mix (~1,560 IKE frames in the second half, 2026-12-05) 23 ms of
``report --jobs 2``'s 0.70 s went there. Now each later range appends them to a file of its own
(:class:`BackWriter`, buffered: nothing waits on one of them) and the first range's process,
once its own range is walked, reads each file in turn as it grows (:func:`back_frames`), so
what is left when the last range ends is what that range met last. Range 0 is cut shorter to
leave its process the time (``parunlocated.NO_KEYS_FIRST_LESS``).

The files live in a private temporary directory (``parhandoff.handoff_files``); a file that
cannot be written or read raises ``parhandoff.HandoffLost`` (the capture is then read in one
pass). What a range meets is only ever counted against the same limits as before
(``rangewalk.RangeFeed.other``).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from concurrent.futures import Future, wait
from typing import Any

from ikeview.dissectors.records import RawFrame
from ikeview.parhandoff import HandoffLost

FLUSH_BYTES = 64 << 10
"""A range's frames go to its file in writes of about this many bytes (and at its end)."""
POLL_SECONDS = 0.001
"""How often the first range's process looks for more while a later range is still read."""

_FRAME = struct.Struct("<cQdIII")  # b"F", frame number, time, link type, original length, length
_END = struct.Struct("<cQ")  # b"E", the offset where the range's walk ended (0: it could not)


class BackWriter:
    """The writing end, in a later range's process."""

    _write = staticmethod(os.write)  # (a test makes the disk full here)

    def __init__(self, path: str) -> None:
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        except OSError as exc:
            raise HandoffLost(str(exc)) from None
        self._buf = bytearray()

    def frame(self, raw: RawFrame) -> None:
        """One frame the range met, handed back."""
        data = raw.data
        self._buf += _FRAME.pack(b"F", raw.index, raw.ts, raw.linktype, raw.orig_len, len(data))
        self._buf += data
        if len(self._buf) >= FLUSH_BYTES:
            self._flush()

    def end(self, offset: int) -> None:
        """The range is walked, to ``offset`` (0: it could not be), and the file closed."""
        try:
            self._buf += _END.pack(b"E", offset)
            self._flush()
        finally:
            os.close(self._fd)

    def _flush(self) -> None:
        view = memoryview(self._buf)
        try:
            while view:
                view = view[self._write(self._fd, view) :]
        except OSError as exc:
            raise HandoffLost(str(exc)) from None
        finally:
            view.release()
        self._buf.clear()


def back_frames(path: str, ready: Future[Any]) -> Iterator[RawFrame]:
    """The frames a later range wrote to ``path``, as they come, up to its end mark; or, when
    ``ready`` (its result) is done without one (the range failed, its worker died), up to what
    was written: the caller then learns from ``ready`` what happened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise HandoffLost(str(exc)) from None
    buf = bytearray()
    try:
        while True:
            done = ready.done()
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError as exc:
                raise HandoffLost(str(exc)) from None
            if not chunk:
                if done:
                    return
                wait([ready], timeout=POLL_SECONDS)
                continue
            buf += chunk
            pos, ended = _parse(buf)
            yield from ended[0]
            del buf[:pos]
            if ended[1]:
                return
    finally:
        os.close(fd)


def _parse(buf: bytearray) -> tuple[int, tuple[list[RawFrame], bool]]:
    """The whole records at the start of ``buf``: how many bytes they take, their frames, and
    whether the end mark was among them."""
    frames: list[RawFrame] = []
    pos, size = 0, len(buf)
    while pos < size:
        if buf[pos : pos + 1] != b"F":
            return pos, (frames, size - pos >= _END.size)
        if size - pos < _FRAME.size:
            break
        _, index, ts, linktype, orig, length = _FRAME.unpack_from(buf, pos)
        end = pos + _FRAME.size + length
        if end > size:
            break
        frames.append(RawFrame(index, ts, linktype, bytes(buf[end - length : end]), orig))
        pos = end
    return pos, (frames, False)


__all__ = ["FLUSH_BYTES", "BackWriter", "back_frames"]
