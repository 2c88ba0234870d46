"""ESP rows of a classic pcap kept as checkpoints (issue 16: the TUI's memory bounded by SAs,
not packets): the load on the batch path (``pipeline.fastsnap``) gives the same analysis and,
row by row, the same ESP rows as the general path with a row per packet (``EspRowStore``), in
every view; the ladder grows by appending while a capture loads; the timing lanes' time counts
stay bounded per SPI."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from fastesp_support import write_capture
from ikeview.tui.app import make_app
from ikeview.tui.espindex import CHECKPOINT_ROWS, FileRowStore
from ikeview.tui.esprows import EspRowStore
from ikeview.tui.esptimes import BINS, EXACT, TimeCounts
from ikeview.tui.loading import LoadRequest, run_load
from ikeview.tui.messages import CaptureLoaded
from ikeview.tui.widgets.esp_table import EspTable
from tui_support import LAB, SIZE, loaded, no_animations, sync  # noqa: F401 (autouse fixture)


def _load(capture: Path, keys: tuple[Path, ...], general: bool) -> tuple[object, object]:
    """(rows, the complete analysis) of one load; ``general``: the per-record path."""
    before = os.environ.get("IKEVIEW_NO_FAST")
    os.environ["IKEVIEW_NO_FAST"] = "1" if general else "0"
    try:
        posted: list[object] = []
        rows = run_load(LoadRequest(capture, keys=keys), posted.append)
    finally:
        if before is None:
            del os.environ["IKEVIEW_NO_FAST"]
        else:
            os.environ["IKEVIEW_NO_FAST"] = before
    last = posted[-1]
    assert isinstance(last, CaptureLoaded)
    return rows, last.analysis


def _same_rows(fast: FileRowStore, slow: EspRowStore) -> int:
    """Every row and previous sequence number of every view equal; returns the rows compared."""
    spis = list(slow.by_spi)
    views: list[tuple[int, ...] | None] = [None, *((s,) for s in spis)]
    views += [tuple(spis[:2]), tuple(spis[1:4])]
    compared = 0
    for spis_of in views:
        f, s = fast.view(spis_of), slow.view(spis_of)
        assert len(f) == len(s), spis_of
        # Forwards, then jumps backwards: each window read from its own checkpoint.
        for n in [*range(len(s)), *range(len(s) - 1, -1, -509)]:
            assert f.row(n) == s.row(n), (spis_of, n)
            assert f.previous_seq(n) == s.previous_seq(n), (spis_of, n)
        compared += len(s)
    return compared


@pytest.fixture(scope="module")
def odd_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """test_fastesp's generated capture: GCM and CBC SAs with loss, replays, bad ICVs, damage,
    unknown SPIs, ESP in ESP and frames only the general path takes, 12,000 packets."""
    work = tmp_path_factory.mktemp("espindex")
    capture, keys = work / "odd.pcap", work / "odd.toml"
    write_capture(capture, keys, packets=12_000)
    return capture, keys


def test_checkpoint_rows_equal_per_packet_rows_generated(odd_capture: tuple[Path, Path]) -> None:
    """Batch path + checkpoints against the general path's rows, row by row in every view."""
    capture, keys = odd_capture
    fast, a_fast = _load(capture, (keys,), general=False)
    slow, a_slow = _load(capture, (keys,), general=True)
    assert isinstance(fast, FileRowStore) and isinstance(slow, EspRowStore)
    assert a_fast == a_slow
    assert fast.total() == slow.total() > 10_000
    assert _same_rows(fast, slow) > 3 * slow.total()
    # The general path's rows are kept whole (here many: every batch with ESP in ESP inside
    # goes the record way), the others only counted.
    assert len(fast.kept) < slow.total() // 2
    # The seek table the packet detail reads from: the checkpoints, in file order.
    assert fast.seek is not None and len(fast.seek.points) == len(fast.cp_offset)


