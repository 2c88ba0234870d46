"""``decrypt -o`` and ``report`` with ``--jobs N`` and keys that open IKE: nothing located, the
earlier ranges hand their other frames over as they meet them (``ikeview.parhandoff``).

The lab's strongSwan captures with rekeys, PFS, several children, IKE fragments, NAT-T and
MOBIKE, split even though they are small, give one pass's bytes whether a later range only
waits for the handed frames or walks the rest of the record headers at its first wait; keys
given twice to one SPI, or too many other frames, send the capture to one pass. Then the
handoff files themselves: partial records, marks, ends that do not meet, a range that never
writes its end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ikeview.dissectors.records import RawFrame
from lab_support import LAB

from ikeview import pardecrypt, parhandoff
from ikeview.cli import main
from ikeview.keys.loader import load_keys
from ikeview.pcapranges import layout, open_map, scan
from ikeview.pipeline.decrypt import KeyringDecryptor

SCENARIOS = [
    "rekey-dpd",
    "pfs-create-child",
    "multi-child",
    "ike-rekey-collision",
    "certs-frag",
    "natt",
    "mobike",
    "reauth-mbb",
]


@pytest.fixture(autouse=True)
def handoffs_with_three(monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to 8 processes hand frames over here (the default stops at 2: see
    ``parhandoff.HANDOFF_JOBS`` and the test of it below), so that a range reads two earlier
    ranges' handoffs."""
    monkeypatch.setattr(parhandoff, "HANDOFF_JOBS", 8)


@pytest.fixture
def one_passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the single passes ``decrypt --jobs`` falls back to (``--jobs 1`` goes another
    way)."""
    calls: list[int] = []
    real = pardecrypt.write_decrypted

    def counted(*a: Any, **k: Any) -> Any:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(pardecrypt, "write_decrypted", counted)
    return calls


def _decrypt(
    capsys: pytest.CaptureFixture[str], cap: Path, keys: Path, out: Path, *jobs: str
) -> str:
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(out), *jobs]) == 0
    return capsys.readouterr().err


@pytest.fixture
def folds(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each fold of ``report --jobs``' unlocated ranges: whether it folded ranges that
    handed their frames over (rather than leave the capture to one pass)."""
    from ikeview import parunlocated

    made: list[bool] = []
    real = parunlocated.fold_unlocated

    def fold(*a: Any, **k: Any) -> Any:
        got = real(*a, **k)
        made.append(got is not None and k.get("handoffs") is not None)
        return got

    monkeypatch.setattr(parunlocated, "fold_unlocated", fold)
    return made


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write to a handoff fails as on a full file system."""
    import errno

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(parhandoff.Handoff, "_write", staticmethod(full))


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("jobs", ["2", "3"])
@pytest.mark.parametrize("grace", [0.0, 60.0])
@pytest.mark.parametrize("command", ["decrypt", "report"])
def test_waiting_or_walking_gives_one_pass_output(
    scenario: str,
    jobs: str,
    grace: float,
    command: str,
    split_small: None,
    one_passes: list[int],
    folds: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Grace 0: a later range walks the earlier record headers at its first wait; 60 s: it
    only ever waits for what the earlier ranges hand over. ``decrypt -o``: same file, same
    lines, no fallback; ``report --keys --json``: the later ranges' ESP folded in, one pass's
    JSON."""
    monkeypatch.setattr(parhandoff, "GRACE", grace)
    cap, keys = LAB / scenario / "capture.pcap", LAB / scenario / "keys.toml"
    if command == "decrypt":
        one_err = _decrypt(capsys, cap, keys, tmp_path / "one.pcap")
        many_err = _decrypt(capsys, cap, keys, tmp_path / "many.pcap", "--jobs", jobs)
        assert not one_passes
        assert many_err == one_err
        assert (tmp_path / "many.pcap").read_bytes() == (tmp_path / "one.pcap").read_bytes()
        return
    argv = ["report", str(cap), "--json", "--keys", str(keys)]
    assert main(argv) == 0
    one = capsys.readouterr()
    assert main([*argv, "--jobs", jobs]) == 0
    assert capsys.readouterr() == one
    assert folds == [True]


