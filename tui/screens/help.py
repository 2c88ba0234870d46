"""The help screen: every key binding, grouped by where it works."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..loading import CHECK_PARTIAL_UP_TO

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "everywhere",
        (
            ("?", "this help"),
            ("q", "quit"),
            ("/", "filter: words (dpd, rekey, nat…) or spi: exchange: notify: frame: peer:"),
            ("escape", "clear the filter / leave it / close a dialog"),
            ("1 … 6", "ladder, message, proposals, timing, ESP, problems"),
            ("K", "decryption keys: type a PSK or DH secret, or load a keys file"),
            ("e", "export: timeline or ESP CSV, Wireshark key tables, decrypted pcap"),
            ("t", "clock: capture-relative, SA-relative, delta, UTC, local"),
            ("i", "SA card (as show crypto ikev2 sa detailed / swanctl --list-sas)"),
            ("L", "transcript of the SA as charon logs it; y copies (OSC 52)"),
            (":", "go to a frame (its message in the ladder, or its ESP packet)"),
            ("tab / shift+tab", "next / previous pane"),
            ("h / l", "previous / next pane (in trees: collapse / expand)"),
            ("ctrl+p", "command palette"),
        ),
    ),
    (
        "lists, trees, tables",
        (
            ("j / k, ↓ / ↑", "down / up"),
            ("g / G, home / end", "first / last"),
            ("enter", "ladder: open the message; ESP: packet detail; tree: expand"),
            ("enter (problems)", "go to the problem's message (ESP: its packet)"),
            ("mouse", "click to select, wheel to scroll"),
        ),
    ),
    (
        "marks on messages",
        (
            ("m", "mark / unmark the message (ladder, message tab)"),
            ("' / n", "next marked message (N: previous); shown ★ in ladder and timing"),
            ("", "marks go into the transcript (L) and the timeline CSV (e)"),
        ),
    ),
    (
        "device configs",
        (
            ("--config FILE", "ikeview tui CAPTURE --config swanctl.conf|ipsec.conf|IOS config"),
            ("--config-side", "initiator / responder, when the config's addresses do not say"),
            ("i", "SA card ends with the config checks (proposal, PSK, identities)"),
            ("6", "Problems lists the config findings with their fixes"),
            (
                "",
                f"while loading, checked only up to {CHECK_PARTIAL_UP_TO} IKE SAs (then at "
                "the end)",
            ),
        ),
    ),
    (
        "signs",
        (
            ("◆", "payload decrypted from the SK payload"),
            ("✓ / ✗", "integrity or AUTH verified / failed"),
            ("red / yellow", "error notify, unanswered / retransmission"),
        ),
    ),
)
"""What the help screen lists; the bindings themselves live with their widgets."""


def keys_table() -> Table:
    """The bindings as a Rich table."""
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for group, rows in KEYS:
        table.add_row(f"[b u]{group}[/]", "")
        for key, what in rows:
            table.add_row(key, what)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    """Lists key bindings; any of escape, q or ? closes it."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static("ikeview keys", id="help-title")
            yield Static(keys_table())
