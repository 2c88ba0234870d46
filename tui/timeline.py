"""Timing on one axis: an IKE SA's exchanges, its child SAs' lives and their ESP per direction as
lanes over one time axis scaled to the width, and the retransmission schedules (each copy, the
interval between copies, the round trip after the last copy). Pure functions returning Rich
text, so the Timing tab and the tests draw the same thing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from ikeview.diagnosis.evidence import request_copies
from ikeview.pipeline.model import ChildSa, EspSpiStats, Exchange, IkeSa
from ikeview.timebase import TimeBase

from . import text
from .esprows import EspRows
from .marks import MARK

LABEL = 17
"""Columns of the lane names left of the axis (``  ESP 0c95ce69 →``)."""
NARROW_LABEL = 14
"""The same below ``NARROW`` columns, without the indentation (``ESP 0c95ce69 →``)."""
NARROW = 64
"""Width under which the lane names lose their indentation."""
MIN_PLOT = 20
"""Fewest columns of the plot (a narrower pane scrolls sideways)."""
DENSITY = " ▁▂▃▄▅▆▇█"
"""ESP packets per column, from none to the busiest column of the lane."""

SYMBOLS = {
    "IKE_SA_INIT": "I",
    "IKE_AUTH": "A",
    "CREATE_CHILD_SA": "C",
    "INFORMATIONAL": "i",
}
"""The letter of an exchange on the IKE lane (by exchange name; see ``exchange_symbol``)."""
LEGEND = (
    "I init · A auth · C child · R rekey · D DPD · X delete · i info · r retransmit · "
    f"! failed/unanswered · {MARK} marked · ▁▄█ ESP packets · ━ child SA alive"
)


def exchange_symbol(ex: Exchange) -> tuple[str, str]:
    """(letter, style) of an exchange: what it did, coloured by how it went."""
    purpose = ex.purpose or ""
    if "rekey" in purpose:
        letter = "R"
    elif purpose == "liveness check":
        letter = "D"
    elif purpose.startswith("delete"):
        letter = "X"
    else:
        letter = SYMBOLS.get(ex.name, "?")
    if ex.status in ("failed", "unanswered"):
        return ("!" if ex.status == "unanswered" else letter), "bold red"
    if ex.status == "retry":
        return letter, "magenta"
    return letter, "green" if ex.response is not None else "yellow"


@dataclass(frozen=True, slots=True)
class Axis:
    """Time ``start``..``end`` over ``width`` columns."""

    start: float
    end: float
    width: int

    def column(self, ts: float) -> int:
        """The column of ``ts`` (clamped to the plot)."""
        span = self.end - self.start
        if span <= 0:
            return 0
        return max(0, min(self.width - 1, int((ts - self.start) / span * (self.width - 1) + 0.5)))


def rekey_story(sa: IkeSa, sas: Sequence[IkeSa]) -> list[tuple[IkeSa, str]]:
    """The IKE SAs of ``sa``'s IKE SA rekey, in time order, each with its role: ``this``
    (``sa``), ``old`` (the SA it replaced), ``new`` (its successor), ``won``/``lost`` (the
    other new SA of a rekey collision, RFC 7296 2.8.2). Just ``sa`` when it was not rekeyed:
    one step each way, so a tunnel rekeyed every hour does not squeeze a day onto the axis."""
    if sa.rekey_of is None and sa.rekeyed_into is None:
        return [(sa, "this")]
    parents = {sa.spis} | ({sa.rekey_of} if sa.rekey_of is not None else set())
    story: list[tuple[IkeSa, str]] = []
    for other in sas:
        if other is sa:
            story.append((sa, "this"))
        elif other.spis == sa.rekey_of:
            story.append((other, "old"))
        elif other.spis == sa.rekeyed_into or other.rekey_of == sa.spis:
            story.append((other, "lost" if other.redundant else "new"))
        elif other.rekey_of in parents:  # a sibling: the same old SA, rekeyed twice at once
            story.append((other, "lost" if other.redundant else "won"))
    story.sort(key=lambda pair: pair[0].first_ts)
    return story


def _span(sas: Sequence[IkeSa]) -> tuple[float, float]:
    """First and last instant of anything the lanes show."""
    times = [m.ts for sa in sas for m in sa.messages]
    for sa in sas:
        for child in sa.child_sas:
            times.append(child.created_ts)
            if child.deleted_ts is not None:
                times.append(child.deleted_ts)
            for st in child.esp:
                if st.packets:
                    times += [st.first_ts, st.last_ts]
    return (min(times), max(times)) if times else (sas[0].first_ts, sas[0].first_ts)


def _lane(label: str, cells: list[tuple[str, str]], style: str = "", room: int = LABEL) -> Text:
    out = Text()
    out.append(label[:room].ljust(room), style=style or "bold")
    out.append("│", style="dim")
    for char, cell_style in cells:
        out.append(char, style=cell_style)
    return out


def ike_lane(sa: IkeSa, axis: Axis) -> list[tuple[str, str]]:
    """One cell per column: each exchange's letter at its request (``r`` at a retransmitted
    copy), the worst outcome winning a shared column."""
    cells = [(" ", "")] * axis.width
    rank = {"bold red": 3, "magenta": 2, "yellow": 1}
    for ex in sa.exchanges:
        letter, style = exchange_symbol(ex)
        for k, m in enumerate(request_copies(ex) or ex.messages[:1]):
            col = axis.column(m.ts)
            char, now = (letter, style) if k == 0 else ("r", "yellow")
            if rank.get(now, 0) >= rank.get(cells[col][1], 0):
                cells[col] = (char, now)
    return cells


def marks_lane(sa: IkeSa, axis: Axis, marks: frozenset[int]) -> list[tuple[str, str]] | None:
    """The marked messages of the SA (None when it has none)."""
    mine = [m for m in sa.messages if m.frame in marks]
    if not mine:
        return None
    cells = [(" ", "")] * axis.width
    for m in mine:
        cells[axis.column(m.ts)] = (MARK, "bold magenta")
    return cells


def child_lane(child: ChildSa, axis: Axis) -> list[tuple[str, str]]:
    """``━`` while the child SA lived (from its creating response), ``x`` at its deletion."""
    cells = [(" ", "")] * axis.width
    if child.error is not None:
        cells[axis.column(child.created_ts)] = ("!", "bold red")
        return cells
    first = axis.column(child.created_ts)
    last = axis.column(child.deleted_ts if child.deleted_ts is not None else axis.end)
    style = "dim" if child.deleted_ts is not None or child.rekeyed_by else "cyan"
    for col in range(first, last + 1):
        cells[col] = ("━", style)
    if child.deleted_ts is not None:
        cells[last] = ("x", "bold")
    return cells


def esp_lane(st: EspSpiStats, rows: EspRows, axis: Axis) -> list[tuple[str, str]]:
    """Packets of one SPI per column, shaded against the lane's busiest column; red where an
    ICV failed is not known per column, so the lane is red when any did."""
    counts = column_counts(rows, st.spi, axis)
    top = max(counts) or 1
    style = "red" if st.integrity_failed else ("green" if st.decrypted else "blue")
    steps = len(DENSITY) - 1
    return [(DENSITY[max(1, round(c / top * steps))] if c else " ", style) for c in counts]


def column_counts(rows: EspRows, spi: int, axis: Axis) -> list[int]:
    """Packets of ``spi`` per column of ``axis``, counted by numpy (10M packets in ~0.5 s, a
    Python loop ten times that, on every redraw). ``rows.times`` gives each packet's time, or
    past a few hundred packets the centres of time bins with their counts (``esptimes``)."""
    import numpy as np

    times, weights = rows.times(spi)
    if not len(times):
        return [0] * axis.width
    ts = np.asarray(times, dtype=np.float64)
    span = axis.end - axis.start
    if weights is not None:
        return _binned_counts(ts, np.asarray(weights, dtype=np.float64), axis)
    if span <= 0:
        cols = np.zeros(len(ts), dtype=np.int64)
    else:
        scaled = np.floor((ts - axis.start) / span * (axis.width - 1) + 0.5)
        cols = np.clip(scaled, 0, axis.width - 1).astype(np.int64)
    return [int(c) for c in np.bincount(cols, minlength=axis.width)[: axis.width]]


def _binned_counts(centres: Any, weights: Any, axis: Axis) -> list[int]:
    """Bin counts spread over the columns by how much of each bin a column covers (packets
    taken as even within a bin), rounded on the running total: the total is kept, and a
    column edge inside a bin splits it instead of moving it whole."""
    import numpy as np

    total = float(weights.sum())
    span = axis.end - axis.start
    if span <= 0 or axis.width < 2:
        return [int(total)] + [0] * (axis.width - 1)
    half = (centres[1] - centres[0]) / 2 if len(centres) > 1 else 0.0
    edges = np.concatenate(([centres[0] - half], centres + half))
    running = np.concatenate(([0.0], np.cumsum(weights)))
    # Column c holds the times that round to it: its edges lie half a column either side.
    cuts = axis.start + (np.arange(1, axis.width) - 0.5) * span / (axis.width - 1)
    at = np.rint(np.interp(cuts, edges, running))
    counts = np.diff(np.concatenate(([0.0], at, [total])))
    return [int(c) for c in counts]


def direction(st: EspSpiStats, sa: IkeSa) -> str:
    """``→`` for ESP from the IKE SA's initiator, ``←`` towards it (``·`` when neither)."""
    if st.src == sa.initiator:
        return "→"
    if st.dst == sa.initiator:
        return "←"
    return "·"


