"""The TUI on a live interface: the notification, errors as notifications, and (as root) IKE
datagrams sent over loopback showing up as an IKE SA while the capture runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from ikeview.dissectors.capture import CaptureReader
from ikeview.dissectors.records import RawFrame
from ikeview.tui import loading
from ikeview.tui.app import make_app
from ikeview.tui.loading import LoadRequest, cancellable, run_load
from ikeview.tui.messages import AnalysisUpdated, CaptureLoaded, KernelDropped
from ikeview.tui.screens.main import MainScreen
from textual.worker import WorkerFailed
from tui_support import LAB, SIZE, no_animations, sync  # noqa: F401 (autouse fixture)

from ikeview.pipeline.analyze import Step, iter_analysis

GCM = "captures/wireshark/ikev2-decrypt-aes256gcm16.pcap"
"""Six IKE messages (one IKE SA) over 72 s, from Wireshark's test captures."""


def test_cancellable_stops_a_blocked_source() -> None:
    """A source that never yields again does not keep the consumer: cancellation ends it."""
    flag: list[bool] = []
    stopped = threading.Event()

    def slow() -> Any:
        yield 1
        while not stopped.is_set():  # an idle interface: no next frame until the capture stops
            time.sleep(0.05)

    it = cancellable(slow(), lambda: bool(flag), stopped=stopped)
    assert next(it) == 1
    flag.append(True)
    assert list(it) == []


