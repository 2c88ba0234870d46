"""What the load worker does, apart from Textual: keys, source, streaming analysis, posting.

Kept free of widgets so tests and the bench can run it directly; the screen's thread worker
calls ``run_load`` with its ``post_message`` and a cancellation check.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from textual.message import Message

from ikeview.keys.errors import KeysFileError
from ikeview.keys.loader import load_keys
from ikeview.keys.model import KeyRing
from ikeview.pipeline.analyze import Step, iter_analysis, make_decryptor
from ikeview.pipeline.fastsnap import stream_fast

from .espindex import FileRowStore
from .esprows import EspRows, EspRowStore
from .messages import AnalysisUpdated, CaptureLoaded, KernelDropped, KeysFailed
from .parload import split_load

if TYPE_CHECKING:
    from ikeview.config.records import DeviceConfig
    from ikeview.pipeline.model import Analysis

T = TypeVar("T")

SNAPSHOT_EVERY = 5000
"""Records between partial snapshots while a capture file loads."""
LIVE_SNAPSHOT_INTERVAL = 0.25
"""Seconds between snapshots of a live capture: a negotiation shows as it happens, and a busy
ESP link costs four snapshots a second rather than one per packet. The records after the last
snapshot show up when the link goes quiet (the reader's idle tick, ``IDLE_POLL``)."""
IDLE_POLL = 0.2
"""Seconds without a frame after which a live source counts as idle (livecap polls as often)."""
CHECK_PARTIAL_UP_TO = 200
"""IKE SAs up to which a partial snapshot is checked against --config too (about 0.2 ms per IKE
SA per snapshot); above it only the complete analysis is, so a big capture loads as fast."""


@dataclass(frozen=True, slots=True)
class LoadRequest:
    """Everything one analysis run needs."""

    capture: Path | None
    """Capture file, or None for a live interface."""
    interface: str | None = None
    """Network interface for a live capture."""
    keys: tuple[Path, ...] = ()
    """Key files given on the command line or in the keys dialog."""
    typed: KeyRing = field(default_factory=KeyRing)
    """Secrets typed in the keys dialog (PSKs, DH secrets)."""
    extra_ports: tuple[int, ...] = ()
    """UDP/TCP ports to treat as IKE besides 500/4500."""
    every: int | None = None
    """Records between snapshots; None picks a default for the source."""
    configs: tuple[DeviceConfig, ...] = ()
    """Device configs (--config) every IKE SA is checked against; their PSKs join the keys."""
    config_side: str | None = None
    """--config-side: which side of the IKE SAs the configs belong to, when addresses do not say."""

    @property
    def title(self) -> str:
        """What the header shows."""
        if self.capture is not None:
            return f"{self.capture.parent.name}/{self.capture.name}"
        return f"live: {self.interface}"


def live_source(
    interface: str,
    extra_ports: tuple[int, ...],
    on_drops: Callable[[int, int], object] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Iterable[object]:
    """Frames from a network interface (ikeview.livecap); raises IkeviewError when it cannot.
    ``on_drops(received, dropped)`` is called whenever the kernel's drop count grew; the capture
    ends (its socket closed) within 0.2 s of ``stop()`` turning true, even on an idle link."""
    from ikeview.livecap import LiveCounters, LiveOptions, live_frames

    def dropped(c: LiveCounters) -> None:
        if on_drops is not None:
            on_drops(c.received, c.dropped)

    return live_frames(LiveOptions(interface, extra_ports), stop=stop, on_drops=dropped)


@dataclass(frozen=True, slots=True)
class _Failed:
    """An exception raised by the source, carried across the queue."""

    error: BaseException


_DONE = object()


def cancellable(
    source: Iterable[T],
    cancelled: Callable[[], bool],
    *,
    idle_ticks: bool = False,
    stopped: threading.Event | None = None,
) -> Iterator[T | None]:
    """Items of ``source`` read in a daemon thread, stopping as soon as ``cancelled()``.

    A live capture blocks waiting for the next frame; reading it in its own daemon thread lets
    the worker notice cancellation (quit, keys re-run) on an idle link, and lets the process exit.
    With ``idle_ticks``, a ``None`` comes out after each ``IDLE_POLL`` seconds without an item:
    ``iter_analysis`` then shows the records it holds back until the next interval.

    ``stopped`` is set when the consumer is done, however it ends; the reading thread then stops
    at its next item, closing the source. A source that can block forever (a live capture)
    should poll the same event, so that its thread and socket end too: a re-run with new keys
    would otherwise leave the old capture reading into a queue nobody empties.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=10_000)
    done = stopped if stopped is not None else threading.Event()

    def hand_over(item: object) -> bool:
        while not done.is_set():
            try:
                q.put(item, timeout=IDLE_POLL)
                return True
            except queue.Full:
                continue
        return False

    def pump() -> None:
        it = iter(source)
        try:
            for item in it:
                if not hand_over(item):
                    break
        except BaseException as exc:
            hand_over(_Failed(exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # a generator's ``finally`` (the capture socket) runs now
            hand_over(_DONE)

    threading.Thread(target=pump, name="ikeview-live-source", daemon=True).start()
    try:
        while not cancelled():
            try:
                item = q.get(timeout=IDLE_POLL)
            except queue.Empty:
                if idle_ticks:
                    yield None
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]  # the queue holds T, _DONE or _Failed: both ruled out above
    finally:
        done.set()


def keyring_for(request: LoadRequest, post: Callable[[Message], object]) -> KeyRing:
    """Key files merged with typed secrets; a bad file is reported and left out."""
    ring = KeyRing()
    if request.keys:
        try:
            ring = load_keys(request.keys)
        except KeysFileError as exc:
            post(KeysFailed(str(exc)))
    ring = ring.merge(request.typed)
    if request.configs:
        from ikeview.config.keys import config_keyring

        # The configs' keys first, as in ``report --config``: the key that verifies names the line.
        ring = config_keyring(request.configs).merge(ring)
    return ring


def config_pending(request: LoadRequest, analysis: Analysis) -> bool:
    """True when --config was given but this partial snapshot was not checked against it (more
    than ``CHECK_PARTIAL_UP_TO`` IKE SAs): the views then say the checks come with the end."""
    return (
        bool(request.configs)
        and not analysis.complete
        and len(analysis.ike_sas) > CHECK_PARTIAL_UP_TO
    )


def checked(analysis: Analysis, request: LoadRequest, ring: KeyRing) -> Analysis:
    """The snapshot with its config checks filled and folded into each SA's diagnosis."""
    if not request.configs or config_pending(request, analysis):
        return analysis
    from ikeview.config.check import apply_configs

    return apply_configs(analysis, request.configs, side=request.config_side, keyring=ring)


def run_load(
    request: LoadRequest,
    post: Callable[[Message], object],
    cancelled: Callable[[], bool] = lambda: False,
) -> EspRows:
    """Analyse the request's source, posting AnalysisUpdated snapshots then CaptureLoaded.

    A classic pcap file takes the batch path (``pipeline.fastsnap``, as ``report`` reads it),
    its ESP rows kept as checkpoints (``espindex``); anything else, or a file that path gives
    up on, the general path with a row per packet (``EspRowStore``)."""
    ring = keyring_for(request, post)
    if request.capture is not None and request.every is None:
        fast = _run_fast(request, ring, post, cancelled)
        if fast is not None:
            return fast
    rows = EspRowStore()
    interval: float | None = None
    if request.capture is not None:
        source: object = request.capture
        every = request.every or SNAPSHOT_EVERY
    elif request.interface is not None:
        stopped = threading.Event()
        frames = live_source(
            request.interface,
            request.extra_ports,
            lambda received, dropped: post(KernelDropped(received, dropped)),
            stop=stopped.is_set,
        )
        source = cancellable(frames, cancelled, idle_ticks=True, stopped=stopped)
        every = request.every or 0
        interval = LIVE_SNAPSHOT_INTERVAL
    else:
        raise ValueError("a capture file or an interface is needed")
    rows.decryptor = make_decryptor(ring)
    steps = iter_analysis(
        source,  # type: ignore[arg-type]  # frames or None ticks: iter_analysis takes a None as 'show what you hold'
        decryptor=rows.decryptor,
        extra_ports=request.extra_ports,
        every=every,
        min_interval=interval,
        on_esp=rows.watch,
    )
    for step in steps:
        if cancelled():
            break
        _post_step(step, rows, request, ring, post)
    return rows


def _post_step(
    step: Step,
    rows: EspRows,
    request: LoadRequest,
    ring: KeyRing,
    post: Callable[[Message], object],
) -> None:
    analysis = checked(step.analysis, request, ring)
    if analysis.complete:
        rows.seek = step.seek
        post(CaptureLoaded(analysis, rows, request))
    else:
        post(AnalysisUpdated(analysis, rows, step.bytes_done, step.bytes_total, request))


def _run_fast(
    request: LoadRequest,
    ring: KeyRing,
    post: Callable[[Message], object],
    cancelled: Callable[[], bool],
) -> FileRowStore | None:
    """The load on the batch path; None when the general path must take it (then from the
    start: snapshots posted here are replaced by its own, with its own rows)."""
    capture = request.capture
    assert capture is not None

    def store() -> FileRowStore:
        made = FileRowStore(capture, request.extra_ports)
        made.decryptor = make_decryptor(ring)
        return made

    def post_to(rows: FileRowStore) -> Callable[[Step], None]:
        return lambda step: _post_step(step, rows, request, ring, post)

    rows = store()
    split = split_load(rows, ring, post_to(rows), cancelled)
    if split:
        return rows
    if split is False:
        rows = store()  # the split's store holds some rows, its decryptor some pinned keys
    assert rows.decryptor is not None  # store() made it
    done = stream_fast(
        capture,
        rows.decryptor,
        rows,
        post_to(rows),
        extra_ports=request.extra_ports,
        cancelled=cancelled,
    )
    return rows if done else None