def axis_text(
    sa: IkeSa,
    rows: EspRows,
    clock: TimeBase,
    width: int,
    marks: frozenset[int] = frozenset(),
    story: Sequence[tuple[IkeSa, str]] = (),
) -> Text:
    """The lanes of ``sa`` over one axis ``width`` columns wide (labels included), ticks on
    ``clock`` (the delta clock counts from the axis start). ``story``: the IKE SAs of its
    rekey with their roles (``rekey_story``), drawn on the same axis in time order."""
    story = story if len(story) > 1 else [(sa, "this")]
    narrow = width < NARROW
    room = NARROW_LABEL if narrow else LABEL
    plot = max(MIN_PLOT, width - room - 1)
    start, end = _span([s for s, _ in story])
    axis = Axis(start, end, plot)
    lanes: list[Text] = []
    seen: set[tuple[int, int]] = set()
    for member, role in story:
        mine = _sa_lanes(member, role if len(story) > 1 else "", sa, rows, axis, room, seen)
        marked = marks_lane(member, axis, marks)
        if marked is not None:  # under its IKE lane
            mine.insert(1, _lane(f"{MARK} marked", marked, "bold magenta", room))
        lanes += mine
    out = Text()
    out.append("one time axis", style="bold underline")
    said = f"{clock.title()}; {text.duration(end - start)} over {plot} columns"
    if len(story) > 1:
        said += "; IKE SA rekey: " + " → ".join(
            f"{s.spi_i.hex()[:8]} ({role})" for s, role in story
        )
    out.append("\n" + "\n".join(textwrap.wrap(said, max(width, 20))) + "\n", style="dim")
    out.append_text(Text("\n").join(lanes))
    out.append("\n")
    out.append_text(_ticks(axis, clock, room))
    out.append("\n")
    # Wrapped here: the tab draws without wrapping, which would eat the lanes' leading spaces.
    out.append("\n".join(textwrap.wrap(LEGEND, max(width, 20))), style="dim")
    return out