def test_memory_grows_with_checkpoints_not_packets(tmp_path: Path) -> None:
    """One GCM SA, 20,000 plain ESP packets: no row kept but the first (it pins the keys on
    the general path), a checkpoint per CHECKPOINT_ROWS rows or so, at most EXACT times, and
    rows still read back (the first, the middle, the last, decrypted: IPv4 + UDP + 64)."""
    from fastesp_support import GCM_SPI, A, B, _frame, _inner_udp, _ipv4, _Sa, _write_pcap

    rng = random.Random(16)
    sa = _Sa(GCM_SPI, True, rng)
    capture, keys = tmp_path / "plain.pcap", tmp_path / "plain.toml"
    keys.write_text(sa.toml("10.0.0.1", "10.0.0.2"))
    packets = 20_000
    frames = [
        (_frame(_ipv4(50, A, B, sa.esp(i + 1, _inner_udp(rng, i % 5, 64), rng))), 0)
        for i in range(packets)
    ]
    _write_pcap(capture, frames, cut=False)
    rows, analysis = _load(capture, (keys,), general=False)
    assert isinstance(rows, FileRowStore)
    assert rows.total() == packets == analysis.counters.esp_decrypted
    assert len(rows.kept) <= 1
    assert len(rows.cp_offset) <= 2 + packets // CHECKPOINT_ROWS * 2
    st = rows.by_spi[GCM_SPI]
    assert len(st.cp_index) < len(rows.cp_offset) and len(st.regimes) <= 2
    assert st.times.weighted()[1] is not None  # binned, BINS counts whatever the packets
    # The timing lane from bins: the same packets per column as from every time, but for
    # a few near a column's edge (one column off at most).
    from ikeview.tui.timeline import Axis, column_counts

    slow, _ = _load(capture, (keys,), general=True)
    assert isinstance(slow, EspRowStore)
    times = list(slow.times(GCM_SPI)[0])
    first, last = times[0], times[-1]
    for width in (40, 97, 200):
        axis = Axis(first, last, width)
        binned, exact = column_counts(rows, GCM_SPI, axis), column_counts(slow, GCM_SPI, axis)
        assert sum(binned) == sum(exact) == packets
        # Packets move to a neighbouring column only: running totals never differ by more
        # than a column holds, and few move (0.2% at 200 columns here: a bin across a column
        # edge is split between the two).
        run_b = run_e = 0
        for b, e in zip(binned, exact, strict=True):
            run_b, run_e = run_b + b, run_e + e
            assert abs(run_b - run_e) <= max(exact)
        assert sum(abs(b - e) for b, e in zip(binned, exact, strict=True)) <= packets // 100
    view = rows.view(None)
    for n in (0, packets // 2, packets - 1):
        row = view.row(n)
        assert (row.frame, row.seq, row.status, row.inner_len) == (n + 1, n + 1, 1, 20 + 8 + 64)
        assert row.summary is not None and row.summary.startswith("IPv4 UDP")


@pytest.mark.parametrize("name", ["rekey-dpd", "esp-loss-replay", "esp-corrupt", "natt"])
def test_checkpoint_rows_equal_per_packet_rows_lab(name: str) -> None:
    """strongSwan lab captures with their keys: same analysis, same rows."""
    capture, keys = LAB / name / "capture.pcap", LAB / name / "keys.toml"
    fast, a_fast = _load(capture, (keys,), general=False)
    slow, a_slow = _load(capture, (keys,), general=True)
    assert isinstance(fast, FileRowStore) and isinstance(slow, EspRowStore)
    assert a_fast == a_slow
    _same_rows(fast, slow)


def test_cut_capture_falls_back_to_the_general_path(tmp_path: Path) -> None:
    """A cut last record: the batch path gives up, the general path says what is wrong."""
    capture, keys = tmp_path / "cut.pcap", tmp_path / "cut.toml"
    write_capture(capture, keys, packets=2000, cut=True)
    rows, analysis = _load(capture, (keys,), general=False)
    _, reference = _load(capture, (keys,), general=True)
    assert isinstance(rows, EspRowStore)
    assert analysis == reference


@sync
async def test_esp_tab_on_checkpoint_rows(odd_capture: tuple[Path, Path]) -> None:
    """Pilot: the ESP tab of the generated capture reads its rows on demand; G then enter
    shows the last packet's detail, decrypted as the general path decrypted it."""
    from ikeview.tui.screens.packet import EspPacketScreen

    capture, keys = odd_capture
    slow, _ = _load(capture, (keys,), general=True)
    assert isinstance(slow, EspRowStore)
    app = make_app(capture, keys=[keys])
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert isinstance(screen.rows, FileRowStore)
        await pilot.press("5")
        await pilot.pause()
        table = screen.query_one(EspTable)
        table.focus()
        view = table.view
        assert view is not None
        reference = slow.view(view.wanted)
        assert len(view) == len(reference) > 0
        await pilot.press("G")
        await pilot.pause()
        last = len(view) - 1
        assert table.cursor == last and view.row(last) == reference.row(last)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, EspPacketScreen)


