"""``ikeview`` in a fresh interpreter, after a few lines of set-up: for tests that patch what a
``--jobs`` worker runs.

``procpool.pool`` starts workers by ``fork`` only when the process runs a single thread, and
the long-lived pytest process may not (distributed leaves an idle thread behind, for one): its
workers then come from a forkserver, which never sees a patch made in the test. A fresh
interpreter runs one thread, so its workers are forked with the patch in place.
"""

from __future__ import annotations

import subprocess
import sys


def run_patched(setup: str, argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``ikeview argv`` run after ``setup`` (Python source)."""
    code = f"{setup}\nfrom ikeview.cli import main\nraise SystemExit(main({argv!r}))\n"
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    return run.returncode, run.stdout, run.stderr
