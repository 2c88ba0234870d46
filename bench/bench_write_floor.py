"""How far ``ikeview decrypt -o`` can go against tshark on this machine: its CPU time split into
what is not writing and what writing costs, and the kernel's own share of the writing.

``decrypt -o`` is issue 16's one AES-GCM figure under its 8x target (``report --keys`` on the
same file is over it): it does everything ``report`` does less the counting, and then writes
every decrypted packet. This bench runs, on bench_decrypt_file.py's AES-GCM capture (or one
given), each in its own child process, interleaved, ``--runs`` times:
  decrypt       ikeview decrypt F --keys K -o OUT          (as bench_decrypt_file.py)
  no write      the same with ``PcapWriter``'s writing methods made no-ops: all but the writing
                (the records are still made, only not joined and written; a measuring aid only:
                the child replaces the methods before it runs the command)
  kernel write  as many bytes as OUT holds written to a new file in 64 KiB blocks, then fsync,
                as ``decrypt -o`` ends: no Python per record, only the kernel's page cache and
                writeback (the CPU of the write loop, measured inside the child)
  tshark        tshark decrypting the same file with the same keys (bench_decrypt_file.py's)
and prints the medians, the ratio tshark / decrypt, and the ceiling tshark / (no write + kernel
write): what ``decrypt -o`` would reach if joining and writing its records cost no more than
the kernel's own write of the same bytes.

Run: python bench/bench_write_floor.py [packets] [--runs R] [--capture F --keys K]
     (default 1,000,000 packets, 3 runs)
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

from bench_decrypt_file import run_child, write_capture, write_keys  # noqa: E402
from bench_esp_pipeline import SEED, Suite  # noqa: E402
from benchutil import compile_ikeview, ikeview_command, tshark_esp_command  # noqa: E402

from ikeview.keys.model import KeyRing  # noqa: E402
from ikeview.keys.wireshark import save_wireshark_config  # noqa: E402

SUITE = "AES-GCM-16-128"
# The child for "no write": the writer's methods replaced, then the command run as the CLI runs.
_NO_WRITE = """
import sys
from ikeview import pcapfile
pcapfile.PcapWriter.write_many = lambda self, records: None
pcapfile.PcapWriter.write_made = lambda self, parts: None
pcapfile.PcapWriter.write_record = lambda self, *a, **k: None
from ikeview.cli import main
sys.exit(main(sys.argv[1:]))
"""
# The child for "kernel write": SIZE bytes to PATH in 64 KiB blocks, fsync, and its own CPU for
# that alone on stdout (user, system).
_KERNEL_WRITE = """
import os, resource, sys
path, size = sys.argv[1], int(sys.argv[2])
block = os.urandom(1 << 16)
before = resource.getrusage(resource.RUSAGE_SELF)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
left = size
while left > 0:
    left -= os.write(fd, block[: min(left, len(block))])
os.fsync(fd)
os.close(fd)
after = resource.getrusage(resource.RUSAGE_SELF)
print(after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)
"""


def _kernel_write(path: Path, size: int) -> tuple[float, float]:
    """(user, system) CPU seconds of writing ``size`` bytes to the new file ``path``."""
    out = subprocess.run(
        [sys.executable, "-c", _KERNEL_WRITE, str(path), str(size)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    path.unlink()
    return float(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("packets", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--capture", type=Path, help="an AES-GCM ESP capture (with --keys)")
    ap.add_argument("--keys", type=Path, help="its ikeview keys file ([[esp]])")
    args = ap.parse_args()
    ikeview = ikeview_command()
    compile_ikeview()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="ikv-floor-") as tmp:
        work = Path(tmp)
        suite = Suite(SUITE, random.Random(SEED))
        if args.capture is not None and args.keys is not None:
            cap, keys = args.capture, args.keys
        else:
            cap, keys = work / "esp.pcap", work / "keys.toml"
            write_capture(Suite(SUITE, random.Random(SEED)), args.packets, cap)
            write_keys(suite, keys)
        ws = work / "ws"
        save_wireshark_config(ws, KeyRing(esp_sas=(suite.keys(),)))
        out = work / "out.pcap"
        decrypt = [str(cap), "--keys", str(keys), "-o", str(out)]
        tshark = tshark_esp_command(cap)
        cpu: dict[str, list[float]] = {}
        written = 0
        for _ in range(max(args.runs, 1)):  # interleaved: a busy minute hits every row
            out.unlink(missing_ok=True)
            cpu.setdefault("decrypt", []).append(run_child([ikeview, "decrypt", *decrypt])[1])
            written = out.stat().st_size
            out.unlink()
            no_write = [sys.executable, "-c", _NO_WRITE, "decrypt", *decrypt]
            cpu.setdefault("no write", []).append(run_child(no_write)[1])
            out.unlink(missing_ok=True)
            cpu.setdefault("kernel write", []).append(sum(_kernel_write(work / "k.bin", written)))
            env = {**os.environ, "WIRESHARK_CONFIG_DIR": str(ws)}
            cpu.setdefault("tshark", []).append(run_child(tshark, env=env)[1])
        med = {what: statistics.median(got) for what, got in cpu.items()}
        mb = cap.stat().st_size / 1e6
        print(
            f"{SUITE}: {cap.name}, {mb:.0f} MB in, {written / 1e6:.0f} MB written; "
            f"CPU seconds, median of {max(args.runs, 1)} (min in brackets)"
        )
        for what, got in cpu.items():
            print(f"    {what:13} {med[what]:6.3f} s  [min {min(got):.3f}]")
        t = med["tshark"]
        print(f"    tshark / decrypt -o:                        {t / med['decrypt']:.2f}x")
        floor = med["no write"] + med["kernel write"]
        print(f"    ceiling tshark / (no write + kernel write): {t / floor:.2f}x")
        print(f"    writing as decrypt -o does it: {med['decrypt'] - med['no write']:.3f} s")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
