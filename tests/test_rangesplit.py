"""``--jobs N`` on the batch path of a classic pcap (ikeview/rangesplit.py, parallel.last_range):
ranges 0..N-2 located by every process at once, the last range left open and walked once.

The pieces must tile exactly the span before the last range, with a piece starting wherever a
range starts; the open last range must hand back exactly the frames a header walk names as not
plain ESP (the lab's strongSwan captures hold IKE there: rekeys, DPD, deletes), and the frame
count a plain walk gives; a last range with more such frames than are worth handing over, and a
capture without frames, are read in one pass with the same output.
"""

from __future__ import annotations

import itertools
import mmap
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastesp_support import write_other_sa_keys
from freshrun import run_patched

from ikeview import parallel
from ikeview.cli import main
from ikeview.pcapranges import EspAcc, Layout, layout, open_map, scan
from ikeview.rangesplit import OPEN, locate_open, plan

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "captures" / "lab"


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[str, str]:
    assert main(argv) == 0
    got = capsys.readouterr()
    return got.out, got.err


def _reference(path: Path) -> tuple[int, list[int]]:
    """Frames of the capture and the numbers of those not plain ESP, by a header walk."""
    lay = layout(str(path))
    assert lay is not None
    others: list[int] = []
    with open_map(str(path)) as mm:
        w = scan(mm, lay, lay.first, lay.size, None, lambda i, _off: others.append(i))
    assert w is not None
    return w.frames, others


@pytest.mark.parametrize("jobs", [2, 3, 4, 7])
@pytest.mark.parametrize("scenario", ["rekey-dpd", "mobike", "certs-frag"])
def test_pieces_tile_all_but_the_last_range(scenario: str, jobs: int) -> None:
    lay = layout(str(LAB / scenario / "capture.pcap"))
    assert lay is not None
    bounds, mine = plan(lay, jobs)
    pieces = [p for ps in mine for p in ps]
    assert pieces[0][0] == lay.first and pieces[-1][1] == bounds[jobs - 1]
    for (_, hi), (lo, _) in itertools.pairwise(pieces):
        assert hi == lo
    starts = {lo for lo, _ in pieces}
    assert set(bounds[: jobs - 1]) <= starts
    # Every process locates about the same number of bytes (its share, give or take a byte).
    span = bounds[jobs - 1] - lay.first
    for ps in mine:
        assert abs(sum(hi - lo for lo, hi in ps) - span / jobs) <= 1


@pytest.mark.parametrize("jobs", [2, 3])
@pytest.mark.parametrize("scenario", ["rekey-dpd", "child-delete-lost", "mobike"])
def test_open_last_range_hands_back_its_other_frames(scenario: str, jobs: int) -> None:
    cap = LAB / scenario / "capture.pcap"
    frames, others = _reference(cap)
    lay = layout(str(cap))
    assert lay is not None
    with ThreadPoolExecutor(jobs - 1) as ex:  # the same calls, without processes
        split = locate_open(str(cap), lay, jobs, True, ex)  # type: ignore[arg-type]
    assert split is not None and split.walked[-1].frames == OPEN
    base = split.bases[-1]
    assert base < frames
    _part, walked, kept = parallel.last_range(split, None, ())
    assert walked == frames - base
    assert [f.index for f in kept] == [i for i in others if i > base]
    assert [i for i in others if i > base], "the lab capture holds IKE in its last range"


def test_too_many_other_frames_in_the_last_range_means_one_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The last range's worker checks the bound: patched in a fresh interpreter (freshrun.py).
    cap = LAB / "rekey-dpd" / "capture.pcap"
    argv = ["report", str(cap), "--json", "--keys", str(cap.parent / "keys.toml")]
    one, _ = _run(capsys, argv)
    setup = (
        "from ikeview import parallel, rangewalk\n"
        "parallel.MIN_SPLIT_BYTES = 0\nrangewalk.MAX_OTHER_BYTES = 100"
    )
    code, many, err = run_patched(setup, [*argv, "--jobs", "2"])
    assert code == 0, err
    assert one == many
    assert "TooManyOthers; read in one process" in err


