"""Decode errors: raised inside parsers, carried as records at the message/frame boundary.

Parsers raise :class:`DecodeError` with the byte offset where the bytes stopped making sense;
the one function at the boundary (``parse_message``, the stream dissector) catches it and
stores a :class:`DecodeProblem` on the record it returns, so no bad byte ever stops a capture.
"""

from __future__ import annotations

from dataclasses import dataclass

CAPTURE_DAMAGED = "capture file damaged"
"""How the reason of a damaged file's last FrameError begins (``Dissector.finish``): the views
that write data rather than a report (``export``, ``keys``) look for it to say so on stderr."""


class DecodeError(Exception):
    """Bytes that do not follow the format, at ``offset`` (relative to the message or frame)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"offset {offset}: {reason}")
        self.offset = offset
        self.reason = reason

    def problem(self) -> DecodeProblem:
        """The immutable record form of this error."""
        return DecodeProblem(self.offset, self.reason)


@dataclass(frozen=True, slots=True)
class DecodeProblem:
    """Why and where decoding stopped; records carry this instead of raising."""

    offset: int
    """Byte offset in the message (or frame) where decoding failed."""
    reason: str
    """Short human-readable cause, e.g. "payload length 3 < 4"."""

    def __str__(self) -> str:
        return f"offset {self.offset}: {self.reason}"
