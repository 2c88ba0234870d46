"""A large output written around the page cache (``O_DIRECT``), for ``decrypt -o``.

A buffered write copies every byte into the kernel's page cache, and the writeback before the
rename (``outfile.replacing``'s fsync) then sends those pages to the disk. For ``decrypt -o``
on 1M AES-GCM packets (452 MB) ``perf`` put a tenth of the run's CPU time in that copy alone
(``copy_folio_from_iter_atomic``), and system time at 0.16-0.48 s against 0.01 s for ``report``
on the same file. With ``O_DIRECT`` the disk reads the bytes from this process's own buffers:
they are gathered here into page-aligned blocks of :data:`BLOCK` bytes (one copy, in memory
that stays in the CPU's cache), and a helper thread writes each full block while the next one
fills (a direct write returns only once the device has the data: done inline, it would add the
disk's time to the run's). The few bytes past the last whole 4 KiB go through the page cache,
as does everything when the file system refuses ``O_DIRECT`` (tmpfs before Linux 6.6, some
FUSE file systems), at the flag or at a write: the bytes written are the same either way, and
``replacing``'s fsync still makes them durable before the rename.

Only regular files are written this way; ``direct_output`` hands anything else back as it is.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import queue
import stat
import threading
from collections.abc import Iterable, Iterator
from typing import IO

ALIGN = 4096
"""Offsets, lengths and buffer addresses of a direct write: a multiple of every usual logical
block size (512 and 4096 octets); mmap'd buffers are page-aligned."""
BLOCK = 4 << 20
"""Octets per direct write. Two such buffers live at a time (8 MiB)."""
MIN_BYTES = 64 << 20
"""Outputs expected to be smaller are written through the page cache (see ``direct_output``)."""


class DirectWriter:
    """A binary file's ``write`` over ``fd`` (open for writing, empty, its offset at 0) with
    ``O_DIRECT`` set: what is written is gathered into aligned blocks; :meth:`close` writes
    the rest and leaves the descriptor open, ``O_DIRECT`` cleared. An error of the helper
    thread's write is raised by the next call."""

    def __init__(self, fd: int, block: int = BLOCK) -> None:
        self._fd, self._block = fd, block
        self._bufs = [mmap.mmap(-1, block), mmap.mmap(-1, block)]
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._full: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        self._free.put(1)
        self._cur, self._pos = 0, 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="ikeview-direct", daemon=True)
        self._thread.start()
        self.closed = False

    def fileno(self) -> int:
        return self._fd

    def flush(self) -> None:
        """Nothing to do: blocks go out as they fill, the rest at :meth:`close`."""

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._raise()
        n = len(data)
        pos, block, buf = self._pos, self._block, self._bufs[self._cur]
        if pos + n < block:
            buf[pos : pos + n] = data
            self._pos = pos + n
            return n
        view = memoryview(data)
        while len(view):
            take = min(block - pos, len(view))
            buf[pos : pos + take] = view[:take]
            pos += take
            view = view[take:]
            if pos == block:
                self._hand_off()
                buf, pos = self._bufs[self._cur], 0
        self._pos = pos
        return n

    def copy_from(self, fd: int, offset: int, length: int) -> None:
        """``length`` octets of the file open on ``fd`` from ``offset`` written, read straight
        into the blocks (no copy of them in between); OSError (EIO) when the file ends short."""
        self._raise()
        block = self._block
        while length:
            pos = self._pos
            take = min(block - pos, length)
            with memoryview(self._bufs[self._cur]) as whole, whole[pos : pos + take] as dst:
                n = os.preadv(fd, [dst], offset)
            if n <= 0:
                raise OSError(errno.EIO, f"file ended {length} octets short")
            offset, length, pos = offset + n, length - n, pos + n
            self._pos = pos
            if pos == block:
                self._hand_off()
                self._pos = 0

    def _hand_off(self) -> None:
        """The current block, full, to the helper thread; the other one (once written) is
        the current block now."""
        self._full.put((self._cur, self._block))
        self._cur = self._free.get()
        self._raise()

    def close(self) -> None:
        """The last block and the bytes past its last 4 KiB written, the thread stopped."""
        if self.closed:
            return
        self.closed = True
        pos, cur = self._pos, self._cur
        whole = pos - pos % ALIGN
        if whole and self._error is None:
            self._full.put((cur, whole))
        self._full.put(None)
        self._thread.join()
        try:
            self._raise()
            _buffered(self._fd)
            tail = self._bufs[cur][whole:pos]
            view = memoryview(tail)
            while len(view):
                view = view[os.write(self._fd, view) :]
        finally:
            for buf in self._bufs:
                buf.close()

    def abandon(self) -> None:
        """Stop without writing what is still gathered (the file is being thrown away)."""
        if self._error is None:
            self._error = OSError(errno.ECANCELED, "output abandoned")
        with contextlib.suppress(OSError):
            self.close()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _drain(self) -> None:
        """The helper thread: each full block written, its buffer handed back."""
        while (item := self._full.get()) is not None:
            index, length = item
            if self._error is None:
                try:
                    write_all(self._fd, memoryview(self._bufs[index])[:length])
                except BaseException as exc:  # handed to the writer, raised by its next call
                    self._error = exc
            self._free.put(index)