@pytest.mark.parametrize("command", ["decrypt", "report"])
def test_more_processes_than_handoff_jobs_locate_first(
    command: str,
    split_small: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """With the default (2) and ``--jobs 3`` a PSK's ranges are located first, as before
    handoffs: one pass's output."""
    from ikeview import parallel

    monkeypatch.setattr(parhandoff, "HANDOFF_JOBS", 2)
    located: list[int] = []
    for module in (pardecrypt, parallel):
        real = module.locate_open

        def spied(*a: Any, real: Any = real) -> Any:
            located.append(1)
            return real(*a)

        monkeypatch.setattr(module, "locate_open", spied)
    d = LAB / "rekey-dpd"
    if command == "decrypt":
        one_err = _decrypt(capsys, d / "capture.pcap", d / "keys.toml", tmp_path / "one.pcap")
        many_err = _decrypt(
            capsys, d / "capture.pcap", d / "keys.toml", tmp_path / "many.pcap", "--jobs", "3"
        )
        assert many_err == one_err
        assert (tmp_path / "many.pcap").read_bytes() == (tmp_path / "one.pcap").read_bytes()
    else:
        argv = ["report", str(d / "capture.pcap"), "--json", "--keys", str(d / "keys.toml")]
        assert main(argv) == 0
        one = capsys.readouterr()
        assert main([*argv, "--jobs", "3"]) == 0
        assert capsys.readouterr() == one
    assert located == [1]


def _keys_twice(tmp_path: Path) -> Path:
    """psk-aes256-sha256-modp2048's keys, and an ``[[esp]]`` entry for its SPI bc657660 with
    the keys strongSwan logged (truth.json): IKE_AUTH gives that SPI keys again."""
    d = LAB / "psk-aes256-sha256-modp2048"
    truth = json.loads((d / "truth.json").read_text())
    esp = next(e for c in truth["child_sas"] for e in c["esp"] if e["spi"] == "bc657660")
    keys = tmp_path / "keys.toml"
    keys.write_text(
        (d / "keys.toml").read_text()
        + f'\n[[esp]]\nspi = "bc657660"\nencr_key = "{esp["encr_key"]}"\n'
        f'integ_key = "{esp["integ_key"]}"\nencr = "AES-CBC-256"\ninteg = "HMAC_SHA2_256_128"\n'
    )
    return keys


def test_keys_given_twice_to_an_spi_mean_one_pass(
    split_small: None,
    one_passes: list[int],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The scenario's PSK and DH secret, and an ``[[esp]]`` entry for SPI bc657660 with the keys
    strongSwan logged (truth.json): IKE_AUTH gives that SPI keys again. A later range that
    opened it before reading IKE_AUTH held one candidate where the single pass held two, so
    the capture is read in one pass, silently, to the same bytes."""
    d = LAB / "psk-aes256-sha256-modp2048"
    keys = _keys_twice(tmp_path)
    one_err = _decrypt(capsys, d / "capture.pcap", keys, tmp_path / "one.pcap")
    many_err = _decrypt(capsys, d / "capture.pcap", keys, tmp_path / "many.pcap", "--jobs", "2")
    assert len(one_passes) == 1
    assert many_err == one_err
    assert (tmp_path / "many.pcap").read_bytes() == (tmp_path / "one.pcap").read_bytes()


def test_report_with_keys_given_twice_or_no_room_means_one_pass(
    split_small: None,
    folds: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """``report --json`` with the keys above: the fold refuses, silently, and one pass's JSON
    comes out. Then the handoffs' directory full: a line saying so, and the same JSON."""
    d = LAB / "psk-aes256-sha256-modp2048"
    argv = ["report", str(d / "capture.pcap"), "--json", "--keys", str(_keys_twice(tmp_path))]
    assert main(argv) == 0
    one = capsys.readouterr()
    assert main([*argv, "--jobs", "2"]) == 0
    assert capsys.readouterr() == one
    assert folds == [False]

    _disk_full(monkeypatch)
    argv = ["report", str(d / "capture.pcap"), "--json", "--keys", str(d / "keys.toml")]
    assert main(argv) == 0
    one = capsys.readouterr()
    assert main([*argv, "--jobs", "2"]) == 0
    many = capsys.readouterr()
    assert many.out == one.out
    assert many.err == "ikeview: --jobs 2: HandoffLost; read in one process\n" + one.err


def test_redefined_is_keys_added_to_an_spi_that_had_some(tmp_path: Path) -> None:
    """The decryptor's flag, from its keys and the capture: set by a second ``[[esp]]`` for the
    same SPI, not by the lab's keys over their own capture."""
    from ikeview.dissectors.capture import CaptureReader
    from ikeview.dissectors.records import FrameError, IkeDatagram
    from ikeview.dissectors.stream import dissect

    from ikeview.pipeline.correlate import Correlator

    d = LAB / "psk-aes256-sha256-modp2048"
    dec = KeyringDecryptor(load_keys([d / "keys.toml"]))
    corr = Correlator(dec)
    with CaptureReader(d / "capture.pcap") as reader:
        for rec in dissect(reader):
            if isinstance(rec, IkeDatagram | FrameError):
                corr.feed(rec)
    assert dec.has_esp_keys(0xBC657660) and dec.has_esp_keys(0x558AA947)
    assert not dec.redefined
    entry = '[[esp]]\nspi = "bc657660"\nencr_key = "{}"\nencr = "AES-CBC-256"\ninteg = "NONE"\n'
    keys = tmp_path / "twice.toml"
    keys.write_text(entry.format("00" * 32) + entry.format("11" * 32))
    assert KeyringDecryptor(load_keys([keys])).redefined


@pytest.mark.parametrize("why", ["too many", "no room"])
def test_handoffs_that_cannot_serve_mean_one_pass(
    why: str,
    split_small: None,
    one_passes: list[int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """A range whose other frames pass the share a locating split allows stops every range;
    a full temporary directory (the first range's handoff cannot be written) too. Either way
    one line says so, then the single pass's file and counts; nothing left behind."""
    import tempfile

    if why == "too many":
        monkeypatch.setattr(parhandoff, "MIN_OTHERS", 0)
        said = f"ikeview: --jobs 2: {pardecrypt.NOT_SPLIT}; read in one process"
    else:
        _disk_full(monkeypatch)
        said = "ikeview: --jobs 2: HandoffLost; read in one process"
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read again
    d = LAB / "rekey-dpd"
    one_err = _decrypt(capsys, d / "capture.pcap", d / "keys.toml", tmp_path / "one.pcap")
    many_err = _decrypt(
        capsys, d / "capture.pcap", d / "keys.toml", tmp_path / "many.pcap", "--jobs", "2"
    )
    assert many_err.splitlines()[0] == said
    assert many_err.splitlines()[1:] == one_err.splitlines()
    assert len(one_passes) == 1
    assert (tmp_path / "many.pcap").read_bytes() == (tmp_path / "one.pcap").read_bytes()
    assert not list((tmp_path / "tmp").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.pcap", "one.pcap", "tmp"]


# ------------------------------------------------------------------------- the handoff files


def _frame(index: int, data: bytes = b"\x01\x02\x03") -> RawFrame:
    return RawFrame(index, 1700000000.25 + index, 1, data, len(data) + 4)


def _earlier(paths: list[str], starts: list[int]) -> tuple[parhandoff.Earlier, list[RawFrame]]:
    fed: list[RawFrame] = []
    return parhandoff.Earlier(paths, starts, fed.append), fed


def test_frames_are_fed_once_whole_and_in_order(tmp_path: Path) -> None:
    """Two ranges' handoffs read by a third: a record is fed once its last byte is there, each
    frame once, the first range's before the second's; an end where the next range does not
    begin is broken."""
    paths = [str(tmp_path / "h0"), str(tmp_path / "h1")]
    for p in paths:
        Path(p).touch()
    h0, h1 = parhandoff.Handoff(paths[0], 0), parhandoff.Handoff(paths[1], parhandoff.base(1))
    earlier, fed = _earlier(paths, [24, 1000, 2000])
    h0.frame(_frame(3))
    whole = Path(paths[0]).read_bytes()
    Path(paths[0]).write_bytes(whole[:-2])  # the record's last two bytes not written yet
    earlier.poll()
    assert not fed
    with open(paths[0], "ab") as fh:
        fh.write(whole[-2:])
    assert earlier.poll() and [f.index for f in fed] == [3]
    h1.frame(_frame(parhandoff.base(1) + 1))  # range 1's, not read before range 0 ends
    h0.mark(500, 7)
    h0.frame(_frame(9, b"\xff" * 40))
    earlier.poll()
    assert [f.index for f in fed] == [3, 9] and fed[1] == _frame(9, b"\xff" * 40)
    h0.end(1000)
    h1.end(2000)
    earlier.poll()
    assert earlier.done and not earlier.broken
    assert [f.index for f in fed] == [3, 9, parhandoff.base(1) + 1]
    h0.close()
    h1.close()

    bad, _ = _earlier(paths[:1], [24, 999])  # range 0 ended at 1000, not where 1 was guessed
    bad.poll()
    assert bad.done and bad.broken


@pytest.mark.parametrize("flush", [0, 1 << 16])
def test_too_many_frames_are_said_and_stop_the_range(
    flush: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written at once, or gathered into larger writes (``parback``'s): the frame before and
    the mark that says too many are in the file once the range stops."""
    monkeypatch.setattr(parhandoff, "MIN_OTHERS", 1)
    path = tmp_path / "h0"
    path.touch()
    h0 = parhandoff.Handoff(str(path), 0, flush)
    h0.frame(_frame(1))
    with pytest.raises(parhandoff.Diverged):
        h0.frame(_frame(2))  # 2 other frames of 2: past a quarter, past the floor of 1
    h0.close()
    earlier, fed = _earlier([str(path)], [24, 5000])
    earlier.poll()
    assert earlier.done and earlier.broken and [f.index for f in fed] == [1]


def test_walking_the_rest_feeds_only_what_was_not_handed_over(tmp_path: Path) -> None:
    """From the last mark to this range's start, the other frames as a locating walk finds
    them, without those already fed; a start that is no record's is broken."""
    cap = LAB / "rekey-dpd" / "capture.pcap"
    lay = layout(str(cap))
    assert lay is not None
    others: list[tuple[int, int]] = []
    records: list[int] = []
    with open_map(str(cap)) as mm:
        walked = scan(mm, lay, lay.first, lay.size, {}, lambda i, o: others.append((i, o)))
        assert walked is not None
        off = lay.first
        while off < lay.size:
            records.append(off)
            off += 16 + int.from_bytes(mm[off + 8 : off + 12], "little")
    assert len(others) >= 6
    start = records[others[5][0] - 1]  # "range 1" begins at the sixth other frame
    path = tmp_path / "h0"
    path.touch()
    h0 = parhandoff.Handoff(str(path), 0)
    h0.frame(_frame(others[0][0]))
    h0.mark(records[others[1][0] - 1], others[1][0] - 1)  # the second other frame's record
    h0.frame(_frame(others[1][0]))  # fed from the handoff: not again by the walk
    earlier, fed = _earlier([str(path)], [lay.first, start])
    earlier.poll()
    with open(cap, "rb") as fh, open_map(str(cap)) as mm:
        earlier.walk_rest(mm, lay, fh.fileno())
    assert earlier.done and not earlier.broken
    assert [f.index for f in fed] == [i for i, _ in others[:5]]
    assert fed[2].data == cap.read_bytes()[others[2][1] + 16 :][: len(fed[2].data)]

    off_record, _ = _earlier([str(path)], [lay.first, start + 1])
    off_record.poll()
    with open(cap, "rb") as fh, open_map(str(cap)) as mm:
        off_record.walk_rest(mm, lay, fh.fileno())
    assert off_record.done and off_record.broken
    h0.close()


def test_a_range_that_never_ends_is_waited_for_a_grace_only(tmp_path: Path) -> None:
    """Nothing more comes from an earlier range (its process died before writing its end): the
    wait ends after the grace, in the walk of the rest."""
    path = tmp_path / "h0"
    path.touch()
    earlier, _ = _earlier([str(path)], [24, 1000])
    walks: list[int] = []

    def walk_rest() -> None:
        walks.append(1)
        earlier._finish(False)

    relay = parhandoff.Relay(None)
    relay.follow(earlier, walk_rest, 0.02)
    relay.catch_up()
    assert walks == [1] and earlier.done
