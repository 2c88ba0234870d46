"""Shared pieces of the TUI tests (Pilot runs, fixed terminal size, real lab captures)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import textual.constants
from lab_support import LAB as LAB  # the one lab path, re-exported for the TUI tests

SIZE = (120, 40)
"""Every Pilot run and snapshot uses this terminal size."""


@pytest.fixture(autouse=True)
def no_animations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tab underline slides cost 0.4 s a key press under Pilot; tests need no animation."""
    monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none")


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async pilot test with asyncio.run (no pytest plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


async def loaded(pilot: Any) -> Any:
    """Wait for the load worker and the messages it posted; return the main screen.

    Worker failures become notifications (tested on their own), so they are not raised here.
    """
    from ikeview.tui.screens.main import MainScreen
    from textual.worker import WorkerFailed

    await pilot.pause()  # the load starts after the first paint
    with contextlib.suppress(WorkerFailed):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()
    # The main screen sits above the default one; a dialog may be open on top of it.
    return next(s for s in pilot.app.screen_stack if isinstance(s, MainScreen))


def lab_keys(directory: Path):  # type: ignore[no-untyped-def]
    """The scenario's keys.toml as a key ring; None when it has none or it does not load here
    (a scenario newer than the keys loader: its capture is still read, without keys)."""
    from ikeview.keys.errors import KeysFileError
    from ikeview.keys.loader import load_keys

    path = directory / "keys.toml"
    if not path.exists():
        return None
    try:
        return load_keys([path])
    except KeysFileError:
        return None
