"""The TUI's load split across processes (``tui.parload``, issue 16: fully loaded no slower
than ``report``) against the one-process loads: the same complete analysis as the batch path's
load, and row by row the same ESP rows as the general path's (``EspRowStore``), in every view.

Real captures first (the lab's strongSwan sessions, without keys: split even though they are
a few KB), then many draws of fastesp_support's capture without keys and with ``[[esp]]`` keys
(loss, replays, bad ICVs, damage, ESP in ESP: a split that cannot fold exactly takes the one
process load), then bench_esp_pipeline's clean AES-GCM ESP with ``[[esp]]`` keys (the ranges'
SA entries resolved to the first range's), then the app itself under Textual.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastesp_support import write_capture
from ikeview.tui import parload
from ikeview.tui.espindex import FileRowStore
from ikeview.tui.esprows import STATUS_DECRYPTED, EspRowStore
from ikeview.tui.esptimes import TimeCounts
from ikeview.tui.loading import LoadRequest, run_load
from ikeview.tui.messages import CaptureLoaded
from lab_support import LAB
from test_parallel import _damaged, bench_capture
from test_tui_espindex import _load, _same_rows
from tui_support import no_animations  # noqa: F401 (autouse fixture)

SCENARIOS = ["rekey-dpd", "natt", "esp-loss-replay", "esp-one-way", "mobike", "multi-child"]


@pytest.fixture
def absorbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Split files of any size; the list gets one entry per later range folded in."""
    monkeypatch.setattr(parload, "SPLIT_BYTES", 0)
    calls: list[int] = []
    real = FileRowStore.absorb

    def spy(self: FileRowStore, *args: object) -> bool:
        done = real(self, *args)  # type: ignore[arg-type]
        calls.append(int(done))
        return done

    monkeypatch.setattr(FileRowStore, "absorb", spy)
    yield calls


