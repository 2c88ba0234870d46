"""Time one full dissect() pass aggregated like ``ikeview summary``, against tshark.

Three runs on the same capture (made by make_capture.py if missing):
1. in this process: dissect() with the summary's aggregation (per-SPI packet and byte counts,
   first/last time; one formatted line per IKE message), wall and CPU time, peak RSS;
   then the summary's fast path (``summarize_fast``, what the command runs) in this process;
2. ``ikeview summary FILE`` in a subprocess, if the command exists (the ratio uses this one,
   start-up included; the in-process fast path when the command is missing);
3. ``tshark -r FILE -Y "isakmp || esp" -T fields -e frame.number -e esp.spi``.
Each rate is packets per second of wall time, and of CPU time (user + system), which is the
fairer number on a shared, busy machine. Not a test: a script that prints figures.

Usage: python bench/bench_summary.py [FILE] [--no-tshark] [--no-cli] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ikeview.dissectors.records import EspPacket, IkeDatagram  # noqa: E402
from ikeview.dissectors.stream import DissectStats, dissect  # noqa: E402

from ikeview.fastsummary import summarize_fast  # noqa: E402

DEFAULT = HERE / "out" / "bench-1M.pcap"


def summary_pass(path: Path) -> tuple[DissectStats, int, int]:
    """dissect() plus the aggregation ``ikeview summary`` does; returns (stats, SAs, lines)."""
    stats = DissectStats()
    per_spi: dict[tuple[int, str, str, bool], list[float]] = {}
    lines: list[str] = []
    for rec in dissect(path, stats=stats):
        if type(rec) is EspPacket:
            flow = rec.flow
            key = (rec.spi, flow.src, flow.dst, rec.udp_encap)
            row = per_spi.get(key)
            if row is None:
                per_spi[key] = [1, rec.length, flow.ts, flow.ts]
            else:
                row[0] += 1
                row[1] += rec.length
                row[3] = flow.ts
        elif type(rec) is IkeDatagram:
            flow = rec.flow
            h = rec.message.header
            what = (
                f"{h.spi_i.hex()}/{h.spi_r.hex()} x{h.exchange_type} mid={h.message_id} "
                f"{'I' if h.initiator else 'R'}{' resp' if h.response else ''}"
                if h is not None
                else "(no header)"
            )
            lines.append(
                f"{flow.frame} {flow.ts:.6f} {flow.src}:{flow.sport} -> {flow.dst}:{flow.dport} "
                f"{what} {len(rec.message.payloads)} payloads"
            )
    return stats, len(per_spi), len(lines)


def run_child(cmd: list[str]) -> tuple[float, float, float]:
    """Run a command with stdout discarded; (wall s, CPU s, max RSS MB) of that child alone."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode}: {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    args = ap.parse_args()
    path: Path = args.file
    if not path.exists():
        if path != DEFAULT:
            raise SystemExit(f"{path}: no such file")
        subprocess.run([sys.executable, str(HERE / "make_capture.py")], check=True)

    if args.tracemalloc:
        tracemalloc.start()
    w0, c0 = time.perf_counter(), time.process_time()
    stats, sas, lines = summary_pass(path)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = stats.frames
    print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB, {n} packets)")
    print(
        f"records: {stats.esp} ESP in {sas} SAs, {stats.ike} IKE lines ({lines}), "
        f"{stats.keepalives} keepalives, {stats.errors} errors, skipped {stats.skipped}"
    )
    print(
        f"ikeview dissect()+aggregation: {wall:.2f} s wall = {n / wall:,.0f} pkt/s; "
        f"{cpu:.2f} s CPU = {n / cpu:,.0f} pkt/s; peak RSS {rss:.0f} MB"
    )
    if args.tracemalloc:
        _, peak = tracemalloc.get_traced_memory()
        print(f"  tracemalloc peak of Python allocations: {peak / 1e6:.1f} MB")

    w0, c0 = time.perf_counter(), time.process_time()
    summarize_fast(path)
    fw, fc = time.perf_counter() - w0, time.process_time() - c0
    print(
        f"ikeview summarize_fast() (no record per fast-path ESP frame): {fw:.2f} s wall = "
        f"{n / fw:,.0f} pkt/s; {fc:.2f} s CPU = {n / fc:,.0f} pkt/s"
    )
    ours = (fw, fc)
    if not args.no_cli and shutil.which("ikeview"):
        probe = subprocess.run(["ikeview", "summary", "--help"], capture_output=True)
        if probe.returncode == 0:
            w, c, m = run_child(["ikeview", "summary", str(path)])
            ours = (w, c)  # the command, start-up included, is what the ratio compares
            print(
                f"ikeview summary (subprocess): {w:.2f} s wall = {n / w:,.0f} pkt/s; "
                f"{c:.2f} s CPU = {n / c:,.0f} pkt/s; max RSS {m:.0f} MB"
            )
        else:
            print("ikeview summary: not available yet")
    if not args.no_tshark and shutil.which("tshark"):
        cmd = ["tshark", "-r", str(path), "-Y", "isakmp || esp", "-T", "fields"]
        cmd += ["-e", "frame.number", "-e", "esp.spi"]
        w, c, m = run_child(cmd)
        print(
            f"tshark -Y 'isakmp || esp' -T fields: {w:.2f} s wall = {n / w:,.0f} pkt/s; "
            f"{c:.2f} s CPU = {n / c:,.0f} pkt/s; max RSS {m:.0f} MB"
        )
        print(
            f"ratio ikeview/tshark: {w / ours[0]:.2f}x by wall time, {c / ours[1]:.2f}x by CPU "
            "time (target >= 6x on 1M packets, peak < 100 MB)"
        )


if __name__ == "__main__":
    main()
