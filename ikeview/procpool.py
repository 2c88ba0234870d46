"""The worker processes of ``--jobs`` (and of the TUI's split load)."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes, started by ``fork`` when this process runs a single thread: a worker
    is then ready in milliseconds with every module already imported (dissectors, correlator,
    cryptography), and only a task's few arguments are pickled. With other threads alive a
    fork could copy a lock one of them holds, so ``forkserver`` is used then (a clean server
    process forks the workers: slower to start, same results); the choice is made here rather
    than left to the platform default, which Python 3.14 changes to forkserver."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    return _Pool(max_workers=workers, mp_context=multiprocessing.get_context(method))


POOL_SWITCH_INTERVAL = 0.0005
"""Seconds a thread holds the GIL while another waits for it, as long as a pool lives (Python's
default is 0.005)."""


class _Pool(ProcessPoolExecutor):
    """A ProcessPoolExecutor during whose life this process's threads take turns at the GIL
    every :data:`POOL_SWITCH_INTERVAL` seconds, the interpreter's own interval restored at
    ``shutdown``.

    A task reaches its worker through two of the executor's threads (its manager, then the
    call queue's feeder), and each needs the GIL, which this process's main thread holds from
    the moment it starts on its own range: at the default interval every hand-over waited up
    to 5 ms. Measured on ``decrypt --jobs 2`` with a PSK (1M packets, 2026-12-05), the worker
    began locating its share 20-30 ms after the main thread began its own (the split waits for
    both); at this interval, 0-10 ms after (four runs each). The threads are idle otherwise
    (blocked on their pipes, not asking for the GIL), so the main thread's work is not cut up."""

    def __init__(self, max_workers: int, mp_context: Any) -> None:
        super().__init__(max_workers=max_workers, mp_context=mp_context)
        self._interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._interval, POOL_SWITCH_INTERVAL))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        try:
            super().shutdown(wait=wait, cancel_futures=cancel_futures)
        finally:
            sys.setswitchinterval(self._interval)


__all__ = ["POOL_SWITCH_INTERVAL", "pool"]
