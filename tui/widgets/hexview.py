"""A hex dump drawn line by line (ScrollView + render_line), with one highlighted byte range."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..wire import Section

BYTES_PER_LINE = 16
LINE_WIDTH = 6 + BYTES_PER_LINE * 3 + 1 + BYTES_PER_LINE
"""Offset (4 hex + 2), 16 ``xx `` cells, a space, 16 ASCII cells."""

_PLAIN = Style()
_TITLE = Style(bold=True, underline=True)
_OFFSET = Style(dim=True)
_MARK = Style(reverse=True, bold=True)


def _ascii(b: int) -> str:
    return chr(b) if 32 <= b < 127 else "."


def hex_lines(section: Section) -> list[str]:
    """A section as plain dump lines (for copying): title, then offset, hex and ASCII."""
    data = section.data
    out = [f"{section.title} · {len(data)} bytes"]
    for off in range(0, len(data), BYTES_PER_LINE):
        chunk = data[off : off + BYTES_PER_LINE]
        cells = " ".join(f"{b:02x}" for b in chunk).ljust(BYTES_PER_LINE * 3 - 1)
        out.append(f"{off:04x}  {cells}  {''.join(_ascii(b) for b in chunk)}")
    return out


class HexView(ScrollView, can_focus=True):
    """Sections of bytes (message, decrypted body) as hex; ``highlight`` marks a range."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__(**kwargs)
        self._sections: tuple[Section, ...] = ()
        self._lines: list[tuple[int, int]] = []
        """(section index, first byte) per line; first byte -1 for a title line."""
        self._mark: tuple[int, int, int] | None = None

    def show(self, sections: tuple[Section, ...]) -> None:
        """Replace the bytes shown."""
        self._sections = sections
        self._lines = []
        for k, sec in enumerate(sections):
            if k:
                self._lines.append((k, -2))  # blank separator
            self._lines.append((k, -1))
            self._lines.extend((k, off) for off in range(0, len(sec.data), BYTES_PER_LINE))
        self._mark = None
        self.virtual_size = Size(LINE_WIDTH, len(self._lines))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def highlight(self, section: int, start: int, length: int) -> None:
        """Mark ``length`` bytes from ``start`` of section ``section`` and scroll to them."""
        self._mark = (section, start, start + max(length, 0))
        for y, (k, off) in enumerate(self._lines):
            if k == section and off >= 0 and off + BYTES_PER_LINE > start:
                if not self.scrollable_content_region.height or not (
                    self.scroll_offset.y <= y < self.scroll_offset.y + self.size.height
                ):
                    self.scroll_to(0, max(0, y - 1), animate=False)
                break
        self.refresh()

    @property
    def marked(self) -> tuple[int, int, int] | None:
        """(section, start, end) of the highlighted range."""
        return self._mark

    def render_line(self, y: int) -> Strip:
        line = self.scroll_offset.y + y
        if not 0 <= line < len(self._lines):
            return Strip.blank(self.size.width)
        k, off = self._lines[line]
        if off == -2:
            return Strip.blank(self.size.width)
        sec = self._sections[k]
        if off == -1:
            title = f"{sec.title} · {len(sec.data)} bytes"
            return Strip([Segment(title, _TITLE)]).extend_cell_length(self.size.width)
        chunk = sec.data[off : off + BYTES_PER_LINE]
        lo, hi = (self._mark[1], self._mark[2]) if self._mark and self._mark[0] == k else (0, 0)
        segs = [Segment(f"{off:04x}  ", _OFFSET)]
        for i, b in enumerate(chunk):
            style = _MARK if lo <= off + i < hi else _PLAIN
            segs.append(Segment(f"{b:02x}", style))
            segs.append(Segment(" ", style if lo <= off + i + 1 < hi else _PLAIN))
        segs.append(Segment("   " * (BYTES_PER_LINE - len(chunk)) + " "))
        for i, b in enumerate(chunk):
            segs.append(Segment(_ascii(b), _MARK if lo <= off + i < hi else _PLAIN))
        strip = Strip(segs).crop(self.scroll_offset.x, self.scroll_offset.x + self.size.width)
        return strip.extend_cell_length(self.size.width)
