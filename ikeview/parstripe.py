"""``decrypt -o --jobs`` into a file: the capture cut into stripes the processes take as they
come free, each stripe's records put straight into their place in the output.

Where a later range's records go in the output is known only once every record before them is
decrypted (a decrypted packet's length is known only then), so the ranges of ``parsched`` go to
part files first, which the join then copies behind the first range (``partjoin``). On 1M
AES-GCM packets with ``--jobs 2`` that copy was the largest cost the split added (``perf``,
2026-12-05: ~0.14 s of CPU in all, the later ranges' writes into the page cache and the
join's reads of them, against 2.5 s for one pass), and a part waited for every range before
it. Here the file is cut into many small stripes (:data:`STRIPE_BYTES`, about 20 ms of
decrypting each). Each process takes the next stripe no process has taken yet
(:meth:`Chain.claim`), decrypts it into a buffer of its own, and a helper thread of that
process puts the buffer in place once the stripe before it is placed, while the process goes
on with its next stripe. So a stripe waits for the ones before it for about one stripe's
reading time at most: the processes go through the file side by side, a faster one taking
more stripes, and end within a stripe of each other. The records are copied once into the
buffer and moved once within it (behind the carry, below), as one pass copies them once into
its own aligned blocks (``directout``).

Placing goes through a small shared file, the chain (:class:`Chain`): it keeps the next
stripe no process has taken yet, and slot ``k`` says where stripe ``k`` begins in the output,
which process took it (and, with keys that open IKE, where its handoff begins in that process's
handoff file), and holds the bytes of the output's last partial 4 KiB block before that point
(its *carry*). The output is written around the
page cache (``O_DIRECT``, as ``directout`` does for one pass), so every write covers whole
aligned blocks: a stripe writes its carry and its own records up to its last whole block, and
hands what is left on as the next stripe's carry; the last stripe writes its block padded, and
the file is cut to its length at the end. Where the file system refuses ``O_DIRECT`` the same
writes go through the page cache. A process waiting for a slot sleeps on a FIFO of its own,
which the process that fills the slot writes a byte to.

With keys that open no IKE each stripe is read afresh; with keys that open IKE a process keeps
its keys across its stripes and is fed the others' stripes' other frames in between
(``rangedecrypt``), each process handing over those of its own stripes in one file. Any
stripe that cannot be walked, or a process that fails, aborts the chain (every process stops
waiting and reading); the caller then reads the capture in one pass, as it does when the
stripes do not tile (``pardecrypt``). Memory: :data:`HELD` buffers of a
stripe's size per process, and each stripe's pages of the capture let go of once it is read.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import itertools
import mmap
import os
import queue
import select
import stat
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, wait
from pathlib import Path
from typing import TYPE_CHECKING

from ikeview.directout import ALIGN, set_direct, write_all
from ikeview.parhandoff import HandoffLost
from ikeview.partjoin import PCAP_HEADER
from ikeview.pcapfile import PcapWriter
from ikeview.pcapranges import Layout, Walked, open_map
from ikeview.rangedecrypt import FreshStripes, HandoffStripes

if TYPE_CHECKING:
    from ikeview.keys.model import KeyRing
    from ikeview.pcapwrite import DecryptStats
    from ikeview.rangesplit import Split

STRIPE_BYTES = 4 << 20
"""Octets of capture per stripe (about 20 ms of decrypting)."""
MAX_STRIPES = 1 << 14
"""Most stripes a capture is cut into (larger ones beyond 64 GiB): the chain keeps a slot of
4 KiB for each."""
MIN_STRIPES = 8
"""Stripes per process at least; a smaller file is left to ``parsched``'s ranges."""
HELD = 3
"""Stripe buffers per process: read, waiting to be placed, being placed."""
WAKE_SECONDS = 0.05
"""Longest a wait on the chain sleeps before it looks again (for an abort, or a stall)."""
STALL_SECONDS = 60.0
"""A wait on the chain with nothing placed by anyone for this long aborts it (a process that
died without a word)."""

