"""The exchange ladder: a sequence diagram of one IKE SA, initiator left, responder right."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message as TMessage
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ikeview.iana import names
from ikeview.pipeline.model import Exchange, IkeSa, Message
from ikeview.timebase import TimeBase

from .. import text
from ..filtering import Filter
from ..marks import MARK
from ..safe import clean

MIN_LANE = 20
"""Fewest columns between the initiator's and the responder's lifelines (a narrow pane then
clips on the right rather than squeezing the labels)."""
GUTTER = 17
"""Columns left of the initiator's lifeline: frame number (5) and time (11, on the chosen clock:
``+123.4567``, ``Δ+0.0012``, ``12:34:56.78``)."""
TIME_DIGITS = 4
"""Decimals of relative times in the ladder (wall-clock times get two fewer)."""
RIGHT = 12
"""Columns kept right of the responder's lifeline for `` Δ 123.4 ms`` (`` ✗ no response`` is two
longer: it fits unless the scrollbar shows)."""
SCROLLBAR = 2
"""Columns a vertical scrollbar takes: always kept (the width is measured with the scrollbar in
it), so one appearing neither clips the arrows nor makes the lane redraw."""


def lane_for(width: int) -> int:
    """The lane that fills a ladder ``width`` columns wide (never below ``MIN_LANE``)."""
    return max(MIN_LANE, width - GUTTER - 2 - RIGHT - SCROLLBAR)


ERROR_NOTIFY_LIMIT = 16384
"""RFC 7296 section 3.10.1: notify types below 16384 are errors."""


def arrow_style(m: Message, ex: Exchange) -> str:
    """Colour of one message's arrow: errors red, retransmissions yellow, retries magenta."""
    if any(n < ERROR_NOTIFY_LIMIT for n in m.notifies):
        return "bold red"
    if m.retransmission is not None:
        return "yellow"
    if not m.response and ex.status == "unanswered":
        return "red"
    if m.response and ex.status == "retry":
        return "magenta"
    if m.integrity == "failed":
        return "bold red"
    return "green" if m.response else "bold"


def label_for(m: Message) -> str:
    """``IKE_AUTH #1 request`` (``frag 2/3`` for an RFC 7383 fragment)."""
    label = f"{m.exchange_name} #{m.message_id} {'response' if m.response else 'request'}"
    if m.fragment:
        label += f" frag {m.fragment[0]}/{m.fragment[1]}"
    return label


def copy_mark(m: Message) -> str:
    """What kind of copy a message is (strongSwan's is_retransmit rule), or ``""``."""
    if m.retransmission == "retransmit":
        return f"retransmit of frame {m.original_frame}"
    if m.retransmission == "other-bytes":
        return f"same ID as frame {m.original_frame}, other bytes"
    return ""


def notify_marks(m: Message) -> str:
    """Notify names, errors first, shortened to fit under the arrow."""
    found = sorted(m.notifies, key=lambda n: (n >= ERROR_NOTIFY_LIMIT, n))
    return ", ".join(names.notify_name(n) for n in found)


def _centre(s: str, width: int) -> str:
    s = s if len(s) <= width else s[: width - 1] + "…"
    return s.center(width)


def ladder_time(clock: TimeBase, ts: float, previous: float | None) -> str:
    """The gutter's time: 11 columns at most on every clock."""
    wall = clock.clock in ("utc", "local")
    return clock.format(ts, previous, TIME_DIGITS - 2 if wall else TIME_DIGITS)[-11:]


def ladder_prompt(
    m: Message,
    ex: Exchange,
    clock: TimeBase,
    lane: int = MIN_LANE,
    previous: float | None = None,
    marked: bool = False,
) -> Text:
    """Two or three lines: label above, arrow, notifies below; gutters for time and delta.

    ``lane`` is the number of columns between the lifelines; ``previous`` the time of the row
    above (delta clock); a ``marked`` message (``m``) shows the mark in the gutter.
    """
    style = arrow_style(m, ex)
    integrity = {"ok": " ✓", "failed": " ✗ ICV"}.get(m.integrity or "", "")
    line1 = Text(" " * (GUTTER - 2))
    line1.append(f"{MARK} " if marked else "  ", style="bold magenta")
    line1.append("│")
    line1.append(_centre(f"{label_for(m)}{integrity}", lane), style=style)
    line1.append("│")
    line2 = Text(f"{m.frame:>5} {ladder_time(clock, m.ts, previous):>11}"[-GUTTER:])
    dash = "╌" if m.retransmission else "─"
    body = dash * (lane - 2)
    arrow = body + "─▶" if m.from_initiator else "◀─" + body
    line2.append("│")
    line2.append(arrow, style=style)
    line2.append("│")
    if m.response and ex.request is not None:
        line2.append(f" Δ {text.duration(m.ts - ex.request.ts)}", style="dim")
    elif not m.response and ex.status == "unanswered" and m.retransmission is None:
        line2.append(" ✗ no response", style="bold red")
    if m.decrypted:
        line1.append(" decrypted", style="dim green")
    copy = copy_mark(m)
    extra = notify_marks(m)
    if ex.purpose and not m.response and m.retransmission is None:
        # What the exchange did (rekey, delete, liveness check), once, under its request.
        extra = f"{ex.purpose}: {extra}" if extra else ex.purpose
    if copy or extra or m.problem:
        line3 = Text(" " * GUTTER + "│")
        if copy:
            line3.append(_centre(copy, lane), style="yellow")
        else:
            line3.append(_centre(extra, lane), style="red" if style == "bold red" else "cyan")
        line3.append("│")
        if m.problem and not m.decrypted:
            line3.append(f" {m.problem}"[:60], style="dim yellow")
        return Text("\n").join([line1, line2, line3])
    return Text("\n").join([line1, line2])


