"""``--jobs N``: the same bytes out as one pass, for summary, report (text and JSON) and export.

Real captures first (the lab's strongSwan captures with their keys, split even though they are
small), then a generated 30,000-packet capture (bench/make_capture.py), then self-made ESP whose
sequence numbers go back and forth across the range boundary (the anti-replay window is the one
piece of state that does not simply add up; see ``pipeline/correlate/merge.py``).
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest
from ikeview.dissectors.records import EspPacket
from ikeview.dissectors.stream import Dissector, plain_esp
from lab_support import LAB

from ikeview import parallel, procpool
from ikeview.cli import main
from ikeview.pipeline.analyze import analyze
from ikeview.report import to_json

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = [
    "psk-aes256-sha256-modp2048",
    "rekey-dpd",
    "natt",
    "gcm16-ecp256",
    "no-proposal",
    "esp-loss-replay",
    "esp-one-way",
    "mobike",
    "rekey-collision",
]


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def _same_outputs(
    capsys: pytest.CaptureFixture[str], cap: Path, keys: list[str], jobs: str, tmp: Path
) -> None:
    for cmd in (["summary"], ["summary", "--json"], ["report"], ["report", "--json"]):
        if cmd[0] == "summary":
            one = _cli(capsys, *cmd, str(cap))
            many = _cli(capsys, *cmd, str(cap), "--jobs", jobs)
        else:
            one = _cli(capsys, *cmd, str(cap), *keys)
            many = _cli(capsys, *cmd, str(cap), *keys, "--jobs", jobs)
        assert one == many, cmd
    _cli(capsys, "export", str(cap), *keys, "--esp", "--csv", str(tmp / "one.csv"))
    _cli(capsys, "export", str(cap), *keys, "--esp", "--csv", str(tmp / "many.csv"), "--jobs", jobs)
    assert (tmp / "one.csv").read_bytes() == (tmp / "many.csv").read_bytes()


@pytest.mark.parametrize("keyed", [True, False], ids=["keys", "no-keys"])
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("jobs", ["2", "3"])
def test_lab_captures_same_output(
    scenario: str,
    jobs: str,
    keyed: bool,
    split_small: None,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """With keys the ranges are located; without, each later range is walked at once and
    parses no IKE (the first range's process reads its IKE frames)."""
    d = LAB / scenario
    keys = ["--keys", str(d / "keys.toml")] if keyed else []
    _same_outputs(capsys, d / "capture.pcap", keys, jobs, tmp_path)


def _records(path: Path) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    data = path.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1"  # little-endian microsecond pcap
    out, off = [], 24
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        out.append((data[off : off + 16], data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return data[:24], out


def test_integrity_failures_in_every_range(
    split_small: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One problem per SPI, at its first failed ICV, in capture order, whichever range saw it."""
    d = LAB / "psk-aes256-sha256-modp2048"
    head, recs = _records(d / "capture.pcap")
    # Frames 5-10 are ESP (tshark: esp.spi 0xbc657660 and 0x558aa947, seq 1-3 each): flip the
    # last ICV byte of 7, 8 and 9.
    for n in (7, 8, 9):
        h, body = recs[n - 1]
        recs[n - 1] = (h, body[:-1] + bytes([body[-1] ^ 1]))
    cap = tmp_path / "tampered.pcap"
    cap.write_bytes(head + b"".join(h + b for h, b in recs))
    keys = ["--keys", str(d / "keys.toml")]
    one = to_json(analyze(cap, _keyring(d)))
    assert [p["frame"] for p in one["problems"] if p.get("code") == "esp-integrity-failure"] == [
        7,
        8,
    ]
    for jobs in ("2", "3", "4"):
        _same_outputs(capsys, cap, keys, jobs, tmp_path)


def _keyring(d: Path):  # -> KeyRing
    from ikeview.keys.loader import load_keys

    return load_keys([d / "keys.toml"])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "g30k.pcap"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "make_capture.py"),
            "--packets",
            "30000",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


def test_generated_capture_same_output(
    generated: Path, split_small: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _same_outputs(capsys, generated, [], "2", tmp_path)


def test_plain_esp_is_what_the_fast_path_takes(generated: Path) -> None:
    """A frame plain_esp() names gives one EspPacket and nothing else (so skipping it unseen
    changes nothing but the ESP of other ranges)."""
    from ikeview.dissectors.capture import CaptureReader

    seen = 0
    for frame in CaptureReader(generated):
        if not plain_esp(frame.linktype, frame.data):
            continue
        seen += 1
        if seen % 97:
            continue
        recs = list(Dissector().run([frame]))
        assert len(recs) == 1 and type(recs[0]) is EspPacket
    assert seen > 25000


# ------------------------------------------------------------- self-made sequence patterns

_MAC = bytes(12)


def _esp_frame(spi: int, seq: int, size: int = 64) -> bytes:
    body = struct.pack("!II", spi, seq) + bytes(size)
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(body),
        0,
        0x4000,
        64,
        50,
        0,
        bytes([10, 0, 0, 1]),
        bytes([10, 0, 0, 2]),
    )
    return _MAC + b"\x08\x00" + ip + body


def _pcap(frames: list[bytes]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, f in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000 + i // 1000, i % 1000, len(f), len(f)))
        out.append(f)
    return b"".join(out)


def _sequences() -> dict[int, list[int]]:
    n = 6000
    steady = list(range(1, n + 1))
    steady[1500:1503] = []  # a gap
    steady.insert(2999, steady[2990])  # a replay just before the middle
    steady[3001], steady[3002] = steady[3002], steady[3001]  # late by one, across the middle
    return {0x1111: steady, 0x2222: [s * 3 for s in range(1, n + 1)]}


def test_window_merged_across_the_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seqs = _sequences()
    frames = [
        _esp_frame(spi, s)
        for i in range(6000)
        for spi, ss in seqs.items()
        if i < len(ss)
        for s in [ss[i]]
    ]
    cap = tmp_path / "seq.pcap"
    cap.write_bytes(_pcap(frames))
    calls: list[int] = []

    def serial():  # -> Analysis
        calls.append(1)
        return analyze(cap)

    merged = parallel.analyze_parallel(cap, jobs=2, min_bytes=0, serial=serial)
    assert calls == [], "the windows should line up: no second pass"
    assert to_json(merged) == to_json(analyze(cap))
    esp = {s.spi: s for s in merged.unassociated_esp}
    assert esp[0x1111].replays == 1 and esp[0x1111].missing == 3
    assert esp[0x1111].out_of_order == 1


def test_far_out_of_order_falls_back_to_one_pass(tmp_path: Path) -> None:
    """The second range restarts far below the first range's highest number: the ranges'
    windows cannot be lined up, so the capture is read again in one pass (same result)."""
    from ikeview.parunlocated import no_keys_short
    from ikeview.pcapranges import HEADER, Layout, cuts

    # Where range 1 begins without keys (range 0 shorter: parunlocated), in records of one size:
    # the first record at or past the cut.
    count, record = 6000, 16 + len(_esp_frame(0x3333, 1))
    body = count * record
    cut = cuts(Layout("<", 1e-6, 1, HEADER + body), 2, no_keys_short(2, body))[1]
    edge = -(-(cut - HEADER) // record)
    first = list(range(50_000, 50_000 + edge))
    second = list(range(1, count - edge + 1))
    cap = tmp_path / "back.pcap"
    cap.write_bytes(_pcap([_esp_frame(0x3333, s) for s in first + second]))
    calls: list[int] = []

    def serial():  # -> Analysis
        calls.append(1)
        return analyze(cap)

    result = parallel.analyze_parallel(cap, jobs=2, min_bytes=0, serial=serial)
    assert calls == [1]
    assert to_json(result) == to_json(analyze(cap))


def test_jobs_zero_means_every_core_and_negative_is_refused() -> None:
    import os

    from ikeview.errors import IkeviewError

    assert parallel.job_count(0) == len(os.sched_getaffinity(0)) >= 1
    assert parallel.job_count(3) == 3
    with pytest.raises(IkeviewError):
        parallel.job_count(-1)


@pytest.mark.parametrize("scenario", [*SCENARIOS, "natt/capture-esp-raw"])
@pytest.mark.parametrize("jobs", ["2", "3"])
def test_decrypt_same_file(
    scenario: str,
    jobs: str,
    split_small: None,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    name = scenario if "/" in scenario else f"{scenario}/capture"
    cap = LAB / f"{name}.pcap"
    if not cap.exists():
        pytest.skip(f"{cap.name} not in this checkout")
    keys = str(cap.parent / "keys.toml")
    assert main(["decrypt", str(cap), "--keys", keys, "-o", str(tmp_path / "one.pcap")]) == 0
    one_err = capsys.readouterr().err
    assert (
        main(
            ["decrypt", str(cap), "--keys", keys, "-o", str(tmp_path / "many.pcap"), "--jobs", jobs]
        )
        == 0
    )
    many_err = capsys.readouterr().err
    assert (tmp_path / "one.pcap").read_bytes() == (tmp_path / "many.pcap").read_bytes()
    assert [ln for ln in one_err.splitlines() if not ln.startswith("ikeview: ")] == [
        ln for ln in many_err.splitlines() if not ln.startswith("ikeview: ")
    ]
    assert not list(tmp_path.glob(".ikeview-parts-*"))


def test_many_inner_flows_merge_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """AES-GCM ESP (bench_esp_pipeline.py's packets: random ICMP inside, nearly a new inner flow
    per packet, far more than the 16 a report keeps per SPI): counts per flow and 'other' as one
    pass. 2,400 packets in 3 ranges stay under the 1,024 flows a later range keeps, so they
    merge; 4,000 do not, and the capture is read again in one pass."""
    import random

    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from bench_decrypt_file import write_capture, write_keys
    from bench_esp_pipeline import SEED, Suite

    suite = Suite("AES-GCM-16-128", random.Random(SEED))
    cap, keys = tmp_path / "gcm.pcap", tmp_path / "keys.toml"
    write_keys(suite, keys)
    for packets, fallback in ((2400, False), (4000, True)):
        write_capture(suite, packets, cap, random_icmp=True)
        calls: list[int] = []
        one = analyze(cap, _keyring_file(keys))

        def serial(one=one, calls=calls):  # -> Analysis
            calls.append(1)
            return analyze(cap, _keyring_file(keys))

        many = parallel.analyze_parallel(cap, [keys], jobs=3, min_bytes=0, serial=serial)
        assert calls == ([1] if fallback else [])
        assert one.counters.esp_decrypted == packets
        assert to_json(many) == to_json(one)
        (esp,) = one.unassociated_esp
        assert len(esp.inner_flows) == 16 and esp.inner_other > 0


def _keyring_file(path: Path):  # -> KeyRing
    from ikeview.keys.loader import load_keys

    return load_keys([path])


def bench_capture(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, packets: int, suite_name: str = "AES-GCM-16-128"
) -> tuple[Path, Path]:
    """bench_decrypt_file.py's ESP capture of ``packets`` packets (bench_esp_pipeline.py's SA
    of that suite, its fixed seed) and its [[esp]] keys file, written into ``tmp``."""
    import random

    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from bench_decrypt_file import write_capture, write_keys
    from bench_esp_pipeline import SEED, Suite

    suite = Suite(suite_name, random.Random(SEED))
    cap, keys = tmp / f"{suite_name.split('-')[1].lower()}.pcap", tmp / "keys.toml"
    write_keys(suite, keys)
    write_capture(suite, packets, cap)
    return cap, keys


def _no_locating(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("located although no key opens IKE")

    monkeypatch.setattr(parallel, "locate_open", refuse)
    monkeypatch.setattr(parallel, "locate", refuse)


def test_keys_that_open_no_ike_skip_locating(
    tmp_path: Path,
    split_small: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """[[esp]] keys only (bench_esp_pipeline.py's AES-GCM ESP, clean): the ranges are walked
    unlocated, as without keys, and fold with no second pass into one pass's output."""
    cap, keys = bench_capture(tmp_path, monkeypatch, 3000)
    ring = _keyring_file(keys)
    assert parallel.opens_no_ike(ring)
    one = analyze(cap, ring)
    assert one.counters.esp_decrypted == 3000
    _no_locating(monkeypatch)
    for jobs in (2, 3):
        calls: list[int] = []

        def serial(calls=calls):  # -> Analysis
            calls.append(1)
            return analyze(cap, _keyring_file(keys))

        many = parallel.analyze_parallel(cap, [keys], jobs=jobs, min_bytes=0, serial=serial)
        assert calls == [], "clean ESP with [[esp]] keys folds without a second pass"
        assert to_json(many) == to_json(one)
    _same_outputs(capsys, cap, ["--keys", str(keys)], "2", tmp_path)


@pytest.mark.parametrize("jobs", ["2", "3", "4"])
def test_esp_keys_with_failures_and_damage_same_output(
    jobs: str, tmp_path: Path, split_small: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """fastesp_support's capture (bad ICVs and padding, an SPI without keys, ESP in ESP, loss,
    replays, cut packets) with its [[esp]] keys: whatever the ranges meet, the output is one
    pass's (a failed ICV in a later range sends the capture to one pass)."""
    from fastesp_support import write_capture

    cap, keys = tmp_path / "esp.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=6000)
    assert parallel.opens_no_ike(_keyring_file(keys))
    _same_outputs(capsys, cap, ["--keys", str(keys)], jobs, tmp_path)


def test_keys_that_open_ike_still_locate() -> None:
    """A PSK (the lab's keys) can make IKE yield ESP keys: those runs locate the ranges."""
    assert not parallel.opens_no_ike(_keyring(LAB / "psk-aes256-sha256-modp2048"))


def test_decrypt_with_keys_that_open_no_ike_skips_locating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """decrypt -o with [[esp]] keys only: every range written at once, no locating; the file is
    byte for byte one pass's, the counts line too."""
    cap, keys = bench_capture(tmp_path, monkeypatch, 3000, "AES-CBC-128+HMAC-SHA2-256-128")
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(tmp_path / "one.pcap")]) == 0
    one_err = capsys.readouterr().err
    monkeypatch.setattr(parallel, "MIN_SPLIT_BYTES", 0)
    _no_locating(monkeypatch)
    from ikeview import pardecrypt

    def no_second_pass(*_a: object, **_k: object) -> None:
        raise AssertionError("read again in one pass")

    monkeypatch.setattr(pardecrypt, "write_decrypted", no_second_pass)
    for jobs in ("2", "3"):
        many = tmp_path / f"many{jobs}.pcap"
        assert (
            main(["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", jobs]) == 0
        )
        many_err = capsys.readouterr().err
        assert "one process" not in many_err
        assert many.read_bytes() == (tmp_path / "one.pcap").read_bytes()
        assert [ln for ln in many_err.splitlines() if not ln.startswith("ikeview: ")] == [
            ln for ln in one_err.splitlines() if not ln.startswith("ikeview: ")
        ]
    assert not list(tmp_path.glob(".ikeview-parts-*"))


@pytest.mark.parametrize("jobs", ["2", "3", "4"])
def test_decrypt_esp_keys_with_failures_and_damage_same_file(
    jobs: str, tmp_path: Path, split_small: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """fastesp_support's capture with its [[esp]] keys (bad ICVs in every part of the file, an
    SPI without keys, ESP in ESP, cut packets): the file and counts of one pass, whether the
    ranges were joined or the capture read again in one."""
    from fastesp_support import write_capture

    cap, keys = tmp_path / "esp.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=6000)
    one, many = tmp_path / "one.pcap", tmp_path / "many.pcap"
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(one)]) == 0
    one_err = capsys.readouterr().err
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", jobs]) == 0
    many_err = capsys.readouterr().err
    assert many.read_bytes() == one.read_bytes()
    assert [ln for ln in many_err.splitlines() if not ln.startswith("ikeview: ")] == [
        ln for ln in one_err.splitlines() if not ln.startswith("ikeview: ")
    ]
    assert not list(tmp_path.glob(".ikeview-parts-*"))


def _damaged(data: bytes, how: str) -> bytes:
    """``data`` (a little-endian classic pcap) damaged near two thirds in: a record length past
    any frame, a zero record header, a flipped ICV byte, a cut last record, trailing bytes."""
    off, starts = 24, []
    while off < len(data):
        starts.append(off)
        off += 16 + struct.unpack_from("<I", data, off + 8)[0]
    at = min(starts, key=lambda s: abs(s - len(data) * 2 // 3))
    return {
        "length": data[: at + 8] + struct.pack("<I", 1 << 25) + data[at + 12 :],
        "zero": data[:at] + bytes(16) + data[at + 16 :],
        "icv": data[: at + 60] + bytes([data[at + 60] ^ 1]) + data[at + 61 :],
        "cut": data[:-7],
        "trailing": data + bytes(5),
    }[how]


@pytest.mark.parametrize("how", ["length", "zero", "icv", "cut", "trailing"])
def test_esp_keys_on_damaged_files_same_output(
    how: str,
    tmp_path: Path,
    split_small: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Damage where a later unlocated range starts or lies: report --json and decrypt -o with
    [[esp]] keys give one pass's output and counts whatever the number of jobs."""
    cap, keys = bench_capture(tmp_path, monkeypatch, 4000)
    cap.write_bytes(_damaged(cap.read_bytes(), how))
    runs = []
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"out{jobs}.pcap"
        code = main(["report", str(cap), "--keys", str(keys), "--json", "--jobs", jobs])
        report = capsys.readouterr().out
        assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(out), "--jobs", jobs]) == 0
        counts = [
            ln for ln in capsys.readouterr().err.splitlines() if not ln.startswith("ikeview: ")
        ]
        runs.append((code, report, out.read_bytes(), counts))
    assert runs[1] == runs[0] and runs[2] == runs[0]


def test_range_parts_are_opened_without_truncation(tmp_path: Path) -> None:
    """pardecrypt._open_part creates a part, or opens the output's fresh temporary file, for
    writing without O_TRUNC (on ext4 a truncation to zero makes the close flush the file at
    once: the first range's process lost ~0.06 s to it), empties a file that has data, and
    never opens through a link."""
    from ikeview import pardecrypt

    part = tmp_path / "part0"
    with pardecrypt._open_part(str(part)) as out:
        out.write(b"records")
    assert part.read_bytes() == b"records"
    with pardecrypt._open_part(str(part)) as out:  # a file left with data is emptied first
        out.write(b"new")
    assert part.read_bytes() == b"new"
    link = tmp_path / "link"
    link.symlink_to(part)
    with pytest.raises(OSError):
        pardecrypt._open_part(str(link))


@pytest.mark.parametrize("named", [True, False])
def test_integrity_failure_in_a_later_range(
    named: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[[esp]] keys, one ICV byte flipped two thirds in (a later range's): with the algorithm
    named (one candidate key) the failure's line is renumbered and folded, no second pass;
    without it (candidates guessed from the key's length, where a later range's first packet
    could say "none verifies" where one pass says the ICV failed) the capture is read again.
    Either way the report is one pass's, the failure at the frame one pass names."""
    cap, keys = bench_capture(tmp_path, monkeypatch, 3000)
    if not named:
        text = keys.read_text()
        keys.write_text("".join(ln for ln in text.splitlines(True) if not ln.startswith("encr =")))
    cap.write_bytes(_damaged(cap.read_bytes(), "icv"))
    one = analyze(cap, _keyring_file(keys))
    failed = one.unassociated_esp[0].integrity_failed_frame
    assert one.counters.esp_integrity_failed == 1 and failed is not None and failed > 1500
    calls: list[int] = []

    def serial():  # -> Analysis
        calls.append(1)
        return analyze(cap, _keyring_file(keys))

    many = parallel.analyze_parallel(cap, [keys], jobs=2, min_bytes=0, serial=serial)
    assert to_json(many) == to_json(one)
    assert many.unassociated_esp[0].integrity_failed_frame == failed
    assert calls == ([] if named else [1])


def test_pool_hands_the_gil_over_quickly_while_it_lives() -> None:
    """While a pool lives its threads take turns at the GIL every POOL_SWITCH_INTERVAL (its
    tasks reach the workers without waiting out the main thread's 5 ms turns), and the
    interpreter's own interval is back once it is shut down, also after a failed task."""
    before = sys.getswitchinterval()
    with procpool.pool(1) as ex:
        assert sys.getswitchinterval() == min(before, procpool.POOL_SWITCH_INTERVAL)
        assert ex.submit(sum, [1, 2, 3]).result() == 6
    assert sys.getswitchinterval() == before
    with pytest.raises(ZeroDivisionError), procpool.pool(1) as ex:
        ex.submit(divmod, 1, 0).result()
    assert sys.getswitchinterval() == before


def test_a_later_range_without_keys_loads_no_ike_model(tmp_path: Path) -> None:
    """A later range without keys parses no IKE, so it needs neither the IKE records nor the
    analysis model built on them (~28 ms of imports in each such process): run in a fresh
    interpreter on rekey-dpd, whose second half holds IKE (a rekey, DPD, the delete)."""
    cap = LAB / "rekey-dpd" / "capture.pcap"
    out = tmp_path / "modules.txt"
    code = (
        "import sys\n"
        "from ikeview.pcapranges import layout\n"
        "from ikeview.parunlocated import unlocated_split, unlocated_range\n"
        f"name = {str(cap)!r}\n"
        "split = unlocated_split(name, layout(name), 2)\n"
        "got = unlocated_range(split, 1)\n"
        "assert got is not None and got[2], 'the later range holds IKE frames'\n"
        f"open({str(out)!r}, 'w').write('\\n'.join(sorted(sys.modules)))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    loaded = set(out.read_text().split())
    assert "ikeview.parunlocated" in loaded
    assert not loaded & {"ikeview.pipeline.model", "ikeview.dissectors.ike_records"}


@pytest.mark.parametrize("keys_kind", ["esp", "psk"])
def test_decrypt_range_zero_written_direct_same_file(
    keys_kind: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``decrypt -o --jobs`` writes range 0 into the output's own file around the page cache
    (``directout``), the later parts through it, and appends the parts around it too
    (``partjoin``): forced here in 4 KiB blocks on bench_decrypt_file.py's capture (ranges
    written at once) and on the lab's gcm16-ecp256 session with its PSK (ranges located), the
    file is one pass's through the page cache."""
    from test_directout import force_direct

    from ikeview import directout

    if keys_kind == "esp":
        cap, keys = bench_capture(tmp_path, monkeypatch, 3000)
    else:
        cap = LAB / "gcm16-ecp256" / "capture.pcap"
        keys = cap.parent / "keys.toml"
    one = tmp_path / "one.pcap"
    assert main(["decrypt", str(cap), "--keys", str(keys), "-o", str(one)]) == 0
    monkeypatch.setattr(parallel, "MIN_SPLIT_BYTES", 0)
    force_direct(monkeypatch)
    made: list[int] = []
    real_init = directout.DirectWriter.__init__

    def counted(self: directout.DirectWriter, fd: int, block: int = 4096) -> None:
        made.append(block)
        real_init(self, fd, block)

    monkeypatch.setattr(directout.DirectWriter, "__init__", counted)
    for jobs in ("2", "3"):
        many = tmp_path / f"many{jobs}.pcap"
        assert (
            main(["decrypt", str(cap), "--keys", str(keys), "-o", str(many), "--jobs", jobs]) == 0
        )
        assert "one process" not in capsys.readouterr().err
        assert many.read_bytes() == one.read_bytes()
    # Per run: range 0's file, then the join of the parts into it; never a part itself.
    assert made == [4096] * 4
    assert not list(tmp_path.glob(".ikeview-parts-*"))
