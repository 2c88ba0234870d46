"""ikeview/parstripe.py and ikeview/rangedecrypt.py: ``decrypt -o --jobs`` in stripes, each placed
straight into the output.

A large capture written to a file is cut into stripes the processes take in turn; each stripe's
records go into their place in the output once the stripe before is placed. Here small
captures are cut into stripes as small as a few records, or smaller than one (stripes with no
record, and stripes whose records fill less than the block a direct write takes): with
``[[esp]]`` keys (bench_decrypt_file.py's capture; fastesp_support's with bad ICVs, an SPI
without keys and damage), and with the lab's strongSwan sessions and their PSK (rekeys, DPD,
IKE fragments, several children, MOBIKE, NAT-T), whose stripes need the IKE the other process
read: the file and the counts line are one pass's. A stripe that cannot be walked, a worker
that dies, a file system without direct I/O; then the chain, the buffers, and the handoffs of
stripes read with others' in between.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from pathlib import Path

import pytest
from freshrun import run_patched
from ikeview.dissectors.records import RawFrame
from lab_support import LAB
from test_parallel import bench_capture

from ikeview import parallel, pardecrypt, parhandoff, parstripe
from ikeview.cli import main
from ikeview.pcapranges import Layout, layout, open_map, scan

LAB_SCENARIOS = [
    "rekey-dpd",
    "certs-frag",
    "multi-child",
    "mobike",
    "natt",
    "ike-rekey-collision",
    "child-delete-lost",
    "reauth",
]


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary directory the chain and the handoffs go to, to see that none is left."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def _stripes(monkeypatch: pytest.MonkeyPatch, size: int) -> list[int]:
    """Small captures split into stripes of ``size`` octets; for each split written in stripes,
    how many there were."""
    monkeypatch.setattr(parallel, "MIN_SPLIT_BYTES", 0)
    monkeypatch.setattr(parstripe, "MIN_STRIPES", 1)
    monkeypatch.setattr(parstripe, "STRIPE_BYTES", size)
    seen: list[int] = []
    real = pardecrypt.write_striped

    def spy(ex: object, split: object, *a: object) -> object:
        seen.append(len(split.walked))  # type: ignore[attr-defined]
        return real(ex, split, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(pardecrypt, "write_striped", spy)
    return seen


def _decrypt(
    capsys: pytest.CaptureFixture[str], cap: Path, keys: Path, out: Path, jobs: str
) -> str:
    argv = ["decrypt", str(cap), "--keys", str(keys), "-o", str(out), "--jobs", jobs]
    assert main(argv) == 0
    return capsys.readouterr().err


def _lay(size: int) -> Layout:
    return Layout("<", 1e-6, 1, size)


@pytest.mark.parametrize("jobs", [2, 3, 8])
@pytest.mark.parametrize("size", [10_000, 60 << 20, 463_000_123, 5 << 30, 100 << 30])
def test_stripes_tile_the_file(jobs: int, size: int) -> None:
    lay = _lay(size)
    got = parstripe.stripe_cuts(lay, jobs)
    count = min((size - lay.first) // parstripe.STRIPE_BYTES, parstripe.MAX_STRIPES)
    if count < parstripe.MIN_STRIPES * jobs:
        assert got is None
        return
    assert got is not None and got[0] == lay.first and got[-1] == size
    lengths = [b - a for a, b in itertools.pairwise(got)]
    assert len(lengths) == count and max(lengths) - min(lengths) <= 1
    assert min(lengths) >= parstripe.STRIPE_BYTES


@pytest.mark.parametrize("suite", ["AES-GCM-16-128", "AES-CBC-128+HMAC-SHA2-256-128"])
@pytest.mark.parametrize("size", [64 << 10, 4096, 300])
def test_esp_keys_in_stripes_same_file(
    suite: str,
    size: int,
    tmp_path: Path,
    private_tmp: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bench_decrypt_file.py's capture with its [[esp]] keys, in stripes of 64 KiB, of 4 KiB
    and of 300 octets (fewer octets than some records: stripes with no record, and stripes
    that fill less than a 4 KiB block), by 2 and 3 processes: one pass's file and counts, and
    nothing left behind."""
    cap, keys = bench_capture(tmp_path, monkeypatch, 3000, suite)
    one = tmp_path / "one.pcap"
    one_err = _decrypt(capsys, cap, keys, one, "1")
    seen = _stripes(monkeypatch, size)
    for jobs in ("2", "3"):
        many = tmp_path / f"many{jobs}.pcap"
        assert _decrypt(capsys, cap, keys, many, jobs) == one_err
        assert many.read_bytes() == one.read_bytes()
    stripes = (cap.stat().st_size - 24) // size
    assert seen == [stripes, stripes]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [cap.name, keys.name, "one.pcap", "many2.pcap", "many3.pcap", "tmp"]
    )
    assert not list(private_tmp.iterdir())


