"""ikeview/parsched.py and ikeview/partjoin.py: ``decrypt -o --jobs`` with more ranges than
processes, the later ones handed out as processes come free.

The cuts tile the file, the first ranges equal and the later ones shrinking; every range runs
exactly once, by a worker or by this process, its result in its place; a failed range stops
the handing out and reaches the caller; and the file written is one pass's, byte for byte, on
captures cut finer than the default allows (bench_decrypt_file.py's, and fastesp_support's with
bad ICVs, an SPI without keys and damage)."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from test_parallel import bench_capture

from ikeview import parallel, pardecrypt, parsched
from ikeview.cli import main
from ikeview.pcapranges import Layout, cuts


def _lay(size: int) -> Layout:
    return Layout("<", 1e-6, 1, size)


@pytest.mark.parametrize("jobs", [2, 3, 4, 8])
@pytest.mark.parametrize("size", [10_000, 50 << 20, 463_000_123, 5 << 30])
def test_cuts_tile_the_file(jobs: int, size: int) -> None:
    lay = _lay(size)
    got = parsched.chunk_cuts(lay, jobs)
    assert got[0] == lay.first and got[-1] == size
    assert all(a < b for a, b in itertools.pairwise(got))
    lengths = [b - a for a, b in itertools.pairwise(got)]
    tail = parsched.TAIL_PER_JOB * jobs
    if len(lengths) == jobs:  # too small for smaller ranges: one per process, as before
        assert got == cuts(lay, jobs)
        smallest = (size - lay.first) * (1 - parsched.FIRST_SHARE) / (tail * (tail + 1) / 2)
        assert smallest < parsched.MIN_TAIL_BYTES * 1.01
        return
    assert len(lengths) == jobs + tail
    first, rest = lengths[:jobs], lengths[jobs:]
    assert max(first) - min(first) <= 1
    assert sum(first) == pytest.approx(parsched.FIRST_SHARE * (size - lay.first), rel=1e-6)
    assert rest == sorted(rest, reverse=True) and min(rest) >= parsched.MIN_TAIL_BYTES
    assert rest[0] < first[0]


def _scheduled(
    count: int, workers: int, slow: float, fail: int | None = None
) -> tuple[list[object], dict[int, str]]:
    """Ranges run through a Scheduler over a thread pool whose tasks take ``slow`` seconds
    (this thread's take none): each range's result, and who ran it."""
    ran: dict[int, str] = {}
    lock = threading.Lock()

    def task(r: int) -> str:
        time.sleep(slow)
        with lock:
            assert r not in ran
            ran[r] = "pool"
        if r == fail:
            raise ValueError(f"range {r}")
        return f"r{r}"

    def here(r: int) -> str:
        with lock:
            assert r not in ran
            ran[r] = "here"
        return f"r{r}"

    with ThreadPoolExecutor(max(workers, 1)) as ex:

        def submit(pool: Executor, r: int) -> Future[str]:
            return pool.submit(task, r)

        with parsched.Scheduler(ex, count, workers, submit) as sched:
            sched.help(here)
            try:
                results: list[object] = list(sched.results())
            except ValueError as exc:
                results = [exc]
    return results, ran


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_range_once_in_order(workers: int) -> None:
    results, ran = _scheduled(12, workers, 0.02)
    assert results == [f"r{r}" for r in range(1, 12)]
    assert sorted(ran) == list(range(1, 12))
    # The workers' first ranges went out at once; this process, free at once, took the rest
    # that no worker had asked for yet.
    assert all(ran[r] == "pool" for r in range(1, workers + 1))
    assert "here" in ran.values()


def test_a_slow_caller_leaves_the_ranges_to_the_workers() -> None:
    """Handed out one at a time as each worker comes back: with this process busy elsewhere,
    the workers run everything."""
    ran: list[int] = []

    def submit(pool: Executor, r: int) -> Future[int]:
        return pool.submit(lambda: ran.append(r) or r)

    with ThreadPoolExecutor(1) as ex, parsched.Scheduler(ex, 6, 1, submit) as sched:
        assert [sched.slot(r).result(timeout=10) for r in range(1, 6)] == [1, 2, 3, 4, 5]
        sched.help(lambda r: pytest.fail(f"range {r} left over"))
        assert sched.results() == [1, 2, 3, 4, 5]
    assert ran == [1, 2, 3, 4, 5]


def test_a_failed_range_stops_the_rest() -> None:
    """A range that fails in a worker: its error is what the caller gets (the split is given
    up; one pass follows)."""
    results, _ = _scheduled(30, 1, 0.05, fail=1)
    assert len(results) == 1 and isinstance(results[0], ValueError)
    assert str(results[0]) == "range 1"


def test_a_failure_here_reaches_the_caller() -> None:
    def submit(pool: Executor, r: int) -> Future[int]:
        return pool.submit(time.sleep, 0.05)

    def boom(r: int) -> int:
        raise KeyError(r)

    with ThreadPoolExecutor(1) as ex, parsched.Scheduler(ex, 5, 1, submit) as sched:
        with pytest.raises(KeyError):
            sched.help(boom)
        with pytest.raises((KeyError, parsched.RangeNotRun)):
            sched.results()


@pytest.fixture
def fine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small captures split, and cut into smaller ranges after the first (as a large one is)."""
    monkeypatch.setattr(parallel, "MIN_SPLIT_BYTES", 0)
    monkeypatch.setattr(parsched, "MIN_TAIL_BYTES", 1)


def _count_ranges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = pardecrypt._write_parts

    def spy(ex: Executor, split: object, *a: object, **k: object) -> object:
        seen.append(len(split.walked))  # type: ignore[attr-defined]
        return real(ex, split, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(pardecrypt, "_write_parts", spy)
    return seen


@pytest.mark.parametrize("suite", ["AES-GCM-16-128", "AES-CBC-128+HMAC-SHA2-256-128"])
def test_decrypt_in_smaller_ranges_same_file(
    suite: str,
    tmp_path: Path,
    fine: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bench_decrypt_file.py's capture with its [[esp]] keys: with 2, 3 and 4 processes, cut
    into 2, 3 and 4 ranges and then 4, 6 and 8 smaller ones, the file and the counts line are
    one pass's, and no part file is left."""
    cap, keys = bench_capture(tmp_path, monkeypatch, 4000, suite)
    one = tmp_path / "one.pcap"
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(one)]) == 0
    one_err = capsys.readouterr().err
    seen = _count_ranges(monkeypatch)
    for jobs in (2, 3, 4):
        many = tmp_path / f"many{jobs}.pcap"
        argv = ["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", str(jobs)]
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert "one process" not in err
        assert err == one_err
        assert many.read_bytes() == one.read_bytes()
    assert seen == [6, 9, 12]
    assert not list(tmp_path.glob(".ikeview-parts-*"))


@pytest.mark.parametrize("scenario", ["rekey-dpd", "certs-frag", "multi-child"])
def test_decrypt_located_in_smaller_ranges_same_file(
    scenario: str,
    tmp_path: Path,
    fine: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A PSK with more processes than hand frames over (``parhandoff.HANDOFF_JOBS``): every
    range but the last located first, the file cut as above (3 and 4 ranges, then 6 and 8
    smaller ones) on lab captures with rekeys, IKE fragments and several children, whose later
    ranges need the IKE before them: one pass's file and counts line."""
    from lab_support import LAB

    cap, keys = LAB / scenario / "capture.pcap", LAB / scenario / "keys.toml"
    one = tmp_path / "one.pcap"
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(one)]) == 0
    one_err = capsys.readouterr().err
    seen = _count_ranges(monkeypatch)
    located: list[int] = []
    real = pardecrypt.locate_open

    def spied(*a: object) -> object:
        located.append(1)
        return real(*a)  # type: ignore[arg-type]

    monkeypatch.setattr(pardecrypt, "locate_open", spied)
    for jobs in (3, 4):
        many = tmp_path / f"many{jobs}.pcap"
        argv = ["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", str(jobs)]
        assert main(argv) == 0
        assert capsys.readouterr().err == one_err
        assert many.read_bytes() == one.read_bytes()
    assert seen == [9, 12] and located == [1, 1]
    assert not list(tmp_path.glob(".ikeview-parts-*"))


