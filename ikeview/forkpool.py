"""Worker processes forked from this one, behind the ``concurrent.futures.Executor`` interface.

Why not ``ProcessPoolExecutor``: on a ``--jobs 2`` run of ``report`` (1M packets, 0.7 s) the
second core is idle until the first worker starts, and with ``ProcessPoolExecutor`` that was
later than it need be: ``multiprocessing`` and ``concurrent.futures.process`` cost ~10 ms of
imports (sockets, subprocess, queues: 80-83 ms of CPU for the imports before the fork with
them, 71-72 ms without), and the first task went through a manager thread and a queue feeder
thread (it began 4-6 ms after the pool was made; here 0.5 ms). Here the workers are forked when
the pool is made, each with two pipes of its own (tasks in, results out), and one thread of
this process reads the results. A task's function and arguments are pickled as
``ProcessPoolExecutor`` pickles them, so every task it ran runs here unchanged.

Rules kept from ``ProcessPoolExecutor``: a task's exception is raised by its future's
``result()``; a worker that dies (killed, out of memory, ``os._exit``) breaks the pool, every
pending future then raising :class:`BrokenProcessPool` (a ``BrokenExecutor``) and the other
workers stopped; ``shutdown(wait=True)`` runs what is queued (unless ``cancel_futures``) and
waits for every worker to end.

Only for a process that runs a single thread (a fork copies no other thread, and could copy a
lock one of them holds): ``procpool.pool`` decides.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

_LENGTH = struct.Struct("<Q")
"""A message's length before it, on both pipes."""


class BrokenProcessPool(BrokenExecutor):
    """A worker of the pool ended without answering (killed, out of memory, exited)."""


class RemoteError(Exception):
    """A task's exception that could not be pickled back: its type and text."""


@dataclass
class _Worker:
    pid: int
    tasks: int
    """Write end of the worker's task pipe (-1 once closed: the worker then ends)."""
    results: int
    """Read end of the worker's result pipe."""
    busy: Future[Any] | None = None
    alive: bool = True


