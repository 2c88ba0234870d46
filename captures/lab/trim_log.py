#!/usr/bin/env python3
"""Shrink a charon filelog written at ENC level 4 without losing anything the lab uses.

Usage: trim_log.py LOG   (rewrites LOG in place)

charon's ENC level 4 dumps every field of every payload it generates or parses; that is ~90 %
of a lab log. Kept: every line outside the ENC group; the ENC lines that name messages and
payloads; the field dumps inside NONCE and AUTH payloads (extract_truth.py reads CREATE_CHILD_SA
nonces from them, tests/test_crypto_auth_lab.py the AUTH data). Dropped: the per-rule lines
("generating rule 3 U_INT_8", "parsing rule ..."), their scalar values ("=> 34"), the field and
payload dumps of other payloads (with their hex lines), and the thread pool's JOB/watcher noise.
Keys (IKE/CHD groups), SPIs, proposals and log notes are untouched. Scenarios opt in with
TRIM_LOGS=1 in their scenario.sh (the older captures keep their full logs).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LINE_RE = re.compile(r"^\S+ (\d+)\[([A-Z]+)\] (?:<[^>]*> )?(.*)$")
HEX_RE = re.compile(r"^\s*\d+: (?:[0-9A-F]{2} )")
BLOB_RE = re.compile(r"=> \d+ bytes @ ")
SCALAR_RE = re.compile(r"^\s*=> -?\d+$")
RULE_RE = re.compile(r"^\s*(?:generating|parsing) rule \d+ ")
KEEP_PAYLOADS = {"NONCE", "AUTH"}
NOISE = ("watcher", "watched FD")


_START = re.compile(
    r"^(?:generating payload of type (\w+)|starting parsing an? (\w+) payload|"
    r"parsing (\w+) payload, \d+ bytes left)"
)
_END = re.compile(r"^(?:generating|parsing) (\w+) payload finished")


def trim(lines: list[str]) -> list[str]:
    out: list[str] = []
    inside: dict[str, str] = {}  # thread -> payload type being generated/parsed
    dropping: set[str] = set()  # threads whose current blob dump is dropped
    for line in lines:
        m = LINE_RE.match(line)
        if not m:
            out.append(line)
            continue
        thread, group, text = m.groups()
        if group == "JOB" or any(n in text for n in NOISE):
            continue
        if group != "ENC":
            out.append(line)
            continue
        if HEX_RE.match(text):
            if thread not in dropping:
                out.append(line)
            continue
        dropping.discard(thread)
        start = _START.match(text)
        if start:
            inside[thread] = next(g for g in start.groups() if g)
        if inside.get(thread) in KEEP_PAYLOADS:
            out.append(line)
        elif RULE_RE.match(text) or SCALAR_RE.match(text):
            pass
        elif BLOB_RE.search(text):
            dropping.add(thread)
        else:
            out.append(line)
        end = _END.match(text)
        if end and inside.get(thread) == end.group(1):
            inside.pop(thread, None)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path = Path(argv[1])
    lines = path.read_text(errors="replace").splitlines()
    kept = trim(lines)
    path.write_text("\n".join(kept) + "\n")
    print(f"{path}: {len(lines)} -> {len(kept)} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
