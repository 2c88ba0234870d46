"""The JSON encoder of ``report --json`` and the other documents (``ikeview/jsonout.py``) against
the standard library's ``json.dumps(doc, indent=2)``, which writes the same bytes.

Each capture is analysed once, without keys, and its report document built; then each encoder
writes it ``--runs`` times and the best CPU time of each is printed, with their ratio (the
text compared first: they must be equal). Captures: every lab capture (``captures/lab``), and
the ones given on the command line, such as make_capture.py's 1M-packet mix, whose report
(1,003 IKE messages, 947 KB) is the one ``report --jobs`` writes after its fold.

Run: python bench/bench_json.py [CAPTURE...] [--runs N]   (default 15)
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _best(encode: Callable[[Any], str], doc: Any, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        c0 = time.process_time()
        encode(doc)
        best = min(best, time.process_time() - c0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("captures", nargs="*", type=Path)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    from ikeview.jsonout import dumps
    from ikeview.pipeline.analyze import analyze
    from ikeview.report import to_json

    lab = sorted(p for p in (ROOT / "captures" / "lab").glob("*/capture.pcap"))
    total = [0.0, 0.0]
    for capture in [*lab, *args.captures]:
        doc = to_json(analyze(capture, None))
        text = dumps(doc)
        if text != json.dumps(doc, indent=2):
            raise SystemExit(f"{capture}: jsonout and json.dumps differ")
        ours, std = _best(dumps, doc, args.runs), _best(_standard, doc, args.runs)
        total[0] += ours
        total[1] += std
        name = capture.parent.name if capture.name == "capture.pcap" else capture.name
        print(
            f"{name:28} {len(text):>9,} chars  jsonout {1e3 * ours:7.2f} ms  "
            f"json.dumps {1e3 * std:7.2f} ms  {std / ours:5.2f}x"
        )
    print(
        f"{'all':28} {'':>15}  jsonout {1e3 * total[0]:7.2f} ms  "
        f"json.dumps {1e3 * total[1]:7.2f} ms  {total[1] / total[0]:5.2f}x"
    )


def _standard(doc: Any) -> str:
    return json.dumps(doc, indent=2)


if __name__ == "__main__":
    main()
