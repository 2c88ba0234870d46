"""The exchange ladder as a picture for a ticket: a Mermaid ``sequenceDiagram`` (rendered by
GitHub and GitLab markdown) or an SVG sequence diagram, with times and verdicts.

One diagram per capture: a lane per peer address, an arrow per IKE message (exchange, message
ID, request/response, time since the capture's start, the round trip on responses, error
notifies), a note per IKE SA with its verdict. Text from the capture is escaped for each format.
"""

from __future__ import annotations

import html
import re

from ikeview import iana
from ikeview.pipeline.model import Analysis, Message
from ikeview.timebase import TimeBase, capture_start

ERROR_LIMIT = 16384
"""RFC 7296 section 3.10.1: notify types below this are errors."""

_MERMAID_UNSAFE = re.compile(r"[^\w .:/()#+\-→=,]")


def _peers(analysis: Analysis) -> list[str]:
    found: list[str] = []
    for sa in analysis.ike_sas:
        for peer in (sa.initiator, sa.responder):
            if peer and peer not in found:
                found.append(peer)
    return found


def _label(m: Message, clock: TimeBase, rtt: float | None) -> str:
    kind = "response" if m.response else "request"
    text = f"{clock.format(m.ts, digits=3)} s {m.exchange_name} #{m.message_id} {kind}"
    if rtt is not None:
        text += f" (rtt {rtt * 1000:.1f} ms)"
    errors = [iana.NOTIFY_TYPES.name(n) for n in m.notifies if n < ERROR_LIMIT]
    if errors:
        text += " " + ", ".join(errors)
    if m.retransmission:
        text += " retransmit"
    return text


def _rows(analysis: Analysis) -> list[tuple[str, str, str, bool]]:
    """(from, to, label, is_error) per message, plus ("note", sa, verdict, failed) per SA."""
    clock = TimeBase(capture_t0=capture_start(analysis) or 0.0)
    out: list[tuple[str, str, str, bool]] = []
    for sa in analysis.ike_sas:
        ex_of = {id(m): ex for ex in sa.exchanges for m in ex.messages}
        for m in sorted(sa.messages, key=lambda m: (m.ts, m.frame)):
            ex = ex_of.get(id(m))
            rtt = m.ts - ex.request.ts if ex and m.response and ex.request else None
            failed = any(n < ERROR_LIMIT for n in m.notifies)
            out.append((m.flow.src, m.flow.dst, _label(m, clock, rtt), failed))
        verdict = sa.diagnosis.verdict or sa.state
        outcome = sa.diagnosis.outcome if sa.diagnosis.verdict else sa.state
        out.append(
            (
                "note",
                f"{sa.initiator}|{sa.responder}",
                f"IKE SA {sa.label}: " + " ".join(verdict.split()),
                outcome == "failed",
            )
        )
    return out


def _mermaid_text(s: str) -> str:
    """Mermaid message text: no semicolons, colons after the first, or markup characters."""
    return _MERMAID_UNSAFE.sub("_", s.replace(";", ",").replace(":", " "))


def to_mermaid(analysis: Analysis) -> str:
    """A Mermaid ``sequenceDiagram`` of the capture."""
    peers = _peers(analysis)
    alias = {p: f"P{i}" for i, p in enumerate(peers)}
    lines = ["sequenceDiagram"]
    for p in peers:
        lines.append(f"    participant {alias[p]} as {_mermaid_text(p)}")
    for src, dst, text, failed in _rows(analysis):
        if src == "note":
            a, b = dst.split("|")
            over = ",".join(alias[x] for x in (a, b) if x in alias) or "P0"
            lines.append(f"    Note over {over}: {_mermaid_text(text)}")
            continue
        arrow = "-x" if failed else "->>"
        if src in alias and dst in alias:
            lines.append(f"    {alias[src]}{arrow}{alias[dst]}: {_mermaid_text(text)}")
    return "\n".join(lines) + "\n"


LANE = 540
"""Pixels between two lifelines."""
ROW = 34
"""Pixels per message row."""
TOP = 60
"""Pixels above the first row (the lane titles)."""


def to_svg(analysis: Analysis) -> str:
    """An SVG sequence diagram: lanes, arrows with their labels, verdict notes."""
    peers = _peers(analysis) or ["?"]
    x_of = {p: 80 + i * LANE for i, p in enumerate(peers)}
    rows = _rows(analysis)
    width = 160 + LANE * max(1, len(peers) - 1)
    height = TOP + ROW * (len(rows) + 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<defs><marker id="head" markerWidth="10" markerHeight="8" refX="9" refY="4" '
        'orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="black"/></marker></defs>',
    ]
    for p, x in x_of.items():
        out.append(
            f'<text x="{x}" y="24" text-anchor="middle" font-weight="bold" '
            f'class="lane">{html.escape(p)}</text>'
        )
        out.append(
            f'<line x1="{x}" y1="34" x2="{x}" y2="{height - 10}" stroke="#888" '
            'stroke-dasharray="4,3"/>'
        )
    for i, (src, dst, text, failed) in enumerate(rows):
        y = TOP + ROW * i + 16
        colour = "#c00000" if failed else "black"
        if src == "note":
            left, right = min(x_of.values()), max(x_of.values())
            out.append(
                f'<rect x="{left - 60}" y="{y - 14}" width="{right - left + 120}" '
                f'height="20" fill="#fff5c0" stroke="#c9a600"/>'
            )
            out.append(
                f'<text x="{(left + right) // 2}" y="{y}" text-anchor="middle" '
                f'fill="{colour}">{html.escape(text[:110])}</text>'
            )
            continue
        if src not in x_of or dst not in x_of:
            continue
        x1, x2 = x_of[src], x_of[dst]
        out.append(
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}" '
            'stroke-width="1.5" marker-end="url(#head)"/>'
        )
        out.append(
            f'<text x="{(x1 + x2) // 2}" y="{y - 5}" text-anchor="middle" '
            f'fill="{colour}">{html.escape(text)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