@pytest.mark.parametrize("scenario", LAB_SCENARIOS)
@pytest.mark.parametrize("size", [64, 700])
def test_psk_in_stripes_same_file(
    scenario: str,
    size: int,
    tmp_path: Path,
    private_tmp: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lab's strongSwan sessions with their PSK in stripes of 64 and 700 octets by two
    processes: most stripes need IKE that the other process read, some an IKE fragment or a
    rekey just before them; the file and counts are one pass's, read in stripes (no line says
    otherwise), and nothing is left behind."""
    cap, keys = LAB / scenario / "capture.pcap", LAB / scenario / "keys.toml"
    one = tmp_path / "one.pcap"
    one_err = _decrypt(capsys, cap, keys, one, "1")
    seen = _stripes(monkeypatch, size)
    many = tmp_path / "many.pcap"
    assert _decrypt(capsys, cap, keys, many, "2") == one_err
    assert many.read_bytes() == one.read_bytes()
    assert seen == [(cap.stat().st_size - 24) // size]
    assert not list(private_tmp.iterdir())


def test_psk_and_ports_in_stripes(
    tmp_path: Path,
    private_tmp: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--ports`` (bare IKE may come on another port: ESP is taken over IP only) with the PSK,
    on the NAT-T and MOBIKE sessions in 300-octet stripes: one pass's file and counts."""
    seen = _stripes(monkeypatch, 300)
    for scenario in ("natt", "mobike"):
        cap, keys = LAB / scenario / "capture.pcap", LAB / scenario / "keys.toml"
        outs = []
        for jobs in ("1", "2"):
            out = tmp_path / f"{scenario}{jobs}.pcap"
            argv = [
                "decrypt",
                str(cap),
                "--keys",
                str(keys),
                "-o",
                str(out),
                "--ports",
                "4500,5000",
            ]
            assert main([*argv, "--jobs", jobs]) == 0
            outs.append((out.read_bytes(), capsys.readouterr().err))
        assert outs[0] == outs[1]
    assert len(seen) == 2
    assert not list(private_tmp.iterdir())


def test_psk_with_many_packets_in_stripes(
    tmp_path: Path,
    private_tmp: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """make_lab_esp.py's capture (the lab's AES-GCM session, then 4,000 ESP packets under its
    child SA's keys) with the session's PSK, in 32 KiB stripes: one pass's file and counts."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    import make_lab_esp

    cap = tmp_path / "lab.pcap"
    make_lab_esp.write_capture(4000, cap)
    keys = make_lab_esp.KEYS
    one = tmp_path / "one.pcap"
    one_err = _decrypt(capsys, cap, keys, one, "1")
    seen = _stripes(monkeypatch, 32 << 10)
    many = tmp_path / "many.pcap"
    assert _decrypt(capsys, cap, keys, many, "2") == one_err
    assert many.read_bytes() == one.read_bytes()
    assert seen and seen[0] > 20


def test_failures_and_damage_in_stripes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """fastesp_support's capture (bad ICVs across the file, an SPI without keys, ESP in ESP, cut
    packets) in 16 KiB stripes: one pass's file and counts, whether the stripes were placed or
    the capture read again in one."""
    from fastesp_support import write_capture

    cap, keys = tmp_path / "esp.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=5000)
    one = tmp_path / "one.pcap"
    one_err = _decrypt(capsys, cap, keys, one, "1")
    _stripes(monkeypatch, 16 << 10)
    for jobs in ("2", "3"):
        many = tmp_path / f"many{jobs}.pcap"
        err = _decrypt(capsys, cap, keys, many, jobs)
        assert many.read_bytes() == one.read_bytes()
        assert [ln for ln in err.splitlines() if not ln.startswith("ikeview: ")] == [
            ln for ln in one_err.splitlines() if not ln.startswith("ikeview: ")
        ]


_SETUP = """
import os
from ikeview import parallel, parstripe, rangedecrypt

parallel.MIN_SPLIT_BYTES = 0
parstripe.MIN_STRIPES = 1
parstripe.STRIPE_BYTES = 16 << 10
MAIN = os.getpid()
real = rangedecrypt.FreshStripes.walk
"""

_LOST = (
    _SETUP
    + """
def walk(self, k, out):
    return None if k == 5 else real(self, k, out)  # no record where stripe 5 was guessed

