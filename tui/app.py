"""The ikeview Textual app: a thin shell that pushes the main screen (see screens/)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .loading import LoadRequest
from .screens.main import MainScreen

if TYPE_CHECKING:
    from ikeview.config.records import DeviceConfig


class IkeviewApp(App[int]):
    """Shows one capture (or a live interface) analysed by the core."""

    CSS_PATH = "app.tcss"
    TITLE = "ikeview"
    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, request: LoadRequest) -> None:
        super().__init__()
        self.request = request

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.request))
        if self.request.interface is not None:
            self.notify(f"live capture: {self.request.interface}", title="live")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's "Keys" (the key-binding panel) is renamed so that it cannot be taken for
        the dialog that takes decryption keys, which gets its own entry."""
        from .screens.main import MainScreen

        for command in super().get_system_commands(screen):
            if command.title == "Keys":
                command = command._replace(title="Key bindings")
            yield command
        if isinstance(screen, MainScreen):
            yield SystemCommand(
                "Decryption keys (K)",
                "Give a PSK, a DH secret or a keys file and decrypt again",
                screen.action_keys,
            )

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def make_app(
    capture: Path | None,
    interface: str | None = None,
    keys: Sequence[Path] = (),
    extra_ports: tuple[int, ...] = (),
    *,
    every: int | None = None,
    configs: Sequence[DeviceConfig] = (),
    config_side: str | None = None,
) -> IkeviewApp:
    """Build the app for the CLI, tests and snapshots alike."""
    request = LoadRequest(
        capture=Path(capture) if capture is not None else None,
        interface=interface,
        keys=tuple(Path(k) for k in keys),
        extra_ports=tuple(extra_ports),
        every=every,
        configs=tuple(configs),
        config_side=config_side,
    )
    if request.capture is not None and every is None and not request.extra_ports:
        from .parload import prepare

        prepare(request.capture)  # before Textual takes sys.stderr
    return IkeviewApp(request)


def run_app(
    capture: Path | None,
    interface: str | None,
    keys: list[Path],
    extra_ports: tuple[int, ...],
    *,
    configs: Sequence[DeviceConfig] = (),
    config_side: str | None = None,
) -> int:
    """Run the TUI until the user quits; returns the exit code."""
    app = make_app(
        capture, interface, keys or (), extra_ports, configs=configs, config_side=config_side
    )
    app.run()
    return app.return_code or 0
