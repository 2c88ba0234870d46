"""The batch path against the record path on many draws of fastesp_support's capture, not one.

Each seed draws other keys, other packet sizes and another order of the mishaps (loss, replays,
reordering, bad ICVs and padding, next header 255, cut and too-short packets, ESP in ESP, an SPI
without keys, keepalives, IPv6, IP options): where a batch starts and ends relative to them
changes with every draw. For each: ``analyze`` on both paths gives the same Analysis, ``decrypt
-o`` the same file and counts, and ``--jobs 2`` the same report JSON as one pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastesp_support import write_capture

from ikeview import fastdecrypt, parallel
from ikeview.keys.loader import load_keys
from ikeview.pcapwrite import write_decrypted
from ikeview.pipeline import fastesp, fastwalk
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.model import Analysis
from ikeview.report import to_json

SEEDS = range(1, 9)


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_path_equals_record_path(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=1200, seed=seed)
    ring = load_keys([keys])
    # Small batches: many batch edges fall among the mishaps.
    monkeypatch.setattr(fastwalk, "BATCH", 7 + seed)
    ref = analyze(cap, ring, fast=False)
    assert fastesp.analyze_fast(cap, ring) == ref  # the batch path itself, not a fallback
    assert analyze(cap, ring) == ref
    assert analyze(cap, None) == analyze(cap, None, fast=False)
    outs = {}
    for fast in (False, True):
        target = tmp_path / f"out-{fast}.pcap"
        stats = write_decrypted(cap, ring, target, fast=fast)
        outs[fast] = (stats, target.read_bytes())
    assert outs[True] == outs[False]
    assert fastdecrypt.write_decrypted_fast(cap, ring, tmp_path / "batch.pcap") == outs[True][0]
    assert ref.counters.esp_decrypted > 300 and ref.counters.esp_integrity_failed > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_two_jobs_equal_one_pass(seed: int, tmp_path: Path) -> None:
    """With the keys (a failed ICV may send the capture to one pass: the output is the same
    either way) and without (the ranges' counts are folded: no second pass)."""
    cap, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(cap, keys, packets=2400, seed=seed)
    serial: list[int] = []

    def one_pass() -> Analysis:
        serial.append(1)
        return analyze(cap)

    for key_paths in ([keys], []):
        one = analyze(cap, load_keys(key_paths) if key_paths else None)
        two = parallel.analyze_parallel(
            cap, key_paths, jobs=2, min_bytes=0, serial=None if key_paths else one_pass
        )
        assert json.dumps(to_json(two)) == json.dumps(to_json(one))
    assert serial == [], "without keys the two ranges are folded, not read again"
