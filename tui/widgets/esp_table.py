"""ESP packets of the chosen child SA in a virtual table: only the visible lines are ever built,
so 100,000 rows scroll as fast as 10 (a DataTable would build every row up front)."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message as TMessage
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from ikeview.iana import names
from ikeview.pipeline.model import EspSpiStats
from ikeview.timebase import TimeBase

from ..esprows import (
    STATUS_DECRYPTED,
    STATUS_INTEGRITY_FAILED,
    EspRow,
    EspRows,
    EspRowsView,
)
from ..safe import clean

HEADER = f"{'frame':>8} {'time':>15}  {'SPI':<10} {'seq':>10} {'len':>6}  inner"
COMPACT_HEADER = f"{'frame':>6} {'time':>11} {'SPI':<10} {'seq':>6} {'len':>5} inner"
COMPACT_BELOW = 80
"""Table width under which the columns shrink (4 time decimals, narrower numbers) so the inner
column still shows at 80x24."""
_CURSOR = Style(reverse=True)
_MARK_STYLE = Style(color="yellow", bold=True)
_STATUS_STYLE = {
    STATUS_DECRYPTED: Style(color="green"),
    STATUS_INTEGRITY_FAILED: Style(color="red", bold=True),
}


def counter_line(st: EspSpiStats, clock: TimeBase) -> Text:
    """One SPI in one direction, counted as strongSwan's ``in``/``out`` and Cisco's ``#pkts
    encaps/decaps`` lines do: packets, bytes, last seen; then missing, replayed, out of order
    and ICV failures on a second line when any is not zero."""
    line = Text(f"0x{st.spi:08x} {clean(st.src)} → {clean(st.dst)}  ", style="bold")
    line.append(f"{st.packets} pkts {st.bytes} bytes")
    if st.packets:
        line.append(f"  last {clock.format(st.last_ts, digits=3)}", style="dim")
    counts = (
        (st.missing, "missing"),
        (st.replays, "replayed"),
        (st.out_of_order, "out of order"),
        (st.integrity_failed, "ICV failed"),
    )
    if not any(count for count, _ in counts):
        line.append("  ✓ no loss, replay or ICV failure", style="green")
        return line
    line.append("\n   ")
    line.append_text(
        Text(" · ").join(
            Text(f"{count} {word}", style="bold yellow" if count else "dim")
            for count, word in counts
        )
    )
    return line


def seq_mark(seq: int, previous: int | None) -> str:
    """What a sequence number says against the SPI's previous packet (RFC 4303 3.4.3):
    ``replay`` (the same number again), ``gap N`` (N numbers never seen), ``out of order``."""
    if previous is None or seq == previous + 1:
        return ""
    if seq == previous:
        return "replay"
    if seq > previous:
        return f"gap {seq - previous - 1}"
    return "out of order"


def row_text(
    row: EspRow, clock: TimeBase | float, previous: float | None = None, compact: bool = False
) -> tuple[str, str]:
    """The fixed columns and the inner summary of one row (time on ``clock``; a bare number is
    a capture-relative zero)."""
    if not isinstance(clock, TimeBase):
        clock = TimeBase(capture_t0=clock)
    if compact:
        wall = clock.clock in ("utc", "local")
        when = clock.format(row.ts, previous, 2 if wall else 4)
        cols = f"{row.frame:>6} {when:>11} 0x{row.spi:08x} {row.seq:>6} {row.length:>5} "
    else:
        when = clock.format(row.ts, previous)
        cols = f"{row.frame:>8} {when:>15}  0x{row.spi:08x} {row.seq:>10} {row.length:>6}  "
    if row.status == STATUS_DECRYPTED:
        what = row.summary or names.next_header_name(row.next_header)
        inner = f"{what}, {row.inner_len} bytes"
    elif row.status == STATUS_INTEGRITY_FAILED:
        inner = "ICV FAILED"
    else:
        # A row not decrypted has no summary, but one the file no longer holds says so there.
        inner = row.summary or "not decrypted"
    return cols, inner


class EspTable(ScrollView, can_focus=True):
    """Rows of an ``EspView`` drawn by ``render_line`` with a cursor row."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j,down", "move(1)", "Down", show=False),
        Binding("k,up", "move(-1)", "Up", show=False),
        Binding("pagedown", "move(20)", "Page down", show=False),
        Binding("pageup", "move(-20)", "Page up", show=False),
        Binding("g,home", "jump(0)", "Top", show=False),
        Binding("G,end", "jump(-1)", "Bottom", show=False),
        Binding("enter", "open", "Packet detail", show=False),
    ]

    class RowOpened(TMessage):
        """Enter on a row: the packet, and the sequence number before it on its SPI."""

        def __init__(self, row: EspRow, previous_seq: int | None) -> None:
            super().__init__()
            self.row = row
            self.previous_seq = previous_seq

    cursor = reactive(0)

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__(**kwargs)
        self.view: EspRowsView | None = None
        self.clock = TimeBase()

    def show(self, view: EspRowsView | None, clock: TimeBase) -> None:
        """Point the table at ``view`` (times on ``clock``)."""
        self.view = view
        self.clock = clock
        self.cursor = 0
        self.sync_size()
        self.scroll_to(0, 0, animate=False)

    def sync_size(self) -> None:
        """Take in rows that arrived since the last call."""
        if self.view is not None:
            self.view.refresh()
        rows = len(self.view) if self.view is not None else 0
        self.virtual_size = Size(len(HEADER) + 90, rows)  # inner summaries run to ~90
        self.refresh()

    def action_move(self, delta: int) -> None:
        # Clamped here, not in action_jump: there -1 means the last row.
        self.action_jump(max(0, self.cursor + delta))

    def action_jump(self, n: int) -> None:
        total = len(self.view) if self.view is not None else 0
        if not total:
            return
        # -1 is the last row (G, end); any other n is clamped to the rows there are.
        self.cursor = total - 1 if n == -1 else max(0, min(total - 1, n))
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_open(self) -> None:
        if self.view is not None and 0 <= self.cursor < len(self.view):
            row = self.view.row(self.cursor)
            self.post_message(self.RowOpened(row, self.view.previous_seq(self.cursor)))

    def watch_cursor(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        n = self.scroll_offset.y + y
        width = self.size.width
        if self.view is None or not 0 <= n < len(self.view):
            return Strip.blank(width)
        row = self.view.row(n)
        previous = self.view.row(n - 1).ts if n > 0 else None
        cols, inner = row_text(row, self.clock, previous, width < COMPACT_BELOW)
        style = _STATUS_STYLE.get(row.status, Style(dim=True))
        mark = seq_mark(row.seq, self.view.previous_seq(n))
        segments = [Segment(cols)]
        if mark:
            segments.append(Segment(f"[{mark}] ", _MARK_STYLE))
        strip = Strip([*segments, Segment(inner, style)])
        strip = strip.crop(self.scroll_offset.x, self.scroll_offset.x + width)
        strip = strip.extend_cell_length(width)
        return strip.apply_style(_CURSOR) if n == self.cursor and self.has_focus else strip


class EspPanel(Vertical):
    """Title, column header and the virtual table of ESP packets."""

    def on_resize(self) -> None:
        compact = self.size.width < COMPACT_BELOW
        self.query_one("#esp-header", Static).update(
            Text(COMPACT_HEADER if compact else HEADER, style="bold")
        )

    def compose(self) -> ComposeResult:
        yield Static("", id="esp-title")
        yield Static(Text(HEADER, style="bold"), id="esp-header")
        yield EspTable(id="esp-table")

    def update_from(
        self,
        spis: tuple[int, ...] | None,
        rows: EspRows,
        clock: TimeBase,
        stats: tuple[EspSpiStats, ...] = (),
    ) -> None:
        """Show the packets of ``spis`` (every SPI when None) under one counter line per SPI
        and direction (``stats``); keeps the place when unchanged."""
        table = self.query_one(EspTable)
        view = table.view
        if view is None or view.store is not rows or view.wanted != spis:
            table.show(rows.view(spis), clock)
        elif table.clock != clock:
            table.clock = clock
            table.refresh()
        else:
            table.sync_size()
        count = len(table.view) if table.view is not None else 0
        which = "all SPIs" if spis is None else " + ".join(f"0x{s:08x}" for s in spis) or "no SPI"
        title = Text(f"{count} ESP packets · {which}", style="bold")
        for st in stats:
            title.append("\n")
            title.append_text(counter_line(st, clock))
        self.query_one("#esp-title", Static).update(title)


def esp_detail(
    row: EspRow, previous_seq: int | None, clock: TimeBase, stats: tuple[EspSpiStats, ...]
) -> list[str]:
    """The packet detail Enter opens: outer addresses (from the SPI's counters), ESP header,
    what decryption found (next header, inner packet), the trailer's share of the length."""
    from ikeview.timebase import Clock, wall_date

    st = stats[0] if stats else None
    mark = seq_mark(row.seq, previous_seq) or "in order"
    lines = [
        f"frame {row.frame} · {clock.format(row.ts)} ({clock.title()}) · {wall_date(row.ts)}",
        f"time UTC {TimeBase(Clock.UTC).format(row.ts)}",
    ]
    if st is not None:
        udp = " in UDP 4500 (RFC 3948)" if st.udp_encap else " (IP protocol 50)"
        lines.append(f"outer {clean(st.src)} → {clean(st.dst)}{udp}")
    lines += [
        f"ESP header: SPI 0x{row.spi:08x}, sequence {row.seq} ({mark}"
        + (f"; previous {previous_seq})" if previous_seq is not None else ")"),
        f"ESP length {row.length} bytes (SPI, sequence, IV, payload, padding, trailer, ICV)",
    ]
    if row.status == STATUS_DECRYPTED and row.inner_len is not None:
        overhead = row.length - 8 - row.inner_len
        lines += [
            f"decrypted: next header {names.next_header_name(row.next_header)}"
            f" ({row.next_header}), inner packet {row.inner_len} bytes",
            f"inner {clean(row.summary) if row.summary else 'not summarised'}",
            f"IV + padding + pad length + next header + ICV: {overhead} bytes",
        ]
    elif row.status == STATUS_INTEGRITY_FAILED:
        lines.append("ICV check FAILED: the keys tried do not fit this packet")
    else:
        lines.append("not decrypted (no keys for this SPI: press K)")
    return lines
