"""``report`` / ``export --jobs`` on unlocated ranges: each later range streams its frames that are
not plain ESP back to the first range's process as it meets them (``ikeview.parback``).

The lab's strongSwan captures (rekeys with DPD, IKE fragments, NAT-T, MOBIKE), split however
small, without keys and with their PSK (the handoff path), give one pass's bytes with the
frames read through the files, in writes of 64 KiB or of one frame; a full disk sends the
capture to one pass with a line saying so. Then the files themselves: records read whole and
in order while the range goes on, the end mark, a range that stops without one, frames larger
than a read.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from freshrun import run_patched
from ikeview.dissectors.records import RawFrame
from lab_support import LAB

from ikeview import parback, parhandoff, parunlocated
from ikeview.cli import main

SCENARIOS = ["rekey-dpd", "certs-frag", "natt", "mobike"]


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """For each later range read through its file: how many frames came back."""
    counts: list[int] = []
    real = parunlocated.back_frames

    def counted(path: str, ready: Future[Any], idle: Any = None) -> Iterator[RawFrame]:
        counts.append(0)
        for raw in real(path, ready, idle):
            counts[-1] += 1
            yield raw

    monkeypatch.setattr(parunlocated, "back_frames", counted)
    return counts


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("keys", ["none", "psk"])
@pytest.mark.parametrize("jobs", ["2", "3"])
def test_streamed_frames_give_one_pass_output(
    scenario: str,
    keys: str,
    jobs: str,
    split_small: None,
    streamed: list[int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``report --json``: one pass's output, every later range's frames read from its file
    (at least one range holds some)."""
    monkeypatch.setattr(parhandoff, "HANDOFF_JOBS", 8)  # the PSK's three ranges hand over too
    cap = LAB / scenario / "capture.pcap"
    argv = ["report", str(cap), "--json"]
    if keys == "psk":
        argv += ["--keys", str(LAB / scenario / "keys.toml")]
    assert main(argv) == 0
    one = capsys.readouterr()
    assert main([*argv, "--jobs", jobs]) == 0
    assert capsys.readouterr() == one
    assert len(streamed) == int(jobs) - 1
    assert sum(streamed) > 0


