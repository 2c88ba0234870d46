"""The TUI on a live interface: the notification, errors as notifications, and (as root) IKE
datagrams sent over loopback showing up as an IKE SA while the capture runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from ikeview.tui.app import make_app
from ikeview.tui.loading import cancellable
from ikeview.tui.screens.main import MainScreen
from textual.worker import WorkerFailed
from tui_support import SIZE, no_animations, sync  # noqa: F401 (autouse fixture)


def test_cancellable_stops_a_blocked_source() -> None:
    """A source that never yields again does not keep the consumer: cancellation ends it."""
    flag: list[bool] = []

    def slow() -> Any:
        yield 1
        while True:  # an idle interface: no next frame, ever
            time.sleep(0.05)

    it = cancellable(slow(), lambda: bool(flag))
    assert next(it) == 1
    flag.append(True)
    assert list(it) == []


def test_cancellable_reraises_source_errors() -> None:
    """An error in the source thread is raised in the consumer."""

    def bad() -> Any:
        yield 1
        raise OSError("interface went away")

    it = cancellable(bad(), lambda: False)
    assert next(it) == 1
    with pytest.raises(OSError, match="went away"):
        next(it)


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
    """IKE messages sent to 127.0.0.1:500 appear as an IKE SA while the capture runs."""
    payloads = _ike_payloads(shared_dir)[:2]
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
            if screen.analysis is not None and screen.analysis.ike_sas:
                break
        assert screen.analysis is not None and screen.analysis.ike_sas
        assert screen.analysis.counters.ike_messages >= len(payloads)
        await pilot.press("q")
