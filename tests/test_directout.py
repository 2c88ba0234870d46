"""ikeview/directout.py: a large output written with O_DIRECT holds exactly the bytes written, on
block edges and off them; a file system that refuses direct I/O, at the flag or at a write, gets
the same bytes through the page cache; a write error reaches the caller (``decrypt -o``'s user
at once, as one line, the target untouched); an abandoned writer stops its thread and writes
nothing more."""

from __future__ import annotations

import errno
import os
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastesp_support import write_capture

from ikeview import directout, fastdecrypt, pcapwrite
from ikeview.keys.loader import load_keys
from ikeview.outfile import OutputError
from ikeview.pcapwrite import write_decrypted

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "captures" / "lab"
pytestmark = pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="no O_DIRECT here")


def _pieces(seed: int, block: int) -> list[bytes]:
    """Writes of every awkward size: empty, one octet, just under, at and over a block, many
    blocks at once."""
    rng = random.Random(seed)
    sizes = [0, 1, block - 1, block, block + 1, 3 * block + 17, 24, 4096, 4095]
    sizes += [rng.randrange(0, 3 * block) for _ in range(60)]
    rng.shuffle(sizes)
    return [rng.randbytes(n) for n in sizes]


def force_direct(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every output written direct, in 4 KiB blocks (the smallest, so that small captures
    cross many block edges)."""
    monkeypatch.setattr(directout, "MIN_BYTES", 0)
    monkeypatch.setattr(directout.DirectWriter.__init__, "__defaults__", (4096,))


def _direct(fd: int) -> bool:
    import fcntl

    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)


@pytest.mark.parametrize("block", [4096, 8192, 3 * 4096])
@pytest.mark.parametrize("seed", range(4))
def test_the_bytes_written(block: int, seed: int, tmp_path: Path) -> None:
    pieces = _pieces(seed, block)
    path = tmp_path / "out.bin"
    with path.open("wb") as fh:
        fd = fh.fileno()
        assert directout._direct_flag_set(fh, directout.MIN_BYTES)
        writer = directout.DirectWriter(fd, block)
        for piece in pieces:
            assert writer.write(piece) == len(piece)
        assert _direct(fd)
        writer.close()
        assert not _direct(fd)
    assert path.read_bytes() == b"".join(pieces)


def test_small_or_not_regular_outputs_stay_buffered(tmp_path: Path) -> None:
    small = directout.MIN_BYTES - 1
    with (tmp_path / "small.bin").open("wb") as fh, directout.direct_output(fh, small) as out:
        assert out is fh
    with open(os.devnull, "wb") as fh, directout.direct_output(fh, directout.MIN_BYTES) as out:
        assert out is fh
    big = directout.MIN_BYTES
    with (tmp_path / "big.bin").open("wb") as fh, directout.direct_output(fh, big) as out:
        assert isinstance(out, directout.DirectWriter)
        out.write(b"x" * 5000)
    assert (tmp_path / "big.bin").read_bytes() == b"x" * 5000


def test_a_file_system_refusing_the_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    real = fcntl.fcntl

    def refuse(fd: int, cmd: int, arg: int = 0) -> int:
        if cmd == fcntl.F_SETFL and arg & os.O_DIRECT:
            raise OSError(errno.EINVAL, "no direct I/O")
        return real(fd, cmd, arg)

    monkeypatch.setattr(fcntl, "fcntl", refuse)
    big = directout.MIN_BYTES
    with (tmp_path / "o.bin").open("wb") as fh, directout.direct_output(fh, big) as out:
        assert out is fh
        out.write(b"abc")
    assert (tmp_path / "o.bin").read_bytes() == b"abc"


def _failing_write(fail: Callable[[int, memoryview], int | None]) -> Callable[..., int]:
    """os.write, except where ``fail(fd, data)`` raises or returns a count to write instead."""
    real = os.write

    def write(fd: int, data: memoryview) -> int:
        got = fail(fd, data)
        return real(fd, data) if got is None else real(fd, data[:got])

    return write


@pytest.mark.parametrize("how", ["einval-first", "einval-later", "short"])
def test_a_refused_or_short_direct_write(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EINVAL from a direct write (alignment the file system does not take) or a write cut off
    a 4 KiB edge: the rest goes through the page cache, the bytes are the same."""
    calls = [0]

    def fail(fd: int, data: memoryview) -> int | None:
        if not _direct(fd):
            return None
        calls[0] += 1
        if how == "short" and calls[0] == 2:
            return 1000
        if how.startswith("einval") and calls[0] == (1 if how == "einval-first" else 3):
            raise OSError(errno.EINVAL, "refused")
        return None

    monkeypatch.setattr(directout.os, "write", _failing_write(fail))
    pieces = _pieces(7, 8192)
    path = tmp_path / "out.bin"
    with path.open("wb") as fh:
        assert directout._direct_flag_set(fh, directout.MIN_BYTES)
        writer = directout.DirectWriter(fh.fileno(), 8192)
        for piece in pieces:
            writer.write(piece)
        writer.close()
    assert path.read_bytes() == b"".join(pieces)
    assert calls[0] >= (1 if how == "einval-first" else 2)


def test_a_write_error_reaches_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: memoryview) -> int | None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(directout.os, "write", _failing_write(full))
    with (tmp_path / "o.bin").open("wb") as fh:
        assert directout._direct_flag_set(fh, directout.MIN_BYTES)
        writer = directout.DirectWriter(fh.fileno(), 4096)
        with pytest.raises(OSError) as err:
            for _ in range(100):
                writer.write(b"y" * 3000)
            writer.close()
        assert err.value.errno == errno.ENOSPC
        writer.abandon()


