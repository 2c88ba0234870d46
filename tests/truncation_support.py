"""Every truncation of a real capture, without writing thousands of files.

The capture reader takes a path and nothing else (no in-memory entry point), so the bytes go into
one anonymous in-memory file (Linux ``memfd_create``) reached as ``/proc/self/fd/N``: written
once, then cut shorter and shorter with ``ftruncate``, which only drops bytes from the end. The
reader opens that path afresh for every cut and reads exactly the prefix, through the same
``open`` and ``peek`` it uses on a real file. Where memfd is missing, one temporary file is
rewritten instead (the old way; same coverage, slower).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def every_truncation(whole: bytes) -> Iterator[tuple[int, Path]]:
    """Yield ``(cut, path)`` for cut = len(whole)-1 down to 0; ``path`` holds ``whole[:cut]``
    until the next item is asked for."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("ikeview-cut")
        try:
            os.write(fd, whole)
            path = Path(f"/proc/self/fd/{fd}")
            for cut in range(len(whole) - 1, -1, -1):
                os.ftruncate(fd, cut)
                yield cut, path
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cut"
        for cut in range(len(whole) - 1, -1, -1):
            path.write_bytes(whole[:cut])
            yield cut, path