def test_export_streams_too(
    split_small: None,
    streamed: list[int],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """``export --csv`` (exchanges) and ``export --esp --csv`` go the same way."""
    cap = LAB / "rekey-dpd" / "capture.pcap"
    for extra in ([], ["--esp"]):
        one, many = tmp_path / "one.csv", tmp_path / "many.csv"
        assert main(["export", str(cap), *extra, "--csv", str(one)]) == 0
        assert main(["export", str(cap), *extra, "--csv", str(many), "--jobs", "2"]) == 0
        assert many.read_bytes() == one.read_bytes()
    capsys.readouterr()
    assert len(streamed) == 2 and all(streamed)


# What the workers must run patched goes through a fresh interpreter (freshrun.py): a pool
# started where other threads are alive uses a fork server, whose workers would not see a
# monkeypatch made here.
_SPLIT = "from ikeview import parallel, parback\nparallel.MIN_SPLIT_BYTES = 0\n"


@pytest.mark.parametrize("scenario", ["rekey-dpd", "certs-frag"])
@pytest.mark.parametrize("keys", ["none", "psk"])
def test_frames_written_one_by_one_give_one_pass_output(
    scenario: str, keys: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each frame written on its own (``FLUSH_BYTES`` 1), so that the first range's process
    reads them as they come: one pass's output with 2 and 3 processes."""
    argv = ["report", str(LAB / scenario / "capture.pcap"), "--json"]
    if keys == "psk":
        argv += ["--keys", str(LAB / scenario / "keys.toml")]
    assert main(argv) == 0
    one = capsys.readouterr()
    for jobs in ("2", "3"):
        setup = _SPLIT + "parback.FLUSH_BYTES = 1\n"
        if keys == "psk":
            setup += "from ikeview import parhandoff\nparhandoff.HANDOFF_JOBS = 8\n"
        code, out, err = run_patched(setup, [*argv, "--jobs", jobs])
        assert code == 0, err
        assert (out, err) == (one.out, one.err)


def test_no_room_for_the_frames_means_one_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """Every write to the files fails as on a full file system: a line says so, and one
    pass's output comes out."""
    setup = (
        _SPLIT + "import errno\n\n"
        "def full(fd, data):\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device')\n\n"
        "from ikeview import parhandoff\n"
        "parhandoff.Handoff._write = staticmethod(full)\n"
    )
    argv = ["report", str(LAB / "rekey-dpd" / "capture.pcap"), "--json"]
    assert main(argv) == 0
    one = capsys.readouterr()
    code, out, err = run_patched(setup, [*argv, "--jobs", "2"])
    assert code == 0, err
    assert out == one.out
    assert err == "ikeview: --jobs 2: HandoffLost; read in one process\n" + one.err


def _data(size: int) -> bytes:
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def _frame(index: int, size: int = 3) -> RawFrame:
    return RawFrame(index, 1_700_000_000.25 + index, 1, _data(size), size + 10)


def _file(tmp_path: Path) -> str:
    path = tmp_path / "back"
    path.touch(mode=0o600)
    return str(path)


def test_frames_are_read_whole_in_order_while_the_range_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each frame written on its own: the reader takes them as they come, holds half a
    record until the rest is there, and stops at the end mark though the range's result is
    not in yet; its ``idle`` work is done once, when it first has nothing to read."""
    monkeypatch.setattr(parback, "FLUSH_BYTES", 1)
    path = _file(tmp_path)
    writer, ready = parback.back_writer(path, 0), Future[Any]()
    frames = [_frame(i, 40 + i) for i in range(1, 6)]
    for raw in frames[:3]:
        writer.frame(raw)
    idled: list[int] = []
    reader = parback.back_frames(path, ready, lambda: idled.append(len(idled)))
    assert [next(reader) for _ in range(3)] == frames[:3]
    assert idled == []

    # Half of the fourth record, then (from another thread, a little later) the rest and
    # the fifth: the reader waits for the whole record.
    fourth = frames[3]
    head = parhandoff._FRAME.pack(b"F", 4, fourth.ts, 1, fourth.orig_len, len(fourth.data))
    record = head + fourth.data
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, record[:20])

    def rest() -> None:
        time.sleep(0.05)
        os.write(fd, record[20:])
        writer.frame(frames[4])
        writer.end(1234)
        writer.close()

    thread = threading.Thread(target=rest)
    thread.start()
    try:
        assert list(reader) == frames[3:]
    finally:
        thread.join()
        os.close(fd)
    assert not ready.done()
    assert idled == [0]


def test_a_range_that_stops_without_its_end_mark(tmp_path: Path) -> None:
    """A worker that died after writing some frames: what it wrote, then the reader stops
    once the range's result is done (the caller learns what happened there)."""
    path = _file(tmp_path)
    writer, ready = parback.back_writer(path, 0), Future[Any]()
    frames = [_frame(i, 100) for i in range(1, 4)]
    for raw in frames:
        writer.frame(raw)
    writer._flush()  # written, as a worker's last flush before it died
    writer.close()
    ready.set_exception(RuntimeError("worker died"))
    assert list(parback.back_frames(path, ready)) == frames


def test_large_frames_cross_reads(tmp_path: Path) -> None:
    """Frames larger than one read of the file (64 KiB) come back whole."""
    path = _file(tmp_path)
    writer, ready = parback.back_writer(path, 0), Future[Any]()
    frames = [_frame(1, 70_000), _frame(2, 5), _frame(3, 200_000)]
    for raw in frames:
        writer.frame(raw)
    writer.end(99)
    writer.close()
    ready.set_result(None)
    assert list(parback.back_frames(path, ready)) == frames