def _sa_lanes(
    sa: IkeSa,
    role: str,
    chosen: IkeSa,
    rows: EspRows,
    axis: Axis,
    room: int,
    seen: set[tuple[int, int]],
) -> list[Text]:
    """The IKE lane of one SA of the story, then its child SAs and their ESP; a child SA moved
    to the new IKE SA by the rekey (RFC 7296 1.3.2) is drawn once, under the first. ESP arrows
    read from ``chosen``'s initiator, one sense for the whole axis."""
    narrow = room == NARROW_LABEL
    child_pad, esp_pad = ("", "") if narrow else (" ", "  ")
    name = f"IKE {sa.spi_i.hex()[:8]}"
    if role:  # narrow: the role replaces "IKE", so the SPI stays whole
        name = f"{role} {sa.spi_i.hex()[:8]}" if narrow else f"IKE {role} {sa.spi_i.hex()[:8]}"
    style = "bold" if sa is chosen else "dim bold"
    lanes = [_lane(name, ike_lane(sa, axis), style, room)]
    for child in sa.child_sas:
        key = (child.spi_initiator, child.spi_responder)
        if key in seen:
            continue
        seen.add(key)
        label = f"{child_pad}child {child.spi_initiator:08x}"
        lanes.append(_lane(label, child_lane(child, axis), room=room))
        for st in child.esp:
            label = f"{esp_pad}ESP {st.spi:08x} {direction(st, chosen)}"
            lanes.append(_lane(label, esp_lane(st, rows, axis), room=room))
    return lanes


