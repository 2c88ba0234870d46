"""Test support for the ``ikeview live`` tests (no tests here): network namespaces joined by a
veth pair, ``ikeview live`` started inside one of them, frames replayed from a capture file
inside the other, and report normalisation for comparing a live run with a file.

Names carry the pid and random bytes, so parallel (xdist) workers and leftovers from a killed
run never collide; everything made is removed in ``finally`` even when a test fails.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lab_support import LAB as LAB  # the one lab path, re-exported for the live tests

REPO = Path(__file__).resolve().parents[1]

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(
    not IS_ROOT, reason="needs root: network namespaces, veth pairs and packet sockets"
)

# Every field whose value depends on when the frames were seen (not on what they carry). A live
# run over replayed frames has other times than the file they came from; everything else in the
# report must be equal. The value is replaced by a marker, None stays None, so "has an RTT" is
# still compared.
TIME_FIELDS = frozenset(
    {
        "ts",
        "first_ts",
        "last_ts",
        "established_ts",
        "deleted_ts",
        "request_ts",
        "response_ts",
        "created_ts",
        "rtt",
        "time_to_establish",
    }
)


def timeless(report: Any) -> Any:
    """The JSON report with times replaced by a marker and the capture name dropped."""
    if isinstance(report, dict):
        return {
            k: ("<time>" if v is not None else None) if k in TIME_FIELDS else timeless(v)
            for k, v in report.items()
            if k != "capture"
        }
    if isinstance(report, list):
        return [timeless(v) for v in report]
    return report


def without_capture_name(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what only differs by source: the file name, and the live socket's own
    counters (``live_capture``: received, dropped, buffer size), which a file cannot have."""
    return {k: v for k, v in report.items() if k not in ("capture", "live_capture")}


def unique_tag() -> str:
    """Short (<= 8 hex digits) and unique per process and call: interface names have 15 chars."""
    return f"{os.getpid() & 0xFFFFFF:x}{secrets.token_hex(1)}"


def run(*cmd: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=timeout)


def ikeview_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "ikeview", *args]


