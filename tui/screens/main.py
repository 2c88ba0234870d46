"""The main screen: filter bar and progress on top, IKE SA tree left, panels right."""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    Footer,
    Header,
    Input,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
    Tabs,
)
from textual.worker import Worker, WorkerState, get_current_worker

from ikeview.pipeline.model import Analysis, EspSpiStats, IkeSa, Message, Problem
from ikeview.timebase import TimeBase, capture_start

from .. import loading
from ..cards import pending_note
from ..esprows import EspRows, EspRowStore
from ..filtering import Filter
from ..loading import LoadRequest, run_load
from ..messages import AnalysisUpdated, CaptureLoaded, KernelDropped, KeysFailed
from ..timeline import rekey_story
from ..verdicts import Entry, entry_count, problem_entries
from ..widgets.esp_table import EspPanel, EspTable, esp_detail
from ..widgets.ladder import Ladder
from ..widgets.message_view import MessageView
from ..widgets.problems import ProblemsView
from ..widgets.proposals import ProposalsView
from ..widgets.sa_tree import NodeRef, SaTree
from ..widgets.timing import TimingView
from .actions import ViewActions
from .dialogs import GotoScreen, KeysRequest, KeysScreen

if TYPE_CHECKING:
    from ikeview.framebytes import EspFrameBytes
    from ikeview.pipeline.seam import Decryptor

PARTIAL_EVERY = 1.0
"""Fewest seconds between two partial snapshots drawn while a capture loads (the first is
drawn at once; the complete analysis always at once)."""
TABS = ("ladder", "message", "proposals", "timing", "esp", "problems")
"""Panel ids in tab order (keys 1-6)."""

LABELS = {
    "ladder": "Ladder",
    "message": "Message",
    "proposals": "Proposals",
    "timing": "Timing",
    "esp": "ESP",
    "problems": "Problems",
}
SHORT_LABELS = {
    **LABELS,
    "message": "Msg",
    "proposals": "Prop",
    "timing": "Time",
    "problems": "Prob",
}
"""Tab labels below ``NARROW`` columns (all six fit in 56 columns)."""
NARROW = 100
"""Terminal width under which the screen switches to its compact layout."""

PANE_FOCUS = {
    "ladder": "#ladder-view",
    "message": "#payload-tree",
    "proposals": "#proposals-view",
    "timing": "#timing-view",
    "esp": "#esp-table",
    "problems": "#problems-view",
}
"""The widget that takes the focus when a tab is opened from inside the panels."""