def _split(
    capture: Path, keys: tuple[Path, ...], jobs: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[object, object]:
    monkeypatch.setattr(parload, "JOBS", jobs)
    return _load(capture, keys, general=False)


def _one_process(
    capture: Path, keys: tuple[Path, ...], monkeypatch: pytest.MonkeyPatch
) -> tuple[object, object]:
    with monkeypatch.context() as m:
        m.setattr(parload, "SPLIT_BYTES", 1 << 62)
        return _load(capture, keys, general=False)


def _same_load(
    capture: Path, keys: tuple[Path, ...], jobs: int, monkeypatch: pytest.MonkeyPatch
) -> FileRowStore:
    rows, analysis = _split(capture, keys, jobs, monkeypatch)
    single, one = _one_process(capture, keys, monkeypatch)
    assert analysis == one
    slow, by_record = _load(capture, keys, general=True)
    assert by_record == one
    assert isinstance(rows, FileRowStore) and isinstance(slow, EspRowStore)
    assert rows.total() == slow.total()
    _same_rows(rows, slow)
    assert isinstance(single, FileRowStore)
    for spi in slow.by_spi:
        _same_times(rows.times(spi), single.times(spi))
    assert rows.seek is not None
    # Every checkpoint: the rows before it are those of the frames before it.
    every = slow.view(None)
    frames = [every.row(n).frame for n in range(len(every))]
    for before, total in zip(rows.cp_frames, rows.cp_total, strict=True):
        assert bisect_right(frames, before) == total, (before, total)
    return rows


def _same_times(
    split: tuple[Sequence[float], Sequence[int] | None],
    one: tuple[Sequence[float], Sequence[int] | None],
) -> None:
    """Exact times equal (in capture order); bins (past ``EXACT`` packets) with the same
    packets in all, each packet within one bin of the one-process load's."""
    if one[1] is None or split[1] is None:
        assert list(split[0]) == list(one[0])
        assert split[1] == one[1]
        return
    a, b = list(split[1]), list(one[1])
    assert sum(a) == sum(b)
    if list(split[0]) != list(one[0]):  # other bins (the later range's widened them)
        return
    cum_a, cum_b, widest = 0, 0, max(max(a), max(b))
    for x, y in zip(a, b, strict=True):
        cum_a, cum_b = cum_a + x, cum_b + y
        assert abs(cum_a - cum_b) <= widest


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("jobs", [2, 3])
@pytest.mark.parametrize("with_keys", [False, True])
def test_lab_captures_split(
    scenario: str,
    jobs: int,
    with_keys: bool,
    absorbed: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without keys the ranges are walked at once; with the scenario's keys (a PSK: they open
    IKE) located first, every range reading all IKE, as ``report --jobs``."""
    d = LAB / scenario
    _same_load(d / "capture.pcap", (d / "keys.toml",) if with_keys else (), jobs, monkeypatch)
    assert absorbed[: jobs - 1] == [1] * (jobs - 1), "the ranges were folded, not read again"


@pytest.mark.parametrize("seed", range(1, 7))
@pytest.mark.parametrize("with_keys", [False, True])
def test_generated_draws_same_rows(
    seed: int,
    with_keys: bool,
    tmp_path: Path,
    absorbed: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    capture, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(capture, keys, packets=2400, seed=seed)
    rows = _same_load(capture, (keys,) if with_keys else (), 2 + seed % 2, monkeypatch)
    if not with_keys:
        # Without keys no ESP problem carries a frame number: every draw folds (unless a
        # fragment spans an edge, which these draws do not put there).
        assert absorbed and all(absorbed)
        assert rows.total() > 2000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_later_range_cuts_lanes_and_checkpoints(
    seed: int, tmp_path: Path, absorbed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """12,000 packets: a later range keeps each counter's first 2,048 sequence numbers and
    cuts a lane in two where a flush crosses that count; its rows are recorded once both
    halves are counted (``SnapshotSink``), so no checkpoint falls between them. Batches of 37
    packets and a checkpoint every 40 rows (the range run in a thread here, so that they
    apply to it) put checkpoints near every cut; row by row the same."""
    from concurrent.futures import ThreadPoolExecutor

    from ikeview.tui import espindex

    from ikeview.pipeline import fastwalk

    monkeypatch.setattr(parload, "pool", lambda n: ThreadPoolExecutor(n))
    monkeypatch.setattr(fastwalk, "BATCH", 37)
    monkeypatch.setattr(espindex, "CHECKPOINT_ROWS", 40)
    capture, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(capture, keys, packets=12_000, seed=seed)
    rows = _same_load(capture, (), 2, monkeypatch)
    assert absorbed == [1]
    assert len(rows.cp_offset) > 200


def test_esp_keys_resolve_to_the_first_range_entries(
    tmp_path: Path, absorbed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clean AES-GCM ESP with [[esp]] keys: the later ranges' batches were opened with their
    own process's SA entry; folded, they name the first range's (rows decrypted again from
    the file give what the general path decrypted)."""
    capture, keys = bench_capture(tmp_path, monkeypatch, 3000)
    rows = _same_load(capture, (keys,), 2, monkeypatch)
    assert absorbed == [1]
    last = rows.view(None)
    assert last.row(len(last) - 1).status == STATUS_DECRYPTED


def test_cancelled_load_ends_without_the_complete_analysis(
    tmp_path: Path, absorbed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled at the first snapshot (quit, or new keys): the load returns, nothing complete
    is posted, and the ranges' processes are stopped rather than waited for."""
    capture, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(capture, keys, packets=12_000, seed=3)
    posted: list[object] = []
    rows = run_load(LoadRequest(capture), posted.append, cancelled=lambda: bool(posted))
    assert isinstance(rows, FileRowStore)
    assert posted and not any(isinstance(m, CaptureLoaded) for m in posted)
    assert absorbed == []


def test_time_counts_of_two_ranges_add_up() -> None:
    """Bins of a later range added at their middles: the same packets in all, each within
    one bin of the single pass's."""
    rng = random.Random(7)
    times = sorted(rng.uniform(0, 100) for _ in range(20_000))
    one, first, later = TimeCounts(), TimeCounts(), TimeCounts()
    for ts in times:
        one.add(ts)
    for ts in times[:9000]:
        first.add(ts)
    for ts in times[9000:]:
        later.add(ts)
    first.absorb(later)
    (centres, counts), (ref_centres, ref_counts) = first.weighted(), one.weighted()
    assert counts is not None and ref_counts is not None
    assert sum(counts) == sum(ref_counts) == len(times)
    assert list(centres) == list(ref_centres)  # same origin and width here
    assert all(abs(a - b) <= max(counts) for a, b in zip(counts, ref_counts, strict=True))
    empty = TimeCounts()
    empty.absorb(later)  # nothing before: the later range's counts as they are
    assert empty.weighted()[1] == later.weighted()[1]


def test_app_loads_split(tmp_path: Path, absorbed: list[int]) -> None:
    """The app under Textual: the fork server is started before Textual takes sys.stderr
    (``parload.prepare``), the load splits, every ESP row is there."""
    import asyncio

    from ikeview.tui.app import make_app
    from ikeview.tui.screens.main import MainScreen

    capture, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(capture, keys, packets=2400, seed=5)

    async def run() -> int:
        app = make_app(capture)
        async with app.run_test(size=(120, 40)) as pilot:
            while not isinstance(app.screen, MainScreen) or not app.screen.loaded:
                await pilot.pause(0.05)
            assert "failed" not in str(app.screen.query_one("#status").render())
            return app.screen.rows.total()

    total = asyncio.run(run())
    assert absorbed == [1]
    slow, _ = _load(capture, (), general=True)
    assert total == slow.total() > 2000


@pytest.mark.parametrize("how", ["length", "zero", "icv", "cut", "trailing"])
@pytest.mark.parametrize("with_keys", [False, True])
def test_damaged_files_load_as_in_one_process(
    how: str,
    with_keys: bool,
    tmp_path: Path,
    absorbed: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Damage where a later range starts or lies (test_parallel's): the split load gives the
    one-process load's analysis and rows, whether it folded or started again."""
    capture, keys_file = bench_capture(tmp_path, monkeypatch, 4000)
    capture.write_bytes(_damaged(capture.read_bytes(), how))
    keys = (keys_file,) if with_keys else ()
    slow, by_record = _load(capture, keys, general=True)
    single, one = _one_process(capture, keys, monkeypatch)
    for jobs in (2, 3):
        rows, analysis = _split(capture, keys, jobs, monkeypatch)
        assert analysis == one == by_record
        assert type(rows) is type(single)
        assert isinstance(slow, EspRowStore)
        _same_rows(rows, slow)  # type: ignore[arg-type]  # either store: views alike
    if how == "icv":  # an integrity failure in a later range: its line renumbered, folded
        assert absorbed == [1, 1, 1]


def test_a_range_that_fails_leaves_the_load_to_one_process(
    tmp_path: Path, absorbed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later range's process raising what nobody foresaw (here RuntimeError, the range run
    in a thread so that the failure reaches it): the load is the one-process load's, not a
    failed one."""
    from concurrent.futures import ThreadPoolExecutor

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a range gave up")

    monkeypatch.setattr(parload, "pool", lambda n: ThreadPoolExecutor(n))
    monkeypatch.setattr(parload, "load_range", broken)
    capture, keys = tmp_path / "g.pcap", tmp_path / "keys.toml"
    write_capture(capture, keys, packets=2400, seed=2)
    rows, analysis = _split(capture, (), 2, monkeypatch)
    _, one = _one_process(capture, (), monkeypatch)
    assert analysis == one and absorbed == []
    assert isinstance(rows, FileRowStore) and rows.total() > 2000
