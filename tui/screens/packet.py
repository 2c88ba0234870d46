"""The ESP packet detail: what the rows say about the packet, then its bytes read back from the
capture (``ikeview.framebytes``), the frame as captured and the decrypted inner packet in hex."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ikeview.framebytes import EspFrameBytes

from ..safe import clean
from ..widgets.hexview import HexView, hex_lines
from ..wire import Section

ESP_HEADER = 8
"""RFC 4303 section 2: SPI (4) and Sequence Number (4)."""


def packet_sections(got: EspFrameBytes) -> tuple[Section, ...]:
    """The frame as captured, then the decrypted inner packet when there is one."""
    where = (
        f"outer headers 0x0000-0x{got.esp_offset - 1:04x}, ESP from 0x{got.esp_offset:04x}"
        if got.esp_offset  # None (not found) or 0 (no outer header: cannot happen for ESP)
        else "ESP not found alone in this frame"
    )
    out = [Section(f"frame {got.frame} as captured ({where})", got.data)]
    if got.inner is not None:
        out.append(Section("decrypted inner packet", got.inner))
    return tuple(out)


def bytes_lines(got: EspFrameBytes | None, unavailable: str | None) -> list[str]:
    """The lines under the detail that say what the hex below is (or why there is none)."""
    if got is None:
        return ["", f"hex: {unavailable or 'the frame is no longer in the capture file'}"]
    lines = ["", f"bytes read back from the capture: {got.note}"]
    if got.esp_offset:
        end = got.esp_offset + got.esp_length
        lines.append(
            f"  0x0000-0x{got.esp_offset - 1:04x} outer headers (link, IP, UDP when encapsulated)"
        )
        lines.append(
            f"  0x{got.esp_offset:04x} ESP header (SPI, sequence; marked), then IV, ciphertext, "
            f"padding, pad length, next header, ICV up to 0x{end - 1:04x}"
        )
    return lines


class EspPacketScreen(ModalScreen[None]):
    """The detail lines above a hex view; escape closes, ``y`` copies lines and hex."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("escape,q", "dismiss", "Close"),
        Binding("y", "copy", "Copy"),
    ]

    def __init__(
        self, title: str, lines: list[str], got: EspFrameBytes | None, unavailable: str | None
    ) -> None:
        super().__init__()
        self.heading = title
        self.got = got
        self.lines = [clean(line) for line in (*lines, *bytes_lines(got, unavailable))]
        self.sections = packet_sections(got) if got is not None else ()

    def compose(self) -> ComposeResult:
        with Vertical(id="packet-box", classes="dialog"):
            yield Static(Text(self.heading, style="bold"), classes="dialog-title")
            with VerticalScroll(id="packet-text"):
                yield Static(Text("\n".join(self.lines)))
            yield HexView(id="packet-hex")
            yield Static(Text("y copy · escape close", style="dim"))

    def on_mount(self) -> None:
        hexview = self.query_one(HexView)
        hexview.show(self.sections)
        if self.got is not None and self.got.esp_offset is not None:
            hexview.highlight(0, self.got.esp_offset, ESP_HEADER)
        hexview.focus()

    def action_copy(self) -> None:
        """Lines and hex dump through OSC 52, ready for a ticket."""
        text = list(self.lines)
        for section in self.sections:
            text += ["", *hex_lines(section)]
        self.app.copy_to_clipboard("\n".join(text) + "\n")
        self.notify(f"{len(text)} lines copied", title="copied")
