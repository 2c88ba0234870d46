"""``decrypt -o`` through the batch path (ikeview/fastdecrypt.py) against write_decrypted's
per-record path: byte-identical output files and the same DecryptStats, on every capture in the
repository and ../shared that has a keys.toml beside it (the lab's strongSwan captures:
esp-loss-replay, esp-corrupt, esp-one-way, gcm16-ecp256, the CBC ones ...) and on a generated
capture with loss, replays, bad ICVs, damage, unknown SPIs and ESP in ESP; the CLI's --no-fast
and IKEVIEW_NO_FAST keep the general path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastesp_support import set_times, write_capture
from ikeview.dissectors.capture import CaptureError

from ikeview import fastdecrypt
from ikeview.keys.loader import load_keys
from ikeview.pcapwrite import write_decrypted

REPO = Path(__file__).resolve().parent.parent
ROOTS = [REPO / "captures", REPO.parent / "shared" / "captures"]
WITH_KEYS = sorted(
    p
    for root in ROOTS
    if root.exists()
    for p in root.rglob("*")
    if p.is_file()
    and p.suffix in (".pcap", ".pcapng", ".cap", ".gz")
    and (p.parent / "keys.toml").exists()
)


def _both(cap: Path, keys: Path, tmp: Path, ports: tuple[int, ...] = ()) -> tuple[object, object]:
    try:
        ring = load_keys([keys])
    except Exception:  # a keys file of another format
        pytest.skip("keys file not loadable")
    out = []
    for fast in (False, True):
        target = tmp / f"out-{fast}.pcap"
        try:
            stats = write_decrypted(cap, ring, target, extra_ports=ports, fast=fast)
        except CaptureError as exc:
            out.append(str(exc))
            continue
        out.append((stats, target.read_bytes()))
    return out[0], out[1]


def test_there_are_captures() -> None:
    assert len(WITH_KEYS) > 30


@pytest.mark.parametrize("cap", WITH_KEYS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_same_output(cap: Path, tmp_path: Path) -> None:
    ref, fast = _both(cap, cap.parent / "keys.toml", tmp_path)
    assert fast == ref


def test_lab_esp_takes_the_batch_path(tmp_path: Path) -> None:
    cap = REPO / "captures" / "lab" / "esp-loss-replay" / "capture.pcap"
    stats = fastdecrypt.write_decrypted_fast(
        cap, load_keys([cap.parent / "keys.toml"]), tmp_path / "o.pcap"
    )
    assert stats is not None and stats.replaced > 0


def test_generated_capture(tmp_path: Path) -> None:
    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys)
    for ports in ((), (4501,)):
        ref, fast = _both(cap, keys, tmp_path, ports)
        assert fast == ref
        stats = ref[0]  # type: ignore[index]
        assert stats.replaced > 1000 and stats.failed > 10 and stats.no_keys > 10


def test_damaged_capture_falls_back_and_leaves_no_file(tmp_path: Path) -> None:
    cap, keys = tmp_path / "cut.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=500, cut=True)
    target = tmp_path / "o.pcap"
    assert fastdecrypt.write_decrypted_fast(cap, load_keys([keys]), target) is None
    assert not target.exists()
    ref, fast = _both(cap, keys, tmp_path)
    assert fast == ref


def test_cli_no_fast(tmp_path: Path) -> None:
    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=400)
    outs = []
    for extra in ([], ["--no-fast"]):
        target = tmp_path / f"o{len(extra)}.pcap"
        run = subprocess.run(
            [sys.executable, "-m", "ikeview", "decrypt", str(cap), "--keys", str(keys),
             "-o", str(target), *extra],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        outs.append((run.stderr, target.read_bytes()))
        report = subprocess.run(
            [sys.executable, "-m", "ikeview", "report", str(cap), "--keys", str(keys), "--json",
             *extra],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        outs.append((report.stdout, b""))
        summary = subprocess.run(
            [sys.executable, "-m", "ikeview", "summary", str(cap), "--json", *extra],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        outs.append((summary.stdout, b""))
    assert outs[:3] == outs[3:]


@pytest.mark.parametrize("batch", [1, 5, 1000])
def test_any_batch_size(batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ikeview.pipeline import fastwalk

    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=1500)
    monkeypatch.setattr(fastwalk, "BATCH", batch)
    ref, fast = _both(cap, keys, tmp_path)
    assert fast == ref


def test_pcapng_and_gzip(tmp_path: Path) -> None:
    import gzip
    import shutil

    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=1500)
    paths = [tmp_path / "g.pcap.gz"]
    paths[0].write_bytes(gzip.compress(cap.read_bytes()))
    if shutil.which("editcap"):
        subprocess.run(
            ["editcap", "-F", "pcapng", str(cap), str(tmp_path / "g.pcapng")], check=True
        )
        paths.append(tmp_path / "g.pcapng")
    for path in paths:
        assert fastdecrypt.write_decrypted_fast(path, load_keys([keys]), tmp_path / "x.pcap")
        ref, fast = _both(path, keys, tmp_path)
        assert fast == ref


def test_damaged_bytes_anywhere(tmp_path: Path) -> None:
    """Random octets flipped anywhere, the file whole or cut, plain or gzip: same output."""
    import gzip
    import random

    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=1500)
    whole = cap.read_bytes()
    rng = random.Random(17)
    for n in range(8):
        damaged = bytearray(whole if n % 2 else whole[: len(whole) * 2 // 3])
        for _ in range(1 + 2 * n):
            damaged[rng.randrange(24, len(damaged))] = rng.randrange(256)
        path = tmp_path / (f"d{n}.pcap.gz" if n % 4 == 3 else f"d{n}.pcap")
        path.write_bytes(gzip.compress(bytes(damaged)) if n % 4 == 3 else bytes(damaged))
        ref, fast = _both(path, keys, tmp_path)
        assert fast == ref


def test_odd_record_times(tmp_path: Path) -> None:
    """Records at the edges of the format's times (seconds past 2**31 up to the last it holds,
    999,999 microseconds, zero) among the batch path's frames, whose times it copies as the
    input holds them: the same output as the general path, which converts each time to a float
    and back."""
    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=1500)
    odd = [
        ((1 << 31) - 1, 999_999),
        (1 << 31, 5),
        (0xFFFF_FFFF, 999_999),
        (0, 0),
        (4_000_000_000, 123_456),
        (1_700_000_000, 999_999),
    ]
    for n, every in enumerate((97, 7)):
        data = bytearray(cap.read_bytes())
        set_times(data, {i: odd[i % len(odd)] for i in range(1, 1501) if i % every == 3})
        path = tmp_path / f"t{n}.pcap"
        path.write_bytes(bytes(data))
        assert fastdecrypt.write_decrypted_fast(path, load_keys([keys]), tmp_path / "x.pcap")
        ref, fast = _both(path, keys, tmp_path)
        assert fast == ref


def test_a_second_of_microseconds_goes_the_general_path(tmp_path: Path) -> None:
    """A record whose microseconds reach 10**6 (no capturing program writes one; PcapWriter
    carries the excess into the seconds): the batch path declines the file, which it would
    otherwise write with the time copied as it stands, and the output is the general path's."""
    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=1500)
    past = ((1400, (1_700_000_000, 1_000_000)), (3, (7, 4_294_967_295)))
    for n, (index, when) in enumerate(past):
        data = bytearray(cap.read_bytes())
        set_times(data, {index: when})
        path = tmp_path / f"t{n}.pcap"
        path.write_bytes(bytes(data))
        out = tmp_path / "x.pcap"
        out.unlink(missing_ok=True)
        assert fastdecrypt.write_decrypted_fast(path, load_keys([keys]), out) is None
        assert not out.exists()
        ref, fast = _both(path, keys, tmp_path)
        assert fast == ref