def _ticks(axis: Axis, clock: TimeBase, room: int) -> Text:
    """The axis line with its start, middle (when wide enough) and end times."""
    line = Text()
    line.append(" " * room + "└" + "─" * axis.width, style="dim")
    first = clock.format(axis.start, axis.start, 3)
    last = clock.format(axis.end, axis.start, 3)
    labels = Text(" " * (room + 1) + first)
    if axis.width >= len(first) + len(last) + 20:
        middle_ts = (axis.start + axis.end) / 2
        middle = clock.format(middle_ts, axis.start, 3)
        at = room + 1 + axis.width // 2 - len(middle) // 2
        labels.append(" " * max(1, at - labels.cell_len) + middle)
    right = room + 1 + axis.width - len(last)
    labels.append(" " * max(1, right - labels.cell_len) + last)
    return Text("\n").join([line, labels])


def true_round_trip(ex: Exchange, sa: IkeSa) -> float | None:
    """The round trip after the last copy sent before the answer: the diagnosis's own figure
    (its ``retransmission`` finding's ``true_rtt``) when it made one, else the same rule."""
    if ex.response is None:
        return None
    first = ex.request.frame if ex.request is not None else None
    for f in sa.diagnosis.findings:
        rtt = f.get("true_rtt")
        if f.code == "retransmission" and first in f.frames and isinstance(rtt, int | float):
            return float(rtt)
    before = [m for m in request_copies(ex) if m.ts <= ex.response.ts]
    return ex.response.ts - before[-1].ts if before else None


def schedule_lines(sa: IkeSa, clock: TimeBase) -> list[Text]:
    """One block per exchange whose request went more than once: each copy's frame and time,
    the interval since the copy before, and how it ended."""
    out: list[Text] = []
    for ex in sa.exchanges:
        copies = request_copies(ex)
        if len(copies) < 2:
            continue
        head = Text(f"{ex.name} #{ex.message_id} from the {ex.requester}: ", style="bold")
        head.append(f"{len(copies)} copies")
        out.append(head)
        previous = None
        for k, m in enumerate(copies, 1):
            line = Text(f"  copy {k}  frame {m.frame:<6} {clock.format(m.ts, previous, 3):>15}")
            if previous is not None:
                line.append(f"  +{text.duration(m.ts - previous)} after copy {k - 1}", style="dim")
            out.append(line)
            previous = m.ts
        out.append(_outcome(ex, sa, copies[-1].ts))
    return out


def _outcome(ex: Exchange, sa: IkeSa, last_sent: float) -> Text:
    if ex.response is None:
        return Text("  no answer in the capture", style="bold red")
    rtt = true_round_trip(ex, sa)
    line = Text()
    line.append(f"  answered in frame {ex.response.frame}: ", style="green")
    if ex.response.ts < last_sent:
        line.append(
            "before the last copy left (the answers did not reach the sender)", style="yellow"
        )
        return line
    line.append(f"{text.duration(rtt or 0.0)} after the last copy")
    if ex.rtt is not None:
        line.append(f" ({text.duration(ex.rtt)} after the first)", style="dim")
    return line
