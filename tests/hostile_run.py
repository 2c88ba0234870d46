"""Run ``ikeview`` in a child process and measure it: exit code, seconds, peak resident memory.

Peak memory is the child's own ``ru_maxrss`` from ``os.wait4`` (the per-child form of
``getrusage(RUSAGE_CHILDREN)``), so cases measured one after another do not mask each other.
The child also runs under a 2 GiB address-space limit so that a regression fails the test
instead of taking the machine down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
MAX_RSS_MB = 300
"""Issue 15: every command on every crafted input stays under this peak resident memory."""
MAX_SECONDS = 10.0
"""... and finishes within a few seconds of CPU time (user + system, the child's and its
waited-for children's): wall time on a loaded 2-core machine says more about the load."""


@dataclass(frozen=True, slots=True)
class Run:
    """What one command did."""

    code: int
    seconds: float
    """CPU seconds (user + system) of the command."""
    rss_mb: float
    stdout: str
    stderr: str

    def one_line_error(self) -> str:
        """The single diagnostic line of a failed run (asserting there is exactly one)."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        assert "Traceback" not in self.stderr, self.stderr
        assert len(lines) == 1, self.stderr
        return lines[0]

    def within_bounds(self) -> None:
        assert "Traceback" not in self.stderr, self.stderr
        assert self.rss_mb < MAX_RSS_MB, f"{self.rss_mb:.0f} MB peak"
        assert self.seconds < MAX_SECONDS, f"{self.seconds:.1f} s"


# A child's peak RSS (ru_maxrss) starts from the resident size of the process it was forked
# from, carried across exec: forked from a pytest worker grown to 300 MB, even ``true`` would
# "peak" at 300 MB. So a tiny launcher (a fresh interpreter, ~10 MB) starts the command, waits
# for it and writes its own child's rusage to a file: that figure is the command's alone.
LAUNCH = """
import os, resource, subprocess, sys
out, cmd = sys.argv[1], sys.argv[2:]
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
proc = subprocess.Popen(cmd, preexec_fn=limit)
_, status, use = os.wait4(proc.pid, 0)
with open(out, "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {use.ru_utime + use.ru_stime} {use.ru_maxrss}")
"""


def ikeview(
    *args: str | Path, stdin: int | None = None, shell: str | None = None, cwd: Path = REPO
) -> Run:
    """``python -m ikeview ARGS`` (or ``bash -c SHELL``, where ``$IKEVIEW`` is the command)."""
    if shell is not None:
        cmd = ["bash", "-c", shell]
        env = {**os.environ, "IKEVIEW": f"{sys.executable} -m ikeview"}
    else:
        cmd, env = [sys.executable, "-m", "ikeview", *map(str, args)], None
    fd, result = tempfile.mkstemp(prefix="hostile-run-")
    os.close(fd)
    proc = subprocess.Popen(
        [sys.executable, "-S", "-c", LAUNCH, result, *cmd],
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
        start_new_session=True,
    )  # fmt: skip
    # The whole session: the launcher, the command and anything a shell case started.
    killer = threading.Timer(60, lambda: os.killpg(proc.pid, signal.SIGKILL))
    killer.start()
    try:
        out: list[bytes] = []
        reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        err = proc.stderr.read()  # type: ignore[union-attr]
        reader.join()
        proc.wait()
    finally:
        killer.cancel()
        # Closed here rather than whenever the Popen is collected: a long suite holds no pipes.
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    try:
        code, cpu, rss_kb = Path(result).read_text().split()
    except ValueError:  # the launcher was killed before it could write
        code, cpu, rss_kb = "-9", "60", "0"
    finally:
        Path(result).unlink(missing_ok=True)
    usage = SimpleNamespace(seconds=float(cpu), rss_kb=int(rss_kb))
    proc.returncode = int(code)
    return Run(
        proc.returncode,
        usage.seconds,
        usage.rss_kb / 1024,
        out[0].decode(errors="replace"),
        err.decode(errors="replace"),
    )
