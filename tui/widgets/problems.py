"""Problems grouped by IKE SA: each SA's verdict, its findings worst first with their fixes,
then what is tied to no SA; enter on one with a frame announces ``ProblemsView.ProblemChosen``
(the screen jumps to that message, or to the ESP packet for an ESP finding).

A virtual list (``ScrollView`` + ``render_line``): each entry is wrapped by a plain greedy word
wrap on its text (about 10 us an entry) to know the line count, and only the entries on screen
are styled and cut. An ``OptionList`` wraps every entry through Rich when first shown: 12,000
findings (3,000 IKE SAs) took 1.2 s of the UI thread on the first visit.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message as TMessage
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ikeview.pipeline.model import Analysis, Problem
from ikeview.pipeline.seam import IkeSpis

from ..verdicts import Entry, problem_entries

_CURSOR = Style(reverse=True)
_CURSOR_BLURRED = Style(bgcolor="grey23")
SCROLLBAR = 2
"""Columns a vertical scrollbar takes (kept free so one appearing does not re-wrap)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One entry as the tests and the screen look at it (an ``OptionList`` option's view)."""

    prompt: Text
    """The entry's text, with the ``▸`` that marks the selected SA's lines."""
    disabled: bool
    """Headers and lines without a frame cannot be chosen."""


def breaks(plain: str, width: int) -> list[int]:
    """Offsets where a greedy word wrap of ``plain`` at ``width`` columns starts each line
    (the first is 0); a word longer than a line is cut. One cell per character: the entries
    are escaped capture text and ASCII words, so this matches what is drawn."""
    width = max(8, width)
    starts = [0]
    start = 0
    n = len(plain)
    while n - start > width:
        cut = plain.rfind(" ", start + 1, start + width + 1)
        if cut <= start:
            cut = start + width  # no space: cut the word
            starts.append(cut)
            start = cut
            continue
        start = cut + 1  # the space ends the line
        starts.append(start)
    return starts


class ProblemsView(ScrollView, can_focus=True):
    """One entry per problem (wrapped); enter on one that names a frame posts
    ``ProblemChosen``."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j,down", "move(1)", "Down", show=False),
        Binding("k,up", "move(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("g,home", "first", "Top", show=False),
        Binding("G,end", "last", "Bottom", show=False),
        Binding("enter", "select", "Go to", show=False),
    ]

    class ProblemChosen(TMessage):
        """The user pressed enter on a problem that names a frame."""

        def __init__(self, problem: Problem) -> None:
            super().__init__()
            self.problem = problem

    highlighted: reactive[int | None] = reactive(None)

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__(**kwargs)
        self._entries: list[Entry] = []
        self._rows: list[Row] = []
        self._signature: tuple[object, ...] | None = None
        self._width = 0
        self._breaks: list[list[int]] = []
        self._first_line: list[int] = []
        """Line number of each entry's first line (prefix sums of the wrapped heights)."""

    # ------------------------------------------------------------------ data

    def update_from(
        self, analysis: Analysis | None, spis: IkeSpis | None, entries: list[Entry] | None = None
    ) -> None:
        """Show the analysis's verdicts and problems (the cursor stays where it was); its
        ``entries`` when the caller has them already."""
        if entries is None:
            entries = problem_entries(analysis) if analysis is not None else []
        signature = (analysis is None, spis, tuple(e.text.plain for e in entries))
        if signature == self._signature:
            return
        self._signature = signature
        keep = self.highlighted
        if analysis is None:
            self._set([Row(Text("loading…", style="dim"), True)], [])
            return
        if not entries:
            self._set([Row(Text("no problems found", style="green"), True)], [])
            return
        rows = []
        for e in entries:
            mine = e.target is not None and spis is not None and e.target.ike_sa == spis
            prompt = Text.assemble(("▸", "bold") if mine else " ", e.text)
            rows.append(Row(prompt, e.target is None))
        self._set(rows, entries)
        first = next((i for i, e in enumerate(entries) if e.target is not None), None)
        if keep is not None and keep < len(entries) and entries[keep].target is not None:
            self.highlighted = keep
        else:
            self.highlighted = first

    def _set(self, rows: list[Row], entries: list[Entry]) -> None:
        self._rows = rows
        self._entries = entries
        self._width = 0  # wrap again
        self.highlighted = None
        self._layout()
        self.refresh()

    def _layout(self) -> None:
        """Wrap every entry's plain text to the width (only when the width changed)."""
        width = max(8, self.scrollable_content_region.width or self.size.width) - SCROLLBAR
        if width == self._width and len(self._breaks) == len(self._rows):
            return
        self._width = width
        self._breaks = [breaks(r.prompt.plain, width) for r in self._rows]
        first, line = [], 0
        for b in self._breaks:
            first.append(line)
            line += len(b)
        self._first_line = first
        self.virtual_size = Size(width, line)

    def on_resize(self) -> None:
        self._layout()
        self.refresh()

    @property
    def option_count(self) -> int:
        """Entries shown (headers included)."""
        return len(self._rows)

    def get_option_at_index(self, index: int) -> Row:
        """Entry ``index`` as shown."""
        return self._rows[index]

    def problem_at(self, index: int | None) -> Problem | None:
        """The problem of entry ``index`` (None for a header)."""
        if index is None or not 0 <= index < len(self._entries):
            return None
        return self._entries[index].target

    def index_of(self, frame: int) -> int | None:
        """The first entry whose problem names ``frame``."""
        for i, e in enumerate(self._entries):
            if e.target is not None and e.target.frame == frame:
                return i
        return None

    # ------------------------------------------------------------------ moving

    def _selectable(self, index: int) -> bool:
        return 0 <= index < len(self._rows) and not self._rows[index].disabled

    def action_move(self, step: int) -> None:
        """The next (previous) entry that can be chosen."""
        start = self.highlighted if self.highlighted is not None else -1 if step > 0 else 0
        i = start + step
        while 0 <= i < len(self._rows) and not self._selectable(i):
            i += step
        if self._selectable(i):
            self.highlighted = i

    def action_page(self, direction: int) -> None:
        for _ in range(max(1, self.size.height // 2)):
            self.action_move(direction)

    def action_first(self) -> None:
        self.highlighted = None
        self.action_move(1)

    def action_last(self) -> None:
        self.highlighted = len(self._rows)
        self.action_move(-1)

    def action_select(self) -> None:
        p = self.problem_at(self.highlighted)
        if p is not None and p.frame is not None:
            self.post_message(self.ProblemChosen(p))

    def watch_highlighted(self, index: int | None) -> None:
        """Keep the highlighted entry on screen."""
        if index is not None and 0 <= index < len(self._first_line):
            self._layout()
            top = self._first_line[index]
            bottom = top + len(self._breaks[index])
            y, height = self.scroll_offset.y, max(1, self.size.height)
            if top < y:
                self.scroll_to(y=top, animate=False)
            elif bottom > y + height:
                self.scroll_to(y=max(top, bottom - height), animate=False)
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click highlights the entry under it; a double click goes to it, as enter does."""
        line = self.scroll_offset.y + event.y
        index = bisect.bisect_right(self._first_line, line) - 1
        if self._selectable(index):
            self.highlighted = index
            if event.chain >= 2:
                self.action_select()

    # ------------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        self._layout()
        line = self.scroll_offset.y + y
        width = self.size.width
        if not self._first_line or not 0 <= line < self.virtual_size.height:
            return Strip.blank(width)
        index = bisect.bisect_right(self._first_line, line) - 1
        row, cuts = self._rows[index], self._breaks[index]
        k = line - self._first_line[index]
        end = cuts[k + 1] if k + 1 < len(cuts) else len(row.prompt.plain)
        piece = row.prompt[cuts[k] : end]
        piece.rstrip()
        segments = list(piece.render(self.app.console, end=""))
        strip = Strip(segments).extend_cell_length(width).crop(0, width)
        if index == self.highlighted:
            return strip.apply_style(_CURSOR if self.has_focus else _CURSOR_BLURRED)
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
