"""``ikeview live``: analyze and decrypt IKE and ESP on an interface while the tunnel negotiates.

The frames go through exactly the pipeline a capture file goes through (dissect -> correlate ->
decrypt), so what is printed at the end is the same report a file of the same frames gives.
Each IKE message is printed as it arrives; the per-SA report is printed when the run stops
(count or timeout reached, Ctrl-C, or SIGTERM).
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType

from ikeview.dissectors.records import IkeDatagram, RawFrame
from ikeview.errors import ExitCode
from ikeview.keys.model import KeyRing
from ikeview.livecap import LiveOptions, live_frames
from ikeview.summary import format_ike_line, ike_line


class _Stop(Exception):
    """Raised from the SIGTERM handler so every ``finally`` (the pcap writer) runs."""


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def _until_stopped(frames: Iterable[RawFrame]) -> Iterator[RawFrame]:
    """End the frame stream quietly on Ctrl-C or SIGTERM, so the analysis still completes."""
    it = iter(frames)
    try:
        yield from it
    except (KeyboardInterrupt, _Stop):
        close = getattr(it, "close", None)
        if close:
            close()


def run_live(
    interface: str,
    keyring: KeyRing | None,
    *,
    write: Path | None = None,
    extra_ports: Iterable[int] = (),
    count: int = 0,
    timeout: float = 0.0,
    as_json: bool = False,
) -> int:
    """Capture until stopped, printing IKE messages as they come and the report at the end."""
    from ikeview.pipeline.analyze import analyze
    from ikeview.report import render_text, to_json

    options = LiveOptions(interface, tuple(extra_ports), count, timeout)
    first_ts: list[float] = []

    def show(record: object) -> None:
        if type(record) is IkeDatagram:
            line = ike_line(record)
            if not first_ts:
                first_ts.append(line.ts)
            print(format_ike_line(line, first_ts[0]), flush=True)

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:

        def ready() -> None:
            print(f"ikeview: listening on {interface}", file=sys.stderr, flush=True)

        frames = _until_stopped(live_frames(options, write, on_ready=ready))
        analysis = analyze(frames, keyring, extra_ports=options.extra_ports, tap=show)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        json.dump(to_json(analysis), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(analysis))
    if write:
        print(f"ikeview: wrote {write}", file=sys.stderr)
    return ExitCode.OK