def write_all(fd: int, view: memoryview) -> None:
    """``view`` written in full at the descriptor's offset. A direct write the file system
    refuses (EINVAL: alignment it does not take, or no direct I/O after all), or one cut short
    off a 4 KiB boundary, leaves the rest of the file to the page cache."""
    with view:
        while len(view):
            try:
                n = os.write(fd, view)
            except OSError as exc:
                if exc.errno != errno.EINVAL or not _is_direct(fd):
                    raise
                _buffered(fd)
                continue
            view = view[n:]
            if n % ALIGN and len(view):
                _buffered(fd)


def _is_direct(fd: int) -> bool:
    import fcntl  # here: POSIX only (a direct write means a system that has it)

    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)


def _buffered(fd: int) -> None:
    import fcntl

    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    if flags & os.O_DIRECT:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)


@contextlib.contextmanager
def direct_output(out: IO[bytes], expected: int) -> Iterator[IO[bytes] | DirectWriter]:
    """What to write ``out``'s file through: a :class:`DirectWriter` when ``out`` is an empty
    regular file about to receive ``expected`` octets or more (:data:`MIN_BYTES`) on a file
    system that takes ``O_DIRECT``, else ``out`` itself. The writer is closed when the block
    ends, its remaining bytes written only when it ends without an error."""
    if not _direct_flag_set(out, expected):
        yield out
        return
    writer = DirectWriter(out.fileno())
    try:
        yield writer
    except BaseException:
        writer.abandon()
        raise
    writer.close()


def append_direct(path: str | os.PathLike[str], sources: Iterable[tuple[str, int]]) -> bool:
    """The octets of each ``(file, offset)`` of ``sources`` from ``offset`` to its end added
    at the end of the regular file at ``path`` (``sources`` is read as the bytes are written:
    it may wait for each file to be ready), written around the page cache (``decrypt
    --jobs`` joining its parts: the bytes go to the disk once, where a kernel copy into the
    page cache has them written back again by the fsync before the rename). False, with
    ``path`` as it was, when the file system refuses ``O_DIRECT`` at the flag; a refusal at a
    write leaves the rest to the page cache, as :class:`DirectWriter` does."""
    if not getattr(os, "O_DIRECT", 0):
        return False
    fd = os.open(path, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    try:
        size = os.fstat(fd).st_size
        start = size - size % ALIGN
        # The last partial block is written again, with what follows it, from an aligned
        # offset: the direct writes' offsets must be aligned.
        head = os.pread(fd, size - start, start)
        if not set_direct(fd):
            return False
        os.lseek(fd, start, os.SEEK_SET)
        writer = DirectWriter(fd)
        try:
            writer.write(head)
            for name, offset in sources:
                with open(name, "rb") as src:
                    length = os.fstat(src.fileno()).st_size - offset
                    if length > 0:
                        writer.copy_from(src.fileno(), offset, length)
        except BaseException:
            writer.abandon()
            raise
        writer.close()
        return True
    finally:
        os.close(fd)


def _direct_flag_set(out: IO[bytes], expected: int) -> bool:
    """Whether ``out``'s descriptor now writes with ``O_DIRECT`` (see :func:`direct_output`)."""
    direct = getattr(os, "O_DIRECT", 0)  # Linux and a few others; not macOS
    fd = out.fileno()
    if not direct or expected < MIN_BYTES or out.tell() or not stat.S_ISREG(os.fstat(fd).st_mode):
        return False
    out.flush()
    return set_direct(fd)


def set_direct(fd: int) -> bool:
    """``O_DIRECT`` set on ``fd``; False when the file system refuses the flag here (one
    without direct I/O may)."""
    import fcntl

    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_DIRECT)
    except OSError:
        return False
    return True


__all__ = [
    "ALIGN",
    "BLOCK",
    "MIN_BYTES",
    "DirectWriter",
    "append_direct",
    "direct_output",
    "set_direct",
    "write_all",
]