rangedecrypt.FreshStripes.walk = walk
"""
)

_DIES = (
    _SETUP
    + """
def walk(self, k, out):
    if os.getpid() != MAIN and k > 3:
        os._exit(3)  # a worker killed (out of memory, signal): no result, no exception
    return real(self, k, out)

rangedecrypt.FreshStripes.walk = walk
"""
)

_NO_DIRECT = (
    _SETUP
    + """
parstripe.set_direct = lambda fd: False  # a file system without O_DIRECT
"""
)


@pytest.mark.parametrize(
    ("setup", "said"),
    [
        (_LOST, "could not be split"),
        (_DIES, "BrokenProcessPool; read in one process"),
        (_NO_DIRECT, None),
    ],
    ids=["stripe-lost", "worker-dies", "no-direct-io"],
)
def test_stripes_that_go_wrong(
    setup: str,
    said: str | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stripe that cannot be walked where it was guessed to start, or a worker killed, with
    the other stripes under way: one line says so, the capture is read again in one pass (its
    file and counts), nothing is left. Without direct I/O the same writes go through the page
    cache: the same file. The workers must run the patch: a fresh interpreter (freshrun.py)."""
    cap, keys = bench_capture(tmp_path, monkeypatch, 3000)
    one = tmp_path / "one.pcap"
    one_err = _decrypt(capsys, cap, keys, one, "1")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    many = tmp_path / "many.pcap"
    argv = ["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", "2"]
    code, _, err = run_patched(setup, argv)
    assert code == 0, err
    lines = err.splitlines()
    if said is None:
        assert lines == one_err.splitlines()
    else:
        assert said in lines[0] and lines[1:] == one_err.splitlines()
    assert many.read_bytes() == one.read_bytes()
    assert not list(tmp.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [cap.name, keys.name, "one.pcap", "many.pcap", "tmp"]
    )


_FULL = (
    _SETUP
    + """
import errno

def full(fd, view):  # holds the view of the buffer it was given, as a failing write may
    raise OSError(errno.ENOSPC, "No space left on device")

parstripe.write_all = full
"""
)


def test_a_full_disk_while_placing_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills while stripes are placed: one line says so, as the parts' join does, the
    previous output is untouched and nothing is left behind."""
    cap, keys = bench_capture(tmp_path, monkeypatch, 3000)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    many = tmp_path / "many.pcap"
    many.write_bytes(b"before")
    argv = ["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", "2"]
    code, _, err = run_patched(_FULL, argv)
    assert code == 1, err
    assert "No space left on device (any previous file is unchanged)" in err
    assert "Traceback" not in err
    assert many.read_bytes() == b"before"
    assert not list(tmp.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [cap.name, keys.name, "many.pcap", "tmp"]
    )


def test_only_files_are_written_in_stripes(tmp_path: Path) -> None:
    """A regular file or none yet: stripes; a FIFO, a device or a directory: the parts."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "file").write_bytes(b"x")
    assert parstripe.striped_target(tmp_path / "file")
    assert parstripe.striped_target(tmp_path / "new.pcap")
    assert not parstripe.striped_target(fifo)
    assert not parstripe.striped_target("/dev/null")
    assert not parstripe.striped_target(tmp_path)


# ---------------------------------------------------------------------- the chain and buffers


def test_claims_publishes_and_waits(private_tmp: Path) -> None:
    """Two processes' sides: each stripe taken once, in order; a published slot gives its
    offset and carry to the process that took it, woken from its wait."""
    with parstripe.chain_file(6, 2, b"H" * 24) as path:
        a, b = parstripe.Chain(path, 0), parstripe.Chain(path, 1)
        taken: dict[int, int] = {}
        for n, who in enumerate([0, 1, 1, 0, 0, 1, 0]):
            got = (a, b)[who].claim(6, 100 * n)
            if got is None:
                assert n == 6
                continue
            assert got not in taken and a.taker(got) == b.taker(got) == (who, 100 * n)
            taken[got] = who
        assert sorted(taken) == list(range(6)) and a.taker(6) is None
        assert a.wait(0) == (24, b"H" * 24)
        waited: list[object] = []
        waiter = threading.Thread(target=lambda: waited.append(b.wait(1)))
        waiter.start()
        a.publish(1, 4096 + 10, b"0123456789")
        waiter.join(timeout=30)
        assert waited == [(4106, b"0123456789")]
        a.close()
        b.close()
    assert not list(private_tmp.iterdir())