def test_time_counts_exact_then_binned() -> None:
    """Exact times up to EXACT per SPI, then at most BINS counts: the total is kept, every
    packet lies in its bin, memory stays the same however many packets come."""
    rng = random.Random(7)
    times = sorted(rng.uniform(1000.0, 1600.0) for _ in range(50_000))
    counts = TimeCounts()
    for i in range(0, EXACT, 64):
        counts.add_items([(0, t) for t in times[i : i + 64]])
    exact, weights = counts.weighted()
    assert weights is None and list(exact) == times[:EXACT]
    for i in range(EXACT, len(times), 100):
        counts.add_items([(0, t) for t in times[i : i + 100]])
    centres, weights = counts.weighted()
    assert weights is not None and len(centres) == len(weights) == BINS
    assert sum(weights) == len(times)
    width = centres[1] - centres[0]
    assert centres[0] - width / 2 <= times[0] and times[-1] <= centres[-1] + width / 2
    assert width <= 2 * (times[-1] - times[0]) / BINS * 2
    # A packet far later than the others widens the bins; nothing is lost.
    counts.add(times[-1] + 10_000.0)
    assert sum(counts.weighted()[1] or ()) == len(times) + 1


def test_stream_fast_paces_snapshots_and_stops_when_cancelled(
    odd_capture: tuple[Path, Path],
) -> None:
    """One partial snapshot after ``first_after`` frames, more only once ``interval`` has
    passed (a clock that stands still: none), the complete one last with the seek table;
    ``cancelled()`` ends the walk at once, without a complete snapshot."""
    from ikeview.pipeline.analyze import make_decryptor
    from ikeview.pipeline.fastsnap import stream_fast

    capture, _keys = odd_capture
    steps: list[object] = []
    store = FileRowStore(capture)
    done = stream_fast(
        capture, make_decryptor(None), store, steps.append, first_after=100, clock=lambda: 0.0
    )
    assert done and len(steps) == 2
    first, last = steps  # type: ignore[misc]
    assert not first.analysis.complete and 0 < first.bytes_done < first.bytes_total  # type: ignore[attr-defined]
    assert last.analysis.complete and last.seek is not None  # type: ignore[attr-defined]
    ticks = iter(range(10**9))
    steps.clear()
    stream_fast(
        capture,
        make_decryptor(None),
        FileRowStore(capture),
        steps.append,
        first_after=100,
        interval=0.5,
        clock=lambda: float(next(ticks)),
    )
    assert len(steps) > 10  # a second per clock call: every batch is due
    steps.clear()
    assert stream_fast(
        capture,
        make_decryptor(None),
        FileRowStore(capture),
        steps.append,
        cancelled=lambda: bool(steps),
        first_after=100,
    )
    assert len(steps) == 1 and not steps[0].analysis.complete  # type: ignore[attr-defined]


def test_time_counts_take_times_out_of_order() -> None:
    """A batch whose times go back and forth (a hostile capture): every packet counted, none
    before the first bin or past the last, no error."""
    counts = TimeCounts()
    counts.add_items([(0, 100.0 + k) for k in range(EXACT + 1)])  # now binned
    counts.add_items([(0, 100.5), (0, 50.0), (0, 10_000.0), (0, 100.7)])
    counts.add_items([(0, 90.0), (0, 1e9), (0, 95.0)])
    _centres, weights = counts.weighted()
    assert weights is not None and sum(weights) == EXACT + 1 + 7


def test_rows_of_a_file_changed_after_the_load(tmp_path: Path) -> None:
    """The capture is rewritten after the load: rows say they are not found, never read the
    new bytes at the old offsets, never raise."""
    import shutil

    capture, keys = LAB / "rekey-dpd" / "capture.pcap", LAB / "rekey-dpd" / "keys.toml"
    copy = tmp_path / "capture.pcap"
    shutil.copyfile(capture, copy)
    rows, _ = _load(copy, (keys,), general=False)
    assert isinstance(rows, FileRowStore)
    view = rows.view(None)
    assert len(view) > 0 and view.row(0).frame > 0
    copy.write_bytes(copy.read_bytes()[:200])
    fresh = rows.view((view.row(0).spi,))
    assert len(fresh) > 0
    assert fresh.row(0).summary == "(not found in the file)" and fresh.previous_seq(0) is None
