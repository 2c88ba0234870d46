"""The batch ESP path (pipeline/fastesp.py, fastwalk.py, correlate/espbulk.py) against the general
per-record path it must equal: the same Analysis and byte-identical report JSON and text, on
every capture in the repository and in ../shared with its keys (the lab's strongSwan captures
with IKE-derived keys: esp-loss-replay, esp-corrupt, esp-one-way, gcm16-ecp256, the CBC ones,
mobike, natt ...), and on a generated capture with loss, replays, bad ICVs, damage, unknown SPIs
and ESP in ESP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastesp_support import set_times, write_capture
from ikeview.dissectors.capture import CaptureError

from ikeview.keys.loader import load_keys
from ikeview.keys.model import KeyRing
from ikeview.pipeline import fastesp
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.correlate.espbulk import EspBulk
from ikeview.pipeline.model import Analysis
from ikeview.report import render_text, to_json

REPO = Path(__file__).resolve().parent.parent
ROOTS = [REPO / "captures", REPO.parent / "shared" / "captures"]
CAPTURES = sorted(
    p
    for root in ROOTS
    if root.exists()
    for p in root.rglob("*")
    if p.is_file() and p.suffix in (".pcap", ".pcapng", ".cap", ".gz")
)


def _keys(path: Path) -> KeyRing | None:
    keys = path.parent / "keys.toml"
    if not keys.exists():
        return None
    try:
        return load_keys([keys])
    except Exception:  # a keys file of another format: compare without keys
        return None


def _both(path: Path, keys: KeyRing | None) -> tuple[object, object]:
    out: list[object] = []
    for fast in (False, True):
        try:
            a = analyze(path, keys, fast=fast)
        except CaptureError as exc:
            out.append(str(exc))
            continue
        out.append((a, _report(a)))
    return out[0], out[1]


def _report(a: Analysis) -> tuple[str, str, str]:
    return (
        json.dumps(to_json(a), indent=2),
        json.dumps(to_json(a, show_secrets=True), indent=2),
        render_text(a, show_secrets=True),
    )


def test_there_are_captures() -> None:
    assert len(CAPTURES) > 40
    assert sum((p.parent / "keys.toml").exists() for p in CAPTURES) > 30


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_same_analysis(path: Path) -> None:
    keys = _keys(path)
    ref, fast = _both(path, keys)
    assert fast == ref
    if keys is not None:
        ref_plain, fast_plain = _both(path, None)
        assert fast_plain == ref_plain


@pytest.mark.parametrize(
    "name", ["esp-loss-replay", "esp-corrupt", "esp-one-way", "gcm16-ecp256", "natt",
             "psk-aes256-sha256-modp2048", "3des-sha1-modp1024"],
)  # fmt: skip
def test_lab_esp_takes_the_batch_path(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a vacuous equality: on these captures the ESP does go through the batch path."""
    path = REPO / "captures" / "lab" / name / "capture.pcap"
    batched: list[int] = []
    original = EspBulk.opened

    def spy(self: EspBulk, c, items, outcomes, deferred, **kw) -> None:  # type: ignore[no-untyped-def]
        batched.append(len(items))
        original(self, c, items, outcomes, deferred, **kw)

    monkeypatch.setattr(EspBulk, "opened", spy)
    a = fastesp.analyze_fast(path, load_keys([path.parent / "keys.toml"]))
    assert a is not None
    assert sum(batched) > 0
    assert a.counters.esp_decrypted > 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("fastesp")
    write_capture(d / "g.pcap", d / "keys.toml")
    return d / "g.pcap", d / "keys.toml"