@dataclass
class _State:
    """What the submitting thread and the reading thread share, under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    queue: deque[tuple[Future[Any], bytes]] = field(default_factory=deque)
    closing: bool = False
    broken: str = ""


class ForkPool(Executor):
    """``workers`` processes forked now; see the module's docstring."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("a pool needs at least one worker")
        self._state = _State()
        self._workers: list[_Worker] = []
        # Output buffered by this process would be written again by each child's exit.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            for _ in range(workers):
                self._workers.append(self._fork())
        except BaseException:
            self._stop_all()
            raise
        self._reader = threading.Thread(target=self._read_results, name="forkpool", daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------------------ parent

    def _fork(self) -> _Worker:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        try:
            pid = os.fork()
        except BaseException:
            for fd in (task_r, task_w, result_r, result_w):
                os.close(fd)
            raise
        if pid == 0:  # pragma: no cover - the child, measured through its results
            code = 1
            try:
                # The other workers' pipe ends: kept open here, they would never see their end.
                for w in self._workers:
                    for fd in (w.tasks, w.results):
                        with contextlib.suppress(OSError):
                            os.close(fd)
                os.close(task_w)
                os.close(result_r)
                _serve(task_r, result_w)
                code = 0
            finally:
                # Never back into the parent's stack, its atexit handlers or its buffers.
                os._exit(code)
        os.close(task_r)
        os.close(result_w)
        return _Worker(pid, task_w, result_r)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        payload = pickle.dumps((fn, args, kwargs), pickle.HIGHEST_PROTOCOL)
        fut: Future[T] = Future()
        st = self._state
        with st.lock:
            if st.broken:
                raise BrokenProcessPool(st.broken)
            if st.closing:
                raise RuntimeError("cannot schedule new futures after shutdown")
            idle = next((w for w in self._workers if w.alive and w.busy is None), None)
            if idle is None:
                st.queue.append((fut, payload))
            else:
                self._dispatch(idle, fut, payload)
        return fut

    def _dispatch(self, w: _Worker, fut: Future[Any], payload: bytes) -> None:
        """Hand a task to an idle worker (with the lock held)."""
        if not fut.set_running_or_notify_cancel():
            return
        w.busy = fut
        # A worker gone already: its result pipe's end says so to the reading thread.
        with contextlib.suppress(OSError):
            _write_message(w.tasks, payload)

    def _next(self, w: _Worker) -> None:
        """The worker is free: its next task, or its end when there is none and the pool
        is shutting down (with the lock held)."""
        st = self._state
        while st.queue and w.busy is None:
            fut, payload = st.queue.popleft()
            self._dispatch(w, fut, payload)
        if w.busy is None and st.closing:
            _close(w, "tasks")

    def _read_results(self) -> None:
        """The reading thread: each worker's answers until every result pipe is closed."""
        open_fds = {w.results: w for w in self._workers}
        while open_fds:
            ready, _, _ = select.select(list(open_fds), [], [])
            for fd in ready:
                w = open_fds[fd]
                message = _read_message(fd)
                if message is None:
                    del open_fds[fd]
                    self._ended(w)
                    continue
                fut = w.busy
                with self._state.lock:
                    w.busy = None
                    self._next(w)
                if fut is not None:
                    _settle(fut, message)

    def _ended(self, w: _Worker) -> None:
        """Worker ``w``'s result pipe closed, so it is ending: reaped here. Expected at
        shutdown when it had nothing to do; otherwise it died, and the pool is broken."""
        st = self._state
        _reap(w.pid)
        with st.lock:
            w.alive = False
            _close(w, "tasks")
            _close(w, "results")
            if w.busy is None and st.closing and not st.queue:
                return
            if not st.broken:
                st.broken = f"a worker process (pid {w.pid}) ended without answering"
            pending = [w.busy] if w.busy is not None else []
            w.busy = None
            for other in self._workers:
                if other.busy is not None:
                    pending.append(other.busy)
                    other.busy = None
                if other.alive:
                    with contextlib.suppress(OSError):
                        os.kill(other.pid, signal.SIGTERM)
            pending += [f for f, _ in st.queue]
            st.queue.clear()
        for fut in pending:
            if not fut.done():
                fut.set_exception(BrokenProcessPool(st.broken))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        st = self._state
        with st.lock:
            if cancel_futures:
                for fut, _ in st.queue:
                    fut.cancel()
                st.queue.clear()
            st.closing = True
            for w in self._workers:
                if w.busy is None:
                    self._next(w)
        if wait:
            self._reader.join()  # which reaps each worker as it ends

    def terminate_workers(self) -> None:
        """Every worker stopped now (``SIGTERM``), what is queued cancelled, without waiting:
        a cancelled load (the TUI's) ends at once. (Python 3.14's name for the same in
        ``ProcessPoolExecutor``.)"""
        with self._state.lock:
            for w in self._workers:
                if w.alive:
                    with contextlib.suppress(OSError):
                        os.kill(w.pid, signal.SIGTERM)
        self.shutdown(wait=False, cancel_futures=True)

    def _stop_all(self) -> None:
        """A fork failed part way: the workers already started are stopped and reaped."""
        for w in self._workers:
            _close(w, "tasks")
            _close(w, "results")
            with contextlib.suppress(OSError):
                os.kill(w.pid, signal.SIGTERM)
            _reap(w.pid)


def _close(w: _Worker, end: str) -> None:
    fd = getattr(w, end)
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
        setattr(w, end, -1)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _settle(fut: Future[Any], message: bytes) -> None:
    try:
        ok, value = pickle.loads(message)
    except Exception as exc:  # an answer that cannot be read back is the task's failure
        fut.set_exception(RemoteError(f"{type(exc).__name__}: {exc}"))
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


# ---------------------------------------------------------------------------------- child


def _serve(tasks: int, results: int) -> None:  # pragma: no cover - runs in the child
    """A worker: tasks read one after the other until the pool closes the pipe."""
    while True:
        message = _read_message(tasks)
        if message is None:
            return
        try:
            fn, args, kwargs = pickle.loads(message)
            answer: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Exception as exc:
            answer = (False, exc.with_traceback(None))
        try:
            data = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            failed = answer[1] if not answer[0] else exc
            data = pickle.dumps((False, RemoteError(f"{type(failed).__name__}: {failed}")))
        _write_message(results, data)


# ---------------------------------------------------------------------------------- pipes


def _write_message(fd: int, data: bytes) -> None:
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_message(fd: int) -> bytes | None:
    """The next message on ``fd``; None at the pipe's end (also in the middle of one: a
    writer that died while writing)."""
    head = _read_exactly(fd, _LENGTH.size)
    if head is None:
        return None
    return _read_exactly(fd, _LENGTH.unpack(head)[0])


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        try:
            chunk = os.read(fd, min(n, 1 << 20))
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


__all__ = ["BrokenProcessPool", "ForkPool", "RemoteError"]
