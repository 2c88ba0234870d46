"""Issue 15: hostile and careless input. One test per defect, on the crafted input that showed
it; every command finishes with a result or one line, in seconds, under 300 MB peak RSS.

The crafted inputs are built in tests/hostile_inputs.py (each says which RFC layout it abuses);
commands run as child processes measured by tests/hostile_run.py (os.wait4 rusage).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import hostile_inputs as craft
import pytest
from hostile_run import REPO, ikeview
from lab_support import lab_scenario

PSK = lab_scenario("psk-aes256-sha256-modp2048")
CAPTURE = PSK.capture
KEYS = PSK.keys_path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- 1: Delete payload bomb


@pytest.fixture(scope="module")
def delete_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "delete-bomb.pcap"
    path.write_bytes(craft.delete_bomb_pcap(3))
    return path


def test_delete_with_spi_size_0_makes_no_records() -> None:
    from ikeview.dissectors.ikev2 import parse_message

    msg = parse_message(craft.delete_bomb_message(8 * 500 + 28))
    assert msg.error is None
    assert len(msg.payloads) == 500
    assert all(p.spis == () and p.spi_size == 0 for p in msg.payloads)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["summary", "report", "export", "keys", "decrypt"])
def test_delete_bomb_is_cheap_for_every_command(
    command: str, delete_bomb: Path, tmp_path: Path
) -> None:
    extra: list[str | Path] = {
        "export": ["--csv", tmp_path / "t.csv"],
        "keys": ["--keys", KEYS],
        "decrypt": ["--keys", KEYS, "-o", tmp_path / "d.pcap"],
    }.get(command, [])
    run = ikeview(command, delete_bomb, *extra)
    run.within_bounds()
    assert run.code == 0, run.stderr


def test_per_message_records_are_bounded_by_a_budget() -> None:
    from ikeview.dissectors.ikev2 import MAX_ITEMS, parse_message

    msg = parse_message(craft.delete_bomb_message())  # 8,121 payloads of 8 bytes
    assert msg.error is not None and f"more than {MAX_ITEMS}" in msg.error.reason
    assert len(msg.payloads) == MAX_ITEMS


def test_tiny_payload_flood_stays_small(tmp_path: Path) -> None:
    path = tmp_path / "tiny.pcap"
    path.write_bytes(craft.tiny_payloads_pcap(50))  # 3.3 MB
    for command in ("summary", "report"):
        run = ikeview(command, path)
        run.within_bounds()
        assert run.code == 0
        assert run.rss_mb < 120  # seconds are bounded by within_bounds (MAX_SECONDS)


def test_hash_algorithm_list_is_bounded() -> None:
    from ikeview.dissectors.notify_data import MAX_LIST, NotifyMalformed, decode

    got = decode(16431, b"", b"\x00\x02" * 30_000)  # SIGNATURE_HASH_ALGORITHMS
    assert isinstance(got, NotifyMalformed) and str(MAX_LIST) in got.reason


# ---------------------------------------------------------------- 2, 6, 7: outputs


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "in.pcap").write_bytes(CAPTURE.read_bytes())
    return tmp_path


@pytest.mark.parametrize("how", ["same", "hardlink", "symlink", "dangling"])
def test_decrypt_never_writes_over_its_input(work: Path, how: str) -> None:
    src = work / "in.pcap"
    before = _digest(src)
    out = work / "out.pcap"
    if how == "same":
        out = src
    elif how == "hardlink":
        os.link(src, out)
    elif how == "symlink":
        out.symlink_to(src)
    else:
        out.symlink_to(work / "nowhere")
    run = ikeview("decrypt", src, "--keys", KEYS, "-o", out)
    run.within_bounds()
    assert run.code == 1
    line = run.one_line_error()
    assert ("refusing to write" in line) if how in ("same", "hardlink") else ("link" in line)
    assert _digest(src) == before
    assert not (work / "nowhere").exists()


def test_export_csv_over_the_capture_is_refused(work: Path) -> None:
    src = work / "in.pcap"
    before = _digest(src)
    run = ikeview("export", src, "--csv", src)
    assert run.code == 1 and "refusing to write" in run.one_line_error()
    assert _digest(src) == before


def test_keys_file_is_an_input_too(work: Path) -> None:
    keys = work / "k.toml"
    keys.write_text(KEYS.read_text())
    run = ikeview("decrypt", work / "in.pcap", "--keys", keys, "-o", keys)
    assert run.code == 1 and "refusing to write" in run.one_line_error()
    assert keys.read_text() == KEYS.read_text()


def test_overwrite_is_said_and_atomic(work: Path) -> None:
    out = work / "out.pcap"
    out.write_bytes(b"previous")
    run = ikeview("decrypt", work / "in.pcap", "--keys", KEYS, "-o", out)
    assert run.code == 0, run.stderr
    assert "replaced the existing file" in run.stderr
    assert out.read_bytes()[:4] == b"\xd4\xc3\xb2\xa1"
    assert [p.name for p in work.iterdir() if p.name.endswith(".part")] == []


def test_failing_decrypt_leaves_nothing(work: Path) -> None:
    bad = work / "bad.pcap"
    bad.write_bytes(b"not a capture at all")
    out = work / "out.pcap"
    run = ikeview("decrypt", bad, "--keys", KEYS, "-o", out)
    assert run.code == 1 and "not a pcap" in run.one_line_error()
    assert not out.exists() and list(work.glob(".*part")) == []


def test_interrupted_write_keeps_the_previous_file(tmp_path: Path) -> None:
    """Ctrl-C inside the write (KeyboardInterrupt): the old file stays, no temporary is left."""
    from ikeview.outfile import open_output

    out = tmp_path / "out.pcap"
    out.write_bytes(b"previous")
    with pytest.raises(KeyboardInterrupt), open_output(out) as fh:
        fh.write(b"half of a new file")
        raise KeyboardInterrupt
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pcap"]


def test_ctrl_c_during_decrypt_keeps_the_previous_file(tmp_path: Path) -> None:
    """A real SIGINT while decrypt runs on a large capture."""
    big = tmp_path / "big.pcap"
    frames = [craft.udp_frame(craft.ike_message(0, b"\0" * 1000), 1234, 80)] * 30_000
    big.write_bytes(craft.pcap(frames))
    out = tmp_path / "out.pcap"
    out.write_bytes(b"previous")
    import signal
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "ikeview", "decrypt", big, "--keys", KEYS, "-o", out],
        stderr=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not list(tmp_path.glob(".out.pcap.*.part")) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert b"Traceback" not in err
    if proc.returncode == 0:  # finished before the signal arrived: a whole new file
        pytest.skip("decrypt finished before SIGINT")
    assert proc.returncode == 130, err
    assert out.read_bytes() == b"previous"
    assert list(tmp_path.glob(".*.part")) == []


def test_wireshark_tables_are_0600_and_never_follow_a_planted_link(tmp_path: Path) -> None:
    dest = tmp_path / "ws"
    dest.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("mine")
    (dest / "esp_sa").symlink_to(victim)
    run = ikeview("keys", CAPTURE, "--keys", KEYS, "--wireshark", dest)
    assert run.code == 1 and "symbolic link" in run.one_line_error()
    assert victim.read_text() == "mine"
    (dest / "esp_sa").unlink()
    (dest / "esp_sa").symlink_to(tmp_path / "dangling")
    assert ikeview("keys", CAPTURE, "--keys", KEYS, "--wireshark", dest).code == 1
    assert not (tmp_path / "dangling").exists()
    (dest / "esp_sa").unlink()
    run = ikeview("keys", CAPTURE, "--keys", KEYS, "--wireshark", dest)
    assert run.code == 0, run.stderr
    for name in ("esp_sa", "ikev2_decryption_table", "preferences"):
        assert stat.S_IMODE((dest / name).stat().st_mode) == 0o600


def test_keys_wireshark_at_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("keep")
    run = ikeview("keys", CAPTURE, "--keys", KEYS, "--wireshark", target)
    assert run.code == 1 and "not a directory" in run.one_line_error()
    assert target.read_text() == "keep"


# ---------------------------------------------------------------- 3: escape sequences


def test_printable_escapes_every_terminal_control() -> None:
    from ikeview.textsafe import printable, printable_lines

    evil = "id\x1b]0;pwned\x07\x1b[2J\x1b[31m\x9b1m\u202e\udcff\n\t"
    shown = printable(evil)
    assert shown == "id\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31m\\x9b1m\\u202e\\xff\\x0a\\x09"
    assert printable_lines("a\tb\nc\x1b") == "a\tb\nc\\x1b"
    assert printable("plain ünïcode 名前") == "plain ünïcode 名前"


def test_file_name_with_escapes_is_escaped_in_errors(tmp_path: Path) -> None:
    name = tmp_path / "\x1b]0;pwned\x07\x1b[2J.pcap"
    run = ikeview("report", name)
    assert run.code == 1
    assert "\x1b" not in run.stderr and "\x07" not in run.stderr
    assert "\\x1b]0;pwned\\x07" in run.one_line_error()


def test_file_name_with_escapes_is_escaped_in_the_report(tmp_path: Path) -> None:
    name = tmp_path / "\x1b[2J\x1b[31mred.pcap"
    name.write_bytes(craft.escape_identity_pcap())
    for command in ("report", "summary"):
        run = ikeview(command, name)
        assert run.code == 0, run.stderr
        assert "\x1b" not in run.stdout + run.stderr


def test_report_text_is_escaped_at_the_edge(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """The decrypted-identity case: whatever the report renders, the terminal gets no ESC."""
    import ikeview.report
    from ikeview import cli

    monkeypatch.setattr(
        ikeview.report, "render_text", lambda a, **k: "IDi evil\x1b]0;t\x07\x1b[2J\n"
    )
    assert cli.main(["report", str(CAPTURE)]) == 0
    out = capsys.readouterr().out
    assert out == "IDi evil\\x1b]0;t\\x07\\x1b[2J\n"


# ---------------------------------------------------------------- 4: decompression bombs


def test_zero_body_gzip_is_stopped_early(tmp_path: Path) -> None:
    bomb = tmp_path / "zeros.pcap.gz"
    bomb.write_bytes(craft.zero_body_gzip(1 << 30))  # 1 GiB of zeros in about 1 MB
    for command in ("summary", "report"):
        run = ikeview(command, bomb)
        run.within_bounds()
        assert run.code == 0
        assert "zero bytes (padding)" in run.stdout + run.stderr


def test_repeated_frame_bomb_stops_at_the_ratio(tmp_path: Path) -> None:
    bomb = tmp_path / "rep.pcap.gz"
    bomb.write_bytes(craft.repeated_frame_gzip())
    run = ikeview("summary", bomb)
    run.within_bounds()
    assert "decompression bomb" in run.stdout + run.stderr
    run = ikeview(shell=f"cat '{bomb}' | $IKEVIEW summary /dev/stdin")  # no tell() on a pipe
    run.within_bounds()
    assert "decompression bomb" in run.stdout + run.stderr


# ---------------------------------------------------------------- 5: tracebacks


ODD_TIMES = {
    "tsresol0.pcapng": lambda: craft.pcapng_odd_time(tsresol=0),
    "tsoffset+2^62.pcapng": lambda: craft.pcapng_odd_time(tsoffset=2**62),
    "tsoffset-2^62.pcapng": lambda: craft.pcapng_odd_time(tsoffset=-(2**62)),
    "year2200.pcapng": lambda: craft.pcapng_odd_time(ts=7_258_118_400_000_000),
    "ts-ffffffff.pcap": craft.pcap_max_time,
}


@pytest.mark.parametrize("name", sorted(ODD_TIMES))
def test_odd_time_stamps_never_crash(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(ODD_TIMES[name]())
    for args in (
        ["report", path],
        ["export", path, "--csv", tmp_path / "t.csv"],
        ["decrypt", path, "--keys", KEYS, "-o", tmp_path / "o.pcap"],
    ):
        run = ikeview(*args)
        run.within_bounds()
        assert run.code == 0, run.stderr
    if name.startswith(("tsresol", "tsoffset")):  # 2106 and 2200 are real dates
        assert "time stamps outside 1970..9999" in ikeview("report", path).stdout


def test_gzip_capture_on_pipes(tmp_path: Path) -> None:
    gz = tmp_path / "c.pcap.gz"
    gz.write_bytes(craft.gzip_of(CAPTURE.read_bytes()))
    expected = ikeview("summary", CAPTURE).stdout
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for shell in (
        f"cat '{gz}' | $IKEVIEW summary /dev/stdin",
        f"$IKEVIEW summary <(cat '{gz}')",
        f"cat '{gz}' > '{fifo}' & $IKEVIEW summary '{fifo}'",
    ):
        run = ikeview(shell=shell)
        assert run.code == 0, run.stderr
        assert run.stdout == expected


def test_full_disk_is_one_line(tmp_path: Path) -> None:
    for args in (
        ["decrypt", CAPTURE, "--keys", KEYS, "-o", "/dev/full"],
        ["export", CAPTURE, "--csv", "/dev/full"],
    ):
        run = ikeview(*args)
        assert run.code == 1
        assert "No space left on device" in run.one_line_error()
    for command in ("report", "summary"):
        run = ikeview(shell=f"$IKEVIEW {command} '{CAPTURE}' > /dev/full")
        assert run.code == 1
        assert "No space left on device" in run.one_line_error()


def test_file_size_limit_keeps_the_previous_file(tmp_path: Path) -> None:
    """A write that fails midway (RLIMIT_FSIZE: EFBIG, as a full disk gives ENOSPC)."""
    out = tmp_path / "out.pcap"
    out.write_bytes(b"previous")
    run = ikeview(shell=f"ulimit -f 2; $IKEVIEW decrypt '{CAPTURE}' --keys '{KEYS}' -o '{out}'")
    assert run.code == 1 and "File too large" in run.one_line_error()
    assert out.read_bytes() == b"previous"
    assert list(tmp_path.glob(".*.part")) == []


# ---------------------------------------------------------------- 8: misleading key messages


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('shared_secret = "0011223344556677"', "shared_secret is 8 bytes"),
        ('shared_secret = "' + "ab" * 255 + '"', "one byte short of 256"),
        ('shared_secret = ""', "shared_secret is empty"),
        ('shared_secret = "' + "ab" * (1 << 19) + '"', "is 524288 bytes"),
    ],
    ids=["8-bytes", "one-short", "empty", "half-a-MB"],
)
def test_wrong_dh_secret_is_named_with_file_and_line(
    line: str, expected: str, tmp_path: Path
) -> None:
    keys = tmp_path / "k.toml"
    keys.write_text(f"# lab keys\n\n[[dh]]\n{line}\n")
    run = ikeview("report", CAPTURE, "--keys", keys)
    run.within_bounds()
    assert run.code == 1
    msg = run.one_line_error()
    assert f"{keys}:4: [[dh]]" in msg and expected in msg


def test_wrong_esp_key_length_is_named(tmp_path: Path) -> None:
    keys = tmp_path / "k.toml"
    keys.write_text('[[esp]]\nspi = "c0ffee01"\nencr = "aes-gcm-16"\nkey_bits = 256\n'
                    'encr_key = "' + "00" * 32 + '"\n')  # fmt: skip
    run = ikeview("report", CAPTURE, "--keys", keys)
    assert run.code == 1
    msg = run.one_line_error()
    assert f"{keys}:5: [[esp]] encr_key is 32 bytes" in msg and "needs 36" in msg


# ---------------------------------------------------------------- 9: wording


def test_damaged_gzip_is_not_called_empty(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage-not-deflate")
    run = ikeview("summary", bad)
    assert run.code == 1
    line = run.one_line_error()
    assert "empty" not in line and "gzip" in line


def test_output_directory_wording(tmp_path: Path) -> None:
    run = ikeview("decrypt", CAPTURE, "--keys", KEYS, "-o", tmp_path)
    assert run.code == 1
    assert "is a directory; give a file name for the output" in run.one_line_error()


def test_toml_keys_with_a_bom(tmp_path: Path) -> None:
    keys = tmp_path / "bom.toml"
    keys.write_bytes(b"\xef\xbb\xbf" + KEYS.read_bytes())
    run = ikeview("report", "--json", CAPTURE, "--keys", keys)
    assert run.code == 0, run.stderr


# ---------------------------------------------------------------- 10: live options


@pytest.mark.parametrize(
    "option", [["--timeout", "-1"], ["--timeout", "nan"], ["--timeout", "inf"], ["--count", "-5"]]
)
def test_live_rejects_nonsense_limits(option: list[str]) -> None:
    run = ikeview("live", "-i", "lo", *option)
    assert run.code == 2
    assert "Traceback" not in run.stderr and option[0] in run.stderr


def test_kernel_drop_counts_are_summed_and_said() -> None:
    """PACKET_STATISTICS resets on each read (linux/if_packet.h): the tally sums the reads and
    the watcher calls back only when drops grew."""
    import struct as _struct

    from ikeview.livecap import LiveCounters, _DropWatch

    class FakeSocket:
        def __init__(self) -> None:
            self.reads = [(100, 0), (50, 7), (10, 0)]

        def getsockopt(self, level: int, name: int, size: int) -> bytes:
            return _struct.pack("=II", *self.reads.pop(0))

    tally = LiveCounters()
    said: list[int] = []
    watch = _DropWatch(FakeSocket(), tally, lambda c: said.append(c.dropped))  # type: ignore[arg-type]
    for _ in range(3):
        watch.next_read = 0.0
        watch.tick()
    assert (tally.received, tally.dropped) == (160, 7)
    assert said == [7]
    assert tally.text() == "160 packets received by filter, 7 dropped by kernel"
    # Frames queued when the capture stopped: received, neither dropped nor read.
    tally.taken = 150
    assert tally.unread == 3
    tally.taken = 153
    assert tally.unread == 0


def test_keys_file_size_is_bounded(tmp_path: Path) -> None:
    """Largest keys file (16 MiB) at its worst shape (8 M empty comment lines) is read within
    the bounds; one byte more is refused in one line."""
    from ikeview.keys.loader import MAX_KEYS_FILE

    head = '[[psk]]\nsecret = "x"\n'
    worst = tmp_path / "worst.toml"
    worst.write_text(head + "#\n" * ((MAX_KEYS_FILE - len(head)) // 2))
    run = ikeview("report", "--json", CAPTURE, "--keys", worst)
    run.within_bounds()
    assert run.code == 0, run.stderr
    over = tmp_path / "over.toml"
    over.write_text(head + "#" * (MAX_KEYS_FILE - len(head) + 1))
    run = ikeview("report", CAPTURE, "--keys", over)
    assert run.code == 1 and "larger than 16 MiB" in run.one_line_error()


def test_a_large_replaced_file_reads_the_same_until_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the new output syncs, the page cache of the file it replaces is dropped (a helper
    thread, outfile._sync): the old file is only uncached, never changed, until the rename;
    then the new bytes are there. A FIFO or a link swapped in at the target is not opened
    through (no hang, no error)."""
    from ikeview import outfile

    monkeypatch.setattr(outfile, "_DROP_CACHE_BYTES", 1)
    out = tmp_path / "out.bin"
    old = os.urandom(1 << 20)
    out.write_bytes(old)
    seen: list[bytes] = []
    sync = outfile._sync

    def watch(path: Path, *, replaced: Path | None = None) -> None:
        assert replaced == out
        sync(path, replaced=replaced)
        seen.append(out.read_bytes())  # after the sync, before the rename

    monkeypatch.setattr(outfile, "_sync", watch)
    with outfile.open_output(out, announce=None) as fh:
        fh.write(b"new")
    assert seen == [old] and out.read_bytes() == b"new"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with outfile.meanwhile(outfile._drop_cache, fifo):
        pass  # returns at once: opened non-blocking, not a regular file
    link = tmp_path / "link"
    link.symlink_to(out)
    with outfile.meanwhile(outfile._drop_cache, link):
        pass  # not followed (the refusal is an OSError, which a chore keeps to itself)
    assert out.read_bytes() == b"new"


