"""The one error type the core raises toward the user, rendered only at the edge (CLI, TUI)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the ``ikeview`` command."""

    OK = 0
    """Everything asked for was done."""
    ERROR = 1
    """A problem with the input: unreadable capture, bad keys file, missing keys."""
    USAGE = 2
    """The command line itself was wrong (argparse's own code)."""
    PERMISSION = 3
    """Capturing live needs privileges that this process does not have."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C."""


class IkeviewError(Exception):
    """A problem the user can act on: ``msg`` says what happened and what to do next."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, msg: str, *, title: str = "ikeview") -> None:
        super().__init__(msg)
        self.msg = msg
        self.title = title
