"""Messages the load worker posts to the main screen: past-tense facts, never requests."""

from __future__ import annotations

from textual.message import Message

from ikeview.pipeline.model import Analysis

from .esprows import EspRows


class AnalysisUpdated(Message):
    """A partial snapshot of the analysis arrived while the capture is still being read."""

    bubble = False  # for the screen that started the load; the app has no use for it

    def __init__(
        self,
        analysis: Analysis,
        rows: EspRows,
        bytes_done: int,
        bytes_total: int,
        run: object = None,
    ) -> None:
        super().__init__()
        self.run = run
        """The LoadRequest this came from (a re-run makes older runs' messages stale)."""
        self.analysis = analysis
        self.rows = rows
        self.bytes_done = bytes_done
        self.bytes_total = bytes_total

    def can_replace(self, message: Message) -> bool:
        # Snapshots of one run supersede each other: a queue of stale ones would only delay
        # the UI.
        return isinstance(message, AnalysisUpdated) and message.run is self.run


class CaptureLoaded(Message):
    """The whole capture was read; ``analysis.complete`` is True."""

    bubble = False  # for the screen that started the load; the app has no use for it

    def __init__(self, analysis: Analysis, rows: EspRows, run: object = None) -> None:
        super().__init__()
        self.run = run
        """The LoadRequest this came from."""
        self.analysis = analysis
        self.rows = rows


class KernelDropped(Message):
    """The kernel dropped frames of a live capture (its socket buffer was full): what the
    analysis shows misses them, so the user is told, as tcpdump says at its end."""

    bubble = False

    def __init__(self, received: int, dropped: int) -> None:
        super().__init__()
        self.received = received
        """Frames that matched the filter, the dropped ones included."""
        self.dropped = dropped
        """Frames dropped so far."""


class KeysFailed(Message):
    """The keys given could not be loaded; the capture is analysed without them."""

    bubble = False  # for the screen that started the load; the app has no use for it

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
