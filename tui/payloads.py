"""One-line labels and detail lines of payload records for the payload tree.

The words come from the core (``ikeview.payload_text``: readable values, never a Python repr);
here they are made safe to draw and SK/AUTH payloads are recognised by the fields they carry
(the TUI may not import the dissectors).
"""

from __future__ import annotations

from ikeview import payload_text
from ikeview.pipeline.model import Message
from ikeview.timebase import TimeBase

from . import text
from .safe import clean


def payload_label(p: object) -> str:
    """``N(NAT_DETECTION_SOURCE_IP)``, ``SA (1 proposal)``, ``AUTH SHARED_KEY_MIC``…"""
    return clean(payload_text.payload_label(p))


def payload_details(p: object, m: Message | None = None) -> list[str]:
    """Detail lines shown as leaves under the payload's node."""
    lines = payload_text.payload_details(p, m, text.transforms_short)
    return [clean(line) for line in lines]


def header_lines(m: Message, clock: TimeBase) -> list[str]:
    """The IKE header: addresses, ports, time, version, exchange, flags, length."""
    return [clean(line) for line in payload_text.header_lines(m, clock)]


def is_auth(p: object) -> bool:
    """An AUTH payload."""
    return hasattr(p, "method") and hasattr(p, "data")


def is_sk(p: object) -> bool:
    """An SK or SKF payload."""
    return hasattr(p, "first_inner")
