"""Time the TUI headless on a 100,000-packet capture: first screen, first data, fully loaded.

The capture comes from bench/make_capture.py (fixed seed; written once to bench/out/). The app
runs under Textual's ``run_test`` at 120x40; times are wall-clock from entering ``run_test``:
- first screen: the main screen is mounted and interactive (before any data arrives);
- first data: the first partial snapshot has been drawn;
- loaded: CaptureLoaded has been handled (every panel filled);
- first visit to each tab: from the digit's action to the next idle (pilot waits included),
  wall-clock and CPU seconds of the process (the load worker has finished by then, so the CPU
  time is the UI's own work, whatever else runs on the machine: the load average is printed);
- ESP jump to last row: the virtual table's cost;
- ESP detail of the last row: Enter there, its frame read back from the file (from the load's
  last checkpoint before it) and decrypted again, until the detail is shown.
Then, in the same run, ``ikeview report F --json`` (with ``--keys K`` when the capture has a keys
file beside it, ``F`` with ``.toml``, or ``--keys`` names one) as a child process: its CPU and
wall seconds are the comparison for "fully loaded" (issue 16: no slower than ``report``; the
TUI's CPU counts from entering ``run_test``, its interpreter start and imports are printed
apart, report's CPU includes its own), and the max RSS of both (the TUI's from
``getrusage``, the whole process with Textual).
A capture of 64 MB or more loads split across processes (``tui.parload``): "CPU: loaded" and
the max RSS are then the UI's process only, "CPU: range processes" the later ranges' (children
of multiprocessing's fork server, read from its /proc entry once it has reaped them), and the
wall times are the comparison.
Targets (issue #12): first screen < 0.5 s, loaded < 3 s, first visit to a tab < 150 ms; issue 16,
on 1M packets: first screen < 0.5 s, fully loaded no slower than ``report``.
Textual's animations (the tab underline slides for ~0.3 s) are off unless ``--animations``:
the pane is drawn at once, the slide is cosmetic and would be counted in every tab visit.

Usage: python bench/bench_tui.py [--packets N] [--capture PATH] [--keys FILE] [--no-report]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import compile_ikeview

if __name__ == "__main__":
    # Not when this file is run again as ``__mp_main__``: the TUI's split load (tui.parload)
    # starts its range processes from multiprocessing's fork server, and Python runs the main
    # module again in each of them (as in ``ikeview tui``, whose main module imports only
    # ikeview.cli). Textual imported there would be the bench's cost, not the TUI's.
    compile_ikeview()  # before the imports below (STARTUP_CPU counts them)
    from ikeview.tui import parload
    from ikeview.tui.app import make_app
    from ikeview.tui.messages import AnalysisUpdated, CaptureLoaded
    from ikeview.tui.screens.main import MainScreen
    from ikeview.tui.widgets.esp_table import EspTable
    from textual.message import Message
    from textual.worker import Worker, WorkerState

HERE = Path(__file__).resolve().parent
STARTUP_CPU = time.process_time()
"""CPU seconds of this process before ``run``: the interpreter and the imports (Textual's, the
TUI's). Not in "CPU: loaded", which counts from ``run``; report's CPU includes its own."""


def capture_for(packets: int) -> Path:
    """The benchmark capture with ``packets`` packets, written on first use."""
    path = HERE / "out" / f"bench-{packets // 1000}k.pcap"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_capture.py"),
                "--packets",
                str(packets),
                "--out",
                str(path),
            ],
            check=True,
        )
    return path


def reaped_by_children() -> float:
    """CPU seconds of the processes this one's children have reaped: a split load's range
    processes, forked by multiprocessing's fork server (a child of this process), end there
    (``cutime`` + ``cstime`` of /proc/PID/stat); 0 where /proc says nothing."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 0.0
    for tid in tasks:
        try:
            kids = Path(f"/proc/self/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for pid in kids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[13]) + int(fields[14])  # cutime, cstime (stat fields 16, 17)
    return total / tick


def report_usage(capture: Path, keys: Path | None) -> tuple[float, float, float]:
    """(wall s, CPU s, max RSS MB) of ``ikeview report F --json``, under ``/usr/bin/time``
    (``wait4`` on a child of this process would count this process's pages: the child shares
    them until it execs)."""
    cmd = [str(Path(sys.executable).parent / "ikeview"), "report", str(capture), "--json"]
    if keys is not None:
        cmd += ["--keys", str(keys)]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        timed = ["/usr/bin/time", "-o", out.name, "-f", "%M %U %S %e", *cmd]
        subprocess.run(timed, stdout=subprocess.DEVNULL, check=True)
        kb, user, system, wall = out.read().split()[-4:]
    return float(wall), float(user) + float(system), int(kb) / 1024


async def run(capture: Path, keys: Path | None) -> dict[str, float]:
    marks: dict[str, float] = {}
    start, cpu0, ui0 = time.perf_counter(), time.process_time(), time.thread_time()
    ranges0 = reaped_by_children()
    split = capture.stat().st_size >= parload.SPLIT_BYTES

    def hook(message: Message) -> None:
        now = time.perf_counter() - start
        if isinstance(message, Worker.StateChanged) and message.state == WorkerState.RUNNING:
            # The load starts from call_after_refresh: the main screen has been painted.
            marks.setdefault("first screen", now)
        elif isinstance(message, AnalysisUpdated):
            marks.setdefault("first data posted", now)
        elif isinstance(message, CaptureLoaded):
            marks.setdefault("loaded posted", now)

    app = make_app(capture, keys=[keys] if keys is not None else [])
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        # Poll with plain sleeps: pilot.pause() waits for the app to go idle, which it does not
        # while the worker keeps posting snapshots.
        while not isinstance(app.screen, MainScreen):
            await asyncio.sleep(0.01)
        screen = app.screen
        while screen.analysis is None:
            await asyncio.sleep(0.01)
        marks["first data shown"] = time.perf_counter() - start
        while not screen.loaded:
            await asyncio.sleep(0.01)
        marks["loaded"] = time.perf_counter() - start
        # Both threads' CPU (the load worker and the UI): on a loaded machine, the part of the
        # wall time this process itself spent.
        marks["  CPU: loaded"] = time.process_time() - cpu0
        # Of which the UI thread's (this one: Textual's event loop), the rest the load worker's.
        marks["  UI thread CPU: loaded"] = time.thread_time() - ui0
        # A split load's range processes (none when the capture loads in one process).
        for _ in range(50):  # the fork server reaps them as they exit, soon after the fold
            ranges = reaped_by_children() - ranges0
            if ranges or not split:
                break
            await asyncio.sleep(0.01)
        marks["  CPU: range processes"] = ranges
        await pilot.pause()
        for tab in ("message", "proposals", "timing", "esp", "problems", "ladder"):
            t, cpu = time.perf_counter(), time.process_time()
            screen.action_show_tab(tab)
            await pilot.pause()
            marks[f"first visit: {tab}"] = time.perf_counter() - t
            marks[f"  CPU: {tab}"] = time.process_time() - cpu
        screen.action_show_tab("esp")
        await pilot.pause()
        table = screen.query_one(EspTable)
        table.focus()
        await pilot.pause()
        t = time.perf_counter()
        await pilot.press("G")
        marks["ESP jump to last row"] = time.perf_counter() - t
        t, cpu = time.perf_counter(), time.process_time()
        await pilot.press("enter")  # the last packet's detail: its frame read back and decrypted
        await app.workers.wait_for_complete()
        await pilot.pause()
        marks["ESP detail of the last row"] = time.perf_counter() - t
        marks["  CPU: ESP detail"] = time.process_time() - cpu
        marks["ESP rows"] = float(len(table.view) if table.view is not None else 0)
        marks["frames"] = float(screen.analysis.counters.frames)
    marks["  CPU before run (imports)"] = STARTUP_CPU
    marks["max RSS (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return marks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--packets", type=int, default=100_000)
    ap.add_argument("--capture", type=Path)
    ap.add_argument("--keys", type=Path, help="keys file (default: the capture's .toml if any)")
    ap.add_argument("--no-report", action="store_true", help="skip the report comparison")
    ap.add_argument("--animations", action="store_true", help="keep Textual's animations on")
    args = ap.parse_args()
    if not args.animations:
        import textual.constants

        textual.constants.TEXTUAL_ANIMATIONS = "none"  # type: ignore[assignment]
    capture = args.capture or capture_for(args.packets)
    keys = args.keys
    if keys is None and capture.with_suffix(".toml").exists():
        keys = capture.with_suffix(".toml")
    load = os.getloadavg()
    marks = asyncio.run(run(capture, keys))
    if not args.no_report:
        wall, cpu, rss = report_usage(capture, keys)
        marks["report --json: wall"] = wall
        marks["  report CPU"] = cpu
        marks["report max RSS (MB)"] = rss
    print(f"capture: {capture}" + (f" keys: {keys}" if keys is not None else ""))
    print(
        "load average before/after: "
        + " ".join(f"{x:.2f}" for x in load)
        + " / "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    for name, value in marks.items():
        unit = "" if name in ("ESP rows", "frames") or "MB" in name else " s"
        shown = f"{value:.0f}" if not unit else f"{value:.3f}"
        print(f"{name:>28}: {shown}{unit}")


if __name__ == "__main__":
    main()
