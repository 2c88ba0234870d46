"""The ``ikeview`` program (``pyproject.toml``'s script, ``python -m ikeview``): the command line
run with Ctrl-C caught from its first import on.

``cli.main`` ends a command cut short by Ctrl-C with one line and exit code 130. Pressed while
the command line itself was still being imported (its parser, argparse, the dissector: ~40 ms
of start-up) or parsed, it ended in a traceback instead (seen 2026-12-05: SIGINT 0.05 s after
the start of ``report`` and ``export``, on a slow machine). Here nothing but ``sys`` is
imported before the handler is in place.
"""

from __future__ import annotations

import sys


def run() -> int:
    """``cli.main()``'s exit code; 130 and one line on stderr when interrupted anywhere."""
    try:
        from ikeview.cli import main

        return main()
    except KeyboardInterrupt:
        print("ikeview: interrupted", file=sys.stderr)
        from ikeview.errors import ExitCode

        return ExitCode.INTERRUPTED


__all__ = ["run"]