def test_decrypt_in_smaller_ranges_with_failures_and_damage(
    tmp_path: Path, fine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """fastesp_support's capture (bad ICVs across the file, an SPI without keys, ESP in ESP,
    cut packets): one pass's file and counts, whether the ranges were joined or the capture
    read again in one."""
    from fastesp_support import write_capture

    cap, keys = tmp_path / "esp.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=6000)
    one = tmp_path / "one.pcap"
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(one)]) == 0
    one_err = capsys.readouterr().err
    for jobs in ("2", "3"):
        many = tmp_path / f"many{jobs}.pcap"
        assert (
            main(["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", jobs]) == 0
        )
        err = capsys.readouterr().err
        assert many.read_bytes() == one.read_bytes()
        assert [ln for ln in err.splitlines() if not ln.startswith("ikeview: ")] == [
            ln for ln in one_err.splitlines() if not ln.startswith("ikeview: ")
        ]
    assert not list(tmp_path.glob(".ikeview-parts-*"))


def test_a_join_that_fails_says_so(
    tmp_path: Path,
    fine: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parts' join meets a full disk: one line says so, the target is untouched and no
    part file is left."""
    import errno

    from ikeview import partjoin

    cap, keys = bench_capture(tmp_path, monkeypatch, 3000)

    def full(*_a: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(partjoin, "append_parts", full)
    many = tmp_path / "many.pcap"
    many.write_bytes(b"before")
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device (any previous file is unchanged)" in err
    assert many.read_bytes() == b"before"
    assert not list(tmp_path.glob(".ikeview-parts-*"))
    assert not list(tmp_path.glob(".many.pcap.*"))


_DIE = """
import os
from ikeview import parallel, pardecrypt, parsched

MAIN = os.getpid()
real = pardecrypt.decrypt_unlocated_range

def _die(split, r, *args, **kwargs):
    if os.getpid() != MAIN:
        os._exit(3)  # a worker killed (out of memory, signal): no result, no exception
    return real(split, r, *args, **kwargs)

parallel.MIN_SPLIT_BYTES = 0
parsched.MIN_TAIL_BYTES = 1
pardecrypt.decrypt_unlocated_range = _die
"""


def test_a_worker_that_dies_means_one_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed while the main process takes the tail ranges: the capture is read again
    in one pass (its file and counts), no part file left. The workers must run the patched
    function: a fresh interpreter (freshrun.py)."""
    from freshrun import run_patched

    cap, keys = bench_capture(tmp_path, monkeypatch, 4000)
    one = tmp_path / "one.pcap"
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(one)]) == 0
    one_err = capsys.readouterr().err
    many = tmp_path / "many.pcap"
    argv = ["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", "2"]
    code, _, err = run_patched(_DIE, argv)
    assert code == 0, err
    assert "BrokenProcessPool; read in one process" in err
    assert [ln for ln in err.splitlines() if not ln.startswith("ikeview: ")] == [
        ln for ln in one_err.splitlines() if not ln.startswith("ikeview: ")
    ]
    assert many.read_bytes() == one.read_bytes()
    assert not list(tmp_path.glob(".ikeview-parts-*"))
    assert not list(tmp_path.glob(".many.pcap.*"))
