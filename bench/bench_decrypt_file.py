"""Whole-file decryption: ``ikeview report --keys`` and ``ikeview decrypt -o`` against tshark
decrypting the same file with the same keys, CPU time of each child process, same run.

For AES-GCM-16-128 and AES-CBC-128 + HMAC-SHA2-256-128 it writes one capture of N ESP packets
(Ethernet/IPv4/ESP, tunnel mode, bench_esp_pipeline.py's sizes and keys, 32 inner UDP flows,
fixed seed), an ikeview keys
file and a Wireshark esp_sa table with the same keys, then runs each once:
  report    ikeview report F --keys K --json          (read, dissect, decrypt, count, report)
  decrypt   ikeview decrypt F --keys K -o OUT.pcap    (same, writing every inner packet)
  tshark    tshark -r F, ESP decryption and ICV check on, -T fields -e esp.icv_good
and prints CPU seconds, peak RSS and the ratios tshark CPU / ikeview CPU (issue 16's targets:
8x for GCM, 6x for CBC+HMAC), with the load average (the machine is shared: CPU time, not
wall time, is the figure that means something when it is busy).
Before timing, ikeview's bytecode is compiled (``compileall``), as pip does when it installs
the package: where PYTHONDONTWRITEBYTECODE is set (this machine's sessions), every run would
otherwise compile ~200 modules from source, ~0.1 s of CPU that no installed copy pays. A
``startup`` row times the same report on a 10-packet capture of the same suite: the fixed cost
inside each figure.
Run: python bench/bench_decrypt_file.py [packets] [--jobs N] [--runs R]   (default 200000, 1, 1)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_esp_pipeline import (  # noqa: E402
    DST,
    ETH,
    SEED,
    SIZES,
    SPI,
    SRC,
    WEIGHTS,
    Suite,
    _inner,
    _ipv4,
)
from benchutil import compile_ikeview, ikeview_command, tshark_esp_command  # noqa: E402

from ikeview.keys.model import KeyRing  # noqa: E402
from ikeview.keys.wireshark import save_wireshark_config  # noqa: E402
from ikeview.pcapfile import PcapWriter  # noqa: E402


def run_child(
    cmd: list[str], env: dict[str, str] | None = None, stdout: Path | None = None
) -> tuple[float, float, float]:
    """(wall s, CPU s of the child and its own children, max RSS MB); stdout to a file or
    discarded. Max RSS comes from /usr/bin/time where it exists: ``wait4``'s ``ru_maxrss``
    also counts this bench's own pages, which the child shares until it execs."""
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else "")
    with tempfile.NamedTemporaryFile(prefix="ikv-rss-") as rss_file:
        full = [timer, "-f", "%M", "-o", rss_file.name, *cmd] if timer else cmd
        t0 = time.perf_counter()
        out = stdout.open("wb") if stdout else subprocess.DEVNULL
        proc = subprocess.Popen(full, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
        text = Path(rss_file.name).read_text().strip().splitlines() if timer else []
    rss = int(text[-1]) / 1024 if text and text[-1].isdigit() else usage.ru_maxrss / 1024
    return wall, usage.ru_utime + usage.ru_stime, rss


FLOWS = 32
"""Inner UDP flows of the tunnel (a real tunnel carries a few flows, not a new one per packet)."""


def _inner_udp(rng: random.Random, i: int) -> bytes:
    size = rng.choices(SIZES, WEIGHTS)[0]
    udp = struct.pack("!HHHH", 40000 + i % FLOWS, 5001, size - 20, 0)
    return _ipv4(17, size - 20) + udp + rng.randbytes(size - 28)


def write_capture(suite: Suite, n: int, path: Path, *, random_icmp: bool = False) -> None:
    """N ESP packets; inside, UDP on FLOWS flows, or with ``random_icmp`` random ICMP (a new
    inner flow nearly every packet: bench_esp_pipeline.py's packets)."""
    rng = random.Random(SEED)
    with path.open("wb") as fh:
        writer = PcapWriter(fh, 1)
        for i in range(n):
            inner = _inner(rng) if random_icmp else _inner_udp(rng, i)
            esp = suite.encrypt(i + 1, inner, rng)
            writer.write(1_700_000_000 + i / 1000, ETH + _ipv4(50, len(esp)) + esp)


def write_keys(suite: Suite, path: Path) -> None:
    k = suite.keys()
    lines = [
        "[[esp]]",
        f'spi = "{SPI:08x}"',
        f'encr_key = "{k.encr_key.hex()}"',
        f'src = "{SRC}"',
        f'dst = "{DST}"',
    ]
    if suite.gcm:
        lines += ['encr = "AES_GCM_16_128"', 'integ = "NONE"']
    else:
        lines += [f'integ_key = "{k.integ_key.hex()}"', 'encr = "AES-CBC-128"',
                  'integ = "HMAC_SHA2_256_128"']  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def _median(got: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """The run with the median CPU time (the upper one of an even count)."""
    return sorted(got, key=lambda row: row[1])[len(got) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("packets", nargs="?", type=int, default=200_000)
    ap.add_argument("--jobs", type=int, default=1, help="pass --jobs N to ikeview")
    ap.add_argument(
        "--runs", type=int, default=1,
        help="run every command N times, interleaved; print the median (and the minimum) CPU",
    )  # fmt: skip
    args = ap.parse_args()
    ikeview = ikeview_command()
    compile_ikeview()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="ikv-bench-") as tmp:
        work = Path(tmp)
        for name in ("AES-GCM-16-128", "AES-CBC-128+HMAC-SHA2-256-128"):
            suite = Suite(name, random.Random(SEED))
            cap, keys = work / "esp.pcap", work / "keys.toml"
            small = work / "small.pcap"
            write_capture(Suite(name, random.Random(SEED)), 10, small)
            write_capture(suite, args.packets, cap)
            write_keys(suite, keys)
            ws = work / "ws"
            save_wireshark_config(ws, KeyRing(esp_sas=(suite.keys(),)))
            jobs = ["--jobs", str(args.jobs)]
            report = [ikeview, "report", str(cap), "--keys", str(keys), "--json", *jobs]
            decrypt = [ikeview, "decrypt", str(cap), "--keys", str(keys), "-o"]
            decrypt += [str(work / "out.pcap"), *jobs]
            tshark = tshark_esp_command(cap)
            startup = [ikeview, "report", str(small), "--keys", str(keys), "--json"]
            runs: dict[str, list[tuple[float, float, float]]] = {}
            for _ in range(max(args.runs, 1)):  # interleaved: a busy minute hits every row
                runs.setdefault("startup", []).append(run_child(startup))
                runs.setdefault("report", []).append(run_child(report, stdout=work / "report.json"))
                # The last run's output is removed here, untimed: replacing it would charge the
                # decrypt run with freeing 100-500 MB of page cache and blocks (0.03-0.09 s of
                # system time at 1M packets), work that is not decryption.
                (work / "out.pcap").unlink(missing_ok=True)
                runs.setdefault("decrypt", []).append(run_child(decrypt))
                runs.setdefault("tshark", []).append(
                    run_child(
                        tshark,
                        env={**os.environ, "WIRESHARK_CONFIG_DIR": str(ws)},
                        stdout=work / "tshark.txt",
                    )
                )
            rows = {what: _median(got) for what, got in runs.items()}
            least = {what: min(cpu for _, cpu, _ in got) for what, got in runs.items()}
            counters = json.loads((work / "report.json").read_text())["counters"]
            lines = [line.split("\t") for line in (work / "tshark.txt").read_text().splitlines()]
            good = sum(1 for f in lines if f[0] == "1")
            # tshark adds no esp.icv_good when its heuristics take the decrypted inner UDP for
            # RTCP, GOOSE... and that dissection throws: the frame was still decrypted (its
            # protocols read esp:ip:udp:...), so those are counted apart, not as failures.
            opened = sum(1 for f in lines if len(f) > 1 and ":esp:ip:" in f[1])
            assert counters["esp_decrypted"] == args.packets, counters
            print(
                f"    ikeview decrypted {counters['esp_decrypted']}; tshark decrypted {opened}, "
                f"verified {good} ICVs (the rest: no ICV field after a failed inner dissection)"
            )
            mb = cap.stat().st_size / 1e6
            print(
                f"{name}: {args.packets} packets, {mb:.0f} MB, ikeview --jobs {args.jobs}, "
                f"median of {max(args.runs, 1)} run(s) (min CPU in brackets)"
            )
            t_cpu = rows["tshark"][1]
            for what, (wall, cpu, rss) in rows.items():
                ratio = f"  [min {least[what]:.2f} s]"
                if what != "tshark":
                    ratio += f"  tshark/ikeview CPU = {t_cpu / cpu:.2f}x"
                    ratio += f" [min/min {least['tshark'] / least[what]:.2f}x]"
                if what == "startup":
                    ratio = f"  [min {least[what]:.2f} s]  (10 packets: the fixed cost in each run)"
                rate = "" if what == "startup" else f"{args.packets / cpu:>9,.0f} pkt/s CPU"
                print(
                    f"    {what:8} {wall:6.2f} s wall  {cpu:6.2f} s CPU  "
                    f"{rate:>17}  RSS {rss:4.0f} MB{ratio}"
                )
            (work / "out.pcap").unlink(missing_ok=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