@pytest.mark.parametrize("cmd", ["report", "summary", "decrypt"])
def test_capture_without_frames(
    cmd: str, split_small: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cap = tmp_path / "empty.pcap"
    cap.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    keys = str(LAB / "rekey-dpd" / "keys.toml")
    outs = []
    for jobs in ("1", "2", "3"):
        if cmd == "decrypt":
            out = tmp_path / f"out{jobs}.pcap"
            _run(capsys, ["decrypt", str(cap), "--keys", keys, "-o", str(out), "--jobs", jobs])
            outs.append(out.read_bytes())
        else:
            outs.append(_run(capsys, [cmd, str(cap), "--json", "--jobs", jobs])[0])
    assert outs[0] == outs[1] == outs[2]


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_decrypt_parts_appended_without_copy_file_range(
    jobs: str,
    split_small: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The later ranges' parts are appended by the kernel; where it cannot (another file
    system: EXDEV), they are read and written by hand, with the same bytes."""
    import errno
    import os

    cap = LAB / "rekey-dpd" / "capture.pcap"
    keys = str(cap.parent / "keys.toml")
    one, many = tmp_path / "one.pcap", tmp_path / "many.pcap"
    _run(capsys, ["decrypt", str(cap), "--keys", keys, "-o", str(one)])

    def refuse(*_a: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    _run(capsys, ["decrypt", str(cap), "--keys", keys, "-o", str(many), "--jobs", jobs])
    assert one.read_bytes() == many.read_bytes()
    assert not list(tmp_path.glob(".*"))


def _ipv4(proto: int, payload: bytes, frag: int = 0x4000) -> bytes:
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, frag, 64, proto, 0, src, dst)
    return head + payload


def _udp(sport: int, dport: int, body: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(body), 0) + body


def _mixed_frames() -> list[bytes]:
    """Every kind the locating walk tells apart (ESP, ESP in UDP 4500, IKE behind the Non-ESP
    Marker, IKE on 500, IPv6 ESP, a fragment, short frames), then a last frame too short to
    hold the fields the lean walk reads at once."""
    eth4, eth6 = bytes(12) + b"\x08\x00", bytes(12) + b"\x86\xdd"
    esp = struct.pack("!II", 0x1234, 7) + bytes(40)
    v6 = struct.pack("!IHBB16s16s", 6 << 28, len(esp), 50, 64, bytes(16), bytes(16)) + esp
    kinds = [
        eth4 + _ipv4(50, esp),
        eth4 + _ipv4(17, _udp(4500, 4500, esp)),
        eth4 + _ipv4(17, _udp(4500, 4500, bytes(4) + esp)),
        eth4 + _ipv4(17, _udp(500, 4500, esp)),
        eth4 + _ipv4(17, _udp(4500, 4500, esp[:4])),
        eth6 + v6,
        eth4 + _ipv4(50, esp, frag=0x2000),
        eth4 + _ipv4(50, esp)[:30],
        bytes(20),
    ]
    return kinds * 3 + [bytes(10)]


def test_lean_locating_walk_names_the_same_frames(tmp_path: Path) -> None:
    """Without counters, a little-endian Ethernet pcap is walked with one unpack a frame:
    the frames it names other than plain ESP, and where the range ends, are the counting
    walk's, from every record start, for lab captures and every kind of frame."""
    body = b"".join(
        struct.pack("<IIII", 1_700_000_000, i, len(f), len(f)) + f
        for i, f in enumerate(_mixed_frames())
    )
    mixed = tmp_path / "mixed.pcap"
    mixed.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) + body)
    for cap in [mixed, *(LAB / s / "capture.pcap" for s in ("rekey-dpd", "natt", "mobike"))]:
        lay = layout(str(cap))
        assert lay is not None
        _frames, named = _reference(cap)
        with open_map(str(cap)) as mm:
            for start in _starts(mm, lay):
                w1, lean = _walked(mm, lay, start, None)
                w2, counting = _walked(mm, lay, start, {})
                assert w1 == w2 and lean == counting
        if cap == mixed:
            assert len(named) == 3 * 6 + 1  # all but ESP, ESP in UDP 4500 and IPv6 ESP


def _walked(mm: mmap.mmap, lay: Layout, start: int, esp: EspAcc | None) -> tuple[object, list[int]]:
    named: list[int] = []
    walked = scan(mm, lay, start, lay.size, esp, lambda i, o: named.extend((i, o)))
    return walked, named


def _starts(mm: mmap.mmap, lay: Layout) -> list[int]:
    """Every record start (the file is intact)."""
    out, off = [], lay.first
    while off < lay.size:
        out.append(off)
        off += 16 + struct.unpack_from("<I", mm, off + 8)[0]
    return out


def _fragment(first: bool) -> bytes:
    """One of the two IPv4 fragments of a 64-octet UDP datagram (RFC 791: MF on the first,
    offset 24 octets on the second)."""
    payload = _udp(5000, 5001, bytes(56))
    part = payload[:24] if first else payload[24:]
    flags = 0x2000 if first else 24 // 8
    return bytes(12) + b"\x08\x00" + _ipv4(17, part, frag=flags)


