"""``ikeview serve`` (issue #12): the TUI through textual-serve, opened by Debian's chromium
headless on localhost. xterm.js draws on a canvas, so the test reads what the page received:
the terminal stream of the page's websocket, through the DevTools protocol."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from tui_support import LAB

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
ANSI = re.compile(r"\x1b\[[0-9;?$]*[a-zA-Z]|\x1b\][^\x07]*\x07")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port}")


async def page_terminal_text(url: str, debug_port: int, markers: tuple[str, ...]) -> str:
    """Open ``url`` in the headless browser; return the terminal text its websocket received
    once every marker is in it (or after 30 s)."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{debug_port}/json") as r:
                    targets = await r.json()
                    break
            await asyncio.sleep(0.2)
        page = next(t for t in targets if t["type"] == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            await ws.send_json({"id": 1, "method": "Network.enable", "params": {}})
            await ws.send_json({"id": 2, "method": "Page.navigate", "params": {"url": url}})
            received = ""
            end = time.monotonic() + 30
            while time.monotonic() < end:
                try:
                    msg = await asyncio.wait_for(ws.receive_json(), timeout=1)
                except TimeoutError:
                    continue
                if msg.get("method") != "Network.webSocketFrameReceived":
                    continue
                frame = msg["params"]["response"]
                data = frame["payloadData"]
                if frame.get("opcode") == 2:
                    data = base64.b64decode(data).decode("utf-8", "replace")
                received += data
                text = ANSI.sub("", received)
                if all(m in text for m in markers):
                    break
            return ANSI.sub("", received)


def test_serve_shows_sa_list_and_ladder_in_chromium(tmp_path: Path) -> None:
    """rekey-dpd served on localhost: the page shows the IKE SA list (its two SAs, rekeyed
    and deleted) and the ladder's first exchange."""
    cap = LAB / "rekey-dpd"
    port, debug_port = free_port(), free_port()
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ikeview",
            "serve",
            str(cap / "capture.pcap"),
            "--keys",
            str(cap / "keys.toml"),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    profile = tempfile.mkdtemp(prefix="ikvtui-chrome-", dir=tmp_path)
    chrome = None
    try:
        wait_for_port(port, 20)
        chrome = subprocess.Popen(
            [
                "chromium",
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={debug_port}",
                "--remote-debugging-address=127.0.0.1",
                "--window-size=1600,1000",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        markers = ("rekeyed", "deleted", "IKE_SA_INIT #0 request", "1 Ladder")
        text = asyncio.run(page_terminal_text(f"http://localhost:{port}/", debug_port, markers))
        for marker in markers:
            assert marker in text, marker
    finally:
        for proc in (chrome, serve):
            if proc is not None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)
                if proc.poll() is None:
                    proc.kill()