class MainScreen(ViewActions):
    """Everything about one capture; owns the load worker and the current analysis."""

    AUTO_FOCUS = "#sas"
    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "leave_filter", "Back", show=False),
        *(
            Binding(str(i + 1), f"show_tab('{t}')", t.title(), show=False)
            for i, t in enumerate(TABS)
        ),
        Binding("K", "keys", "Decryption keys"),
        Binding("t", "cycle_clock", "Clock"),
        Binding("i", "card", "SA card"),
        Binding("colon", "goto", "Go to frame", show=False),
        Binding("L", "transcript", "Transcript"),
        Binding("e", "export", "Export"),
        Binding("m", "mark", "Mark"),
        Binding("apostrophe,n", "next_mark", "Next mark", show=False),
        Binding("N", "next_mark(True)", "Previous mark", show=False),
        Binding("h", "app.focus_previous", "Prev pane", show=False),
        Binding("l", "app.focus_next", "Next pane", show=False),
    ]

    def __init__(self, request: LoadRequest) -> None:
        super().__init__()
        self.request = request
        self.analysis: Analysis | None = None
        self.rows: EspRows = EspRowStore()
        self.filter = Filter()
        self.selected: NodeRef | None = None
        self.message: Message | None = None
        self.loaded = False
        self.clock = TimeBase()
        self._message_clock = self.clock
        self.marks = frozenset()
        """Frames marked with ``m`` (kept across re-runs: frame numbers do not change)."""
        self._entries: tuple[Analysis | None, list[Entry]] = (None, [])
        self._packet_lock = threading.Lock()
        self._partial: AnalysisUpdated | None = None
        """The newest partial snapshot not drawn yet (see ``PARTIAL_EVERY``)."""
        self._partial_shown = 0.0
        """time.monotonic() when a partial snapshot was last drawn (0: none yet this run)."""
        self._load_started = 0.0
        """time.monotonic() when the current run started."""
        self._partial_timer: Timer | None = None
        self._panels_for: LoadRequest | None = None
        """The run whose snapshot the panels have been drawn from (see ``show_analysis``)."""

    @property
    def focus_chain(self) -> list[Widget]:
        """Tab moves between panes only: the filter (``/``) and the tab strip (digits, mouse)
        are left out unless they hold the focus, so typing ``j`` never lands in the filter."""
        chain = super().focus_chain
        return [w for w in chain if w.has_focus or not isinstance(w, Input | Tabs)]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="topbar"):
            yield Input(placeholder="/ filter: SPI, exchange, notify, peer, text", id="filter")
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("loading…", id="status")
        with Horizontal(id="body"):
            yield SaTree(id="sas")
            with TabbedContent(id="panels", initial="ladder"):
                with TabPane("1 Ladder", id="ladder"):
                    yield Ladder(id="ladder-view")
                with TabPane("2 Message", id="message"):
                    yield MessageView(id="message-view")
                with TabPane("3 Proposals", id="proposals"):
                    yield ProposalsView(id="proposals-view")
                with TabPane("4 Timing", id="timing"):
                    yield TimingView(id="timing-view")
                with TabPane("5 ESP", id="esp"):
                    yield EspPanel(id="esp-view")
                with TabPane("6 Problems", id="problems"):
                    yield ProblemsView(id="problems-view")
        yield Footer()

    def on_resize(self) -> None:
        """Below 100 columns the tree narrows, the top bar takes one line and the tab labels
        shorten, so the ladder keeps both lanes and all six tabs stay visible at 80x24."""
        narrow = self.size.width < NARROW
        if narrow != self.has_class("narrow"):
            self.set_class(narrow, "narrow")
            self.label_tabs()

    def label_tabs(self) -> None:
        """Tab labels for the width (short ones when narrow), with the problem count."""
        panels = self.query_one(TabbedContent)
        labels = SHORT_LABELS if self.has_class("narrow") else LABELS
        count = entry_count(self.entries()) if self.analysis is not None else None
        for i, tab in enumerate(TABS):
            label = f"{i + 1} {labels[tab]}"
            if tab == "problems" and count is not None:
                label += f" ({count})"
            panels.get_tab(tab).label = label

    def on_mount(self) -> None:
        self.title = "ikeview"
        self.sub_title = self.request.title
        # Paint the empty screen first: the worker competes for the GIL once it runs.
        self.call_after_refresh(self.start_load, self.request)

    def on_unmount(self) -> None:
        gc.unfreeze()  # frozen cycles (widgets) are collected once the screen has gone

    # ------------------------------------------------------------------ loading

    def start_load(self, request: LoadRequest) -> None:
        """(Re-)run the analysis; a running one is cancelled (exclusive worker)."""
        self.request = request
        self.loaded = False
        self._drop_partial()
        self._partial_shown, self._load_started = 0.0, time.monotonic()
        self._panels_for = None
        gc.unfreeze()  # the old analysis may go: its objects return to the collector
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        self.load(request)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, request: LoadRequest) -> None:
        worker = get_current_worker()
        run_load(request, self.post_message, lambda: worker.is_cancelled)

    @on(AnalysisUpdated)
    def analysis_updated(self, event: AnalysisUpdated) -> None:
        if self.loaded or event.run is not self.request:
            return  # a late snapshot of a finished or superseded run
        if event.bytes_total:
            self.query_one("#progress", ProgressBar).update(
                total=event.bytes_total, progress=event.bytes_done
            )
        # Every widget is rebuilt for a snapshot (20 of them at 100k packets, most replaced by
        # the next within 50 ms): draw the first at once, then the newest once a
        # PARTIAL_EVERY; the UI thread then leaves the load worker the CPU (and the GIL).
        if self._partial_shown and self._nearly_done(event):
            # The complete analysis comes within PARTIAL_EVERY at this pace: drawing another
            # partial one would only delay it (a 1M-packet capture loads in about 2 s).
            self._drop_partial()
            return
        self._partial = event
        wait = self._partial_shown + PARTIAL_EVERY - time.monotonic()
        if wait <= 0:
            self._show_partial()
        elif self._partial_timer is None:
            self._partial_timer = self.set_timer(wait, self._show_partial)

    def _nearly_done(self, event: AnalysisUpdated) -> bool:
        """True when, at the pace of the bytes read so far, the load ends within
        PARTIAL_EVERY."""
        if not event.bytes_total or not event.bytes_done:
            return False
        elapsed = time.monotonic() - self._load_started
        left = elapsed * (event.bytes_total - event.bytes_done) / event.bytes_done
        return left < PARTIAL_EVERY

    def _show_partial(self) -> None:
        event, self._partial_timer = self._partial, None
        if event is None or self.loaded or event.run is not self.request:
            return
        self._partial = None
        if self._partial_shown and self._nearly_done(event):
            return  # by now the end is near: as in analysis_updated
        self._partial_shown = time.monotonic()
        self.show_analysis(event.analysis, event.rows)

    def _drop_partial(self) -> None:
        """Forget the partial snapshot waiting to be drawn (the complete one came, or a new
        run started)."""
        self._partial = None
        if self._partial_timer is not None:
            self._partial_timer.stop()
            self._partial_timer = None

    @on(CaptureLoaded)
    def capture_loaded(self, event: CaptureLoaded) -> None:
        if event.run is not self.request:
            return  # the end of a run the keys dialog replaced
        self.loaded = True
        self._drop_partial()
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=1, progress=1)
        bar.display = False
        self.show_analysis(event.analysis, event.rows)
        # The loaded analysis and the widgets built for it live until the next load: moved out
        # of the collector's reach, a full collection (60-75 ms over ~120,000 objects at 100k
        # packets) no longer lands on whatever the user does next, such as a first tab visit.
        gc.freeze()

    @on(KernelDropped)
    def kernel_dropped(self, event: KernelDropped) -> None:
        self.notify(
            f"the kernel dropped {event.dropped} of {event.received} packets (socket buffer "
            "full): the analysis misses them",
            title="packets lost",
            severity="warning",
            timeout=10,
        )

    @on(KeysFailed)
    def keys_failed(self, event: KeysFailed) -> None:
        self.notify(event.text, title="keys not loaded", severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors become notifications (never a crash)."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group in ("export", "packet"):
            title = "export failed" if event.worker.group == "export" else "packet not read"
            self.notify(str(error), title=title, severity="error", timeout=15)
            return
        self.query_one("#progress", ProgressBar).display = False
        self.query_one("#status", Static).update(f"failed: {error}")
        self.notify(str(error), title="cannot analyse", severity="error", timeout=15)

    # ------------------------------------------------------------------ showing

    def show_analysis(self, analysis: Analysis, rows: EspRows) -> None:
        """Push a (partial or complete) analysis into every widget.

        Once a capture file's panels show one partial snapshot of a run, later partial ones
        update only the status line, the tab labels and the SA tree: redrawing the panels (the
        ladder, the problems) costs the UI thread tens of milliseconds each, taken from the
        load worker (same process, one GIL), and the complete analysis redraws them all anyway.
        A panel the user turns to meanwhile (a tree choice) is drawn from the newest snapshot.
        A live capture never completes: each of its snapshots is drawn in full."""
        self.analysis = analysis
        self.rows = rows
        start = capture_start(analysis)
        if start is not None and start != self.clock.capture_t0:
            self.clock = replace(self.clock, capture_t0=start)
        c = analysis.counters
        state = "loaded" if analysis.complete else "loading…"
        found = entry_count(self.entries())
        status = (
            f"{state} {c.frames} frames · IKE {c.ike_messages} ({c.ike_decrypted} dec) · "
            f"ESP {c.esp_packets} ({c.esp_decrypted} dec) · {found} problems"
        )
        if pending_note(self.request, analysis) is not None:
            status += f" · --config checked once loaded (> {loading.CHECK_PARTIAL_UP_TO} IKE SAs)"
        self.query_one("#status", Static).update(status)
        self.label_tabs()
        if self.selected is None and analysis.ike_sas:
            self.selected = NodeRef(analysis.ike_sas[0].spis)
        self.query_one(SaTree).update_from(analysis, self.filter, self.selected)
        live = self.request.capture is None  # never complete: every snapshot drawn in full
        if analysis.complete or live or self._panels_for is not self.request:
            self._panels_for = self.request
            self.refresh_panels()

    def entries(self) -> list[Entry]:
        """The Problems entries of the analysis shown, built once per snapshot (the status
        line, the tab label and the tab all ask)."""
        if self.analysis is None:
            return []
        if self._entries[0] is not self.analysis:
            self._entries = (self.analysis, problem_entries(self.analysis))
        return self._entries[1]

    def current_sa(self) -> IkeSa | None:
        """The IKE SA the tree points at, in the current analysis."""
        if self.analysis is None or self.selected is None:
            return None
        spi_i, spi_r = self.selected.spis
        return self.analysis.ike_sa(spi_i, spi_r) or self.analysis.ike_sa(spi_i)

    def refresh_panels(self) -> None:
        """Redraw the panels that depend on the selected IKE SA."""
        sa = self.current_sa()
        clock = self.clock.for_sa(sa)
        self.query_one(Ladder).update_from(sa, self.filter, clock, self.marks)
        self.query_one(ProposalsView).update_from(sa)
        story = tuple(rekey_story(sa, self.analysis.ike_sas)) if sa and self.analysis else ()
        self.query_one(TimingView).update_from(sa, self.rows, clock, self.marks, story)
        spis = self.esp_spis(sa)
        self.query_one(EspPanel).update_from(spis, self.rows, clock, self.esp_stats(spis))
        self.query_one(ProblemsView).update_from(
            self.analysis, sa.spis if sa else None, self.entries()
        )
        if self.message is not None and sa is not None:
            # Snapshots are new objects: find the same message (by frame) in the new one.
            fresh = next((m for m in sa.messages if m.frame == self.message.frame), None)
            if fresh is not None and (fresh != self.message or clock != self._message_clock):
                self.show_message(fresh)

    def esp_stats(self, spis: tuple[int, ...] | None) -> tuple[EspSpiStats, ...]:
        """Per-SPI, per-direction counters of the SPIs shown (all SPIs: none, too many)."""
        if self.analysis is None or spis is None:
            return ()
        every = [st for sa in self.analysis.ike_sas for c in sa.child_sas for st in c.esp]
        every.extend(self.analysis.unassociated_esp)
        return tuple(st for st in every if st.spi in spis)

    def esp_spis(self, sa: IkeSa | None) -> tuple[int, ...] | None:
        """SPIs for the ESP panel: the chosen child SA's, else the IKE SA's children's, else all."""
        if self.selected is not None and self.selected.child is not None:
            return self.selected.child
        if sa is not None and sa.child_sas:
            return tuple(s for c in sa.child_sas for s in (c.spi_initiator, c.spi_responder))
        return None

    def show_message(self, message: Message | None) -> None:
        """Put ``message`` in the message panel."""
        self.message = message
        sa = self.current_sa()
        self._message_clock = self.clock.for_sa(sa)
        self.query_one(MessageView).update_from(message, sa, self._message_clock)

    @on(SaTree.Chosen)
    def sa_chosen(self, event: SaTree.Chosen) -> None:
        if event.ref == self.selected:
            return
        if self.selected is None or event.ref.spis != self.selected.spis:
            self.show_message(None)
        self.selected = event.ref
        self.refresh_panels()

    @on(Ladder.MessageChosen)
    def message_chosen(self, event: Ladder.MessageChosen) -> None:
        if event.message != self.message:
            self.show_message(event.message)
        if event.opened:
            self.set_focus(None)
            self.query_one(TabbedContent).active = "message"
            self.focus_pane("message")

    @on(ProblemsView.ProblemChosen)
    def problem_chosen(self, event: ProblemsView.ProblemChosen) -> None:
        """Jump to the problem's frame: its IKE SA in the tree, its message in the ladder; an
        ESP frame opens the ESP tab on that packet."""
        frame = event.problem.frame
        found = self.find_frame(event.problem)
        if found is None:
            if frame is not None and self.show_esp_frame(frame):
                return
            self.notify(
                f"frame {frame} is not in this capture's IKE or ESP rows",
                title="problems",
                severity="warning",
            )
            return
        sa, message = found
        if not self.filter.accepts_sa(sa):
            # The tree hides it: clear the filter rather than jump to something not shown.
            self.query_one("#filter", Input).value = ""
            self.filter = Filter()
        self.selected = NodeRef(sa.spis)
        tree = self.query_one(SaTree)
        tree.update_from(self.analysis, self.filter, self.selected)  # type: ignore[arg-type]  # set: an SA was found in it
        tree.show_ref(self.selected)
        self.refresh_panels()
        ladder = self.query_one(Ladder)
        ladder.show_frame(message.frame)
        self.show_message(message)
        self.set_focus(None)
        self.query_one(TabbedContent).active = "ladder"
        ladder.focus()

    def show_esp_frame(self, frame: int) -> bool:
        """Open the ESP tab on the packet of ``frame`` (every SPI shown); False if not an ESP
        packet this analysis recorded."""
        view = self.rows.view(None)
        # Rows are in frame order: a binary search reads ~20 of them, not every one.
        lo, hi = 0, len(view)
        while lo < hi:
            mid = (lo + hi) // 2
            if view.row(mid).frame < frame:
                lo = mid + 1
            else:
                hi = mid
        if lo >= len(view) or view.row(lo).frame != frame:
            return False
        index = lo
        if self.selected is not None and self.selected.child is not None:
            self.selected = NodeRef(self.selected.spis)
        panel = self.query_one(EspPanel)
        panel.update_from(None, self.rows, self.clock)
        self.set_focus(None)
        self.query_one(TabbedContent).active = "esp"
        table = panel.query_one("#esp-table")
        table.action_jump(index)  # type: ignore[attr-defined]  # the ESP panel's table, found by id
        table.focus()
        return True

    def find_frame(self, problem: Problem) -> tuple[IkeSa, Message] | None:
        """The IKE SA and message of a problem's frame: its own SA first, then any."""
        if self.analysis is None or problem.frame is None:
            return None
        own = self.analysis.ike_sa(*problem.ike_sa) if problem.ike_sa else None
        for sa in (own, *self.analysis.ike_sas):
            if sa is None:
                continue
            for m in sa.messages:
                if m.frame == problem.frame:
                    return sa, m
        return None

    # ------------------------------------------------------------------ actions

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        """The tree, the ladder and every tab stay on one SA: when the filter hides the SA
        shown, the first SA it accepts is shown instead (none when it accepts none)."""
        self.filter = Filter(event.value)
        if self.analysis is None:
            return
        sa = self.current_sa()
        if sa is None or not self.filter.accepts_sa(sa):
            shown = [s for s in self.analysis.ike_sas if self.filter.accepts_sa(s)]
            self.selected = NodeRef(shown[0].spis) if shown else None
            self.show_message(None)
        self.query_one(SaTree).update_from(self.analysis, self.filter, self.selected)
        self.refresh_panels()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        self.query_one(SaTree).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        field = self.query_one("#filter", Input)
        if field.has_focus:
            if field.value:
                field.value = ""
            else:
                self.query_one(SaTree).focus()

    def action_show_tab(self, tab: str) -> None:
        """Open ``tab``; when the focus was inside the panels it follows to the new pane.

        The focus is moved before the switch: TabbedContent re-opens the pane holding the focus,
        so a focused payload tree would otherwise pull the old tab back (digits seemed dead)."""
        panels = self.query_one(TabbedContent)
        focused = self.focused
        inside = focused is not None and panels in focused.ancestors
        if inside or focused is None:
            self.set_focus(None)
        panels.active = tab
        if inside or focused is None:
            self.focus_pane(tab)

    def focus_pane(self, tab: str) -> None:
        """Focus the main widget of ``tab`` (after the switch has been laid out)."""
        target = self.query_one(PANE_FOCUS[tab])
        self.call_after_refresh(target.focus)

    def action_cycle_clock(self) -> None:
        """``t``: capture-relative → SA-relative → delta → UTC → local time, everywhere."""
        self.clock = self.clock.cycled()
        self.notify(f"times: {self.clock.title()}", title="clock", timeout=3)
        self.refresh_panels()

    def action_goto(self) -> None:
        """``:`` then a frame number, from any tab: its message in the ladder, or its ESP
        packet in the ESP tab."""
        self.app.push_screen(GotoScreen(), self.goto_frame)

    def goto_frame(self, frame: int | None) -> None:
        if frame is None or self.analysis is None:
            return
        self.post_message(ProblemsView.ProblemChosen(Problem("info", f"frame {frame}", frame)))

    @on(EspTable.RowOpened)
    def esp_row_opened(self, event: EspTable.RowOpened) -> None:
        """Enter on an ESP row: what the rows say about that packet, then its bytes read back
        from the capture file (a worker: the file is walked up to the frame)."""
        stats = self.esp_stats((event.row.spi,))
        lines = esp_detail(event.row, event.previous_seq, self.clock, stats)
        title = f"ESP packet, frame {event.row.frame}"
        if self.request.capture is None:
            why = (
                "not available: a live capture keeps no packet bytes (ikeview live --write "
                "FILE saves them; open that file for the hex)"
            )
            self.show_packet(title, lines, None, why)
            return
        # The run's decryptor only once its load is over: until then the load worker uses it.
        decryptor = self.rows.decryptor if self.loaded else None
        if self.rows.seek is None:
            # Without the load's seek table the frame is found by walking the file: say why.
            why = "a compressed capture cannot seek" if self.loaded else "the load is running"
            self.notify(
                f"reading frame {event.row.frame} from the start of the file ({why}; this can "
                "take seconds on a large capture)",
                title="packet",
            )
        self.read_packet(self.request, event.row.frame, title, lines, decryptor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="packet")
    def read_packet(
        self,
        request: LoadRequest,
        frame: int,
        title: str,
        lines: list[str],
        decryptor: Decryptor | None,
    ) -> None:
        """Read frame ``frame`` again and decrypt it with ``decryptor`` (None: not yet)."""
        from ikeview.framebytes import esp_frame_bytes

        assert request.capture is not None
        # An exclusive worker replaces, but cannot stop, a thread still reading: one at a time
        # may use the decryptor.
        with self._packet_lock:
            got = esp_frame_bytes(
                request.capture, frame, decryptor, request.extra_ports, self.rows.seek
            )
        if got is not None and decryptor is None:
            got = replace(got, note="not decrypted yet (decrypted bytes once the load is over)")
        self.app.call_from_thread(self.show_packet, title, lines, got, None)

    def show_packet(
        self, title: str, lines: list[str], got: EspFrameBytes | None, why: str | None
    ) -> None:
        from .packet import EspPacketScreen

        self.app.push_screen(EspPacketScreen(title, lines, got, why))

    def action_keys(self) -> None:
        self.app.push_screen(KeysScreen(), self.keys_given)

    def keys_given(self, request: KeysRequest | None) -> None:
        """Re-run the analysis with the extra keys (the old run is cancelled)."""
        if request is None:
            return
        old = self.request
        self.notify("re-running the analysis with the new keys", title="keys")
        self.start_load(
            replace(old, keys=(*old.keys, *request.files), typed=old.typed.merge(request.typed))
        )