def test_an_abort_ends_every_wait(private_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An abort from anywhere (a failed worker, from the path alone) wakes a waiting side; a
    wait with nothing placed for STALL_SECONDS aborts the chain itself."""
    with parstripe.chain_file(4, 2, b"H" * 24) as path:
        side = parstripe.Chain(path, 1)
        waited: list[object] = []
        waiter = threading.Thread(target=lambda: waited.append(side.wait(2)))
        waiter.start()
        parstripe.abort_chain(path)
        waiter.join(timeout=30)
        assert waited == [None] and side.aborted()
        side.close()
    parstripe.abort_chain(path)  # gone: nothing to do, nothing raised
    monkeypatch.setattr(parstripe, "STALL_SECONDS", 0.05)
    with parstripe.chain_file(4, 2, b"H" * 24) as path:
        side = parstripe.Chain(path, 0)
        assert side.wait(3) is None and side.aborted()
        side.close()


def test_a_buffer_keeps_records_not_the_header() -> None:
    """The writer's file header is left out however it is written, the records gathered behind
    the room for a carry; more than the stripe's octets (not in a pcap) still fit."""
    buf = parstripe.StripeBuffer(16)
    for part in (b"h" * 10, b"h" * 10, b"h" * 4 + b"rec1"):
        buf.write(part)
    buf.write(bytearray(b"rec2"))
    buf.write(memoryview(b"rec3"))
    at = parstripe.ALIGN
    assert buf.mm[at : at + buf.size] == b"rec1rec2rec3" and buf.size == 12
    buf.write(b"x" * 10_000)
    assert buf.mm[at : at + buf.size] == b"rec1rec2rec3" + b"x" * 10_000
    buf.reset()
    buf.write(b"h" * 24)
    assert buf.size == 0
    buf.mm.close()


# ------------------------------------------------------------------ handoffs with gaps in them


def _frame(index: int) -> RawFrame:
    return RawFrame(index, 1700000000.0, 1, b"\x01\x02", 6)


def test_earlier_ranges_with_this_process_own_between(tmp_path: Path) -> None:
    """A process that read stripe 1 itself follows stripes 0 and 2 (others'): each one's frames
    fed once, in order, stripe 2 taken on only once stripe 0 has ended where it does."""
    paths = [str(tmp_path / f"h{k}") for k in range(3)]
    for p in paths:
        Path(p).touch()
    base = parhandoff.base
    h0, h2 = parhandoff.Handoff(paths[0], base(0)), parhandoff.Handoff(paths[2], base(2))
    fed: list[RawFrame] = []
    earlier = parhandoff.Earlier([], [0], fed.append)
    assert earlier.done
    earlier.extend([(paths[0], 24, 1000, base(0), 0)])
    h0.frame(_frame(2))
    earlier.poll()
    earlier.extend([(paths[2], 2000, 3000, base(2), 0)])  # stripe 1 (1000-2000) was this one's
    h2.frame(_frame(base(2) + 1))
    earlier.poll()
    assert [f.index for f in fed] == [2]  # stripe 2's waits for stripe 0's end
    h0.end(1000)
    earlier.poll()
    assert [f.index for f in fed] == [2, base(2) + 1] and not earlier.done
    h2.end(3000)
    earlier.poll()
    assert earlier.done and not earlier.broken
    h0.close()
    h2.close()


def test_walking_the_rest_of_ranges_with_a_gap(tmp_path: Path) -> None:
    """Stripes 0 and 2 of a lab capture walked by their record headers (nothing handed over):
    the other frames of those two only, numbered as each one numbers them; a stripe whose end
    is no record's is broken."""
    cap = LAB / "rekey-dpd" / "capture.pcap"
    lay = layout(str(cap))
    assert lay is not None
    records: list[int] = []
    with open_map(str(cap)) as mm:
        off = lay.first
        while off < lay.size:
            records.append(off)
            off += 16 + int.from_bytes(mm[off + 8 : off + 12], "little")
        a, b, c = records[4], records[9], records[14]
        expect: list[int] = []
        base = parhandoff.base
        for k, (lo, hi) in ((0, (lay.first, a)), (2, (b, c))):
            walked = scan(mm, lay, lo, hi, None, lambda i, _o, k=k: expect.append(base(k) + i))
            assert walked is not None
    paths = [str(tmp_path / "h0"), str(tmp_path / "h2")]
    fed: list[RawFrame] = []
    earlier = parhandoff.Earlier([], [0], fed.append)
    earlier.extend([(paths[0], lay.first, a, base(0), 0), (paths[1], b, c, base(2), 0)])
    with open(cap, "rb") as fh, open_map(str(cap)) as mm:
        earlier.walk_rest(mm, lay, fh.fileno())
    assert earlier.done and not earlier.broken
    assert [f.index for f in fed] == expect and len(expect) >= 4
    off_record = parhandoff.Earlier([], [0], fed.append)
    off_record.extend([(paths[0], lay.first, a + 1, base(0), 0)])
    with open(cap, "rb") as fh, open_map(str(cap)) as mm:
        off_record.walk_rest(mm, lay, fh.fileno())
    assert off_record.done and off_record.broken


def _mapped_kb(path: Path) -> int:
    """Resident KiB of this process's mappings of ``path`` (/proc/self/smaps)."""
    total, ours = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:
            ours = fields[-1] == str(path)
        elif ours and fields[:1] == ["Rss:"]:
            total += int(fields[1])
    return total


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="Linux /proc only")
def test_a_stripe_read_leaves_no_page_mapped(tmp_path: Path) -> None:
    """Once a stripe is read its pages leave the process's resident set, with those the kernel
    mapped around them (a stripe is shorter than the walk's own page drop; the pages stay in
    the page cache): the resident set stays flat however many stripes a process reads."""
    from ikeview.pcapranges import Walked

    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(4 << 20))
    with open_map(str(path)) as mm:
        stripe = Walked(1 << 20, 2 << 20, 0)
        total = sum(mm[at] for at in range(stripe.start, stripe.end, 4096))
        assert total >= 0 and _mapped_kb(path) >= 1024
        parstripe._let_go(mm, stripe)
        assert _mapped_kb(path) == 0


