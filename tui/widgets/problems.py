"""Problems the core found, worst first, the selected IKE SA's marked."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ikeview.pipeline.model import Analysis
from ikeview.pipeline.seam import IkeSpis

_ORDER = {"error": 0, "warning": 1, "info": 2}
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def problems_text(analysis: Analysis | None, spis: IkeSpis | None) -> Text:
    """One line per problem: severity, frame, text; ``▸`` marks the selected SA's."""
    if analysis is None:
        return Text("loading…", style="dim")
    if not analysis.problems:
        return Text("no problems found", style="green")
    out = Text()
    ranked = sorted(analysis.problems, key=lambda p: _ORDER.get(p.severity, 3))
    for p in ranked:
        mine = spis is not None and p.ike_sa == spis
        out.append("▸ " if mine else "  ", style="bold")
        out.append(f"{p.severity:<8}", style=_STYLE.get(p.severity, ""))
        out.append(f"{'frame ' + str(p.frame) if p.frame else '':<12}", style="dim")
        out.append(f"{p.text}\n")
    return out


class ProblemsView(VerticalScroll):
    """Scrollable list of problems."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="problems-text")

    def update_from(self, analysis: Analysis | None, spis: IkeSpis | None) -> None:
        """Show the analysis's problems."""
        self.query_one("#problems-text", Static).update(problems_text(analysis, spis))
