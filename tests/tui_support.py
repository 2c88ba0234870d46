"""Shared pieces of the TUI tests (Pilot runs, fixed terminal size, real lab captures)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import textual.constants

LAB = Path(__file__).resolve().parents[1] / "captures" / "lab"
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