def test_decrypt_on_a_full_disk_says_so_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``decrypt -o`` with every direct write failing (ENOSPC) halfway through the batch path:
    one OutputError naming the file, the earlier file at the target as it was, nothing left
    behind, no writer thread living on, and the general path never started (before, the walk
    took the error for a capture it could not read, and the general path read the whole
    capture again only to meet the same disk)."""
    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys)
    force_direct(monkeypatch)
    failed = [0]

    def full(fd: int, data: memoryview) -> int | None:
        if _direct(fd):
            failed[0] += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return None

    monkeypatch.setattr(directout.os, "write", _failing_write(full))
    _no_general_path(monkeypatch)
    target = tmp_path / "out.pcap"
    target.write_bytes(b"before")
    with pytest.raises(OutputError, match=r"out\.pcap"):
        write_decrypted(cap, load_keys([keys]), target)
    assert failed[0] and target.read_bytes() == b"before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pcap", "keys.toml", "out.pcap"]
    assert not [t for t in threading.enumerate() if t.name == "ikeview-direct"]


def test_decrypt_to_a_full_device_says_so_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through the page cache: ``/dev/full`` refuses every write."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys)
    _no_general_path(monkeypatch)
    with pytest.raises(OutputError, match="/dev/full"):
        write_decrypted(cap, load_keys([keys]), "/dev/full")


def _no_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the general path started")

    monkeypatch.setattr(pcapwrite, "_write_records", refuse)


def test_an_abandoned_writer_stops(tmp_path: Path) -> None:
    path = tmp_path / "o.bin"
    big = directout.MIN_BYTES
    with (
        path.open("wb") as fh,
        pytest.raises(KeyboardInterrupt),
        directout.direct_output(fh, big) as out,
    ):
        out.write(b"z" * 10)
        raise KeyboardInterrupt
    assert path.read_bytes() == b""  # the gathered bytes were never written
    assert not [t for t in threading.enumerate() if t.name == "ikeview-direct"]


@pytest.mark.parametrize(
    "scenario", ["generated", "esp-loss-replay", "gcm16-ecp256", "esp-corrupt", "rekey-dpd"]
)
def test_decrypt_written_direct_is_the_same_file(
    scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``decrypt -o``'s batch path written direct in 4 KiB blocks (every size forced), against
    the same path through the page cache: the lab's captures (a few KB: a block at most) and
    fastesp_support's generated capture (loss, replays, bad ICVs, damage, ESP in ESP: many
    blocks)."""
    if scenario == "generated":
        cap, key_file = tmp_path / "g.pcap", tmp_path / "keys.toml"
        write_capture(cap, key_file)
    else:
        cap = LAB / scenario / "capture.pcap"
        key_file = cap.parent / "keys.toml"
        if not cap.exists():
            pytest.skip("lab capture not in this checkout")
    keys = load_keys([key_file])
    cached = tmp_path / "cached.pcap"
    ref = fastdecrypt.write_decrypted_fast(cap, keys, cached)
    force_direct(monkeypatch)
    direct = tmp_path / "direct.pcap"
    assert fastdecrypt.write_decrypted_fast(cap, keys, direct) == ref
    assert direct.read_bytes() == cached.read_bytes()


@pytest.mark.parametrize("start", [0, 24, 4095, 4096, 4097, 3 * 4096 + 5])
@pytest.mark.parametrize("seed", range(3))
def test_append_direct_adds_the_bytes(
    start: int, seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``append_direct`` (``decrypt --jobs`` joining its parts): a file ending on a block edge
    or off one gets each source's bytes past its offset, sources of every awkward size (empty,
    one octet, around a block, shorter than their offset), in order."""
    monkeypatch.setattr(directout.DirectWriter.__init__, "__defaults__", (8192,))
    rng = random.Random(seed)
    target = tmp_path / "out.bin"
    expect = rng.randbytes(start)
    target.write_bytes(expect)
    sources = []
    for i, n in enumerate([0, 1, 8191, 8192, 8193, rng.randrange(50_000), 24, 100_000]):
        skip = rng.randrange(0, 30)
        body = rng.randbytes(n)
        (tmp_path / f"s{i}").write_bytes(rng.randbytes(skip) + body)
        sources.append((str(tmp_path / f"s{i}"), skip))
        expect += body
    (tmp_path / "short").write_bytes(b"ab")
    sources.append((str(tmp_path / "short"), 24))
    assert directout.append_direct(target, iter(sources))
    assert target.read_bytes() == expect


def test_append_direct_refused_leaves_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that refuses O_DIRECT at the flag: False, the file as it was and no
    source read (the caller copies them another way)."""
    import fcntl

    real = fcntl.fcntl

    def refuse(fd: int, cmd: int, arg: int = 0) -> int:
        if cmd == fcntl.F_SETFL and arg & os.O_DIRECT:
            raise OSError(errno.EINVAL, "no direct I/O")
        return real(fd, cmd, arg)

    def sources() -> Iterator[tuple[str, int]]:
        raise AssertionError("a source was read")
        yield ("", 0)

    monkeypatch.setattr(fcntl, "fcntl", refuse)
    target = tmp_path / "out.bin"
    target.write_bytes(b"x" * 5000)
    assert not directout.append_direct(target, sources())
    assert target.read_bytes() == b"x" * 5000
