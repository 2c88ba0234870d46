"""The one error a key source raises: it names the file, the line and the problem."""

from __future__ import annotations

from collections.abc import Iterable

from ikeview.errors import IkeviewError


class KeysFileError(IkeviewError):
    """A keys file could not be read; ``msg`` is ``file:line: problem``."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {problem}", title="keys file")
        self.path = path
        self.line = line
        self.problem = problem


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or an empty string."""
    import difflib  # only for a misspelt name: every keys file is read through this module

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
