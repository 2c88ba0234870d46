"""``report`` / ``export --jobs`` and the TUI's split load on unlocated ranges: a later range's
frames that are not plain ESP streamed back to the first range's process as the range meets them.

The first range's process reads every frame of the capture that is not plain ESP (IKE,
fragments, anything the batch path does not take), in order, after its own range: they make
the IKE SAs, their exchanges and the diagnosis. A later range handed them back with its
result, so they could only be read once that range was done, after every other process had
stopped: on 1M packets of the mix (~1,560 such frames in its second half, IKE messages and
NAT-keepalives; 2026-12-05) 23 ms of ``report --jobs 2``'s 0.70 s went there. Now each later
range appends them to a file of its own (:func:`back_writer`: a handoff's records,
``parhandoff.Handoff``, gathered into larger writes since nothing waits on one of them), and
the first range's process, once its own range is walked, reads each file in turn as it grows
(:func:`back_frames`), so what is left when the last range ends is what that range met last.
Range 0 is cut shorter to leave its process the time (``parunlocated.NO_KEYS_FIRST_LESS``).

The files live in a private temporary directory (``parhandoff.handoff_files``); a file that
cannot be written or read raises ``parhandoff.HandoffLost`` (the capture is then read in one
pass). What a range meets is only ever counted against the same limits as before
(``rangewalk.RangeFeed.other``; a handoff's own are the same or wider).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from typing import Any

from ikeview.dissectors.records import RawFrame
from ikeview.parhandoff import Handoff, HandoffLost, frame_record, mark_record

FLUSH_BYTES = 8 << 10
"""A range's frames go to its file in writes of about this many bytes (and at its end). What
the first range's process has left to read once the range has ended is at most this much
(64 KiB left up to ~10 ms of parsing after the worker's end; ~30 writes of 8 KiB for the
~1,500 IKE frames of half the mix at 1M cost nothing to see)."""
POLL_SECONDS = 0.001
"""How often the first range's process looks for more while a later range is still read."""


def back_writer(path: str, first: int) -> Handoff:
    """The writing end, in a later range's process (``first``: the number its frames count
    from): a handoff's (same records, its end marked), gathered into :data:`FLUSH_BYTES`."""
    return Handoff(path, first, FLUSH_BYTES)


def back_frames(
    path: str, ready: Future[Any], idle: Callable[[], None] | None = None
) -> Iterator[RawFrame]:
    """The frames a later range wrote to ``path``, as they come, up to its end mark; or, when
    ``ready`` (its result) is done without one (the range failed, its worker died), up to what
    was written: the caller then learns from ``ready`` what happened. ``idle``: called once,
    the first time there is nothing to read yet (work for after the ranges, done while this
    process would only wait)."""
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
                if idle is not None:
                    idle()
                    idle = None
                    continue
                wait([ready], timeout=POLL_SECONDS)
                continue
            buf += chunk
            pos = 0
            while pos < len(buf) and buf[pos] == ord("F"):
                if (got := frame_record(buf, pos)) is None:
                    break
                pos, raw = got
                yield raw
            if pos < len(buf) and buf[pos] != ord("F") and mark_record(buf, pos) is not None:
                return  # its end (or too many frames: the range's result says so)
            del buf[:pos]
    finally:
        os.close(fd)


__all__ = ["FLUSH_BYTES", "back_frames", "back_writer"]