def _entry_key(m: Message, ex: Exchange, marks: frozenset[int]) -> tuple[object, ...]:
    """What ``ladder_prompt`` reads of a message and its exchange: equal keys, equal rows."""
    request = ex.request.ts if ex.request is not None else None
    return (
        m.frame,
        m.decrypted,
        m.integrity,
        m.problem,
        m.retransmission,
        m.notifies,
        ex.status,
        ex.purpose,
        request,
        m.frame in marks,
    )


def ladder_entries(sa: IkeSa) -> list[tuple[Message, Exchange]]:
    """Every message of the SA with its exchange, in capture order."""
    found = [(m, ex) for ex in sa.exchanges for m in ex.messages]
    return sorted(found, key=lambda pair: (pair[0].ts, pair[0].frame))


class Ladder(OptionList):
    """Messages of the selected IKE SA as arrows; moving onto one announces ``MessageChosen``."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "Top", show=False),
        Binding("G", "last", "Bottom", show=False),
    ]

    class MessageChosen(TMessage):
        """The user moved to (or, with ``opened``, pressed enter on) a message."""

        def __init__(self, message: Message, opened: bool) -> None:
            super().__init__()
            self.message = message
            self.opened = opened

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__(**kwargs)
        self._messages: list[Message | None] = []
        self._signature: tuple[object, ...] = ()
        self._shown: tuple[IkeSa | None, Filter, TimeBase, frozenset[int]] = (
            None,
            Filter(),
            TimeBase(),
            frozenset(),
        )

    def on_resize(self) -> None:
        # The lane follows the width: redraw what is shown when the lane it needs changes.
        if self._signature:
            self.update_from(*self._shown)

    def update_from(
        self,
        sa: IkeSa | None,
        flt: Filter,
        clock: TimeBase | None = None,
        marks: frozenset[int] = frozenset(),
    ) -> None:
        """Draw the ladder of ``sa`` (messages the filter rejects are dimmed, not hidden), times
        on ``clock``, ``marks`` (frame numbers) flagged."""
        clock = (clock or TimeBase()).for_sa(sa)
        self._shown = (sa, flt, clock, marks)
        entries = ladder_entries(sa) if sa is not None else []
        lane = lane_for(self.content_region.width)
        signature = (
            sa.spis if sa else None,
            flt.text,
            tuple(_entry_key(m, ex, marks) for m, ex in entries),
            lane,
            clock,
        )
        if signature == self._signature:
            return
        old = self._signature
        keys = signature[2]
        before: tuple[object, ...] = old[2] if old else ()  # type: ignore[assignment]  # the entry keys, as built above
        shown = len(before)
        if (
            sa is not None
            and shown
            and old[:2] == signature[:2]
            and old[3:] == signature[3:]
            and keys[:shown] == before
        ):
            # Only messages after the last one shown are new (a capture loading): append them,
            # as a rebuild would draw them (hundreds of options cost ~60 ms per snapshot).
            self._signature = signature
            self._add_entries(entries[shown:], entries[shown - 1][0].ts, flt, clock, lane, marks)
            return
        same_sa = bool(old) and old[0] == signature[0]
        keep = self.highlighted if same_sa else None
        self._signature = signature
        self.clear_options()
        self._messages = []
        if sa is None:
            self.add_option(Option(Text("select an IKE SA", style="dim"), disabled=True))
            self._messages.append(None)
            return
        head = Text(" " * GUTTER)
        left = clean(f"initiator {sa.initiator or '?'}")
        right = clean(f"responder {sa.responder or '?'}")
        # At least one space between the two names, however narrow the lane.
        gap = max(1, lane + 2 - len(left) - len(right))
        head.append(left, style="bold")
        head.append(" " * gap + right, style="bold")
        self.add_option(Option(head, disabled=True))
        self._messages.append(None)
        self._add_entries(entries, None, flt, clock, lane, marks)
        if keep is not None and keep < self.option_count:
            self.highlighted = keep
        elif self.option_count > 1:
            self.highlighted = 1

    def _add_entries(
        self,
        entries: list[tuple[Message, Exchange]],
        previous: float | None,
        flt: Filter,
        clock: TimeBase,
        lane: int,
        marks: frozenset[int],
    ) -> None:
        """One option per message, ``previous`` the time of the row above the first."""
        options = []
        for m, ex in entries:
            prompt = ladder_prompt(m, ex, clock, lane, previous, m.frame in marks)
            previous = m.ts
            if not flt.accepts_message(m):
                prompt.stylize("dim")
            options.append(Option(prompt, id=f"frame-{m.frame}"))
            self._messages.append(m)
        self.add_options(options)

    def show_frame(self, frame: int) -> Message | None:
        """Highlight the message of ``frame``; returns it, or None when the ladder lacks it."""
        for index, m in enumerate(self._messages):
            if m is not None and m.frame == frame:
                self.highlighted = index
                return m
        return None

    def message_at(self, index: int | None) -> Message | None:
        """The message of option ``index``."""
        if index is None or not 0 <= index < len(self._messages):
            return None
        return self._messages[index]

    async def _on_click(self, event: events.Click) -> None:
        """A click selects the row and stays in the ladder (as Wireshark's packet list does);
        a double click opens the message, like enter."""
        event.prevent_default()  # OptionList's own handler would select (open) on one click
        clicked = event.style.meta.get("option")
        if clicked is None or self.get_option_at_index(clicked).disabled:
            return
        self.highlighted = clicked
        if event.chain >= 2:
            self.action_select()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        m = self.message_at(event.option_index)
        if m is not None:
            self.post_message(self.MessageChosen(m, opened=False))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        m = self.message_at(event.option_index)
        if m is not None:
            self.post_message(self.MessageChosen(m, opened=True))