@pytest.mark.parametrize("held", [False, True])
def test_unlocated_ranges_fold_unless_a_fragment_spans_an_edge(held: bool, tmp_path: Path) -> None:
    """Without keys every range is walked at once, frames numbered from its own start, and
    renumbered by the first range's process: the same analysis with no second pass; but a
    fragment held across the edge (its dissector not idle there) means one pass."""
    from ikeview.parunlocated import no_keys_short
    from ikeview.pipeline.analyze import analyze
    from ikeview.report import to_json

    cap = tmp_path / "frag.pcap"
    # Range 0 is shorter without keys: the fragments around where range 1 begins (in a file
    # this small, 4,000 records of 118 octets, by the most it gives up, half a share).
    _fragment_capture(cap, held, int(4000 * (1 - no_keys_short(2, 4000 * 118)) / 2))
    calls: list[int] = []

    def serial():  # -> Analysis
        calls.append(1)
        return analyze(cap)

    many = parallel.analyze_parallel(cap, jobs=2, min_bytes=0, serial=serial)
    assert calls == ([1] if held else [])
    assert to_json(many) == to_json(analyze(cap))


def _fragment_capture(path: Path, held: bool, edge: int = 2000) -> None:
    """4,000 ESP packets, and when ``held`` the two fragments of a datagram 10 packets before
    and after packet ``edge``."""
    esp = bytes(12) + b"\x08\x00" + _ipv4(50, struct.pack("!II", 0x1111, 0) + bytes(60))
    frames = []
    for i in range(4000):
        frames.append(esp[:38] + struct.pack("!I", i + 1) + esp[42:])
        if held and i in (edge - 10, edge + 10):
            frames.append(_fragment(i == edge - 10))
    path.write_bytes(
        struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
        + b"".join(
            struct.pack("<IIII", 1_700_000_000 + i // 1000, i % 1000, len(f), len(f)) + f
            for i, f in enumerate(frames)
        )
    )


@pytest.mark.parametrize("held", [False, True])
def test_unlocated_decrypt_joins_unless_a_fragment_spans_an_edge(
    held: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """decrypt -o with keys that open no IKE (one [[esp]] SA, not this capture's) writes every
    range at once and joins the parts; a fragment held across the edge means one pass. The
    file is one pass's either way."""
    from ikeview import pardecrypt
    from ikeview.keys.loader import load_keys
    from ikeview.pcapwrite import write_decrypted

    cap, keys = tmp_path / "frag.pcap", tmp_path / "keys.toml"
    _fragment_capture(cap, held)
    write_other_sa_keys(keys, 0x2222)
    one = tmp_path / "one.pcap"
    write_decrypted(cap, load_keys([keys]), one)
    calls: list[int] = []

    def counted(*a: object, **k: object) -> object:
        calls.append(1)
        return write_decrypted(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(pardecrypt, "write_decrypted", counted)
    many = tmp_path / "many.pcap"
    pardecrypt.write_decrypted_parallel(cap, [keys], many, jobs=2, min_bytes=0)
    assert calls == ([1] if held else [])
    assert many.read_bytes() == one.read_bytes()


@pytest.mark.parametrize("keys", [False, True])
def test_a_range_of_mostly_other_frames_means_one_pass(
    keys: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A range walked (without keys, none is located first) whose frames are mostly not plain
    ESP: every process would repeat most of one pass, so one process reads the capture."""
    esp = bytes(12) + b"\x08\x00" + _ipv4(50, struct.pack("!II", 0x1111, 0) + bytes(60))
    dns = bytes(12) + b"\x08\x00" + _ipv4(17, _udp(5353, 53, bytes(40)))
    frames = [esp[:38] + struct.pack("!I", i + 1) + esp[42:] for i in range(600)]
    frames[300:] = [dns] * 300 + frames[300:]  # the second half: half DNS
    cap = tmp_path / "dns.pcap"
    cap.write_bytes(
        struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
        + b"".join(
            struct.pack("<IIII", 1_700_000_000, i, len(f), len(f)) + f for i, f in enumerate(frames)
        )
    )
    argv = ["report", str(cap), "--json"]
    if keys:
        argv += ["--keys", str(LAB / "rekey-dpd" / "keys.toml")]
    one, _ = _run(capsys, argv)
    # Counted by the later range's worker: patched in a fresh interpreter (freshrun.py).
    setup = (
        "from ikeview import parallel as p, rangewalk as w\n"
        "p.MIN_SPLIT_BYTES = 0\nw.OTHER_FLOOR = 50"
    )
    code, many, err = run_patched(setup, [*argv, "--jobs", "2"])
    assert code == 0, err
    assert one == many
    assert "read in one process" in err
