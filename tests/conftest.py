"""Shared fixtures: where the external captures and vectors live."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lab_support import Lab, lab_scenario

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"external test data not found at {SHARED} (../shared beside the checkout)")
    return SHARED


def load_vectors(name: str) -> dict:
    """Load one JSON vector file from ../shared/vectors by file name."""
    return json.loads((SHARED / "vectors" / name).read_text())


# ---------------------------------------------------------------- the strongSwan lab captures


@pytest.fixture(scope="session")
def lab() -> Callable[[str], Lab]:
    """``lab(name)``: a lab scenario, its truth, key ring and analyses loaded once per session.

    The records are frozen, so sharing one analysis between tests is safe.
    """
    return lab_scenario


@pytest.fixture(autouse=True)
def _no_stale_signal_wakeup_fd() -> Iterator[None]:
    """An asyncio loop a TUI test leaves behind keeps its signal wakeup fd set in this process;
    once that socket is full, every SIGCHLD from a ``--jobs`` worker pool makes Python print
    "Exception ignored when trying to write to the signal wakeup fd" to stderr, which the CLI
    tests read. A real ``ikeview`` process has no such fd; each test starts without one."""
    signal.set_wakeup_fd(-1)
    yield
    # Not put back: a fd left set after a test belongs to a loop that is gone.
    signal.set_wakeup_fd(-1)


@pytest.fixture
def split_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--jobs`` splits captures of any size (the lab's are a few KB; the split's own floor is
    ``parallel.MIN_SPLIT_BYTES``)."""
    from ikeview import parallel

    monkeypatch.setattr(parallel, "MIN_SPLIT_BYTES", 0)
