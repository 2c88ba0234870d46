"""ikeview/partjoin.py's pieces: a later range's part written in pieces, each named once it is
complete, and appended by the joiner while the range is still being written.

The pieces hold the part's bytes in order and are named only when full (or at the end);
an abandoned range leaves its last piece unnamed; the joiner appends the pieces of a range
that has not ended yet, stops at a range that failed, and with ``decrypt -o --jobs`` on
make_lab_esp.py's capture (ranges located: the keys file's PSK and DH secret open IKE), cut
into pieces of 64 KiB and joined around the page cache, the file and the counts are one
pass's, whether a worker lives or dies."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from test_directout import force_direct

from ikeview import partjoin
from ikeview.cli import main

REPO = Path(__file__).resolve().parents[1]


def _chunks(seed: int, total: int) -> list[bytes]:
    rng = random.Random(seed)
    out: list[bytes] = []
    while total > 0:
        n = min(rng.choice([1, 7, 100, 999, 1000, 1001, 4096]), total)
        out.append(rng.randbytes(n))
        total -= n
    return out


def _named(part: Path) -> list[Path]:
    return sorted(part.parent.glob(part.name + ".*"), key=lambda p: p.name)


@pytest.mark.parametrize("seed", range(4))
def test_pieces_hold_the_bytes_in_order(seed: int, tmp_path: Path) -> None:
    part = tmp_path / "part1"
    data = _chunks(seed, 20_000)
    writer = partjoin.PieceWriter(str(part), piece_bytes=3000)
    for chunk in data:
        writer.write(chunk)
    writer.close()
    names = [f"part1.{k}" for k in range(len(_named(part)))]
    assert [p.name for p in _named(part)] == sorted(names)
    got = b"".join((tmp_path / n).read_bytes() for n in names)
    assert got == b"".join(data)
    sizes = [(tmp_path / n).stat().st_size for n in names]
    # Each piece but the last is cut at the first write that takes it to the limit.
    assert all(3000 <= s < 3000 + 4096 for s in sizes[:-1])


def test_a_piece_is_named_only_when_complete(tmp_path: Path) -> None:
    part = tmp_path / "part1"
    writer = partjoin.PieceWriter(str(part), piece_bytes=100)
    writer.write(b"a" * 60)
    writer.flush()
    assert [p.name for p in _named(part)] == ["part1.0.tmp"]
    writer.write(b"b" * 60)
    assert [p.name for p in _named(part)] == ["part1.0", "part1.1.tmp"]
    writer.write(b"c" * 10)
    writer.abandon()  # a range that failed: its last piece is never joined
    assert [p.name for p in _named(part)] == ["part1.0", "part1.1.tmp"]
    assert (tmp_path / "part1.1.tmp").read_bytes() == b"c" * 10


def _write_slowly(
    part: Path,
    data: list[bytes],
    done: Future[object],
    result: object,
    gate: threading.Event | None = None,
) -> None:
    """``data`` written in pieces of 5,000 octets, a little at a time (halfway, waiting for
    ``gate``: the join has taken a piece), then ``done`` given ``result``."""
    writer = partjoin.PieceWriter(str(part), piece_bytes=5000)
    for k, chunk in enumerate(data):
        writer.write(chunk)
        time.sleep(0.0005)
        if gate is not None and k == len(data) // 2:
            gate.wait(timeout=30)
    writer.close()
    if isinstance(result, BaseException):
        done.set_exception(result)
    else:
        done.set_result(result)


@pytest.mark.parametrize("direct", [False, True])
def test_the_join_takes_pieces_while_the_range_runs(
    direct: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two later ranges written by threads: the first range's pieces reach the target before
    that range ends, and the target ends as the head and both parts' records."""
    if direct:
        force_direct(monkeypatch)
    head = random.Random(9).randbytes(5000)
    target = tmp_path / "out.pcap"
    target.write_bytes(head)
    parts = [tmp_path / "part1", tmp_path / "part2"]
    datas = [_chunks(1, 60_000), _chunks(2, 30_000)]
    ready: list[Future[object]] = [Future(), Future()]
    seen_early = threading.Event()
    real = partjoin.Joiner._pieces

    def spy(part: str, fut: Future[object]):  # type: ignore[no-untyped-def]
        for got in real(part, fut):
            if part == str(parts[0]) and not fut.done():
                seen_early.set()
            yield got

    monkeypatch.setattr(partjoin.Joiner, "_pieces", staticmethod(spy))
    joiner = partjoin.Joiner(target, [str(p) for p in parts], lambda r: ready[r - 1], 0)
    gates = [seen_early, None]
    threads = [
        threading.Thread(target=_write_slowly, args=(p, d, f, object(), g))
        for p, d, f, g in zip(parts, datas, ready, gates, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    joiner.check()
    assert seen_early.is_set()
    want = head + b"".join(datas[0])[partjoin.PCAP_HEADER :]
    want += b"".join(datas[1])[partjoin.PCAP_HEADER :]
    assert target.read_bytes() == want
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("part")]


def test_the_join_stops_at_a_range_that_failed(tmp_path: Path) -> None:
    target = tmp_path / "out.pcap"
    target.write_bytes(b"H" * 100)
    parts = [tmp_path / "part1", tmp_path / "part2"]
    ready: list[Future[object]] = [Future(), Future()]
    part2 = partjoin.PieceWriter(str(parts[1]), piece_bytes=10)
    part2.write(b"x" * 50)
    part2.close()
    ready[1].set_result(object())
    joiner = partjoin.Joiner(target, [str(p) for p in parts], lambda r: ready[r - 1], 0)
    data = _chunks(3, 12_000)
    _write_slowly(parts[0], data, ready[0], RuntimeError("worker died"))
    joiner.check()  # the failure is the caller's to meet, in its results
    # What the failed range named was appended (the caller throws the output away); nothing
    # of the range after it.
    assert target.read_bytes() == b"H" * 100 + b"".join(data)[partjoin.PCAP_HEADER :]
    assert (tmp_path / "part2.0").exists()


@pytest.fixture(scope="module")
def lab_esp(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """make_lab_esp.py's capture: the lab's gcm16-ecp256 session with 30,000 more ESP packets
    encrypted with the keys strongSwan logged, and the scenario's own keys file."""
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    try:
        import make_lab_esp
    finally:
        sys.path.remove(str(REPO / "bench"))
    cap = tmp_path_factory.mktemp("labesp") / "lab.pcap"
    make_lab_esp.write_capture(30_000, cap)
    return cap, make_lab_esp.KEYS


_SMALL = """
import atexit, os, sys
from ikeview import directout, parallel, pardecrypt, parhandoff, partjoin

parallel.MIN_SPLIT_BYTES = 0
directout.MIN_BYTES = 0
directout.DirectWriter.__init__.__defaults__ = (4096,)
partjoin.PIECE_BYTES = 64 << 10
MAIN = os.getpid()
joined = []
real_pieces = partjoin.Joiner._pieces

def counted(part, ready):
    for got in real_pieces(part, ready):
        joined.append(ready.done())
        yield got

partjoin.Joiner._pieces = staticmethod(counted)
parhandoff.HANDOFF_JOBS = 8  # handed over with 3 processes too
located = []

def spied(real):
    def locating(*a):
        located.append(True)
        return real(*a)
    return locating

pardecrypt.locate = spied(pardecrypt.locate)
pardecrypt.locate_open = spied(pardecrypt.locate_open)
atexit.register(lambda: print("JOINED", len(joined), sum(joined), located, file=sys.stderr))
"""

_DIE_AT_THIRD_PIECE = """
seals = []
real_seal = partjoin.PieceWriter._seal

def seal(self):
    real_seal(self)
    seals.append(1)
    if os.getpid() != MAIN and len(seals) == 3:
        os._exit(3)  # a worker killed mid-range, three pieces named

partjoin.PieceWriter._seal = seal
"""


def _counts(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if not ln.startswith(("ikeview: ", "JOINED"))]


# The record path: there a PSK's ranges are located; on the batch path they are handed over
# (parhandoff).
_LOCATED = ["--no-fast"]


@pytest.mark.parametrize(
    ("jobs", "located"), [("2", True), ("3", True), ("2", False), ("3", False)]
)
def test_psk_decrypt_in_pieces_same_file(
    jobs: str,
    located: bool,
    lab_esp: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A PSK, the later parts in 64 KiB pieces joined around the page cache as they come: one
    pass's file and counts, pieces joined, no part left; ranges located (the record path) or
    handed over (the batch path: nothing located). A fresh interpreter (freshrun.py), so that
    the workers write pieces that small."""
    from freshrun import run_patched

    cap, keys = lab_esp
    extra = _LOCATED if located else []
    one = tmp_path / "one.pcap"
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(one), *extra]) == 0
    one_err = capsys.readouterr().err
    many = tmp_path / "many.pcap"
    argv = ["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", jobs, *extra]
    code, _, err = run_patched(_SMALL, argv)
    assert code == 0, err
    assert "one process" not in err
    assert _counts(err) == _counts(one_err)
    assert many.read_bytes() == one.read_bytes()
    line = next(ln for ln in err.splitlines() if ln.startswith("JOINED"))
    _, pieces, _early, how = line.split(" ", 3)
    # 30,000 packets decrypted are ~8 MB: the later ranges' parts make some 60 pieces.
    assert int(pieces) > 40
    assert how == ("[True]" if located else "[]")
    assert not list(tmp_path.glob(".ikeview-parts-*"))


def test_a_worker_that_dies_between_pieces_means_one_pass(
    lab_esp: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker killed once three of its pieces are named (some of them joined already): the
    capture is read again in one pass, its file and counts, no part and no temporary file
    left."""
    from freshrun import run_patched

    cap, keys = lab_esp
    one = tmp_path / "one.pcap"
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(one)]) == 0
    one_err = capsys.readouterr().err
    many = tmp_path / "many.pcap"
    argv = ["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", "2"]
    code, _, err = run_patched(_SMALL + _DIE_AT_THIRD_PIECE, argv)
    assert code == 0, err
    assert "BrokenProcessPool; read in one process" in err
    assert _counts(err) == _counts(one_err)
    assert many.read_bytes() == one.read_bytes()
    assert not list(tmp_path.glob(".ikeview-parts-*"))
    assert not list(tmp_path.glob(".many.pcap.*"))