def _source_threads_end(seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(t.name == "ikeview-live-source" for t in threading.enumerate()):
            return True
        time.sleep(0.05)
    return False


def test_cancelled_source_thread_ends_and_closes_its_source() -> None:
    """Once the consumer is done, the reading thread ends and the source's ``finally`` runs (a
    capture's socket), even when the source is idle: it polls the same event."""
    stopped = threading.Event()
    closed: list[bool] = []
    flag: list[bool] = []

    def idle() -> Any:
        try:
            yield 1
            while not stopped.is_set():  # as livecap polls stop() every 0.2 s
                time.sleep(0.05)
        finally:
            closed.append(True)

    it = cancellable(idle(), lambda: bool(flag), stopped=stopped)
    assert next(it) == 1
    flag.append(True)
    assert list(it) == []
    assert _source_threads_end()
    assert closed == [True]


def test_consumer_gone_with_a_full_queue_ends_the_thread() -> None:
    """A busy source whose consumer stopped reading does not block forever on a full queue."""

    def busy() -> Any:
        n = 0
        while True:
            n += 1
            yield n

    it = cancellable(busy(), lambda: False)
    assert next(it) == 1
    it.close()  # the consumer is gone: quit, or keys re-run
    assert _source_threads_end(5.0)


def test_cancellable_reraises_source_errors() -> None:
    """An error in the source thread is raised in the consumer."""

    def bad() -> Any:
        yield 1
        raise OSError("interface went away")

    it = cancellable(bad(), lambda: False)
    assert next(it) == 1
    with pytest.raises(OSError, match="went away"):
        next(it)


def test_cancellable_ticks_when_idle() -> None:
    """With idle_ticks, an idle source gives None now and then; items still come through."""
    flag: list[bool] = []

    def slow() -> Any:
        yield 1
        while not flag:
            time.sleep(0.05)
        yield 2

    it = cancellable(slow(), lambda: False, idle_ticks=True)
    assert next(it) == 1
    assert next(it) is None  # nothing for IDLE_POLL seconds
    flag.append(True)
    assert [x for x in it if x is not None] == [2]


def _frames(path: Path) -> list[RawFrame]:
    return list(CaptureReader(path))


def _fed(step: Step) -> int:
    """Records the correlator has seen (counters.frames lags until the dissector's run ends)."""
    c = step.analysis.counters
    return c.ike_messages + c.esp_packets + c.keepalives + c.frame_errors


class TestIterAnalysisInterval:
    """iter_analysis(min_interval=...) with a clock that reads the capture's own time."""

    def test_one_snapshot_per_interval(self) -> None:
        """rekey-dpd (32 frames over 9.6 s) at 2 s: a handful of snapshots, not 32."""
        frames = _frames(LAB / "rekey-dpd" / "capture.pcap")
        now = [frames[0].ts]

        def timed() -> Any:
            for f in frames:
                now[0] = f.ts
                yield f

        steps = list(iter_analysis(timed(), every=0, min_interval=2.0, clock=lambda: now[0]))
        partial = [s for s in steps if not s.analysis.complete]
        assert 3 <= len(partial) <= 6
        seen = [_fed(s) for s in partial]
        assert seen == sorted(set(seen))
        assert steps[-1].analysis.complete and steps[-1].analysis.counters.frames == 32

    def test_defaults_unchanged(self) -> None:
        """No interval: ``every`` alone decides, as before."""
        frames = _frames(LAB / "rekey-dpd" / "capture.pcap")
        steps = list(iter_analysis(frames, every=10))
        assert [_fed(s) for s in steps] == [10, 20, 30, 32]
        assert len(list(iter_analysis(frames, every=0))) == 1

    def test_idle_tick_shows_held_back_records(self, shared_dir: Path) -> None:
        """Records within the interval wait; the source's idle tick (None) shows them, once."""
        frames = _frames(shared_dir / GCM)
        source = [frames[0], frames[1], None, None, frames[2], None]
        steps = list(iter_analysis(source, every=0, min_interval=3600.0, clock=lambda: 0.0))
        counts = [(s.analysis.complete, s.analysis.counters.ike_messages) for s in steps]
        assert counts == [(False, 2), (False, 3), (True, 3)]


def test_run_load_live_shows_last_records_when_idle(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live source that sends six IKE messages at once then goes quiet: one snapshot for the
    first, and every one of the six shows up once the source is idle (no seventh packet)."""
    frames = _frames(shared_dir / GCM)
    done: list[bool] = []

    def quiet_after(
        interface: str, extra_ports: tuple[int, ...], on_drops: Any = None, stop: Any = None
    ) -> Any:
        yield from frames
        while not done and not stop():  # the link goes quiet
            time.sleep(0.05)

    monkeypatch.setattr(loading, "live_source", quiet_after)
    posted: list[object] = []

    def post(message: object) -> None:
        posted.append(message)
        if isinstance(message, AnalysisUpdated) and message.analysis.counters.ike_messages == 6:
            done.append(True)

    start = time.monotonic()
    run_load(LoadRequest(None, interface="lo"), post, lambda: bool(done))  # type: ignore[arg-type]
    assert done, "the six messages never showed while the source was idle"
    assert time.monotonic() - start < 3
    updates = [m for m in posted if isinstance(m, AnalysisUpdated)]
    assert 1 <= len(updates) <= 2  # not one per packet
    assert not any(isinstance(m, CaptureLoaded) for m in posted)


def test_kernel_drops_reach_the_screen(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drops the kernel reports while capturing (PACKET_STATISTICS, read by livecap) are posted
    as KernelDropped, which the main screen turns into a warning (issue 15, item 11)."""
    frames = _frames(shared_dir / GCM)

    def dropping(
        interface: str, extra_ports: tuple[int, ...], on_drops: Any = None, stop: Any = None
    ) -> Any:
        yield from frames[:2]
        on_drops(1000, 37)  # as live_frames reports a grown drop count
        yield from frames[2:]

    monkeypatch.setattr(loading, "live_source", dropping)
    posted: list[object] = []
    run_load(LoadRequest(None, interface="lo"), posted.append)  # type: ignore[arg-type]
    drops = [m for m in posted if isinstance(m, KernelDropped)]
    assert [(m.received, m.dropped) for m in drops] == [(1000, 37)]


@sync
async def test_unknown_interface_is_a_notification() -> None:
    """-i with no such interface: 'live capture: …' then the core's error, no crash."""
    app = make_app(None, interface="no-such-if0")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("live capture: no-such-if0") for m in messages)
        assert any("no network interface named 'no-such-if0'" in m for m in messages)
        assert app.is_running


def _ike_payloads(shared: Path) -> list[bytes]:
    """UDP payloads of the IKE messages of a real capture (read with scapy, not ikeview)."""
    from scapy.layers.inet import UDP
    from scapy.utils import rdpcap

    pkts = rdpcap(str(shared / "captures/wireshark/ikev2-decrypt-aes256gcm16.pcap"))
    return [bytes(p[UDP].payload) for p in pkts if UDP in p and p[UDP].dport in (500, 4500)]


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root")
@sync
async def test_live_loopback_shows_ike_sa(shared_dir: Path) -> None:
    """IKE messages sent to 127.0.0.1:500 appear as an IKE SA while the capture runs; all of
    them, though snapshots are 0.25 s apart: the last ones show when the link goes quiet."""
    payloads = _ike_payloads(shared_dir)
    app = make_app(None, interface="lo")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(50):
            await asyncio.sleep(0.02)
            if isinstance(app.screen, MainScreen) and app.workers:
                break
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await asyncio.sleep(0.5)  # the packet socket is open once the worker runs
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            for data in payloads:
                s.sendto(data, ("127.0.0.1", 500))
        for _ in range(100):
            await asyncio.sleep(0.05)
            a = screen.analysis
            if a is not None and a.ike_sas and a.counters.ike_messages >= len(payloads):
                break
        assert screen.analysis is not None and screen.analysis.ike_sas
        assert screen.analysis.counters.ike_messages == len(payloads)
        assert len(screen.analysis.ike_sas[0].messages) == len(payloads)
        await pilot.press("q")
    # Quitting ends the capture thread and closes its packet socket.
    assert _source_threads_end()
