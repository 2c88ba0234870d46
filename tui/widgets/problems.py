"""Problems grouped by IKE SA: each SA's verdict, its findings worst first with their fixes,
then what is tied to no SA; enter on one with a frame announces ``ProblemsView.ProblemChosen``
(the screen jumps to that message, or to the ESP packet for an ESP finding)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message as TMessage
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ikeview.pipeline.model import Analysis, Problem
from ikeview.pipeline.seam import IkeSpis

from ..verdicts import Entry, problem_entries


class ProblemsView(OptionList):
    """One option per problem; enter on one that names a frame posts ``ProblemChosen``."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "Top", show=False),
        Binding("G", "last", "Bottom", show=False),
    ]

    class ProblemChosen(TMessage):
        """The user pressed enter on a problem that names a frame."""

        def __init__(self, problem: Problem) -> None:
            super().__init__()
            self.problem = problem

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__(**kwargs)
        self._entries: list[Entry] = []
        self._signature: tuple[object, ...] | None = None

    def update_from(self, analysis: Analysis | None, spis: IkeSpis | None) -> None:
        """Show the analysis's verdicts and problems (the cursor stays where it was)."""
        entries = problem_entries(analysis) if analysis is not None else []
        signature = (analysis is None, spis, tuple(e.text.plain for e in entries))
        if signature == self._signature:
            return
        self._signature = signature
        keep = self.highlighted
        self.clear_options()
        self._entries = entries
        if analysis is None:
            self.add_option(Option(Text("loading…", style="dim"), disabled=True))
            return
        if not entries:
            self.add_option(Option(Text("no problems found", style="green"), disabled=True))
            return
        for e in entries:
            mine = e.target is not None and spis is not None and e.target.ike_sa == spis
            line = Text("▸", style="bold") + e.text if mine else Text(" ") + e.text
            self.add_option(Option(line, disabled=e.target is None))
        first = next((i for i, e in enumerate(entries) if e.target is not None), None)
        if keep is not None and keep < len(entries) and entries[keep].target is not None:
            self.highlighted = keep
        elif first is not None:
            self.highlighted = first

    def problem_at(self, index: int | None) -> Problem | None:
        """The problem of option ``index`` (None for a header)."""
        if index is None or not 0 <= index < len(self._entries):
            return None
        return self._entries[index].target

    def index_of(self, frame: int) -> int | None:
        """The first option whose problem names ``frame``."""
        for i, e in enumerate(self._entries):
            if e.target is not None and e.target.frame == frame:
                return i
        return None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        p = self.problem_at(event.option_index)
        if p is not None and p.frame is not None:
            self.post_message(self.ProblemChosen(p))
