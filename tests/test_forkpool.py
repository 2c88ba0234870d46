"""ikeview.forkpool: the worker processes of ``--jobs`` behind the Executor interface, held to
the rules of ``ProcessPoolExecutor`` that the split commands rely on (answers, exceptions, a
worker that dies, shutdown) and to what it is for (no multiprocessing imported)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import BrokenExecutor, wait
from pathlib import Path

import pytest

from ikeview.forkpool import BrokenProcessPool, ForkPool, RemoteError

ROOT = Path(__file__).resolve().parent.parent
LAB = ROOT / "captures" / "lab"


def _pid_and(x: int, y: int = 0) -> tuple[int, int]:
    return os.getpid(), x + y


def _slow(x: int) -> int:
    time.sleep(0.05)
    return x


class _Odd(Exception):
    """An exception that cannot be pickled (it holds a lock)."""

    def __init__(self) -> None:
        super().__init__("odd")
        self.lock = threading.Lock()


def _raise_odd() -> None:
    raise _Odd()


def _lock() -> object:
    return threading.Lock()


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_tasks_run_in_the_workers_in_order_beyond_the_number_of_workers() -> None:
    """Twelve tasks on two workers: each answer is its own task's, and none ran here."""
    with ForkPool(2) as ex:
        futures = [ex.submit(_pid_and, i, y=100) for i in range(12)]
        answers = [f.result(timeout=30) for f in futures]
    assert [a for _, a in answers] == [i + 100 for i in range(12)]
    pids = {pid for pid, _ in answers}
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2


def test_an_exception_is_raised_by_its_future_and_the_pool_goes_on() -> None:
    """A task's exception keeps its type and text; the worker takes the next task."""
    with ForkPool(1) as ex:
        failed = ex.submit(divmod, 1, 0)
        with pytest.raises(ZeroDivisionError):
            failed.result(timeout=30)
        assert ex.submit(sum, [1, 2, 3]).result(timeout=30) == 6


def test_what_cannot_be_pickled_back_is_a_remote_error_with_its_type() -> None:
    with ForkPool(1) as ex:
        with pytest.raises(RemoteError, match="_Odd: odd"):
            ex.submit(_raise_odd).result(timeout=30)
        with pytest.raises(RemoteError, match="TypeError"):
            ex.submit(_lock).result(timeout=30)
        assert ex.submit(sum, [4]).result(timeout=30) == 4


def test_a_worker_that_dies_breaks_the_pool_and_every_pending_task() -> None:
    """A worker that exits mid-task: its future, the queued ones and any later submit raise
    BrokenProcessPool (a BrokenExecutor, which the split commands catch to read in one pass);
    the other worker is stopped and every worker reaped."""
    ex = ForkPool(2)
    pids = [w.pid for w in ex._workers]
    dying = ex.submit(os._exit, 3)
    queued = [ex.submit(_slow, i) for i in range(6)]
    with pytest.raises(BrokenExecutor):
        dying.result(timeout=30)
    wait(queued, timeout=30)
    assert all(f.done() for f in queued)
    assert any(isinstance(f.exception(), BrokenProcessPool) for f in queued)
    with pytest.raises(BrokenProcessPool):
        ex.submit(sum, [1])
    ex.shutdown()
    assert all(_reaped(pid) for pid in pids)


def test_shutdown_runs_what_is_queued_or_cancels_it() -> None:
    with ForkPool(1) as ex:
        kept = [ex.submit(_slow, i) for i in range(3)]
    assert [f.result(timeout=0) for f in kept] == [0, 1, 2]
    ex = ForkPool(1)
    first = ex.submit(_slow, 1)
    later = [ex.submit(_slow, i) for i in range(3)]
    ex.shutdown(cancel_futures=True)
    assert first.result(timeout=0) == 1
    assert all(f.cancelled() for f in later)
    with pytest.raises(RuntimeError):
        ex.submit(sum, [1])


def test_the_workers_end_with_the_pool() -> None:
    ex = ForkPool(3)
    pids = [w.pid for w in ex._workers]
    ex.shutdown()
    assert all(_reaped(pid) for pid in pids)


def _fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )


def test_output_buffered_before_the_fork_is_written_once() -> None:
    """stdout to a pipe is block-buffered: what this process had not flushed when it forked
    would be written again by each worker's end, were the buffers not flushed first."""
    code = (
        "import sys\nfrom ikeview.forkpool import ForkPool\n"
        "sys.stdout.write('before;')\n"
        "with ForkPool(2) as ex:\n"
        "    assert ex.submit(sum, [1, 2]).result() == 3\n"
        "sys.stdout.write('after')\n"
    )
    run = _fresh(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "before;after"


def test_report_with_jobs_imports_no_multiprocessing() -> None:
    """What the pool is for: a split ``report`` in a fresh interpreter (one thread, so the
    workers are forked) gives one pass's analysis without importing multiprocessing or
    concurrent.futures.process (~10 ms of start-up before the second core has work)."""
    cap = LAB / "rekey-dpd" / "capture.pcap"
    code = (
        "import sys\nfrom ikeview import parallel\n"
        "from ikeview.pipeline.analyze import analyze\n"
        "from ikeview.report import to_json\n"
        f"one = to_json(analyze({str(cap)!r}))\n"
        f"many = to_json(parallel.analyze_parallel({str(cap)!r}, jobs=2, min_bytes=0))\n"
        "assert one == many\n"
        "print(sorted(m for m in sys.modules if m.startswith(('multiprocessing', "
        "'concurrent.futures.process'))))\n"
    )
    run = _fresh(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    assert "read in one process" not in run.stderr


def test_terminate_workers_ends_a_running_task_at_once() -> None:
    """What a cancelled TUI load calls (tui.parload._stop): the running task's future fails,
    the queued ones are cancelled, and the workers are reaped without waiting for the task."""
    ex = ForkPool(1)
    pid = ex._workers[0].pid
    running = ex.submit(time.sleep, 60)
    queued = ex.submit(sum, [1])
    time.sleep(0.1)
    start = time.monotonic()
    ex.terminate_workers()
    with pytest.raises(BrokenProcessPool):
        running.result(timeout=30)
    assert queued.cancelled()
    ex.shutdown()
    assert time.monotonic() - start < 30
    assert _reaped(pid)
