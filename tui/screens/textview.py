"""A read-only text view over the main screen (the SA card, the transcript); ``y`` copies it
to the clipboard through the terminal (OSC 52), so it pastes into a ticket."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..safe import clean


class TextScreen(ModalScreen[None]):
    """A title and lines of text; escape closes, ``y`` copies."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("escape,q", "dismiss", "Close"),
        Binding("y", "copy", "Copy"),
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def __init__(self, title: str, lines: list[str]) -> None:
        super().__init__()
        self.heading = title
        self.lines = [clean(line) for line in lines]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="text-box", classes="dialog"):
            yield Static(Text(self.heading, style="bold"), classes="dialog-title")
            yield Static(Text("\n".join(self.lines)), id="text-body")
            yield Static(Text("y copy · escape close", style="dim"))

    def action_copy(self) -> None:
        """Copy the text through OSC 52 (works over ssh and in tmux with set-clipboard on)."""
        self.app.copy_to_clipboard("\n".join(self.lines) + "\n")
        self.notify(f"{len(self.lines)} lines copied", title="copied")

    def action_scroll_down(self) -> None:
        self.query_one("#text-box", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#text-box", VerticalScroll).scroll_up()
