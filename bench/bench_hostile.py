"""Every command on every crafted input of issue 15: exit code, seconds, peak RSS (one child
per case, measured with os.wait4). Prints a Markdown table for the README.

    python bench/bench_hostile.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import hostile_inputs as craft  # noqa: E402
from hostile_run import ikeview  # noqa: E402

KEYS = REPO / "captures" / "lab" / "psk-aes256-sha256-modp2048" / "keys.toml"

INPUTS = {
    "Delete bomb (3 x 65 KB, 65535 SPIs of size 0 x 8121)": (
        "del.pcap",
        lambda: craft.delete_bomb_pcap(3),
    ),
    "gzip: pcap header + 1 GiB zeros (1.0 MB)": (
        "zeros.pcap.gz",
        lambda: craft.zero_body_gzip(1 << 30),
    ),
    "gzip: 2M identical frames (448 KB)": ("rep.pcap.gz", craft.repeated_frame_gzip),
    "pcapng if_tsresol 0": ("r0.pcapng", lambda: craft.pcapng_odd_time(tsresol=0)),
    "pcapng if_tsoffset +2^62": ("op.pcapng", lambda: craft.pcapng_odd_time(tsoffset=2**62)),
    "pcapng if_tsoffset -2^62": ("om.pcapng", lambda: craft.pcapng_odd_time(tsoffset=-(2**62))),
    "pcapng dated 2200": ("y2200.pcapng", lambda: craft.pcapng_odd_time(ts=7_258_118_400_000_000)),
    "pcap ts 0xffffffff": ("max.pcap", craft.pcap_max_time),
}


def main() -> None:
    print("| input | command | exit | CPU seconds | peak RSS MB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for label, (name, make) in INPUTS.items():
            path = d / name
            path.write_bytes(make())
            for cmd in (
                ["summary", path],
                ["report", path],
                ["export", path, "--csv", d / "t.csv"],
                ["keys", path, "--keys", KEYS],
                ["decrypt", path, "--keys", KEYS, "-o", d / "o.pcap"],
            ):
                run = ikeview(*cmd)
                print(f"| {label} | {cmd[0]} | {run.code} | {run.seconds:.2f} | {run.rss_mb:.0f} |")


if __name__ == "__main__":
    main()