def test_one_process_handoff_file_holds_its_stripes_one_after_the_other(tmp_path: Path) -> None:
    """decrypt -o's stripes: a process hands over every stripe it takes in one file, each
    stripe's handoff where the chain's slot says it begins; a later stripe's reader follows
    stripes 0 and 2 there (1 being its own), each one's frames fed once, in order."""
    path = str(tmp_path / "hand0")
    Path(path).touch()
    base = parhandoff.base
    h0 = parhandoff.Handoff(path, base(0))
    h0.frame(_frame(2))
    h0.end(1000)
    h0.close()
    at = Path(path).stat().st_size
    h2 = parhandoff.Handoff(path, base(2))
    h2.frame(_frame(base(2) + 1))
    h2.frame(_frame(base(2) + 5))
    h2.end(3000)
    h2.close()
    fed: list[RawFrame] = []
    earlier = parhandoff.Earlier([], [0], fed.append)
    earlier.extend([(path, 2000, 3000, base(2), at)])
    earlier.poll()
    assert [f.index for f in fed] == [base(2) + 1, base(2) + 5] and earlier.done
    fed.clear()
    earlier = parhandoff.Earlier([], [0], fed.append)
    earlier.extend([(path, 24, 1000, base(0), 0), (path, 2000, 3000, base(2), at)])
    earlier.poll()
    assert [f.index for f in fed] == [2, base(2) + 1, base(2) + 5]
    assert earlier.done and not earlier.broken


def test_a_start_one_process_guessed_is_not_guessed_again(
    private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stripe starts go through the chain: the start of the stripe after one process's own
    (its end) is found there by the process that takes that stripe, and every process reads the
    same starts as guessing them alone would give (the lab capture cut every 700 octets)."""
    from ikeview import rangedecrypt

    cap = LAB / "rekey-dpd" / "capture.pcap"
    lay = layout(str(cap))
    assert lay is not None
    bounds = [*range(lay.first, lay.size, 700), lay.size]
    split = parstripe.stripe_split(str(cap), lay, bounds)
    count = len(split.walked)
    guesses: list[int] = []
    real = rangedecrypt.resync

    def counted(mm: object, lay: Layout, lo: int) -> int | None:
        guesses.append(lo)
        return real(mm, lay, lo)  # type: ignore[arg-type]

    with open_map(str(cap)) as mm:
        alone = rangedecrypt.StripeBounds(split, mm)
        expect = [alone.span(k) for k in range(count)]
        monkeypatch.setattr(rangedecrypt, "resync", counted)
        with parstripe.chain_file(count, 2, b"H" * 24) as path:
            a, b = parstripe.Chain(path, 0), parstripe.Chain(path, 1)
            sides = [
                rangedecrypt.StripeBounds(split, mm, a),
                rangedecrypt.StripeBounds(split, mm, b),
            ]
            got = [sides[k % 2].span(k) for k in range(count)]
            assert a.guessed(1) == b.guessed(1) == (True, expect[1][0] if expect[1] else None)
            a.guess(2, None)
            assert b.guessed(2) == (True, None) and a.guessed(count) == (False, None)
            a.close()
            b.close()
    assert got == expect
    assert len(guesses) == count - 1  # each cut's start once (the first is the file's)
