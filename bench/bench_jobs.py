"""``--jobs N`` against ``--jobs 1``: wall and CPU time of each command, output compared byte for
byte, in one run (the speed-up in wall time only means something on a quiet machine: the load
average is printed before and after).

Captures: make_capture.py's mix (1k IKE per 1M packets, mostly ESP, no keys) for summary,
report and export; bench_esp_pipeline.py's AES-GCM ESP with its keys for report --keys and
decrypt -o.
Run: python bench/bench_jobs.py [packets] [--jobs N] [--bound N,...]
     (default 200000, 2; --bound: also the idle-machine bound for these numbers of processes,
     from each range's CPU time measured alone, since this machine has 2 cores)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_decrypt_file import run_child, write_capture, write_keys  # noqa: E402
from bench_esp_pipeline import SEED, Suite  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("packets", nargs="?", type=int, default=200_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--bound", default="", help="comma-separated process counts")
    args = ap.parse_args()
    ikv = shutil.which("ikeview") or str(Path(sys.executable).parent / "ikeview")
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="ikv-jobs-") as tmp:
        work = Path(tmp)
        mix, gcm, keys = work / "mix.pcap", work / "gcm.pcap", work / "keys.toml"
        subprocess.run(
            [sys.executable, str(HERE / "make_capture.py"), "--packets", str(args.packets),
             "--out", str(mix)],
            check=True, capture_output=True,
        )  # fmt: skip
        suite = Suite("AES-GCM-16-128", random.Random(SEED))
        write_capture(suite, args.packets, gcm)
        write_keys(suite, keys)
        k = ["--keys", str(keys)]
        commands = {
            "summary": (["summary", str(mix), "--json"], None),
            "report": (["report", str(mix), "--json"], None),
            "export": (["export", str(mix), "--esp", "--csv", "{out}"], "{out}"),
            "report --keys (GCM)": (["report", str(gcm), *k, "--json"], None),
            "decrypt -o (GCM)": (["decrypt", str(gcm), *k, "-o", "{out}"], "{out}"),
        }
        for name, (argv, to_file) in commands.items():
            got = {}
            for jobs in (1, args.jobs):
                out = work / f"out-{jobs}"
                cmd = [ikv, *(a.replace("{out}", str(out)) for a in argv), "--jobs", str(jobs)]
                stdout = None if to_file else out
                got[jobs] = run_child(cmd, stdout=stdout), out.read_bytes()
            (w1, c1, r1), b1 = got[1]
            (wn, cn, rn), bn = got[args.jobs]
            same = "identical" if b1 == bn else "DIFFERENT"
            print(
                f"{name:20} jobs 1: {w1:6.2f} s wall {c1:6.2f} s CPU {r1:4.0f} MB | "
                f"jobs {args.jobs}: {wn:6.2f} s wall {cn:6.2f} s CPU {rn:4.0f} MB | "
                f"wall speed-up {w1 / wn:.2f}x, output {same}"
            )
        for n in [args.jobs, *(int(x) for x in args.bound.split(",") if x)]:
            critical_path(mix, [], n, "report")
            critical_path(gcm, [str(keys)], n, "report --keys (GCM)")
    print(f"load average after: {os.getloadavg()}")


def critical_path(capture: Path, keys: list[str], jobs: int, name: str) -> None:
    """What --jobs gains on an idle machine with a core per process: each range's CPU time
    (locating it, then analysing it), measured one after the other in this process, against
    one pass. Wall time with N cores is about the slowest range plus the serial parts (start-up,
    the fold, the output); on a busy shared machine the wall-time figures above say more about
    the neighbours than about ikeview."""
    from ikeview.fastsummary import count_range
    from ikeview.parallel import locate, run_range
    from ikeview.pcapranges import cuts, layout
    from ikeview.pipeline.analyze import analyze

    name_ = str(capture)
    keyring = None
    if keys:
        from ikeview.keys.loader import load_keys

        keyring = load_keys([Path(k) for k in keys])
    c0 = time.process_time()
    analyze(name_, keyring)  # the batch path where it applies, as the command runs
    one = time.process_time() - c0
    lay = layout(name_)
    assert lay is not None
    bounds = cuts(lay, jobs)
    found = []
    for r in range(jobs):
        c0 = time.process_time()
        count_range(name_, lay, bounds[r], bounds[r + 1], True, False)
        found.append(time.process_time() - c0)
    split = locate(name_, lay, jobs, True)
    assert split is not None
    ranges = []
    for r in range(jobs):
        c0 = time.process_time()
        run_range(split, r, keys, (), r > 0, True)
        ranges.append(time.process_time() - c0)
    worst = max(found) + max(ranges)
    print(
        f"{name:20} one pass {one:.2f} s CPU; ranges located in "
        f"{', '.join(f'{t:.2f}' for t in found)} s, analysed in "
        f"{', '.join(f'{t:.2f}' for t in ranges)} s CPU; idle-machine bound {one / worst:.2f}x "
        f"with {jobs} cores"
    )


if __name__ == "__main__":
    main()