def _held_deleted(path: Path) -> list[str]:
    """This process's descriptors still open on ``path`` after it was unlinked."""
    fds = Path("/proc/self/fd")
    links = []
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            links.append(os.readlink(fd))
    return [ln for ln in links if ln == f"{path} (deleted)"]


def test_a_large_replaced_file_is_let_go_by_a_helper_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blocks of a large file an output replaces are freed at its last close, ~0.09 s per
    500 MB here: outfile holds it across the rename and hands it to a helper process whose exit
    is that last close. The helper (here a script standing in for cat) starts holding the old,
    unlinked file; this process holds nothing of it afterwards; the output is the new bytes and
    nothing else is left in the directory. Without a helper, or with one that cannot start,
    the file is closed here, with the same result."""
    from ikeview import outfile

    monkeypatch.setattr(outfile, "_DROP_CACHE_BYTES", 1)
    out = tmp_path / "out.bin"
    seen = tmp_path / "holder.seen"
    holder = tmp_path / "holder.sh"
    # What its output (the file handed over) is, noted before it becomes cat.
    script = ["#!/bin/sh", "held=$(/usr/bin/readlink /proc/$$/fd/1)", f'echo "$held" > {seen}']
    holder.write_text("\n".join([*script, "exec /bin/cat", ""]))
    holder.chmod(0o755)
    spawn = outfile._holder
    for holders in [(str(holder),), ("/nonexistent/cat",), (str(tmp_path),)]:
        monkeypatch.setattr(outfile, "_HOLDERS", holders)
        out.write_bytes(os.urandom(1 << 16))
        pids: list[int] = []
        monkeypatch.setattr(outfile, "_holder", _noting(spawn, pids))
        with outfile.open_output(out, announce=None) as fh:
            fh.write(b"new")
        assert out.read_bytes() == b"new"
        assert not _held_deleted(out)
        if holders[0] == str(holder):
            assert pids and pids[0] > 0
            for _ in range(500):  # the helper reads the end of its input at once, and exits
                if not Path(f"/proc/{pids[0]}").exists():
                    break
                time.sleep(0.01)
            assert seen.read_text().strip() == f"{out} (deleted)"
            seen.unlink()
        else:
            assert pids == [-1]  # none started: closed here
        assert sorted(p.name for p in tmp_path.iterdir()) == ["holder.sh", "out.bin"]
    # The rename fails: the old file keeps its name and bytes, is closed here, no helper.
    monkeypatch.setattr(outfile, "_HOLDERS", (str(holder),))
    old = out.read_bytes()
    pids = []
    monkeypatch.setattr(outfile, "_holder", _noting(spawn, pids))

    def refuse(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "I/O error", str(dst))

    monkeypatch.setattr(outfile.os, "replace", refuse)
    with pytest.raises(outfile.OutputError), outfile.open_output(out, announce=None) as fh:
        fh.write(b"newer")
    assert out.read_bytes() == old and pids == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holder.sh", "out.bin"]


def _noting(
    spawn: Callable[[int], tuple[int, int]], pids: list[int]
) -> Callable[[int], tuple[int, int]]:
    def note(fd: int) -> tuple[int, int]:
        got = spawn(fd)
        pids.append(got[0])
        return got

    return note


def test_a_long_write_is_flushed_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """outfile.flushing: while a block writes, a helper thread flushes the file every pause
    (so the fsync before the rename has little left), and stops when the block ends, an
    error included; a block shorter than the pause flushes nothing. The bytes are the ones
    written."""
    import time

    from ikeview import outfile

    calls: list[int] = []
    real = os.fdatasync

    def counted(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counted)
    out = tmp_path / "out.bin"
    writes = 0
    deadline = time.monotonic() + 30  # a generous bound: this is no timing test
    with outfile.open_output(out, announce=None) as fh, outfile.flushing(fh.fileno(), 0.01):
        while len(calls) < 3 and time.monotonic() < deadline:
            fh.write(b"x" * 4096)
            writes += 1
            time.sleep(0.005)
    assert len(calls) >= 3 and out.read_bytes() == b"x" * 4096 * writes
    calls.clear()
    with (
        pytest.raises(ValueError),
        outfile.open_output(out, announce=None) as fh,
        outfile.flushing(fh.fileno(), 0.01),
    ):
        fh.write(b"partial")
        while not calls and time.monotonic() < deadline:
            time.sleep(0.005)
        raise ValueError
    flushed = len(calls)
    time.sleep(0.05)  # the helper stopped with the block: no flush after it
    assert flushed >= 1 and len(calls) == flushed
    assert out.read_bytes() == b"x" * 4096 * writes  # the failed write left the file as it was
    calls.clear()
    with outfile.open_output(out, announce=None) as fh, outfile.flushing(fh.fileno()):
        fh.write(b"short")
    assert calls == [] and out.read_bytes() == b"short"
