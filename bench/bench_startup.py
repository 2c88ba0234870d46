"""Where a command's fixed cost goes: the interpreter, the imports, the frozen dataclasses they
create, the argument parser, and the work on a capture of ten packets.

Every run's CPU time (user + system of the child) is the median of ``--runs`` runs:
  python -S      the bare interpreter (no site packages)
  python         the interpreter with its site packages (the editable install's finder, .pth)
  imports        ``report --keys``'s imports on ESP alone (cli, analysis, report, keys, JSON),
                 then a plain exit (with its last garbage-collection pass, which ``ikeview``
                 itself skips: ``cli.main`` freezes what is alive before the process ends)
  report ESP     ``ikeview report SMALL --keys K --json`` on 10 AES-GCM packets (no IKE)
  report IKE     the same on the lab's gcm16-ecp256 session (IKE, a PSK, 14 packets)
  report IKE, no keys   the same session without --keys (nothing decrypted: neither
                 cryptography nor the keys model is loaded)
Then, in this process (each part imported for the first time here, in a fresh child):
  the frozen dataclasses created by those imports (count, ms), by the IKE side's (the first IKE
  message imports it), and the parser of all commands against the parser of one.
Bytecode is compiled first (``benchutil.compile_ikeview``), as an installed copy has it.
Dataclass creation is timed by wrapping the standard library's private ``_process_class``: a
measuring aid only, nothing in ikeview does that.

Run: python bench/bench_startup.py [--runs N]   (default 20)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_decrypt_file import write_capture, write_keys  # noqa: E402
from bench_esp_pipeline import SEED, Suite  # noqa: E402
from benchutil import compile_ikeview  # noqa: E402

LAB = HERE.parent / "captures" / "lab" / "gcm16-ecp256"
REPORT_IMPORTS = (
    "import ikeview.cli, ikeview.pipeline.analyze, ikeview.report, ikeview.keys.loader, "
    "ikeview.keys.toml_keys, ikeview.pipeline.decrypt, ikeview.jsonout"
)
IKE_SIDE = (
    "import ikeview.dissectors.ikev2, ikeview.pipeline.correlate.messages, ikeview.pipeline.model, "
    "ikeview.pipeline.dec_ike, ikeview.pipeline.dec_dh, ikeview.pipeline.dec_auth"
)
# Run in a fresh child: counts and times the dataclasses an import statement creates.
_DATACLASSES = """
import dataclasses, sys, time
{before}
made = []
create = dataclasses._process_class
def timed(cls, *a, **k):
    t0 = time.perf_counter()
    out = create(cls, *a, **k)
    made.append(time.perf_counter() - t0)
    return out
dataclasses._process_class = timed
t0 = time.perf_counter()
{statement}
took = time.perf_counter() - t0
print(len(made), sum(made) * 1000, took * 1000)
"""
_PARSERS = """
import time
t0 = time.perf_counter()
from ikeview.cliparser import build_parser
imported = time.perf_counter()
build_parser({command!r})
print((time.perf_counter() - imported) * 1000)
"""


def cpu_median(cmd: list[str], runs: int) -> float:
    """Median CPU seconds (user + system) of ``runs`` runs of ``cmd``, output discarded."""
    got = []
    for _ in range(runs):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"failed: {' '.join(cmd)}")
        got.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(got)


def child(code: str) -> list[str]:
    """What a fresh interpreter running ``code`` prints, split."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    compile_ikeview()
    py = sys.executable
    ikeview = str(Path(py).parent / "ikeview")
    print(f"load average before: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="ikv-startup-") as tmp:
        small, keys = Path(tmp) / "small.pcap", Path(tmp) / "keys.toml"
        suite = Suite("AES-GCM-16-128", random.Random(SEED))
        write_capture(suite, 10, small)
        write_keys(suite, keys)
        rows = {
            "python -S": [py, "-S", "-c", "pass"],
            "python": [py, "-c", "pass"],
            "imports": [py, "-c", REPORT_IMPORTS],
            "report ESP": [ikeview, "report", str(small), "--keys", str(keys), "--json"],
            "report IKE": [
                *(ikeview, "report", str(LAB / "capture.pcap")),
                *("--keys", str(LAB / "keys.toml"), "--json"),
            ],
            "report IKE, no keys": [ikeview, "report", str(LAB / "capture.pcap"), "--json"],
        }
        for name, cmd in rows.items():
            cpu = cpu_median(cmd, args.runs) * 1000
            print(f"  {name:19} {cpu:6.1f} ms CPU (median of {args.runs})")
    n, ms, took = child(_DATACLASSES.format(before="", statement=REPORT_IMPORTS))
    print(f"  report's imports: {float(took):.1f} ms, of which {n} dataclasses {float(ms):.1f} ms")
    n, ms, took = child(_DATACLASSES.format(before=REPORT_IMPORTS, statement=IKE_SIDE))
    print(f"  the IKE side:     {float(took):.1f} ms, of which {n} dataclasses {float(ms):.1f} ms")
    every = child(_PARSERS.format(command=None))[0]
    one = child(_PARSERS.format(command="report"))[0]
    print(f"  parsers: all commands {float(every):.1f} ms, report's alone {float(one):.1f} ms")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
