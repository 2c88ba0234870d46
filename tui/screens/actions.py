"""The main screen's views for tickets: SA card, transcript, exports, and marks on messages.

A mixin of ``MainScreen`` (screens/main.py), kept apart so neither file grows past what one
reads at a sitting; it uses the screen's state (analysis, selection, clock, marks) and never
touches a widget other than through the screen.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual import work
from textual.screen import Screen

from ikeview.pipeline.model import Analysis, IkeSa, Message, Problem
from ikeview.timebase import TimeBase

from ..cards import card_config_lines
from ..filtering import Filter
from ..loading import LoadRequest, keyring_for
from ..marks import MARK, next_mark, toggled
from ..widgets.problems import ProblemsView
from .dialogs import ExportChoice, ExportScreen
from .textview import TextScreen


class ViewActions(Screen[None]):
    """Actions that open a text view, write an export or move between marks."""

    analysis: Analysis | None
    request: LoadRequest
    filter: Filter
    clock: TimeBase
    message: Message | None
    marks: frozenset[int]

    def current_sa(self) -> IkeSa | None:  # pragma: no cover - MainScreen's
        raise NotImplementedError

    def refresh_panels(self) -> None:  # pragma: no cover - MainScreen's
        raise NotImplementedError

    # ------------------------------------------------------------------ marks

    def action_mark(self) -> None:
        """``m``: mark the selected message, or take its mark off."""
        if self.message is None:
            self.notify("select a message in the ladder first", title="mark", severity="warning")
            return
        frame = self.message.frame
        self.marks = toggled(self.marks, frame)
        said = "marked" if frame in self.marks else "mark removed from"
        self.notify(
            f"{MARK} {said} frame {frame} ({len(self.marks)} marked)", title="mark", timeout=2
        )
        self.refresh_panels()

    def action_next_mark(self, backwards: bool = False) -> None:
        """``'``/``n`` (``N`` backwards): the next marked message, in the ladder."""
        current = self.message.frame if self.message is not None else None
        frame = next_mark(self.marks, current, backwards=backwards)
        if frame is None:
            self.notify("nothing marked: m marks a message", title="mark", severity="warning")
            return
        self.post_message(ProblemsView.ProblemChosen(Problem("info", f"frame {frame}", frame)))

    # ------------------------------------------------------------------ text views

    def action_card(self) -> None:
        """``i``: the selected IKE SA as ``show crypto ikev2 sa detailed`` would show it."""
        from ikeview.card import card_lines

        sa = self.current_sa()
        if sa is None:
            self.notify("select an IKE SA first", title="SA card", severity="warning")
            return
        # --config: how the capture compares with the device configs (or why not yet).
        lines = card_lines(sa) + card_config_lines(sa, self.request, self.analysis)
        self.app.push_screen(TextScreen(f"IKE SA {sa.label}", lines))

    def action_transcript(self) -> None:
        """``L``: the selected IKE SA read back as the initiator's charon log (marked messages
        say so)."""
        from ikeview.transcript import sa_transcript

        sa = self.current_sa()
        if sa is None:
            self.notify("select an IKE SA first", title="transcript", severity="warning")
            return
        lines = sa_transcript(sa, self.clock.for_sa(sa), self.marks)
        self.app.push_screen(TextScreen(f"transcript of IKE SA {sa.label}", lines))

    # ------------------------------------------------------------------ exports

    def action_export(self) -> None:
        if self.analysis is None:
            self.notify("nothing loaded yet", title="export", severity="warning")
            return
        capture = self.request.capture
        default = (
            capture.with_name(capture.stem + "-timeline.csv") if capture else Path("timeline.csv")
        )
        self.app.push_screen(ExportScreen(default), self.export_to)

    def export_to(self, choice: ExportChoice | None) -> None:
        if choice is not None and self.analysis is not None:
            self.export(self.analysis, choice, self.clock, self.marks)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def export(
        self, analysis: Analysis, choice: ExportChoice, clock: TimeBase, marks: frozenset[int]
    ) -> None:
        """Write one export with the core's own writers (pandas loads on first use: a thread
        keeps the UI responsive meanwhile). The CSVs carry the clock shown (``t``) and the
        marks, as ``ikeview export --csv --time`` does."""
        path = choice.path
        if choice.kind in ("timeline", "esp"):
            from ikeview.export import write_csv

            shown = tuple(sa for sa in analysis.ike_sas if self.filter.accepts_sa(sa))
            write_csv(
                replace(analysis, ike_sas=shown),
                path,
                esp=choice.kind == "esp",
                clock=clock.clock.value,
                marks=marks,
            )
            said = (
                f"{sum(len(sa.messages) for sa in shown)} messages written to {path} "
                f"(times: {clock.title()} and UTC)"
            )
        elif choice.kind == "wireshark":
            from ikeview.pipeline.keyout import write_wireshark_tables

            path.mkdir(parents=True, exist_ok=True)
            written = write_wireshark_tables(analysis, path, inputs=self.request.keys)
            said = f"{len(written)} Wireshark files written to {path}"
        else:
            from ikeview.pcapwrite import write_decrypted

            if self.request.capture is None:
                raise ValueError("a live capture cannot be written decrypted; save it first")
            ring = keyring_for(self.request, lambda _m: None)
            stats = write_decrypted(
                self.request.capture, ring, path, extra_ports=self.request.extra_ports
            )
            said = f"{path}: {stats}"
        self.app.call_from_thread(self.notify, said, title="exported")
