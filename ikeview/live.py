"""``ikeview live``: analyze and decrypt IKE and ESP on an interface while the tunnel negotiates.

The frames go through exactly the pipeline a capture file goes through (dissect -> correlate ->
decrypt), so the report printed at the end is the report a file of the same frames gives (the
frames and their microsecond times are the ones ``--write`` saves). Each IKE message is printed
as it arrives (to stderr with ``--json``, so stdout stays one JSON document); the report is
printed when the run stops: count or timeout reached, Ctrl-C, or SIGTERM.

Keys files named in ``key_paths`` are read at the start if they can be, and read again when the
capture stops: a charon log logs the DH secret only while the negotiation runs, so the final
report is then computed again over the frames captured, with the keys known at the end.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Literal, TextIO

from ikeview.dissectors.records import IkeDatagram, RawFrame
from ikeview.errors import ExitCode, IkeviewError
from ikeview.jsonout import write_json
from ikeview.keys.errors import KeysFileError
from ikeview.keys.model import KeyRing
from ikeview.livecap import (
    LiveCaptureLost,
    LiveCounters,
    LiveOptions,
    interface_is_up,
    live_frames,
)
from ikeview.summary import format_ike_line, ike_line
from ikeview.textsafe import printable, printable_lines

if TYPE_CHECKING:
    from ikeview.config.records import DeviceConfig
    from ikeview.pipeline.model import Analysis

KeysMode = Literal["all", "secrets"]
"""The keys loader's mode for logs: everything they show, or only PSKs and DH secrets."""

_KeysState = tuple[tuple[int, int] | None, ...]
"""(size, mtime_ns) of each keys file, None where it is missing: tells whether one changed."""


_Handler = Callable[[int, FrameType | None], object]
"""A Python signal handler (signal.signal also gives and takes SIG_DFL/SIG_IGN ints)."""


@dataclass(slots=True)
class _StopFlag:
    """Set by the first SIGINT/SIGTERM; polled by the capture loop between frames.

    Mutable on purpose: it is the one thing a signal handler may change. A handler that only
    sets it cannot interrupt a pcap record half-written or the analysis half-done.
    """

    signum: int = 0
    """The signal that asked to stop (0: none yet)."""
    previous: dict[int, _Handler | int | None] = field(default_factory=dict)
    """Handlers to put back at the end."""

    def __call__(self) -> bool:
        return self.signum != 0

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum:
            # A second Ctrl-C (or SIGTERM) while a stop is pending: give up waiting.
            raise KeyboardInterrupt
        self.signum = signum

    def install(self) -> None:
        # signal.signal only works in the main thread; elsewhere the caller stops us.
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.previous[sig] = signal.signal(sig, self.handle)

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            # signal.signal() gives None for a handler not set from Python, which it will not
            # take back: the default action then.
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        self.previous.clear()


@dataclass(slots=True)
class _Ended:
    """Why the frame stream ended early, when it was not a stop the user asked for."""

    error: IkeviewError | None = None
    """The capture failure (interface gone), reported after the report."""


def _guarded(frames: Iterable[RawFrame], ended: _Ended) -> Iterator[RawFrame]:
    """End the frame stream quietly on capture loss, so the analysis still completes."""
    try:
        yield from frames
    except LiveCaptureLost as exc:
        ended.error = exc


def _keys_state(paths: Sequence[Path]) -> _KeysState:
    out: list[tuple[int, int] | None] = []
    for p in paths:
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return tuple(out)


def _load(paths: Sequence[Path], base: KeyRing | None, mode: KeysMode) -> KeyRing:
    from ikeview.keys.loader import load_keys

    ring = load_keys(paths, mode)
    return ring if base is None else base.merge(ring)