def test_generated_capture(generated: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cap, keys = generated
    replayed: list[int] = []
    original = fastesp.AnalysisSink._replay

    def spy(self: fastesp.AnalysisSink, lanes: list) -> None:  # type: ignore[type-arg]
        replayed.append(len(lanes))
        original(self, lanes)

    monkeypatch.setattr(fastesp.AnalysisSink, "_replay", spy)
    ref, fast = _both(cap, load_keys([keys]))
    assert fast == ref
    assert replayed  # the batches with ESP in ESP went through the records
    a = ref[0]  # type: ignore[index]
    c = a.counters
    # The capture has every case the batch path must hand on or count like the general one.
    assert c.esp_decrypted > 1000 and c.esp_integrity_failed > 10
    esp = [s for sa in a.ike_sas for ch in sa.children for s in ch.esp] + list(a.unassociated_esp)
    assert sum(s.replays for s in esp) > 5 and sum(s.missing for s in esp) > 5
    assert any(s.spi == 0xE0000004 and s.decrypted for s in esp)  # ESP in ESP
    assert any(s.spi == 0xC0000003 and s.problem for s in esp)  # no keys


def test_generated_capture_without_keys_and_with_ports(generated: tuple[Path, Path]) -> None:
    cap, keys = generated
    for ring, ports in ((None, ()), (load_keys([keys]), (4501,))):
        ref = analyze(cap, ring, extra_ports=ports, fast=False)
        assert analyze(cap, ring, extra_ports=ports) == ref


def test_damaged_file_falls_back(tmp_path: Path) -> None:
    cap, keys = tmp_path / "cut.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=500, cut=True)
    assert fastesp.analyze_fast(cap, load_keys([keys])) is None
    ref, fast = _both(cap, load_keys([keys]))
    assert fast == ref


def test_a_second_of_microseconds_falls_back(tmp_path: Path) -> None:
    """A record whose microseconds reach 10**6 (the walker leaves the file to the general path,
    so that ``decrypt -o`` may copy every other record's time as it stands): the analysis
    equals the record path's, time of that frame included."""
    cap, keys = tmp_path / "t.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=500)
    data = bytearray(cap.read_bytes())
    set_times(data, {400: (1_700_000_000, 1_500_000)})
    cap.write_bytes(bytes(data))
    assert fastesp.analyze_fast(cap, load_keys([keys])) is None
    ref, fast = _both(cap, load_keys([keys]))
    assert fast == ref


def test_environment_switch(generated: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cap, keys = generated
    called: list[object] = []
    monkeypatch.setattr(fastesp, "walk_pcap", lambda *a, **k: called.append(a))
    monkeypatch.setenv(fastesp.NO_FAST_ENV, "1")
    analyze(cap, load_keys([keys]))
    assert not called
    monkeypatch.setenv(fastesp.NO_FAST_ENV, "0")
    analyze(cap, load_keys([keys]))
    assert called


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_any_batch_size(
    batch: int, generated: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flushes in the middle of a run of one SPI, or between two SPIs' interleaved packets,
    change nothing."""
    from ikeview.pipeline import fastwalk

    cap, keys = generated
    ref = analyze(cap, load_keys([keys]), fast=False)
    monkeypatch.setattr(fastwalk, "BATCH", batch)
    assert analyze(cap, load_keys([keys])) == ref


def _other_formats(cap: Path, tmp: Path) -> list[Path]:
    """The capture gzip-compressed and, when editcap is there, as pcapng (plain and gzip)."""
    import gzip
    import shutil
    import subprocess

    out = [tmp / "g.pcap.gz"]
    out[0].write_bytes(gzip.compress(cap.read_bytes()))
    if shutil.which("editcap"):
        ng = tmp / "g.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", str(cap), str(ng)], check=True)
        (tmp / "g.pcapng.gz").write_bytes(gzip.compress(ng.read_bytes()))
        out += [ng, tmp / "g.pcapng.gz"]
    return out


def test_pcapng_and_gzip_through_the_reader(
    generated: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files that are not an uncompressed classic pcap are read by CaptureReader, the batch
    path then working on the frames it yields: still equal, and the batch path is taken."""
    cap, keys = generated
    ring = load_keys([keys])
    for path in _other_formats(cap, tmp_path):
        assert fastesp.analyze_fast(path, ring) is not None
        ref, fast = _both(path, ring)
        assert fast == ref
    # A pcapng cut in the middle of a block: the reader's FrameError ends both the same way.
    ng = tmp_path / "g.pcapng"
    if ng.exists():
        cut = tmp_path / "cut.pcapng"
        cut.write_bytes(ng.read_bytes()[:-9])
        ref, fast = _both(cut, ring)
        assert fast == ref
        analysis = ref[0]  # type: ignore[index]
        assert any("damaged" in p.text for p in analysis.problems)


def test_damaged_bytes_anywhere(generated: tuple[Path, Path], tmp_path: Path) -> None:
    """Random octets flipped anywhere in the file (record headers, IP and UDP headers, SPIs,
    sequence numbers, ciphertext), the file whole or cut, plain or gzip (read by the reader):
    the batch path still ends exactly as the general one, and takes most of these files."""
    import gzip
    import random

    cap, keys = generated
    ring = load_keys([keys])
    whole = cap.read_bytes()
    rng = random.Random(16)
    batched = 0
    for n in range(16):
        damaged = bytearray(whole if n % 2 else whole[:200_000])
        for _ in range(1 + n):
            damaged[rng.randrange(24, len(damaged))] = rng.randrange(256)
        path = tmp_path / f"d{n}.pcap"
        path.write_bytes(bytes(damaged))
        if n % 4 == 3:
            path = tmp_path / f"d{n}.pcap.gz"
            path.write_bytes(gzip.compress(bytes(damaged)))
        ref, fast = _both(path, ring)
        assert fast == ref
        batched += fastesp.analyze_fast(path, ring) is not None
    assert batched >= 6
