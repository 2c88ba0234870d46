"""One call from a capture (and optional keys) to an ``Analysis``: dissect -> correlate -> decrypt.

``analyze()`` is what ``ikeview report`` / ``export`` / ``keys`` call; ``iter_analysis()`` is the
same pass yielding snapshots as it goes, for the TUI to fill in while a large capture loads.
Both read the capture exactly once and keep memory bounded by the number of IKE messages and SAs,
not packets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ikeview.diagnosis.engine import diagnose
from ikeview.dissectors.capture import CaptureReader, SeekTable
from ikeview.dissectors.records import RawFrame
from ikeview.dissectors.stream import Dissector, DissectStats
from ikeview.pipeline.capture_model import Analysis
from ikeview.pipeline.correlate import Correlator, NullDecryptor
from ikeview.pipeline.fastesp import analyze_fast
from ikeview.pipeline.fastswitch import fast_allowed
from ikeview.pipeline.seam import Decryptor, EspObserver

if TYPE_CHECKING:
    # Annotations only: a run without keys never loads the keys model.
    from ikeview.keys.model import KeyRing

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total) while the capture is read."""

PROGRESS_EVERY = 2000
"""Frames between progress callbacks (a callback per frame would cost more than dissecting)."""
SNAPSHOT_EVERY = 5000
"""Records between snapshots of ``iter_analysis`` by default."""


@dataclass(frozen=True, slots=True)
class Step:
    """One snapshot of ``iter_analysis``."""

    bytes_done: int
    """Bytes of the capture file read so far (compressed bytes for a gzip file)."""
    bytes_total: int
    """Size of the capture file; 0 when the source is not a file."""
    analysis: Analysis
    """Everything known so far; ``analysis.complete`` is True only in the last step."""
    seek: SeekTable | None = None
    """In the last step of a plain capture file: where to start reading again to find one
    frame fast (``ikeview.framebytes``); None before, and for gzip files and other sources."""


def make_decryptor(keyring: KeyRing | None) -> Decryptor:
    """The keyring's decryptor, or one that decrypts nothing when there are no keys."""
    if not keyring:
        return NullDecryptor()
    from ikeview.pipeline.decrypt import KeyringDecryptor

    return KeyringDecryptor(keyring)


class _Source:
    """Frames from a file or an iterable; knows how far into the file reading has got."""

    def __init__(self, source: str | os.PathLike[str] | Iterable[RawFrame | None]) -> None:
        self.reader: CaptureReader | None = None
        self.total = 0
        if isinstance(source, str | os.PathLike):
            self.reader = CaptureReader(source)
            self.total = os.path.getsize(source)
            self.frames: Iterable[RawFrame | None] = self.reader
        else:
            self.frames = source

    def position(self) -> int:
        """Bytes of the file consumed so far (for gzip: compressed bytes); 0 when the source is
        not a file."""
        return 0 if self.reader is None else min(self.reader.position(), self.total)


class _UntilIdle:
    """Frames of an iterable, one run at a time: each iteration stops at the next idle tick."""

    def __init__(self, frames: Iterable[RawFrame | None]) -> None:
        self._it = iter(frames)
        self.idle = False
        """True when the last run stopped at an idle tick (more frames may follow)."""

    def __iter__(self) -> Iterator[RawFrame]:
        self.idle = False
        for frame in self._it:
            if frame is None:
                self.idle = True
                return
            yield frame


def _records(src: _Source, dissector: Dissector, ticks: bool = False) -> Iterator[object]:
    """Records in capture order; with ``ticks``, ``None`` where an iterable source ticked idle."""
    if src.reader is not None or not ticks:
        # Without ticks the frames hold no None (analyze() takes RawFrames only).
        yield from dissector.run(cast(Iterable[RawFrame], src.frames))
    else:
        # The dissector cannot yield while it waits for a frame, so an idle tick ends its run and
        # is passed on; the next run resumes with the same reassembly state.
        runs = _UntilIdle(src.frames)
        yield from dissector.run(runs)
        while runs.idle:
            yield None
            yield from dissector.run(runs)
    if src.reader is not None:
        stats = src.reader.stats
        tail = dissector.finish(stats, stats.frames, dissector.last_ts)
        if tail is not None:
            yield tail
    else:
        dissector.finish(None, 0, 0.0)