def run_live(
    interface: str,
    keyring: KeyRing | None = None,
    *,
    key_paths: Sequence[Path] = (),
    keys_mode: KeysMode = "all",
    write: Path | None = None,
    extra_ports: Iterable[int] = (),
    count: int = 0,
    timeout: float = 0.0,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
    configs: Sequence[DeviceConfig] = (),
    config_side: str | None = None,
) -> int:
    """Capture until stopped, printing IKE messages as they come and the report at the end.

    ``keyring``: keys known up front. ``key_paths``: keys files read at the start when
    readable and again at the end (see the module docstring); ``keys_mode`` is the loader's
    mode for them ("secrets": only PSKs and DH secrets, everything else derived).
    ``configs`` (--config): their PSKs are tried first, and the report checks every IKE SA
    against them as ``report --config`` does (``config_side``: --config-side).
    Raises IkeviewError (LivePermissionError: exit code 3) before capturing anything.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    paths = tuple(Path(p) for p in key_paths)
    if configs:
        from ikeview.config.keys import config_keyring

        keyring = config_keyring(configs).merge(*([keyring] if keyring else []))
    state = _keys_state(paths)
    start_keys = _keys_at_start(paths, keyring, keys_mode, err)
    options = LiveOptions(interface, tuple(extra_ports), count, timeout)
    # Keys that change while we capture (a charon log being written) need a second pass over
    # what was captured: read it back from the --write file, or from a temporary spool file, so
    # memory never grows with the packet count.
    spool: Path | None = None
    if paths and write is None:
        fd, name = tempfile.mkstemp(prefix="ikeview-live-", suffix=".pcap")
        os.close(fd)
        spool = Path(name)
    target = write or spool
    counters = LiveCounters()
    ended = _Ended()
    lines = err if as_json else out
    analysis = _capture(options, target, start_keys, counters, ended, lines, err)
    try:
        analysis = _with_new_keys(analysis, paths, state, target, keyring, keys_mode, options, err)
    finally:
        if spool is not None:
            spool.unlink(missing_ok=True)
    # The report names where the frames came from, as it names a file for a file.
    analysis = dataclasses.replace(analysis, capture=f"live:{interface}")
    analysis = checked(analysis, configs, config_side, start_keys)
    _write_report(analysis, counters, as_json, out)
    return _closing_notes(analysis, counters, write, ended, err)


def _capture(
    options: LiveOptions,
    target: Path | None,
    keyring: KeyRing | None,
    counters: LiveCounters,
    ended: _Ended,
    lines: TextIO,
    err: TextIO,
) -> Analysis:
    """Capture until stopped (Ctrl-C, --count, --timeout, a lost interface), printing each IKE
    message on ``lines`` as it comes; the analysis of what was seen."""
    from ikeview.pipeline.analyze import analyze

    first_ts: list[float] = []

    def show(record: object) -> None:
        if type(record) is IkeDatagram:
            line = ike_line(record)
            if not first_ts:
                first_ts.append(line.ts)
            print(printable_lines(format_ike_line(line, first_ts[0])), file=lines, flush=True)

    shown = printable(options.interface)

    def dropping(now: LiveCounters) -> None:
        print(f"ikeview: warning: the kernel has dropped {now.dropped} packets so far "
              "(socket buffer full)", file=err, flush=True)  # fmt: skip

    def ready() -> None:
        if not interface_is_up(options.interface):
            print(f"ikeview: warning: {shown} is down; nothing will be seen", file=err)
        print(f"ikeview: listening on {shown}", file=err, flush=True)

    stop = _StopFlag()
    stop.install()
    try:
        frames: Iterable[RawFrame] = _guarded(
            live_frames(
                options, target, on_ready=ready, stop=stop, counters=counters, on_drops=dropping
            ),
            ended,
        )
        return analyze(frames, keyring, extra_ports=options.extra_ports, tap=show)
    finally:
        stop.restore()


def _keys_at_start(
    paths: tuple[Path, ...], keyring: KeyRing | None, keys_mode: KeysMode, err: TextIO
) -> KeyRing | None:
    """The keys usable when the capture starts; a keys file not readable yet is said once and
    read again at the end."""
    if not paths:
        return keyring
    try:
        return _load(paths, keyring, keys_mode)
    except KeysFileError as exc:
        print(
            f"ikeview: keys not usable yet ({exc.msg}); read again when the capture stops",
            file=err,
            flush=True,
        )
        return keyring


def _write_report(analysis: Analysis, counters: LiveCounters, as_json: bool, out: TextIO) -> None:
    """The final report on ``out``, with the capture's own counters."""
    from ikeview.report import render_text, to_json

    if as_json:
        doc = to_json(analysis)
        doc["live_capture"] = {
            "received_by_filter": counters.received,
            "dropped_by_kernel": counters.dropped,
            "unread_at_stop": counters.unread,
            "socket_buffer_bytes": counters.rcvbuf,
        }
        write_json(doc, out)
    else:
        out.write(printable_lines(render_text(analysis)))
        out.write(f"live capture: {counters.text()}\n")
    out.flush()


def _closing_notes(
    analysis: Analysis, counters: LiveCounters, write: Path | None, ended: _Ended, err: TextIO
) -> int:
    """What was written and what was lost, on stderr; the exit code."""
    if write:
        shown_write = printable(str(write))
        print(f"ikeview: wrote {analysis.counters.frames} frames to {shown_write}", file=err)
    # As tcpdump does, and louder when something was lost: the report then misses those frames.
    print(f"ikeview: {counters.text()}", file=err)
    if counters.dropped:
        print(
            f"ikeview: warning: the kernel dropped {counters.dropped} of {counters.received} "
            "packets (socket buffer full): the report and any --write file miss them",
            file=err,
        )
    if counters.unread:
        print(
            f"ikeview: warning: {counters.unread} packets the kernel had queued were not read "
            "before the capture stopped: the report and any --write file miss them",
            file=err,
        )
    if ended.error is not None:
        print(f"ikeview: {printable(ended.error.msg)}", file=err)
        return ended.error.exit_code
    return ExitCode.OK


def checked(
    analysis: Analysis,
    configs: Sequence[DeviceConfig],
    side: str | None,
    keyring: KeyRing | None,
) -> Analysis:
    """The analysis with its config checks filled and folded into each SA's diagnosis."""
    if not configs:
        return analysis
    from ikeview.config.check import apply_configs

    return apply_configs(analysis, configs, side=side, keyring=keyring)


def _with_new_keys(
    analysis: Analysis,
    paths: Sequence[Path],
    state: _KeysState,
    captured: Path | None,
    keyring: KeyRing | None,
    keys_mode: KeysMode,
    options: LiveOptions,
    err: TextIO,
) -> Analysis:
    """The analysis again over the captured file when the keys files changed meanwhile."""
    from ikeview.pipeline.analyze import analyze

    if not paths or captured is None or _keys_state(paths) == state:
        return analysis
    try:
        final_keys = _load(paths, keyring, keys_mode)
    except KeysFileError as exc:
        print(f"ikeview: keys: {exc.msg}; report without them", file=err)
        return analysis
    print(
        f"ikeview: keys read again; report over the {analysis.counters.frames} frames captured",
        file=err,
    )
    return analyze(captured, final_keys, extra_ports=options.extra_ports)


__all__ = ["run_live"]
