"""The worker processes of ``--jobs``."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import Executor
from typing import Any

from ikeview.forkpool import ForkPool


def pool(workers: int) -> Executor:
    """Worker processes, forked from this one when it runs a single thread (``forkpool``): a
    worker is then ready in milliseconds with every module already imported (dissectors,
    correlator, cryptography), and only a task's few arguments are pickled. With other threads
    alive (the TUI's) a fork could copy a lock one of them holds, so a ``ProcessPoolExecutor``
    on ``forkserver`` is used then (a clean server process forks the workers: slower to start,
    same results); the choice is made here rather than left to the platform default, which
    Python 3.14 changes to forkserver.

    While the pool lives, this process's threads (and a forked worker's, the interval being set
    before the fork) take turns at the GIL every :data:`POOL_SWITCH_INTERVAL` seconds; the
    interpreter's own interval is restored when it is shut down."""
    if hasattr(os, "fork") and threading.active_count() == 1:
        return _QuickForkPool(workers)
    return _server_pool(workers)


class _RestoresInterval(Executor):
    """A pool that puts the interpreter's switch interval back when it is shut down."""

    _interval: float

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        try:
            super().shutdown(wait=wait, cancel_futures=cancel_futures)
        finally:
            sys.setswitchinterval(self._interval)


class _QuickForkPool(_RestoresInterval, ForkPool):
    def __init__(self, workers: int) -> None:
        self._interval = _quicken()
        try:
            super().__init__(workers)
        except BaseException:
            sys.setswitchinterval(self._interval)
            raise


def _server_pool(workers: int) -> Executor:
    # Imported only here: multiprocessing and concurrent.futures.process cost ~10 ms of
    # start-up, before the second core has anything to do.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    class QuickServerPool(_RestoresInterval, ProcessPoolExecutor):
        def __init__(self, workers: int, ctx: Any) -> None:
            super().__init__(max_workers=workers, mp_context=ctx)
            self._interval = _quicken()

    methods = multiprocessing.get_all_start_methods()
    method = "forkserver" if "forkserver" in methods else "spawn"
    return QuickServerPool(workers, multiprocessing.get_context(method))


def _quicken() -> float:
    """The interpreter's switch interval, after setting :data:`POOL_SWITCH_INTERVAL`."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, POOL_SWITCH_INTERVAL))
    return interval


POOL_SWITCH_INTERVAL = 0.0005
"""Seconds a thread holds the GIL while another waits for it, as long as a pool lives (Python's
default is 0.005).

A task's answer reaches this process through the pool's reading thread, which needs the GIL
that this process's main thread holds from the moment it starts on its own range; in a worker
the thread that places ``decrypt -o``'s stripes waits for it likewise. At the default interval
every hand-over waited up to 5 ms. Measured on ``decrypt --jobs 2`` with a PSK (1M packets,
2026-12-05, with ``ProcessPoolExecutor``, whose tasks went out through two such threads), the
worker began locating its share 20-30 ms after the main thread began its own; at this
interval, 0-10 ms after (four runs each). The threads are idle otherwise (blocked on their
pipes, not asking for the GIL), so the main thread's work is not cut up."""


__all__ = ["POOL_SWITCH_INTERVAL", "pool"]
