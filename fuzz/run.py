"""Run one fuzz target under atheris (libFuzzer): ``python -m fuzz.run TARGET [libFuzzer args]``.

The corpus directory ``fuzz/corpus/TARGET`` is seeded from the captures on first use (see
seeds.py); findings are written as ``crash-*`` files in the current directory. Examples:

    python -m fuzz.run ikev2 -max_total_time=600          # ten minutes
    python -m fuzz.run capture -runs=3000                 # a short smoke run (CI)
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
MAX_LEN = {"capture": 65536, "keys": 16384, "ikev2": 8192, "decrypt": 4096}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in MAX_LEN:
        sys.exit(f"usage: python -m fuzz.run {{{','.join(MAX_LEN)}}} [libFuzzer options]")
    target = sys.argv[1]
    corpus = HERE / "corpus" / target
    with atheris.instrument_imports(include=["ikeview"]):
        from fuzz.harnesses import TARGETS
    if not corpus.is_dir() or not any(corpus.iterdir()):
        from fuzz.seeds import write_corpus

        write_corpus(target, corpus)
    one = TARGETS[target]
    args = [sys.argv[0], *sys.argv[2:]]
    if not any(a.startswith("-max_len=") for a in args):
        args.append(f"-max_len={MAX_LEN[target]}")
    atheris.Setup([*args, str(corpus)], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
