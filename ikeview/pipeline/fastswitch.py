"""The one switch of the batch paths (``fastsummary``, ``pipeline.fastesp``, ``fastdecrypt``):
``--no-fast`` on the command line or ``IKEVIEW_NO_FAST`` in the environment keeps a command on
the general, per-record path (the reference the batch paths are tested against)."""

from __future__ import annotations

import os

NO_FAST_ENV = "IKEVIEW_NO_FAST"
"""Set to anything but empty or 0 to turn every batch path off."""


def fast_allowed(fast: bool = True) -> bool:
    """``fast``, unless the environment turns the batch paths off."""
    return fast and os.environ.get(NO_FAST_ENV, "") in ("", "0")


__all__ = ["NO_FAST_ENV", "fast_allowed"]