_HEAD = struct.Struct("<QQQQQ")
"""A slot's head: its state (0 not yet, :data:`_READY`), where its stripe begins in the output,
which process took it (plus one; 0 none yet), where the stripe's handoff begins in that
process's handoff file (with keys that open IKE), where the stripe begins in the capture as
guessed (plus two; 1: no record after its cut; 0: not guessed yet)."""
_STATE = struct.Struct("<QQ")
"""The head's first two fields; the taker follows them."""
_TAKER = struct.Struct("<QQ")
_COUNTER = struct.Struct("<Q")
_GUESS = struct.Struct("<Q")
_GUESS_AT = _STATE.size + _TAKER.size
"""Where in a slot's head the guessed start is."""
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READY = 1
_SLOT = _HEAD.size + ALIGN
_NEXT = 8
"""Where the chain keeps the next stripe no process has taken (after its abort flag)."""
_FIRST = _NEXT + _COUNTER.size
"""Octets before the first slot."""

Striped = tuple[int, "DecryptStats", int, bool]
"""What a stripe gives back: its number, then ``rangedecrypt.UnlocatedPart``."""


def stripe_cuts(lay: Layout, jobs: int) -> list[int] | None:
    """Byte offsets where the stripes begin (before ``pcapranges.resync`` moves each to a
    record), and the file size last: :data:`STRIPE_BYTES` each, :data:`MAX_STRIPES` at most;
    None when the file has fewer than :data:`MIN_STRIPES` stripes a process."""
    body = lay.size - lay.first
    count = min(body // STRIPE_BYTES, MAX_STRIPES)
    if jobs < 2 or count < MIN_STRIPES * jobs:
        return None
    return [lay.first + body * k // count for k in range(count)] + [lay.size]


def stripe_split(name: str, lay: Layout, bounds: Sequence[int]) -> Split:
    """The capture's stripes as cut at ``bounds`` (the file size last), their record starts
    not guessed yet: each process guesses those it needs (``rangedecrypt.StripeBounds``)."""
    from ikeview.rangesplit import OPEN, Split

    count = len(bounds) - 1
    walked = tuple(Walked(a, b, OPEN) for a, b in itertools.pairwise(bounds))
    return Split(name, lay, walked, (b"",) * count, (0,) * count)


def striped_target(output: str | os.PathLike[str]) -> bool:
    """Whether ``output`` is a regular file or none yet (``outfile.replacing`` then writes a
    fresh file beside it, where stripes can be placed); a device or pipe gets the parts."""
    try:
        return stat.S_ISREG(os.stat(output).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


class Chain:
    """The shared file that says where each stripe begins (see the module doc), and the FIFOs
    that wake the process waiting for a slot (``wake{p}`` beside it, one per process: a wait
    sleeps in the kernel rather than polling, which cost ~0.1 s of CPU on 1M packets)."""

    def __init__(self, path: str, me: int | None = None) -> None:
        """``me``: the process whose stripes this side places (it waits on its FIFO)."""
        self._dir = os.path.dirname(path)
        self._fd = os.open(path, os.O_RDWR | _NOFOLLOW)
        self._wakes: dict[int, int] = {}
        self._me = me
        if me is not None:
            self._wake(me)

    def close(self) -> None:
        for fd in [self._fd, *self._wakes.values()]:
            os.close(fd)
        self._wakes.clear()

    def claim(self, count: int, handoff_at: int = 0) -> int | None:
        """The first stripe no process has taken yet, now this one's (``me``), its handoff
        beginning at ``handoff_at`` of this process's handoff file; None when every stripe up
        to ``count`` is taken. The chain's counter is read and moved on under a lock on it,
        so one process gets each stripe and a process that reads faster takes more of them.
        (A claim file created with ``O_EXCL`` for each stripe cost 0.05-0.7 ms: ext4 looks
        over the inodes of recently deleted files before it gives a new one; ~1% of a run.)"""
        fcntl.lockf(self._fd, fcntl.LOCK_EX, _COUNTER.size, _NEXT)
        try:
            (k,) = _COUNTER.unpack(os.pread(self._fd, _COUNTER.size, _NEXT))
            if k >= count:
                return None
            taker = _TAKER.pack((self._me or 0) + 1, handoff_at)
            os.pwrite(self._fd, taker, _FIRST + k * _SLOT + _STATE.size)
            os.pwrite(self._fd, _COUNTER.pack(k + 1), _NEXT)
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, _COUNTER.size, _NEXT)
        return k

    def taker(self, k: int) -> tuple[int, int] | None:
        """Which process took stripe ``k`` and where its handoff begins in that process's
        handoff file; None while nobody has. (Every stripe before one this process took was
        taken before it, the taker written first.)"""
        at_slot = _FIRST + k * _SLOT + _STATE.size
        owner, at = _TAKER.unpack(os.pread(self._fd, _TAKER.size, at_slot))
        return (owner - 1, at) if owner else None

    def guessed(self, k: int) -> tuple[bool, int | None]:
        """Whether stripe ``k``'s start in the capture was guessed yet, and the guess
        (``rangedecrypt.Guesses``)."""
        (v,) = _GUESS.unpack(os.pread(self._fd, _GUESS.size, _FIRST + k * _SLOT + _GUESS_AT))
        return (v > 0, v - 2 if v > 1 else None)

    def guess(self, k: int, start: int | None) -> None:
        """Stripe ``k``'s start as guessed (every process guesses the same: written as is)."""
        v = 1 if start is None else start + 2
        os.pwrite(self._fd, _GUESS.pack(v), _FIRST + k * _SLOT + _GUESS_AT)

    def publish(self, k: int, offset: int, carry: bytes) -> None:
        """Stripe ``k`` begins at ``offset``, after ``carry`` (``offset % ALIGN`` octets); the
        process that took it woken. The carry goes first: a reader that sees the head sees it
        too (writes to one file are seen in the order they were made); the taker is read after
        the head is written, and a taker sets itself before it looks at the head, so one of the
        two sees the other."""
        at = _FIRST + k * _SLOT
        os.pwrite(self._fd, carry, at + _HEAD.size)
        os.pwrite(self._fd, _STATE.pack(_READY, offset), at)
        taker = self.taker(k)
        if taker is not None:
            _poke(self._wake(taker[0]))

    def abort(self) -> None:
        """Every process stops waiting and reading."""
        os.pwrite(self._fd, b"\x01", 0)
        for name in os.listdir(self._dir):
            if name.startswith("wake"):
                _poke(self._wake(int(name[4:])))

    def aborted(self) -> bool:
        return os.pread(self._fd, 1, 0) != b"\x00"

    def wait(self, k: int) -> tuple[int, bytes] | None:
        """Where stripe ``k`` begins and its carry, once published; None once aborted."""
        at, stall = _FIRST + k * _SLOT, time.monotonic() + STALL_SECONDS
        while True:
            state, offset = _STATE.unpack(os.pread(self._fd, _STATE.size, at))
            if state == _READY:
                return offset, os.pread(self._fd, offset % ALIGN, at + _HEAD.size)
            if self.aborted():
                return None
            if time.monotonic() > stall:
                self.abort()
                return None
            if self._me is not None:
                fd = self._wake(self._me)
                if select.select([fd], [], [], WAKE_SECONDS)[0]:
                    with contextlib.suppress(BlockingIOError):
                        os.read(fd, 4096)
            else:
                time.sleep(WAKE_SECONDS)

    def _wake(self, p: int) -> int:
        fd = self._wakes.get(p)
        if fd is None:
            # Read and write: opening a FIFO so never blocks, and it never reads as ended.
            fd = os.open(os.path.join(self._dir, f"wake{p}"), os.O_RDWR | os.O_NONBLOCK)
            self._wakes[p] = fd
        return fd


def handoff_file(directory: str, p: int) -> str:
    """Process ``p``'s handoff file in the chain's directory, with keys that open IKE: the
    handoffs (``parhandoff.Handoff``) of the stripes it takes, one after the other, each where
    the chain's slot for the stripe says (:meth:`Chain.taker`)."""
    return os.path.join(directory, f"hand{p}")


def _poke(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):  # full: the process has wakes waiting already
        os.write(fd, b"\x00")


@contextlib.contextmanager
def chain_file(count: int, jobs: int, header: bytes, handoffs: bool = False) -> Iterator[str]:
    """A chain for ``count`` stripes read by ``jobs`` processes, in a private temporary
    directory, stripe 0 published right behind the output's file header, which is its carry;
    one more slot says where the last stripe ends. ``handoffs``: each process's handoff file
    made empty beside it (:func:`handoff_file`)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ikeview-chain-") as tmp:
        path = os.path.join(tmp, "chain")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, _FIRST + (count + 1) * _SLOT)
        finally:
            os.close(fd)
        for p in range(jobs):
            os.mkfifo(os.path.join(tmp, f"wake{p}"), 0o600)
            if handoffs:
                os.close(os.open(handoff_file(tmp, p), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        chain = Chain(path)
        try:
            chain.publish(0, len(header), header)
        finally:
            chain.close()
        yield path


def abort_chain(path: str) -> None:
    """The chain at ``path`` aborted, if it is still there."""
    with contextlib.suppress(OSError):
        chain = Chain(path)
        try:
            chain.abort()
        finally:
            chain.close()


class StripeBuffer:
    """A stripe's records as a writer writes them (``write``), copied at once into page-aligned
    memory behind :data:`ALIGN` octets of room, where placing puts the carry before them. (Kept
    as the writer's own bytes until placed, they cost more: their memory went back to the
    system between stripes and was faulted in again, 0.09 s more of CPU on 1M packets.)"""

    def __init__(self, size: int) -> None:
        self.mm = mmap.mmap(-1, 2 * ALIGN + size)
        self.reset()

    @property
    def size(self) -> int:
        """Octets of records gathered."""
        return self.pos - ALIGN

    def reset(self) -> None:
        """Emptied. A range's writer starts with the pcap file header: it lands in the room
        before :data:`ALIGN`, and is not placed (the chain's first carry is the output's)."""
        self.pos = ALIGN - PCAP_HEADER

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        n = len(data)
        end = self.pos + n
        if end + ALIGN > len(self.mm):  # more than the stripe's own octets: not in a pcap
            bigger = mmap.mmap(-1, 2 * end + ALIGN)
            bigger[: self.pos] = self.mm[: self.pos]
            self.mm.close()
            self.mm = bigger
        self.mm[self.pos : end] = data
        self.pos = end
        return n

    def flush(self) -> None:
        """Nothing to do: the records are placed whole."""

    def close(self) -> None:
        """Nothing to do: the placing thread lets go of the memory."""


class _Placer:
    """This process's stripes put in place in the output, in order, by a helper thread."""

    def __init__(self, fd: int, chain: Chain, last: int, size: int) -> None:
        """``last``: the last stripe's number; ``size``: the largest stripe's octets."""
        self._fd, self._chain, self._last = fd, chain, last
        self._free: queue.SimpleQueue[StripeBuffer] = queue.SimpleQueue()
        for _ in range(HELD):
            self._free.put(StripeBuffer(size))
        self._todo: queue.SimpleQueue[tuple[int, StripeBuffer] | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ikeview-place", daemon=True)
        self._thread.start()

    def take(self) -> StripeBuffer | None:
        """A free buffer, emptied; None once the chain is aborted or placing failed."""
        while True:
            with contextlib.suppress(queue.Empty):
                buf = self._free.get(timeout=0.05)
                if self.error is not None:
                    self._free.put(buf)  # closed with the others
                    return None
                buf.reset()
                return buf
            if self.error is not None or self._chain.aborted():
                return None

    def put(self, k: int, buf: StripeBuffer) -> None:
        self._todo.put((k, buf))

    def close(self) -> None:
        """Every stripe put placed (or dropped once aborted), the thread stopped, the
        buffers' memory let go of."""
        self._todo.put(None)
        self._thread.join()
        while True:
            try:
                self._free.get_nowait().mm.close()
            except queue.Empty:
                break

    def _run(self) -> None:
        while (item := self._todo.get()) is not None:
            k, buf = item
            try:
                if self.error is None:
                    self._place(k, buf)
            except BaseException as exc:  # raised by the caller once every stripe is in
                # Kept without its frames: a write's views of the buffer live in them, and the
                # buffer could not be closed while they do.
                self.error = exc.with_traceback(None)
                self._chain.abort()
            self._free.put(buf)

    def _place(self, k: int, buf: StripeBuffer) -> None:
        got = self._chain.wait(k)
        if got is None:
            raise _Aborted
        offset, carry = got
        c, n, mm = len(carry), buf.size, buf.mm
        total = c + n
        whole = -(-total // ALIGN) * ALIGN if k == self._last else total - total % ALIGN
        # The records moved right behind the carry, from an aligned start (their place in the
        # output is known only now): one move within memory that was just written.
        mm.move(c, ALIGN, n)
        mm[:c] = carry
        if k == self._last:
            mm[total:whole] = bytes(whole - total)  # the file is cut to its length at the end
            self._chain.publish(k + 1, offset + n, b"")
        else:
            # Handed on before this write: the next stripe's blocks begin where these end.
            self._chain.publish(k + 1, offset + n, mm[whole:total])
        if whole:
            os.lseek(self._fd, offset - c, os.SEEK_SET)
            # Both views released even when the write fails (a traceback would hold the slice,
            # and the buffer could not be closed).
            with memoryview(mm) as view, view[:whole] as blocks:
                write_all(self._fd, blocks)


class _Aborted(Exception):
    """The chain was aborted while a stripe waited for its place."""


Handoffs = tuple[float, tuple[int, ...]]
"""With keys that open IKE: the grace and the extra ports (``rangedecrypt.HandoffStripes``;
each stripe hands its other frames over in its process's handoff file)."""


def decrypt_stripes(
    split: Split,
    me: int,
    keyring: KeyRing,
    target: str,
    chain_path: str,
    handoffs: Handoffs | None = None,
) -> list[Striped]:
    """Worker (and the first process, ``me`` 0): the stripes of ``split`` this process takes
    (:meth:`Chain.claim`), decrypted and placed in ``target``; what each gave back (fewer
    when the chain was aborted: the caller reads the capture in one pass then)."""
    chain = Chain(chain_path, me)
    count = len(split.walked)
    results: list[Striped] = []
    fd = os.open(target, os.O_WRONLY | _NOFOLLOW)
    try:
        set_direct(fd)  # else through the page cache: the same writes
        size = max(w.end - w.start for w in split.walked)
        placer = _Placer(fd, chain, count - 1, size)
        try:
            with open(split.name, "rb") as fh, open_map(split.name) as mm:
                directory = os.path.dirname(chain_path)
                stripes = _walker(split, keyring, (mm, fh.fileno()), handoffs, chain, directory)
                mine = handoff_file(directory, me) if handoffs is not None else None
                while (buf := placer.take()) is not None:
                    # The last stripe's handoff is ended (and written) before the next is taken.
                    k = chain.claim(count, os.path.getsize(mine) if mine else 0)
                    if k is None:
                        break
                    got = stripes.walk(k, buf)
                    if got is None:
                        chain.abort()
                        break
                    results.append((k, *got))
                    placer.put(k, buf)
                    _let_go(mm, split.walked[k])
        except BaseException:
            chain.abort()
            raise
        finally:
            placer.close()
        if placer.error is not None and not isinstance(placer.error, _Aborted):
            raise placer.error
    finally:
        os.close(fd)
        chain.close()
    return results


_AROUND = 128 << 10
"""Octets on either side of a stripe whose pages the kernel may have mapped with the stripe's
own (a page fault maps its neighbours too: ``fault_around_bytes``, 64 KiB by default)."""


def _let_go(mm: mmap.mmap, w: Walked) -> None:
    """The pages of a stripe walked, out of this process's resident set (they stay in the page
    cache), with those around it the kernel mapped along. The walk lets go of its pages every
    8 MiB (``fastwalk._DROP``): a stripe is shorter, and without this each process held every
    page of the stripes it read (RSS 283 MB on 1M packets, against 46 MB for one pass); without
    the neighbours, 64 KiB a stripe of the next one's (91 MB at 10M)."""
    if hasattr(mm, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        lo = max(w.start - _AROUND, 0)
        lo -= lo % mmap.PAGESIZE
        hi = min(w.end + _AROUND, len(mm))
        hi -= hi % mmap.PAGESIZE
        if hi > lo:
            mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)


def _walker(
    split: Split,
    keyring: KeyRing,
    capture: tuple[mmap.mmap, int],
    handoffs: Handoffs | None,
    chain: Chain,
    directory: str,
) -> FreshStripes | HandoffStripes:
    """How this process reads its stripes (``capture``: the capture mapped, and open); with
    keys that open IKE each stripe's handoff is where the chain says, in the handoff file of the
    process that took it, in the chain's ``directory``."""
    mm, fd = capture
    if handoffs is None:
        return FreshStripes(split, keyring, mm, chain)

    def where(k: int) -> tuple[str, int]:
        taker = chain.taker(k)
        if taker is None:  # cannot be: every stripe before one taken was taken before it
            raise HandoffLost(f"stripe {k} has no taker")
        return handoff_file(directory, taker[0]), taker[1]

    places = (where, len(split.walked) - 1)
    return HandoffStripes(split, keyring, mm, fd, places, *handoffs, shared=chain)


def write_striped(
    ex: Executor,
    split: Split,
    jobs: int,
    keyring: KeyRing,
    target: Path,
    handoffs: Handoffs | None = None,
) -> list[Striped] | None:
    """Every stripe of ``split`` decrypted and placed in ``target`` (empty, regular) by
    ``jobs`` processes (this one and ``jobs - 1`` of ``ex``), the file cut to its length; what
    each stripe gave back, in order; None when the chain was aborted."""
    count = len(split.walked)
    header = _file_header(split.lay.linktype)
    with chain_file(count, jobs, header, handoffs is not None) as path:

        def failed(fut: Future[list[Striped]]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                abort_chain(path)  # a process that died or raised: nobody waits for it

        def run(p: int) -> Future[list[Striped]]:
            fut = ex.submit(decrypt_stripes, split, p, keyring, os.fspath(target), path, handoffs)
            fut.add_done_callback(failed)
            return fut

        futures = [run(p) for p in range(1, jobs)]
        try:
            mine = decrypt_stripes(split, 0, keyring, os.fspath(target), path, handoffs)
        except BaseException:
            abort_chain(path)
            raise
        finally:
            wait(futures)
        results = sorted([*mine, *(r for f in futures for r in f.result())], key=lambda r: r[0])
        chain = Chain(path)
        try:
            if chain.aborted() or len(results) < count:
                return None
            end = chain.wait(count)
        finally:
            chain.close()
    if end is None:
        return None
    os.truncate(target, end[0])
    return results


def _file_header(linktype: int) -> bytes:
    """The output's pcap file header, as ``PcapWriter`` writes it."""
    out = io.BytesIO()
    PcapWriter(out, linktype)
    return out.getvalue()


__all__ = [
    "HELD",
    "MAX_STRIPES",
    "MIN_STRIPES",
    "STRIPE_BYTES",
    "Chain",
    "Handoffs",
    "StripeBuffer",
    "decrypt_stripes",
    "stripe_cuts",
    "stripe_split",
    "striped_target",
    "write_striped",
]
