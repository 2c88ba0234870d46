"""Peak memory of every whole-file command on a large capture with keys (issue 16: "10M packets
(several GB) read, summarised, decrypted and exported in under 300 MB").

Writes an AES-GCM-16-128 capture of N ESP packets and its keys file (bench_decrypt_file.py's
capture: Ethernet/IPv4/ESP, tunnel mode, 32 inner UDP flows, fixed seed) into ``--dir``, then
runs each command below once under ``/usr/bin/time -f %M`` and prints its max RSS, CPU and wall
seconds:
  summary     ikeview summary F
  report      ikeview report F --keys K --json
  export      ikeview export F --keys K --csv OUT --esp      (timeline CSV with the ESP rows)
  decrypt     ikeview decrypt F --keys K -o OUT.pcap
  batch       ikeview batch F --keys K --out DIR --csv       (the dataset tables)
  tui-load    the TUI's load worker headless (``ikeview.tui.loading.run_load``, messages kept
              as the screen keeps them: the last snapshot and the ESP row store)
Outputs go to ``--dir`` and are deleted after each command; the capture too at the end unless
``--keep`` (or when ``--capture`` named an existing one). Run it niced: it is long at 10M.
Usage: python bench/bench_memory.py [--packets N] [--dir D] [--keep] [--capture F --keys K]
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

from benchutil import compile_ikeview  # noqa: E402

LIMIT_MB = 300
"""Issue 16's bound."""


def write_inputs(packets: int, work: Path) -> tuple[Path, Path]:
    """The GCM capture and keys file of bench_decrypt_file.py, ``packets`` packets."""
    from bench_decrypt_file import write_capture, write_keys
    from bench_esp_pipeline import SEED, Suite

    cap, keys = work / f"gcm{packets}.pcap", work / f"gcm{packets}.toml"
    name = "AES-GCM-16-128"
    if not cap.exists():
        t = time.perf_counter()
        write_capture(Suite(name, random.Random(SEED)), packets, cap)
        print(f"wrote {cap} ({cap.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t:.0f} s")
    write_keys(Suite(name, random.Random(SEED)), keys)
    return cap, keys


def run_child(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s, max RSS MB) of one child, as ``/usr/bin/time -f %M`` reports them:
    ``wait4`` on a child of this process would count this process's own pages (the child
    shares them until it execs), not the command's. Stdout discarded, stderr shown on failure."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        timed = ["/usr/bin/time", "-o", out.name, "-f", "%M %U %S %e", *cmd]
        proc = subprocess.run(timed, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if proc.returncode:
            err = proc.stderr.decode(errors="replace")
            raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
        kb, user, system, wall = out.read().split()[-4:]
    return float(wall), float(user) + float(system), int(kb) / 1024


def tui_load(capture: Path, keys: Path) -> None:
    """The TUI's load worker without Textual's app: what the screen keeps of its messages."""
    from ikeview.tui.loading import LoadRequest, run_load
    from ikeview.tui.messages import CaptureLoaded

    kept: list[object] = []

    def post(message: object) -> None:
        kept[:] = [message]  # the screen holds the latest snapshot only

    rows = run_load(LoadRequest(capture, keys=(keys,)), post)  # type: ignore[arg-type]
    assert kept and isinstance(kept[0], CaptureLoaded), kept
    print(f"ESP rows: {rows.total()}")


def commands(cap: Path, keys: Path, work: Path) -> dict[str, tuple[list[str], list[Path]]]:
    """Each command and the outputs to delete after it."""
    ikeview = str(Path(sys.executable).parent / "ikeview")
    k = ["--keys", str(keys)]
    csv, pcap, out = work / "timeline.csv", work / "decrypted.pcap", work / "batch"
    return {
        "summary": ([ikeview, "summary", str(cap)], []),
        "report": ([ikeview, "report", str(cap), *k, "--json"], []),
        "export": ([ikeview, "export", str(cap), *k, "--csv", str(csv), "--esp"], [csv]),
        "decrypt": ([ikeview, "decrypt", str(cap), *k, "-o", str(pcap)], [pcap]),
        "batch": ([ikeview, "batch", str(cap), *k, "--out", str(out), "--csv"], [out]),
        "tui-load": (
            [sys.executable, __file__, "--tui-load", str(cap), "--keys", str(keys)],
            [],
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--packets", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/tui1m"))
    ap.add_argument("--capture", type=Path, help="an existing capture (kept)")
    ap.add_argument("--keys", type=Path, help="its keys file")
    ap.add_argument("--keep", action="store_true", help="keep the written capture")
    ap.add_argument("--only", help="comma-separated commands to run (default: all)")
    ap.add_argument("--tui-load", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.tui_load is not None:
        tui_load(args.tui_load, args.keys)
        return
    compile_ikeview()
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.capture is not None:
        cap, keys = args.capture, args.keys
        written = False
    else:
        cap, keys = write_inputs(args.packets, args.dir)
        written = not args.keep
    print(f"capture: {cap} ({cap.stat().st_size / 1e9:.2f} GB)")
    wanted = set(args.only.split(",")) if args.only else None
    try:
        for name, (cmd, outputs) in commands(cap, keys, args.dir).items():
            if wanted is not None and name not in wanted:
                continue
            load = os.getloadavg()[0]
            wall, cpu, rss = run_child(cmd)
            for path in outputs:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
            verdict = "ok" if rss < LIMIT_MB else f"OVER {LIMIT_MB} MB"
            print(
                f"{name:>9}: max RSS {rss:7.1f} MB ({verdict})  {cpu:7.2f} s CPU  "
                f"{wall:7.2f} s wall  load {load:.2f}",
                flush=True,
            )
    finally:
        if written:
            cap.unlink(missing_ok=True)
            keys.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
