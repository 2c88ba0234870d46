"""``--jobs`` on byte ranges (ikeview/pcapranges.py): where a range starts, and what happens at
the edges.

The record starts a range finds by itself are checked against a plain walk of the record
headers of the lab's strongSwan captures; then a generated capture (bench/make_capture.py) is
damaged right at the byte offsets where the ranges of 2 and 3 jobs begin (frames the dissector
cannot read, IP fragments that never complete, truncated frames) and every command must give
the same bytes with --jobs 1, 2 and 3. Damage to the file structure, a payload that imitates
record headers where a range begins, gzip and pcapng: read in one process, said on stderr, same
output.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from fastesp_support import write_other_sa_keys
from freshrun import run_patched

from ikeview import parallel, pcapranges
from ikeview.cli import main
from ikeview.pcapranges import HEADER, cuts, layout, open_map, resync

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "captures" / "lab"

Record = tuple[bytes, bytes]


def _records(data: bytes) -> list[Record]:
    assert data[:4] == b"\xd4\xc3\xb2\xa1"
    out, off = [], HEADER
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        out.append((data[off : off + 16], data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return out


def _starts(data: bytes) -> list[int]:
    starts, off = [], HEADER
    for head, body in _records(data):
        starts.append(off)
        off += len(head) + len(body)
    return starts


def _write(path: Path, head: bytes, recs: list[Record]) -> Path:
    path.write_bytes(head + b"".join(h + b for h, b in recs))
    return path


@pytest.mark.parametrize("scenario", ["rekey-dpd", "certs-frag", "mobike", "natt"])
def test_resync_finds_the_next_record_start(scenario: str) -> None:
    """From any byte offset, the first record starting there or later (what a walk of the
    headers from the file's start finds), or the end of the file."""
    cap = LAB / scenario / "capture.pcap"
    data = cap.read_bytes()
    starts = [*_starts(data), len(data)]
    lay = layout(str(cap))
    assert lay is not None
    with open_map(str(cap)) as mm:
        for lo in range(HEADER, len(data), 3):
            assert resync(mm, lay, lo) == next(s for s in starts if s >= lo), lo


@pytest.mark.parametrize("endian", ["<", ">"])
def test_resync_search_drops_only_what_the_check_refuses(
    tmp_path: Path, endian: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Noise with planted record headers, lengths up to the largest a record may have (2**24,
    whose top octet is 1; the file is long enough for it), in both byte orders: every offset
    the plausibility check accepts is among the octet search's candidates, and resync finds
    what trying every offset in turn finds."""
    rng = random.Random(24 if endian == "<" else 42)
    body = bytearray(rng.randbytes(6000))
    for _ in range(120):
        at = rng.randrange(len(body) - 16)
        incl = rng.choice([0, 1, 40, 255, 256, (1 << 24) - 1, 1 << 24])
        orig = rng.choice([incl, incl + 1, 1 << 24])
        sec, frac = rng.randrange(3), rng.randrange(1_000_000)
        body[at : at + 16] = struct.pack(endian + "IIII", sec, frac, incl, orig)
    for _ in range(30):  # runs of zeros, as in real headers
        at = rng.randrange(len(body) - 40)
        body[at : at + 40] = bytes(40)
    magic = b"\xd4\xc3\xb2\xa1" if endian == "<" else b"\xa1\xb2\xc3\xd4"
    cap = tmp_path / "noise.pcap"
    with cap.open("wb") as fh:
        fh.write(magic + bytes(20) + bytes(body))
        fh.truncate(HEADER + len(body) + (1 << 24) + 64)  # room for a 2**24 record (sparse)
    lay = layout(str(cap))
    assert lay is not None
    with open_map(str(cap)) as mm:
        check = pcapranges._pcap_plausible(mm, lay)
        end = HEADER + len(body)
        found = set(pcapranges._pcap_candidates(mm, lay, HEADER, end))
        accepted = {p for p in range(HEADER, end) if check(p, -1)[0] >= 0}
        assert accepted and accepted <= found
        assert any(check(p, -1)[0] - p - 16 == 1 << 24 for p in accepted)
        los = [HEADER, *rng.sample(range(HEADER, end), 4)]
        found_first = [resync(mm, lay, lo) for lo in los]
        # resync as first written: the check tried at every offset in turn.
        monkeypatch.setattr(pcapranges, "_pcap_candidates", lambda mm, lay, lo, end: range(lo, end))
        assert found_first == [resync(mm, lay, lo) for lo in los]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "g20k.pcap"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "make_capture.py"), "--packets", "20000",
         "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[str, str]:
    assert main(argv) == 0
    got = capsys.readouterr()
    return got.out, got.err


def _outputs(
    capsys: pytest.CaptureFixture[str], cap: Path, tmp: Path, jobs: str
) -> tuple[list[str], list[str]]:
    """Every command's output (stdout, or the file written) and the notes on stderr."""
    outs, notes = [], []
    for argv in (["summary", "--json"], ["summary"], ["report", "--json"], ["report"]):
        out, err = _run(capsys, [argv[0], str(cap), *argv[1:], "--jobs", jobs])
        outs.append(out)
        notes.append(err)
    csv = tmp / f"esp{jobs}.csv"
    _, err = _run(capsys, ["export", str(cap), "--esp", "--csv", str(csv), "--jobs", jobs])
    outs.append(csv.read_text())
    notes.append(err)
    # decrypt -o with keys that open nothing here: the copy must still be the same bytes.
    keys = str(LAB / "natt" / "keys.toml")
    dec = tmp / f"dec{jobs}.pcap"
    _, err = _run(capsys, ["decrypt", str(cap), "--keys", keys, "-o", str(dec), "--jobs", jobs])
    outs.append(dec.read_bytes().hex())
    _decrypt_lines(err, outs, notes)
    # And with keys that open no IKE (one ESP SA, not this capture's): nothing is located.
    esp_keys = write_other_sa_keys(tmp / "esp-keys.toml")
    dec_esp = tmp / f"dec-esp{jobs}.pcap"
    argv = ["decrypt", str(cap), "--keys", str(esp_keys), "-o", str(dec_esp), "--jobs", jobs]
    _, err = _run(capsys, argv)
    outs.append(dec_esp.read_bytes().hex())
    _decrypt_lines(err, outs, notes)
    return outs, [n for n in notes if n]


def _decrypt_lines(err: str, outs: list[str], notes: list[str]) -> None:
    """decrypt's counts and problem lines are output (one pass's, whatever the jobs); what
    --jobs says about itself is a note."""
    lines = err.splitlines()
    outs.append("\n".join(ln for ln in lines if not ln.startswith("ikeview: ")))
    notes.append("\n".join(ln for ln in lines if ln.startswith("ikeview: ")))


def _damage_at_the_edges(src: Path, dst: Path) -> Path:
    """The records around the offsets where the ranges of 2 and 3 jobs begin (equal ranges, as
    decrypt cuts a file this small, or range 0 a little shorter: without keys), damaged in ways
    the dissector must handle. The damaged records take the bytes they took before, so the
    file's structure and the offsets of the ranges stay the same."""
    from ikeview.parunlocated import no_keys_short

    data = src.read_bytes()
    recs = _records(data)
    starts = _starts(data)
    lay = layout(str(src))
    assert lay is not None
    body = lay.size - lay.first
    shorts = {2: (0.0, no_keys_short(2, body)), 3: (0.0, no_keys_short(3, body))}
    edges = sorted({c for j in (2, 3) for s in shorts[j] for c in cuts(lay, j, s)[1:-1]})
    firsts = [next(i for i, s in enumerate(starts) if s >= cut) for cut in edges]
    # Five records damaged around each: no two edges share one.
    assert all(b - a >= 5 for a, b in itertools.pairwise(firsts))
    for n in firsts:  # the first record of a range
        before = sum(len(recs[i][1]) for i in range(n - 2, n + 3))
        hows = ("vlan", "fragment", "huge-ip", "cut", "junk")
        for i, how in zip(range(n - 2, n + 3), hows, strict=True):
            head, body = recs[i]
            if how == "vlan":  # 802.1Q tag: off the fast path, dissected by every range
                body = body[:12] + b"\x81\x00\x00\x07" + body[12:]
            elif how == "fragment":  # more fragments that never come
                body = body[:20] + bytes([body[20] | 0x20]) + body[21:]
            elif how == "huge-ip":  # IPv4 total length past the captured bytes
                body = body[:16] + b"\xff\xff" + body[18:]
            elif how == "cut":  # the capture kept the Ethernet header and 3 bytes
                body = body[:17]
            else:  # an unknown EtherType, as long as the five records took before
                used = sum(len(recs[k][1]) for k in range(n - 2, n + 2))
                body = body[:12] + b"\x88\xb5" + bytes(before - used - 14)
            sec, frac, _, _ = struct.unpack("<IIII", head)
            recs[i] = (struct.pack("<IIII", sec, frac, len(body), len(body)), body)
    out = _write(dst, data[:HEADER], recs)
    assert out.stat().st_size == len(data)
    return out


def test_damaged_records_at_range_edges(
    generated: Path, split_small: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cap = _damage_at_the_edges(generated, tmp_path / "edges.pcap")
    one, notes_one = _outputs(capsys, cap, tmp_path, "1")
    assert notes_one == []
    assert json.loads(one[0])["errors"], "the cut frames are reported"
    for jobs in ("2", "3"):
        many, notes = _outputs(capsys, cap, tmp_path, jobs)
        assert notes == [], "the ranges tile the file: no fallback"
        for a, b in zip(one, many, strict=True):
            assert a == b


@pytest.mark.parametrize("damage", ["huge-length", "zero-header", "trailing-bytes"])
def test_damaged_file_structure_read_in_one_process(
    generated: Path,
    split_small: None,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    damage: str,
) -> None:
    data = generated.read_bytes()
    recs = _records(data)
    mid = len(recs) * 2 // 3
    if damage == "huge-length":
        recs.insert(mid, (struct.pack("<IIII", 1, 0, 1 << 25, 60), bytes(60)))
    elif damage == "zero-header":
        recs.insert(mid, (bytes(16), b""))
    cap = _write(tmp_path / f"{damage}.pcap", data[:HEADER], recs)
    if damage == "trailing-bytes":
        cap.write_bytes(cap.read_bytes() + b"\x01\x02\x03")
    one, _ = _outputs(capsys, cap, tmp_path, "1")
    many, notes = _outputs(capsys, cap, tmp_path, "2")
    assert one == many
    assert notes and all("read in one process" in n for n in notes)


def test_payload_imitating_records_at_an_edge(
    split_small: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A frame whose bytes are a chain of plausible record headers where the second range
    begins: the guess is wrong, the ranges do not tile the file, one process reads it."""
    src = LAB / "psk-aes256-sha256-modp2048" / "capture.pcap"
    data = src.read_bytes()
    recs = _records(data)
    sec = struct.unpack_from("<I", recs[0][0])[0]
    fake = b"".join(struct.pack("<IIII", sec, 1000 * i, 20, 20) + bytes(20) for i in range(200))
    body = recs[4][1][:14] + fake  # Ethernet header, then the imitation
    recs[4] = (struct.pack("<IIII", sec, 5, len(body), len(body)), body)
    cap = _write(tmp_path / "imitation.pcap", data[:HEADER], recs)
    lay = layout(str(cap))
    assert lay is not None
    middle = cuts(lay, 2)[1]
    start4 = _starts(cap.read_bytes())[4]
    assert start4 + 30 < middle < start4 + 16 + len(body) - 400
    one, _ = _outputs(capsys, cap, tmp_path, "1")
    many, notes = _outputs(capsys, cap, tmp_path, "2")
    assert one == many
    assert notes and all("could not be split into ranges" in n for n in notes)


def test_gzip_read_in_one_process(
    split_small: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cap = tmp_path / "c.pcap.gz"
    cap.write_bytes(gzip.compress((LAB / "rekey-dpd" / "capture.pcap").read_bytes()))
    one, _ = _outputs(capsys, cap, tmp_path, "1")
    many, notes = _outputs(capsys, cap, tmp_path, "2")
    assert one == many
    assert notes and all("not an uncompressed pcap or pcapng file" in n for n in notes)


def _pcapng(src: Path, dst: Path) -> Path:
    if shutil.which("editcap") is None:
        pytest.skip("editcap not installed")
    subprocess.run(["editcap", "-F", "pcapng", str(src), str(dst)], check=True, capture_output=True)
    return dst


@pytest.mark.parametrize("scenario", ["rekey-dpd", "certs-frag", "natt"])
def test_pcapng_split_same_output(
    split_small: None, capsys: pytest.CaptureFixture[str], tmp_path: Path, scenario: str
) -> None:
    """The lab captures as pcapng (editcap): split by blocks, the same bytes out."""
    cap = _pcapng(LAB / scenario / "capture.pcap", tmp_path / "c.pcapng")
    lay = layout(str(cap))
    assert lay is not None and lay.ng
    one, _ = _outputs(capsys, cap, tmp_path, "1")
    for jobs in ("2", "3"):
        many, notes = _outputs(capsys, cap, tmp_path, jobs)
        assert notes == []
        assert one == many


def test_pcapng_generated_damaged_edges(
    generated: Path, split_small: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cap = _pcapng(_damage_at_the_edges(generated, tmp_path / "e.pcap"), tmp_path / "e.pcapng")
    one, _ = _outputs(capsys, cap, tmp_path, "1")
    for jobs in ("2", "3"):
        many, notes = _outputs(capsys, cap, tmp_path, jobs)
        assert notes == []
        assert one == many


def test_dissector_idle_only_without_held_fragments() -> None:
    """What summary --jobs relies on to dissect ranges apart: a first fragment is held (not
    idle) until the rest arrives; an ordinary frame leaves nothing held."""
    from ikeview.dissectors.records import RawFrame
    from ikeview.dissectors.stream import Dissector

    _, body = _records((LAB / "natt" / "capture.pcap").read_bytes())[0]
    whole = RawFrame(1, 1.0, 1, body, len(body))
    d = Dissector()
    list(d.run([whole]))
    assert d.idle()
    first = body[:20] + bytes([body[20] | 0x20]) + body[21:]  # More Fragments set
    list(d.run([RawFrame(2, 2.0, 1, first, len(first))]))
    assert not d.idle()


_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x0a\x0d\x0d\x0a")
"""Classic pcap (both byte orders, microseconds) and pcapng."""


def _every_pcap() -> list[Path]:
    roots = [REPO / "captures", REPO.parent / "shared" / "captures"]
    found = [
        p
        for root in roots
        if root.exists()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.read_bytes()[:4] in _MAGICS
    ]
    return found


@pytest.fixture(scope="module")
def hostile_pcaps(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The crafted pcaps of issue 15 (tests/hostile_inputs.py)."""
    sys.path.insert(0, str(REPO / "tests"))
    import hostile_inputs as h

    out = tmp_path_factory.mktemp("hostile")
    noise = random.Random(16).randbytes(1 << 20)
    made = {
        "delete-bomb": h.delete_bomb_pcap(),
        "escape-identity": h.escape_identity_pcap(),
        "tiny-payloads": h.tiny_payloads_pcap(),
        "max-time": h.pcap_max_time(),
        "ng-tsresol-2^-127": h.pcapng_odd_time(tsresol=0xFF),
        "ng-tsresol-10^-255": h.pcapng_odd_time(tsresol=0x7F),
        "ng-tsoffset-2^62": h.pcapng_odd_time(tsoffset=1 << 62),
        "ng-tsoffset-negative": h.pcapng_odd_time(tsoffset=-(1 << 40)),
        # A valid first record, then a megabyte of noise: every range's start is a guess in
        # noise, bounded by the resync span.
        "noise": h.pcap([h.udp_frame(h.ike_message(0, b""))]) + noise,
    }
    paths = []
    for name, data in made.items():
        paths.append(out / f"{name}.pcap")
        paths[-1].write_bytes(data)
    return paths


def test_every_pcap_in_the_repository_same_with_jobs(
    split_small: None,
    capsys: pytest.CaptureFixture[str],
    hostile_pcaps: list[Path],
) -> None:
    """Wireshark's, tcpdump's, synthetic and lab captures (pcap and pcapng), and the hostile
    ones: summary and report (no keys) give the same bytes with --jobs 1, 2 and 3."""
    captures = _every_pcap() + hostile_pcaps
    assert len(captures) > 60
    for cap in captures:
        for cmd in (["summary", "--json"], ["report", "--json"]):
            one, _ = _run(capsys, [cmd[0], str(cap), *cmd[1:]])
            for jobs in ("2", "3"):
                many, _ = _run(capsys, [cmd[0], str(cap), *cmd[1:], "--jobs", jobs])
                assert one == many, (cap, cmd, jobs)


_DIE = """
import os
from ikeview import parallel

def _die(*_args, **_kwargs):
    os._exit(3)  # a worker killed (out of memory, signal): no result, no exception

parallel.MIN_SPLIT_BYTES = 0
parallel.esp_range = parallel.last_range = _die
from ikeview import parunlocated

parunlocated.handoff_range = parunlocated.unlocated_range = _die
"""


def test_a_worker_that_dies_means_one_pass(capsys: pytest.CaptureFixture[str]) -> None:
    # The workers must run the patched function: a fresh interpreter (freshrun.py).
    cap = LAB / "rekey-dpd" / "capture.pcap"
    keys = ["--keys", str(cap.parent / "keys.toml")]
    one, _ = _run(capsys, ["report", str(cap), "--json", *keys])
    code, many, err = run_patched(_DIE, ["report", str(cap), "--json", *keys, "--jobs", "2"])
    assert code == 0, err
    assert one == many
    assert "BrokenProcessPool; read in one process" in err


def test_hostile_pcaps_summary_equals_the_reference(hostile_pcaps: list[Path]) -> None:
    """The in-place reader (now also for pcapng) against summary.summarize on issue 15's
    crafted captures: times out of range, odd time units, huge payloads."""
    from ikeview.fastsummary import summarize_fast
    from ikeview.summary import summarize, to_json

    for cap in hostile_pcaps:
        assert to_json(summarize_fast(cap)) == to_json(summarize(cap)), cap


def test_mostly_other_frames_read_in_one_process(
    generated: Path, split_small: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --ports the ESP in UDP 4500 is no longer plain (extra ports may carry bare IKE):
    every process would dissect all of it, so report reads the capture in one process;
    summary, whose ranges dissect only their own frames, still splits."""
    argv = ["report", str(generated), "--json", "--ports", "4501"]
    one, _ = _run(capsys, argv)
    many, err = _run(capsys, [*argv, "--jobs", "2"])
    assert one == many and "could not be split into ranges" in err
    argv = ["summary", str(generated), "--json", "--ports", "4501"]
    one, _ = _run(capsys, argv)
    many, err = _run(capsys, [*argv, "--jobs", "2"])
    assert one == many and not err


def test_record_path_ranges_same_output(
    generated: Path,
    split_small: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """IKEVIEW_NO_FAST=1: every range on the record path (the reference); same bytes as the
    batch path's ranges and as one pass."""
    cap = _damage_at_the_edges(generated, tmp_path / "edges.pcap")
    d = LAB / "natt"
    lab = ["report", str(d / "capture.pcap"), "--json", "--keys", str(d / "keys.toml")]
    fast_one, _ = _outputs(capsys, cap, tmp_path, "1")
    fast_lab, _ = _run(capsys, lab)
    monkeypatch.setenv("IKEVIEW_NO_FAST", "1")
    for jobs in ("1", "2", "3"):
        assert _outputs(capsys, cap, tmp_path, jobs)[0] == fast_one
        assert _run(capsys, [*lab, "--jobs", jobs])[0] == fast_lab


def test_batch_path_ranges_fold_without_a_second_pass(tmp_path: Path) -> None:
    """A later range counts each SA's first 2,048 packets in a batch of their own, keeps the
    window there, and the fold takes it: no second pass, the one-pass analysis. 100,000
    packets: some 5,000 per SA per range, so batches are cut at the prefix's end."""
    from ikeview.pipeline.analyze import analyze
    from ikeview.report import to_json

    generated = tmp_path / "g100k.pcap"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "make_capture.py"), "--packets", "100000",
         "--out", str(generated)],
        check=True, capture_output=True,
    )  # fmt: skip

    calls: list[int] = []

    def serial():  # -> Analysis
        calls.append(1)
        return analyze(generated)

    one = to_json(analyze(generated))
    for jobs in (2, 3):
        many = parallel.analyze_parallel(generated, jobs=jobs, min_bytes=0, serial=serial)
        assert to_json(many) == one
    assert calls == []


@pytest.mark.parametrize("jobs", [2, 3, 8])
@pytest.mark.parametrize("short", [0.0, 0.04, 0.5])
def test_a_shorter_first_range_still_tiles_the_file(jobs: int, short: float) -> None:
    """``cuts(..., short)``: range 0 that fraction of an equal share shorter, the later ranges
    sharing the rest equally, the whole file covered once."""
    from ikeview.pcapranges import Layout

    lay = Layout("<", 1e-6, 1, 463_000_123)
    got = cuts(lay, jobs, short)
    assert got[0] == lay.first and got[-1] == lay.size and got == sorted(got)
    lengths = [b - a for a, b in itertools.pairwise(got)]
    share = (lay.size - lay.first) / jobs
    assert lengths[0] == pytest.approx(share * (1 - short), abs=1)
    assert max(lengths[1:]) - min(lengths[1:]) <= 1
    assert cuts(lay, jobs, 0.0) == cuts(lay, jobs)


@pytest.mark.parametrize("jobs", [2, 3, 4, 8, 16, 64])
@pytest.mark.parametrize("size", [1_000_000_024, 10_000_000_024, 20_000_024])
def test_without_keys_range_0_gives_up_a_fixed_part_of_the_file(jobs: int, size: int) -> None:
    """Its extra work (every IKE frame of the capture, and importing the IKE side) grows with
    the file, not with a share, and part of it not even with the file: a fraction of the file
    and a number of octets, and never more than half a share."""
    from ikeview.parunlocated import NO_KEYS_FIRST_BYTES, NO_KEYS_FIRST_LESS, no_keys_short
    from ikeview.pcapranges import Layout

    lay = Layout("<", 1e-6, 1, size)
    body = lay.size - lay.first
    first = cuts(lay, jobs, no_keys_short(jobs, body))[1] - lay.first
    less = NO_KEYS_FIRST_LESS * body + NO_KEYS_FIRST_BYTES
    assert first == pytest.approx(max(body / jobs - less, body / jobs / 2), abs=1)
