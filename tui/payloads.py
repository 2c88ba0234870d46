"""One-line labels and detail lines of payload records for the payload tree.

The words come from the core (``ikeview.payload_text``: readable values, never a Python repr);
here they are made safe to draw. SK/AUTH payloads are recognised by their record type: the TUI
may import the data-only record modules of the dissectors, never their parsers.
"""

from __future__ import annotations

from ikeview.dissectors.ike_records import AuthPayload, Payload, SkfPayload, SkPayload

from ikeview import payload_text
from ikeview.pipeline.model import Message
from ikeview.timebase import TimeBase

from . import text
from .safe import clean


def payload_label(p: Payload) -> str:
    """``N(NAT_DETECTION_SOURCE_IP)``, ``SA (1 proposal)``, ``AUTH SHARED_KEY_MIC``…"""
    return clean(payload_text.payload_label(p))


def payload_details(p: Payload, m: Message | None = None) -> list[str]:
    """Detail lines shown as leaves under the payload's node."""
    lines = payload_text.payload_details(p, m, text.transforms_short)
    return [clean(line) for line in lines]


def header_lines(m: Message, clock: TimeBase) -> list[str]:
    """The IKE header: addresses, ports, time, version, exchange, flags, length."""
    return [clean(line) for line in payload_text.header_lines(m, clock)]


def is_auth(p: Payload) -> bool:
    """An AUTH payload."""
    match p:
        case AuthPayload():
            return True
        case _:
            return False


def is_sk(p: Payload) -> bool:
    """An SK or SKF payload."""
    match p:
        case SkPayload() | SkfPayload():
            return True
        case _:
            return False
