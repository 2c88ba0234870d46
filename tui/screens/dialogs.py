"""Modal dialogs: keys (typed secrets or a keys file) and the CSV export path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from ikeview.keys.model import DhSecret, KeyRing, Psk, SourceRef

TYPED = SourceRef("<typed in the TUI>", 0)
"""Where typed secrets say they came from (the source shows in the core's messages)."""


@dataclass(frozen=True, slots=True)
class KeysRequest:
    """What the keys dialog returns."""

    typed: KeyRing
    """PSK / DH shared secret typed in."""
    files: tuple[Path, ...]
    """Keys files to load."""


def typed_ring(psk: str, dh_hex: str) -> KeyRing:
    """A ring from typed secrets; raises ValueError for a DH secret that is not hex."""
    records: list[Psk | DhSecret] = []
    if psk:
        records.append(Psk(psk.encode(), "typed PSK", None, None, TYPED))
    dh = "".join(dh_hex.split()).removeprefix("0x")
    if dh:
        try:
            secret = bytes.fromhex(dh)
        except ValueError:
            raise ValueError("the DH shared secret g^ir must be hex digits") from None
        records.append(DhSecret(secret, None, None, False, None, TYPED))
    return KeyRing.of(records)


class KeysScreen(ModalScreen[KeysRequest | None]):
    """Type a PSK or a DH shared secret (masked), or name a keys file; Apply re-runs."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-box", classes="dialog"):
            yield Label("Keys: re-run the analysis with these", classes="dialog-title")
            yield Label("pre-shared key")
            yield Input(password=True, placeholder="PSK as text", id="psk")
            yield Label("DH shared secret g^ir (hex)")
            yield Input(password=True, placeholder="hex", id="dh")
            yield Label("keys file(s), comma separated (TOML, Wireshark, tcpdump, charon log…)")
            yield Input(placeholder="path/to/keys.toml", id="keyfile")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#cancel")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted)
    def apply(self) -> None:
        psk = self.query_one("#psk", Input).value
        dh = self.query_one("#dh", Input).value
        files = tuple(
            Path(p.strip()).expanduser()
            for p in self.query_one("#keyfile", Input).value.split(",")
            if p.strip()
        )
        try:
            ring = typed_ring(psk, dh)
        except ValueError as exc:
            self.notify(str(exc), title="keys", severity="error")
            return
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            self.notify(f"no such file: {', '.join(missing)}", title="keys", severity="error")
            return
        if not ring and not files:
            self.notify("type a secret or name a keys file", title="keys", severity="warning")
            return
        self.dismiss(KeysRequest(ring, files))


EXPORT_KINDS = {
    "timeline": ("the exchange timeline (CSV, the SAs the filter shows)", "-timeline.csv"),
    "esp": ("the timeline with one row per ESP SPI (CSV)", "-esp.csv"),
    "wireshark": ("Wireshark key tables (a directory for WIRESHARK_CONFIG_DIR)", "-wireshark"),
    "pcap": ("a decrypted capture (ESP replaced by its inner packets)", "-decrypted.pcap"),
}
"""What ``e`` can write: kind -> (what it is, suffix of the default name)."""


@dataclass(frozen=True, slots=True)
class ExportChoice:
    """What to export and where."""

    kind: str
    """A key of ``EXPORT_KINDS``."""
    path: Path
    """File or directory to write."""


class ExportScreen(ModalScreen[ExportChoice | None]):
    """Ask what to export and where (the path follows the kind until it is edited)."""

    AUTO_FOCUS = "#export-path"
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]  # noqa: RUF012

    def __init__(self, default: Path) -> None:
        super().__init__()
        self.default = default
        """The timeline's default path; the other kinds swap its suffix."""

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box", classes="dialog"):
            yield Label("Export", classes="dialog-title")
            yield Select(
                [(text, kind) for kind, (text, _) in EXPORT_KINDS.items()],
                value="timeline",
                allow_blank=False,
                id="export-kind",
            )
            yield Input(value=str(self.default), id="export-path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel", id="cancel")

    def path_for(self, kind: str) -> Path:
        stem = self.default.name.removesuffix(EXPORT_KINDS["timeline"][1])
        return self.default.with_name(stem + EXPORT_KINDS[kind][1])

    @on(Select.Changed, "#export-kind")
    def kind_changed(self, event: Select.Changed) -> None:
        self.query_one("#export-path", Input).value = str(self.path_for(str(event.value)))

    @on(Button.Pressed, "#cancel")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#export")
    @on(Input.Submitted)
    def export(self) -> None:
        value = self.query_one("#export-path", Input).value.strip()
        if not value:
            self.notify("give a file name", title="export", severity="warning")
            return
        kind = str(self.query_one("#export-kind", Select).value)
        self.dismiss(ExportChoice(kind, Path(value).expanduser()))


class GotoScreen(ModalScreen[int | None]):
    """``:`` then a frame number: where to jump."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-box", classes="dialog"):
            yield Label("Go to frame", classes="dialog-title")
            yield Input(placeholder="frame number", type="integer", id="goto-frame")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def go(self) -> None:
        value = self.query_one("#goto-frame", Input).value.strip()
        self.dismiss(int(value) if value.isdigit() else None)
