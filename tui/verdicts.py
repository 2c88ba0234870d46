"""Verdicts as the views show them: an SA's outcome and how it was reached (one line, never
two that contradict), and the findings of the diagnosis grouped by SA with their fixes."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from ikeview.diagnosis.records import NOT_DIAGNOSED, Diagnosis, Finding
from ikeview.diagnosis.words import BASIS_WORDS
from ikeview.pipeline.model import Analysis, IkeSa, Problem

from . import text
from .safe import clean

OUTCOME_STYLE = {
    "established": "bold green",
    "failed": "bold red",
    "incomplete": "yellow",
    "unknown": "yellow",
}
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_ORDER = {"error": 0, "warning": 1, "info": 2}


def tui_words(line: str) -> str:
    """Capture text made safe, with the CLI's advice turned into the TUI's (press K)."""
    line = clean(line)
    return line.replace("pass --keys with", "press K and give").replace("pass --keys", "press K")


def diagnosed(d: Diagnosis) -> bool:
    """Whether the diagnosis rules have run on this SA."""
    return d != NOT_DIAGNOSED


def outcome_text(sa: IkeSa) -> Text:
    """``failed (read from the payloads): the responder refused …`` or, before the rules ran,
    the correlator's state; one line, so it cannot contradict itself."""
    d = sa.diagnosis
    if not diagnosed(d):
        return text.state_text(sa)
    out = Text(d.outcome, style=OUTCOME_STYLE.get(d.outcome, ""))
    out.append(f" ({BASIS_WORDS.get(d.basis, d.basis)})", style="dim")
    verdict = d.verdict.split(None, 1)[1] if d.verdict.strip() else ""
    if verdict:
        out.append(f": {tui_words(verdict)}")
    return out


def outcome_word(sa: IkeSa) -> str:
    """The one word the SA's tree line starts with."""
    return sa.diagnosis.outcome if diagnosed(sa.diagnosis) else sa.state


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the Problems tab and where enter takes the user."""

    text: Text
    """What is shown."""
    target: Problem | None
    """The problem (frame, IKE SA) enter jumps to; None for headers and fix lines."""


def _finding_entries(f: Finding, sa: IkeSa, owner: str) -> list[Entry]:
    line = Text("  ")
    line.append(f"{f.severity:<8}", style=SEVERITY_STYLE.get(f.severity, ""))
    frames = ",".join(str(n) for n in f.frames[:4]) + ("…" if len(f.frames) > 4 else "")
    # 11 columns and a space: a long frame list pushes the text right instead of touching it.
    line.append(f"{'frame ' + frames if frames else '':<11} ", style="dim")
    line.append(f"{owner}{tui_words(f.explanation)}")
    target = Problem(
        f.severity,
        f.explanation,
        frame=f.frames[-1] if f.frames else None,
        ike_sa=sa.spis,
        code=f.code,
    )
    out = [Entry(line, target)]
    if f.fix:
        out.append(Entry(Text(f"      fix: {tui_words(f.fix)}", style="green"), target))
    return out


def _problem_entry(p: Problem) -> Entry:
    line = Text("  ")
    line.append(f"{p.severity:<8}", style=SEVERITY_STYLE.get(p.severity, ""))
    line.append(f"{'frame ' + str(p.frame) if p.frame else '':<12}", style="dim")
    line.append(tui_words(p.text))
    return Entry(line, p if p.frame is not None else None)


def problem_entries(analysis: Analysis) -> list[Entry]:
    """Per IKE SA: a header with its verdict, its and its child SAs' findings (worst first)
    with each fix, then the problems the findings do not already say; then the rest."""
    out: list[Entry] = []
    used: set[Problem] = set()
    # Grouped once: looking each SA's problems up in the whole list was quadratic (8 s of the
    # UI thread at 3,000 IKE SAs with 6,000 problems).
    by_sa: dict[object, list[Problem]] = {}
    for p in analysis.problems:
        by_sa.setdefault(p.ike_sa, []).append(p)
    for sa in analysis.ike_sas:
        findings = [(f, "") for f in sa.diagnosis.findings]
        for child in sa.child_sas:
            owner = f"child {text.spi_hex(child.spi_initiator)}: "
            findings.extend((f, owner) for f in child.diagnosis.findings)
        findings.sort(key=lambda pair: _ORDER.get(pair[0].severity, 3))
        mine = by_sa.get(sa.spis, [])
        said = [f.explanation for f, _ in findings]
        extra = [p for p in mine if not any(e in p.text for e in said)]
        used.update(mine)
        if not findings and not extra:
            continue
        head = Text(f"IKE SA {sa.label} {text.peers(sa)} · ", style="bold")
        head.append_text(outcome_text(sa))
        out.append(Entry(head, None))
        for f, owner in findings:
            out.extend(_finding_entries(f, sa, owner))
        out.extend(
            _problem_entry(p) for p in sorted(extra, key=lambda p: _ORDER.get(p.severity, 3))
        )
    rest = [p for p in analysis.problems if p not in used]
    if rest:
        out.append(Entry(Text("not tied to an IKE SA", style="bold"), None))
        out.extend(_problem_entry(p) for p in sorted(rest, key=lambda p: _ORDER.get(p.severity, 3)))
    return out


def entry_count(entries: list[Entry]) -> int:
    """Findings and problems listed (headers and fix lines not counted)."""
    return sum(
        1
        for e in entries
        if e.text.plain.startswith("  ") and not e.text.plain.lstrip().startswith("fix:")
    )