def report_json(capture: Path, *keys: Path) -> dict[str, Any]:
    """``ikeview report --json`` of a file, through the real CLI."""
    args = ["report", "--json", str(capture)]
    for k in keys:
        args += ["--keys", str(k)]
    proc = subprocess.run(
        ikeview_cmd(*args), capture_output=True, text=True, timeout=60, cwd=REPO, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def frames_of(capture: Path) -> list[bytes]:
    from ikeview.dissectors.capture import read_capture

    with read_capture(capture) as reader:
        return [f.data for f in reader]


def frames_so_far(target: Path) -> list[bytes]:
    """Frames ``live --write`` has written so far: it writes to a temporary ``.NAME.*.part``
    beside the target and renames it when the capture stops (ikeview.outfile)."""
    if target.exists():
        return frames_of(target)
    parts = sorted(target.parent.glob(f".{target.name}.*.part"))
    return frames_of(parts[-1]) if parts else []


def tshark_frames(capture: Path) -> list[bytes]:
    """Every frame as tshark reads it (raises if tshark finds the file damaged)."""
    proc = subprocess.run(
        ["tshark", "-r", str(capture), "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "cut short" not in proc.stderr and "appears to be damaged" not in proc.stderr, (
        proc.stderr
    )
    # tshark agreed the file is whole; the bytes themselves come from our reader.
    numbers = [int(n) for n in proc.stdout.split()]
    data = frames_of(capture)
    assert numbers == list(range(1, len(data) + 1))
    return data


@dataclass
class Netns:
    """Two namespaces ``a`` and ``b`` joined by a veth pair ``if_a`` (in a) -- ``if_b`` (in b)."""

    a: str
    b: str
    if_a: str
    if_b: str
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def exec(self, ns: str, *cmd: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *cmd]


@contextmanager
def veth_namespaces(tmp: Path) -> Iterator[Netns]:
    tag = unique_tag()
    net = Netns(f"ikvt-{tag}-a", f"ikvt-{tag}-b", f"ikv{tag}a", f"ikv{tag}b", tmp)
    made: list[str] = []
    try:
        for ns in (net.a, net.b):
            run("ip", "netns", "add", ns)
            made.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            # No IPv6 link-local chatter (router solicitations, MLD) on the veth.
            for key in ("all", "default"):
                run(
                    "ip",
                    "netns",
                    "exec",
                    ns,
                    "sysctl",
                    "-qw",
                    f"net.ipv6.conf.{key}.disable_ipv6=1",
                )
        # Made directly inside the namespaces, so the names never touch the host's.
        run(
            "ip", "link", "add", net.if_a, "netns", net.a, "type", "veth",
            "peer", "name", net.if_b, "netns", net.b,
        )  # fmt: skip
        # Addresses from 192.0.2.0/24 (TEST-NET-1) only, and only inside the namespaces. The
        # replayed frames carry other MAC addresses, so these hosts drop them unanswered.
        run("ip", "-n", net.a, "addr", "add", "192.0.2.201/24", "dev", net.if_a)
        run("ip", "-n", net.b, "addr", "add", "192.0.2.202/24", "dev", net.if_b)
        run("ip", "-n", net.a, "link", "set", net.if_a, "up")
        run("ip", "-n", net.b, "link", "set", net.if_b, "up")
        yield net
    finally:
        for p in net.procs:
            if p.poll() is None:
                p.kill()
            with suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


@dataclass
class LiveRun:
    """An ``ikeview live`` process; stdout and stderr go to files."""

    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def wait_listening(self, timeout: float = 20) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if "ikeview: listening on" in self.stderr.read_text():
                return
            if self.proc.poll() is not None:
                pytest.fail(f"ikeview live exited early: {self.stderr.read_text()}")
            time.sleep(0.05)
        pytest.fail(f"ikeview live never said it was listening: {self.stderr.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def report(self) -> dict[str, Any]:
        return json.loads(self.stdout.read_text())


def start_live(net: Netns, name: str, *args: str) -> LiveRun:
    """``ikeview live -i if_a ARGS`` inside namespace a (``ip netns exec`` execs it: the pid
    is ikeview's own, so signals reach it directly)."""
    return start_in_a(net, name, ikeview_cmd("live", "-i", net.if_a, *args))


# run_live called directly, for what the CLI does not offer (keys files read again at the end).
_RUN_LIVE = """
import sys
from pathlib import Path
from ikeview.live import run_live
iface, keys, mode, write = sys.argv[1:5]
paths = [Path(k) for k in keys.split(",")]
raise SystemExit(run_live(iface, key_paths=paths, keys_mode=mode, write=Path(write),
                          as_json=True, timeout=float(sys.argv[5])))
"""
RUN_LIVE_SCRIPT = _RUN_LIVE
"""Arguments: IFACE KEYS[,KEYS...] MODE WRITE TIMEOUT; prints the JSON report at the end."""


def start_run_live(
    net: Netns, name: str, keys: Path, write: Path, mode: str = "secrets", timeout: float = 25
) -> LiveRun:
    cmd = [sys.executable, "-c", _RUN_LIVE, net.if_a, str(keys), mode, str(write), str(timeout)]
    return start_in_a(net, name, cmd)


def start_in_a(net: Netns, name: str, cmd: list[str]) -> LiveRun:
    out, err = net.tmp / f"{name}.out", net.tmp / f"{name}.err"
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen(
            net.exec(net.a, *cmd),
            stdout=o,
            stderr=e,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
        )
    net.procs.append(proc)
    return LiveRun(proc, out, err)


# Sends each frame of a capture, in order, out of an interface through a packet socket.
_REPLAY = """
import socket, sys, time
from ikeview.dissectors.capture import read_capture
iface, path, gap = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
n = 0
with read_capture(path) as reader:
    for f in reader:
        s.send(f.data)
        n += 1
        time.sleep(gap)
print(n)
"""


def replay(net: Netns, capture: Path, gap: float = 0.02, *, wait: bool = True) -> Any:
    """Send every frame of ``capture`` out of if_b (namespace b) to if_a."""
    cmd = net.exec(net.b, sys.executable, "-c", _REPLAY, net.if_b, str(capture), str(gap))
    if wait:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO)
        assert proc.returncode == 0, proc.stderr
        return int(proc.stdout)
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    net.procs.append(p)  # type: ignore[arg-type]
    return p


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