def iter_analysis(
    source: str | os.PathLike[str] | Iterable[RawFrame | None],
    keyring: KeyRing | None = None,
    *,
    extra_ports: Iterable[int] = (),
    every: int = SNAPSHOT_EVERY,
    decryptor: Decryptor | None = None,
    min_interval: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    on_esp: EspObserver | None = None,
) -> Iterator[Step]:
    """Analyze while reading, yielding a ``Step`` every ``every`` records and a final complete one.

    ``min_interval`` (seconds, optional) also yields a ``Step`` after a record once that long has
    passed since the previous one: a live source then costs a snapshot per interval, not per
    packet. An iterable source may hold ``None`` items, idle ticks ("no frame for a while"): a
    tick yields a ``Step`` when records arrived since the last one, so the last records before
    a quiet period show up without waiting for the next packet.
    ``every=0`` turns the record count off. ``clock`` is for tests.
    ``decryptor`` overrides the one built from ``keyring`` (tests, or the TUI reusing one).
    ``on_esp`` (optional) sees every ESP packet with what the decryptor made of it (the TUI's
    per-packet rows), keys or not.
    A file that is no capture raises ``CaptureError`` before the first step.
    """
    src = _Source(source)
    stats = DissectStats()
    dissector = Dissector(extra_ports=extra_ports, stats=stats)
    corr = Correlator(decryptor or make_decryptor(keyring), capture=_name(source), on_esp=on_esp)
    n = 0
    pending = False
    last = clock()
    for rec in _records(src, dissector, ticks=True):
        if rec is not None:
            n += 1
            corr.feed(rec)
            pending = True
            due = bool(every) and n % every == 0
            if not due and min_interval is not None:
                due = clock() - last >= min_interval
        else:
            due = pending
        if due:
            snapshot = corr.snapshot(frames=stats.frames, complete=False)
            yield Step(src.position(), src.total, diagnose(snapshot))
            pending = False
            if min_interval is not None:
                last = clock()
    final = diagnose(corr.snapshot(frames=stats.frames, complete=True))
    yield Step(src.total, src.total, final, src.reader.seek_table if src.reader else None)


def analyze(
    source: str | os.PathLike[str] | Iterable[RawFrame],
    keyring: KeyRing | None = None,
    *,
    extra_ports: Iterable[int] = (),
    progress: Progress | None = None,
    decryptor: Decryptor | None = None,
    tap: Callable[[object], None] | None = None,
    fast: bool = True,
) -> Analysis:
    """Read the capture once and return the whole analysis.

    ``progress`` (optional) is called with (bytes done, bytes total) now and then, and once at
    the end with done == total. ``tap`` (optional) sees every dissected record before it is
    correlated: ``ikeview live`` prints IKE messages through it as they arrive.
    ``fast=False`` (or the environment variable ``IKEVIEW_NO_FAST``) keeps to the per-record
    path; otherwise a capture file read without ``decryptor`` or ``tap``
    takes the batch path of ``pipeline.fastesp`` (same result).
    """
    if (
        decryptor is None
        and tap is None
        and isinstance(source, str | os.PathLike)
        and fast_allowed(fast)
    ):
        result = analyze_fast(source, keyring, extra_ports=extra_ports, progress=progress)
        if result is not None:
            return result
    src = _Source(source)
    stats = DissectStats()
    dissector = Dissector(extra_ports=extra_ports, stats=stats)
    corr = Correlator(decryptor or make_decryptor(keyring), capture=_name(source))
    feed: Callable[[object], None] = corr.feed
    if tap is not None:
        correlate = feed
        seen = tap

        def tapped(rec: object) -> None:
            seen(rec)
            correlate(rec)

        feed = tapped

    if progress is None:
        for rec in _records(src, dissector):
            feed(rec)
    else:
        progress(0, src.total)
        for n, rec in enumerate(_records(src, dissector), 1):
            feed(rec)
            if n % PROGRESS_EVERY == 0:
                progress(src.position(), src.total)
        progress(src.total, src.total)
    return diagnose(corr.snapshot(frames=stats.frames, complete=True))


def _name(source: object) -> str:
    return os.fspath(source) if isinstance(source, str | os.PathLike) else "<frames>"


__all__ = ["Progress", "Step", "analyze", "iter_analysis", "make_decryptor"]
