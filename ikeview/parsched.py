"""``decrypt -o --jobs``: ranges handed out as processes come free, the last ones small.

With one range per process, every later range's part can only be appended to the output once
the first range is done (where a part begins depends on the length of every decrypted record
before it), so that copy came after all the decrypting, with a core idle. So where the file is
large enough (:func:`chunk_cuts`), ``decrypt`` cuts it as follows:

- one range per process, together :data:`FIRST_SHARE` of the file;
- the rest in :data:`TAIL_PER_JOB` smaller ranges per process, smaller towards the end.

The first ranges go out at once. Each later one goes to whichever process is free first: a
worker as soon as it hands back a range (:class:`Scheduler`'s feeder thread), or this process
once its first range is done (:meth:`Scheduler.help`). Meanwhile the parts already done are
appended (``partjoin``), and the processes end within about one small range of each other.
Measured on 1M AES-GCM packets with ``--jobs 2`` (2026-12-05, medians of seven to nine
interleaved runs, five times): 1.71-1.80 s against 1.79-1.85 s for two equal ranges.

``report`` keeps one range per process: there each later range costs a fixed amount (its first
sequence numbers per counter are kept, shipped and replayed: ``correlate.merge``), and the
same runs took 0.98-1.00 s against 0.92-0.96 s.

Every claim is made in this process, under one lock, so no state is shared between processes.
A worker is never handed a range ahead of the one it is reading: a range given ahead could not
be taken back if this process came free first (measured, handing one ahead gained nothing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Generic, TypeVar

from ikeview.pcapranges import Layout

T = TypeVar("T")

FIRST_SHARE = 0.8
"""Share of the file in the first ranges, one per process."""
TAIL_PER_JOB = 2
"""Smaller ranges per process after the first ones."""
MIN_TAIL_BYTES = 1 << 20
"""Smallest of the smaller ranges: below it the file is cut into one range per process."""


def chunk_cuts(lay: Layout, jobs: int) -> list[int]:
    """Byte offsets where the ranges begin (before :func:`pcapranges.resync` moves each to
    a record), and the file size last: ``jobs`` equal ranges holding :data:`FIRST_SHARE`, then
    ``TAIL_PER_JOB * jobs`` ranges of decreasing size (weights n, n-1, ..., 1), so that the
    last ones to be handed out are the shortest; ``jobs`` equal ranges when the smallest would
    be under :data:`MIN_TAIL_BYTES`."""
    body = lay.size - lay.first
    n = TAIL_PER_JOB * jobs
    tail = body - int(body * FIRST_SHARE) // jobs * jobs
    weights = n * (n + 1) // 2
    if jobs < 2 or tail // weights < MIN_TAIL_BYTES:
        return [lay.first + body * r // jobs for r in range(jobs)] + [lay.size]
    first = (body - tail) // jobs
    cuts = [lay.first + first * r for r in range(jobs)]
    at, done = lay.first + first * jobs, 0
    for w in range(n, 0, -1):
        cuts.append(at + tail * done // weights)
        done += w
    return [*cuts, lay.size]


class Scheduler(Generic[T]):
    """Ranges ``1..count-1`` run by ``submit(r)`` in a pool of ``workers`` processes, handed
    out in order, one to each worker at a time, and by :meth:`help` in this process; each
    range's result (or exception) in :meth:`slot`. A context manager: leaving it hands out no
    further range and waits for the feeder thread."""

    def __init__(
        self, ex: Executor, count: int, workers: int, submit: Callable[[Executor, int], Future[T]]
    ) -> None:
        self._ex, self._count, self._submit = ex, count, submit
        self._lock = threading.Lock()
        self._next = 1
        self._slots: list[Future[T]] = [Future() for _ in range(count)]
        pending = set()
        for _ in range(max(workers, 1)):
            got = self._pool(self._claim())
            if got is not None:
                pending.add(got)
        self._thread = threading.Thread(
            target=self._feed, args=(pending,), name="ikeview-ranges", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> Scheduler[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._thread.join()

    def stop(self) -> None:
        """No range is handed out after this; one never handed out fails in its slot."""
        with self._lock:
            left, self._next = range(self._next, self._count), self._count
        for r in left:
            self._slots[r].set_exception(RangeNotRun(r))

    def help(self, run: Callable[[int], T]) -> None:
        """The ranges not yet handed out, run here by ``run(r)`` one after the other."""
        while (r := self._claim()) is not None:
            slot = self._slots[r]
            try:
                result = run(r)
            except BaseException as exc:
                slot.set_exception(exc)
                self.stop()
                raise
            slot.set_result(result)

    def slot(self, r: int) -> Future[T]:
        """Range ``r``'s result, once it is known (``r`` from 1)."""
        return self._slots[r]

    def results(self) -> list[T]:
        """Every later range's result, in order; the first exception raised (once all are
        done: no worker is left reading while the caller goes on)."""
        self._thread.join()
        wait(self._slots[1:])
        return [slot.result() for slot in self._slots[1:]]

    def _claim(self) -> int | None:
        with self._lock:
            r = self._next
            if r >= self._count:
                return None
            self._next = r + 1
            return r

    def _pool(self, r: int | None) -> Future[T] | None:
        """Range ``r`` submitted to the pool, its result copied into its slot when done."""
        if r is None:
            return None
        slot = self._slots[r]
        try:
            fut = self._submit(self._ex, r)
        except BaseException as exc:  # a broken or shut pool: the caller's results() raise it
            slot.set_exception(exc)
            self.stop()
            return None
        fut.add_done_callback(lambda f: _copy(f, slot))
        return fut

    def _feed(self, pending: set[Future[T]]) -> None:
        """The feeder thread: each worker handed the next range when it hands one back."""
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                if fut.cancelled() or fut.exception() is not None:
                    self.stop()  # a failed range fails the split: no more work for it
                    continue
                got = self._pool(self._claim())
                if got is not None:
                    pending.add(got)


class RangeNotRun(Exception):
    """A range not read because the split had failed before it was handed out."""


def _copy(fut: Future[T], slot: Future[T]) -> None:
    if fut.cancelled():
        slot.set_exception(RangeNotRun(-1))
    elif (exc := fut.exception()) is not None:
        slot.set_exception(exc)
    else:
        slot.set_result(fut.result())


__all__ = [
    "FIRST_SHARE",
    "MIN_TAIL_BYTES",
    "TAIL_PER_JOB",
    "RangeNotRun",
    "Scheduler",
    "chunk_cuts",
]
