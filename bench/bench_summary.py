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

4. ``ikeview summary FILE --jobs N`` (N from --jobs, default 2; 1 skips it), output compared.

Usage: python bench/bench_summary.py [FILE] [--no-tshark] [--no-cli] [--no-reference]
                                     [--jobs N] [--tracemalloc]
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
sys.path.insert(0, str(HERE))

from benchutil import compile_ikeview  # noqa: E402

compile_ikeview()  # before the imports below: they are timed in part


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


def run_child(cmd: list[str], out: Path | None = None) -> tuple[float, float, float]:
    """Run a command with stdout discarded (or written to ``out``); (wall s, CPU s, max RSS MB)
    of that child alone (its own children included: they are waited for)."""
    t0 = time.perf_counter()
    sink = open(out, "wb") if out is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL)
    finally:
        if out is not None:
            sink.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode}: {' '.join(cmd)}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _frames(path: Path) -> int:
    """Frames of an uncompressed pcap, by a walk of its record headers."""
    from ikeview.pcapranges import layout, open_map, scan

    lay = layout(str(path))
    assert lay is not None, "an uncompressed pcap"
    with open_map(str(path)) as mm:
        walked = scan(mm, lay, lay.first, lay.size, None, lambda i, off: None)
    assert walked is not None
    return walked.frames


def reference(path: Path, trace: bool, only_count: bool = False) -> None:
    """The record-building pass (dissect() and the summary's aggregation), in this process."""
    if only_count:
        print(f"file: {path} ({path.stat().st_size / 1e6:.0f} MB)")
        return
    if trace:
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
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        print(f"  tracemalloc peak of Python allocations: {peak / 1e6:.1f} MB")


def jobs_line(path: Path, n: int, jobs: int) -> None:
    """``summary --json`` with --jobs 1 and --jobs N: wall, CPU, RSS, outputs compared."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        runs, outs = [], []
        for j in (1, jobs):
            out = Path(tmp) / f"s{j}.json"
            cmd = ["ikeview", "summary", str(path), "--json", "--jobs", str(j)]
            runs.append(run_child(cmd, out))
            outs.append(out.read_bytes())
    (w1, c1, _), (wn, cn, mn) = runs
    print(
        f"ikeview summary --json --jobs {jobs}: {wn:.2f} s wall ({w1:.2f} s with --jobs 1: "
        f"{w1 / wn:.2f}x); {cn:.2f} s CPU ({c1:.2f}); max RSS {mn:.0f} MB; output "
        f"{'identical' if outs[0] == outs[1] else 'DIFFERENT'}"
    )
    # Each range's CPU time alone (counting, then dissecting its other frames), in this
    # process: wall time with a core per range is about the slowest range plus start-up.
    from ikeview.fastsummary import count_range, tally_range
    from ikeview.pcapranges import cuts, layout

    lay = layout(str(path))
    assert lay is not None
    bounds, base, ranges = cuts(lay, jobs), 0, []
    for r in range(jobs):
        c0 = time.process_time()
        walked, _, raw = count_range(str(path), lay, bounds[r], bounds[r + 1], True)
        assert walked is not None
        tally_range(str(path), lay, base, raw, ())
        ranges.append(time.process_time() - c0)
        base += walked.frames
    c0 = time.process_time()
    summarize_fast(path)
    one = time.process_time() - c0
    print(
        f"  one process {one:.2f} s CPU; ranges {', '.join(f'{t:.2f}' for t in ranges)} s CPU: "
        f"idle-machine bound {one / max(ranges):.2f}x with {jobs} cores (start-up aside)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--no-cli", action="store_true")
    ap.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    ap.add_argument("--no-reference", action="store_true", help="skip the dissect() pass")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    path: Path = args.file
    if not path.exists():
        if path != DEFAULT:
            raise SystemExit(f"{path}: no such file")
        subprocess.run([sys.executable, str(HERE / "make_capture.py")], check=True)

    print(f"load average before: {os.getloadavg()}")
    if args.no_reference:
        reference(path, args.tracemalloc, only_count=True)
    else:
        reference(path, args.tracemalloc)
    n = _frames(path)
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
            if args.jobs != 1:
                jobs_line(path, n, args.jobs)
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
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
