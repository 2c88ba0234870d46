"""Problems the core found, worst first, the selected IKE SA's marked; enter on one with a frame
announces ``ProblemsView.ProblemChosen`` (the screen jumps to that message)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message as TMessage
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ikeview.pipeline.model import Analysis, Problem
from ikeview.pipeline.seam import IkeSpis

_ORDER = {"error": 0, "warning": 1, "info": 2}
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def ranked(analysis: Analysis) -> list[Problem]:
    """The analysis's problems, errors first (stable within a severity)."""
    return sorted(analysis.problems, key=lambda p: _ORDER.get(p.severity, 3))


def problem_line(p: Problem, mine: bool) -> Text:
    """Severity, frame, text; ``▸`` marks the selected SA's."""
    line = Text()
    line.append("▸ " if mine else "  ", style="bold")
    line.append(f"{p.severity:<8}", style=_STYLE.get(p.severity, ""))
    line.append(f"{'frame ' + str(p.frame) if p.frame else '':<12}", style="dim")
    line.append(p.text)
    return line


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

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._problems: list[Problem] = []
        self._signature: tuple[object, ...] | None = None

    def update_from(self, analysis: Analysis | None, spis: IkeSpis | None) -> None:
        """Show the analysis's problems (the cursor stays where it was when they are redrawn)."""
        problems = ranked(analysis) if analysis is not None else []
        signature = (analysis is None, spis, tuple(problems))
        if signature == self._signature:
            return
        self._signature = signature
        keep = self.highlighted
        self.clear_options()
        self._problems = problems
        if analysis is None:
            self.add_option(Option(Text("loading…", style="dim"), disabled=True))
            return
        if not problems:
            self.add_option(Option(Text("no problems found", style="green"), disabled=True))
            return
        self.add_options(
            Option(problem_line(p, spis is not None and p.ike_sa == spis)) for p in problems
        )
        self.highlighted = keep if keep is not None and keep < len(problems) else 0

    def problem_at(self, index: int | None) -> Problem | None:
        """The problem of option ``index``."""
        if index is None or not 0 <= index < len(self._problems):
            return None
        return self._problems[index]

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        p = self.problem_at(event.option_index)
        if p is not None and p.frame is not None:
            self.post_message(self.ProblemChosen(p))
