"""The load of a large classic pcap split across processes: ``--jobs`` for the TUI.

One process can read about a million packets a second, and the load shares it with the UI
thread (the GIL), so a large file loads slower than ``report`` reads it. Here, as in
``report --jobs 0`` (``ikeview.parunlocated``), the file is cut into one range per core:
the load worker walks the first range itself, posting snapshots as ``stream_fast`` does, and
each later range is walked by a process of its own, which records its rows into its own
``FileRowStore``. The ranges' ESP counters are then folded into the first range's correlator
and their rows into the first range's store (``FileRowStore.absorb``), in capture order.

Without keys, or with keys that open no IKE (``[[esp]]``, ``ip xfrm state``), a range's ESP
needs nothing before it and the ranges are walked at once from guessed record starts; with keys
that open IKE they are located first and every range reads all IKE, as ``report --jobs`` does.
It applies to a file of at least ``SPLIT_BYTES`` without extra ports. Anything else, and a
split that does not add up to one pass (the ranges do not tile the file, a fragment spans an
edge, an SA's keys pinned differently), takes the one process load (``loading._run_fast``)
from the start: the result never depends on the split, except the timing lanes' bins
(``TimeCounts.absorb``: within a bin of a single pass).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from ikeview.keys.model import KeyRing
from ikeview.parallel import (
    Folded,
    fold_open,
    job_count,
    opens_no_ike,
    pool,
    splittable,
)
from ikeview.parhandoff import handoff_files
from ikeview.parunlocated import fold_unlocated, unlocated_split
from ikeview.pcapranges import Layout
from ikeview.pipeline.analyze import Step
from ikeview.pipeline.dec_esp import EspEntry
from ikeview.pipeline.fastsnap import Cancelled, RangeWatch, last_step, partial_step, range_watch
from ikeview.pipeline.fastswitch import fast_allowed
from ikeview.rangesplit import Split, locate_open
from ikeview.rangewalk import RangeLost, walk_range

from .espindex import EntryOf, FileRowStore

JOBS = 0
"""Processes of a split load: 0, one per core (``--jobs 0``), at most ``MOST_JOBS``."""
MOST_JOBS = 8
"""A load splits into at most this many processes unasked: each holds the capture's IKE and
its own row index (~40-50 MB), and ranges shorter than a second of work gain little."""
SPLIT_BYTES = 64 << 20
"""Smallest file split. Measured with ``bench_tui.py`` (02:05, 2 cores), fully loaded, split
against one process: 92 MB (200,000 packets) 0.40-0.43 s against 0.45-0.46 s; 46 MB
(100,000) 0.28-0.32 s against 0.32-0.33 s, within the noise. A range's process and the fork
server cost ~0.08 s to start, on another core."""


def split_load(
    rows: FileRowStore,
    ring: KeyRing,
    on_step: Callable[[Step], object],
    cancelled: Callable[[], bool],
) -> bool | None:
    """The load of ``rows.path`` by one process per core into ``rows`` (with its decryptor,
    made from ``ring``), each ``Step`` handed to ``on_step`` (the last complete). True when
    done or cancelled; None when the file is not to be split (nothing done); False when the
    split did not add up: the one process load must then take it from the start, with a
    store and decryptor of its own (snapshots posted here are replaced by its own)."""
    name = os.fspath(rows.path)
    jobs = _jobs()
    decryptor = rows.decryptor
    lay = None if rows.extra_ports or decryptor is None else _to_split(name, jobs)
    if lay is None:
        return None
    try:
        mtime = os.stat(name).st_mtime_ns
    except OSError:
        return None

    def watch_for(split: Split) -> RangeWatch:
        first, end, total = split.walked[0].start, split.walked[0].end, lay.size

        def step(frames: int, done: int) -> None:
            # Range 0's walk read as the whole file's progress: the ranges move at one pace.
            guess = first + (done - first) * (total - first) // max(1, end - first)
            assert watch.corr is not None
            on_step(partial_step(watch.corr, frames, min(guess, total - 1), total))

        watch = range_watch(rows, step, cancelled, decryptor)
        return watch

    ex = pool(jobs - 1)
    try:
        folded = _fold(ex, name, lay, jobs, ring, watch_for)
    except Cancelled:
        _stop(ex)
        return True
    except Exception:
        # A worker that died (BrokenExecutor), processes that could not start (ValueError:
        # no fork server, ``prepare`` not called before the app), a file cut while read
        # (RangeLost, struct.error), a range of mostly frames that are not plain ESP
        # (TooManyOthers), or anything else a range raised: the one-process load reads the
        # file as it always did, and says what is wrong with it if anything is.
        _stop(ex)
        return False
    ex.shutdown()
    if folded is None:
        return False

    if not _absorb_rows(rows, folded):
        return False
    on_step(last_step(folded.corr, folded.frames, rows, (lay.size, mtime)))
    return True


def _absorb_rows(rows: FileRowStore, folded: Folded) -> bool:
    """The later ranges' rows added to ``rows``, each SA entry among their regimes resolved
    to this process's decryptor's; False when one does not resolve."""
    decryptor = rows.decryptor

    def resolve(spi: int, entry: EntryOf) -> object:
        # The entry of this process's decryptor (a KeyringDecryptor: only it batches ESP).
        how = decryptor.esp_batch_after(spi, entry.sample)  # type: ignore[union-attr]
        if not isinstance(how, EspEntry) or how.pinned is None:
            return None
        return how if how.candidates.index(how.pinned) == entry.candidate else None

    for r, got in enumerate(folded.later, start=1):
        start = (folded.split.walked[r].start, folded.bases[r])
        if not rows.absorb(got[-1], start, folded.shifts[r], resolve):
            return False
    return True


def _fold(
    ex: Executor,
    name: str,
    lay: Layout,
    jobs: int,
    ring: KeyRing,
    watch_for: Callable[[Split], RangeWatch],
) -> Folded | None:
    """The ranges walked and folded: at once from guessed starts when no key opens IKE (a
    range's ESP then needs nothing before it), else located first (``--jobs``'s two ways)."""
    keyring = ring or None
    if keyring is None or opens_no_ike(keyring):
        split = unlocated_split(name, lay, jobs)
        if split is None:
            return None
        with handoff_files(jobs) as backs:
            watch = watch_for(split)
            return fold_unlocated(ex, split, keyring, worker=load_range, watch=watch, backs=backs)
    split = locate_open(name, lay, jobs, True, ex)
    if split is None:
        return None
    return fold_open(ex, split, keyring, (), worker=load_located, watch=watch_for(split))


def prepare(path: str | os.PathLike[str]) -> None:
    """Start the fork server the ranges' processes come from, when ``path`` is to be split.

    Called before the app runs: Textual then replaces ``sys.stderr`` with an object whose
    file number is not a real one, and multiprocessing hands that number to the server it
    starts (and to its resource tracker), which then fails ("bad value(s) in fds_to_keep").
    The server imports the modules a range needs now, on another core, while the first
    screen is drawn; each range's process is then forked from it, ready."""
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    if _to_split(os.fspath(path), _jobs()) is None:
        return  # not a file the load splits (a pcapng, say): no server for nothing
    # Not "__main__": Python 3.11's server never imports it (it looks for a key its caller
    # does not send), and each range's process runs the main module again anyway: for
    # ``ikeview`` that imports ikeview.cli, preloaded here with this module.
    forkserver.set_forkserver_preload(["ikeview.cli", __name__])
    try:
        forkserver.ensure_running()
    except (OSError, ValueError):
        return  # no server: the load's pool says so, and the load takes one process


def load_range(
    split: Split, r: int, keyring: KeyRing | None, *, back: str | None = None
) -> tuple[Any, ...] | None:
    """Worker: range ``r`` of an unlocated split with its rows recorded: an ``Unlocated``
    (``parunlocated.unlocated_range``; ``back``: its other frames streamed there), then the
    rows; None when it cannot be walked from where its start was guessed."""
    try:
        return load_located(split, r, keyring, (), back=back)
    except RangeLost:
        return None


def load_located(
    split: Split,
    r: int,
    keyring: KeyRing | None,
    ports: tuple[int, ...],
    *,
    back: str | None = None,
) -> tuple[Any, ...]:
    """Worker: range ``r`` with its rows recorded (rows last): its ESP, its frames, its frames
    that are not plain ESP (an open range's), where it ended, whether its dissector was idle
    there, and the rows."""
    rows = FileRowStore(split.name, samples=True)
    watch = range_watch(rows)
    corr, recorder, take = walk_range(
        split, r, (), ports, True, True, keyring, watch=watch, back=back
    )
    part = corr.take_esp(recorder)
    return part, take.walked, take.kept or [], take.end, take.idle, rows.detached()


def _to_split(name: str, jobs: int) -> Layout | None:
    """The layout of ``name`` when its load is split into ``jobs`` ranges: a classic pcap of
    at least ``SPLIT_BYTES``, the batch path allowed (``split_load`` and ``prepare`` ask the
    same: no fork server is started for a file the load will not split)."""
    if not fast_allowed():
        return None
    lay = splittable(name, jobs, SPLIT_BYTES)
    return None if lay is None or lay.ng else lay


def _jobs() -> int:
    return job_count(JOBS) if JOBS else min(job_count(0), MOST_JOBS)


def _stop(ex: Executor) -> None:
    """The pool ended without waiting for its ranges (a cancelled load ends at once)."""
    terminate = getattr(ex, "terminate_workers", None)  # forkpool; Python 3.14's own
    if terminate is not None:
        terminate()
        return
    for proc in list(getattr(ex, "_processes", {}).values()):
        proc.terminate()
    ex.shutdown(wait=False, cancel_futures=True)


__all__ = [
    "JOBS",
    "MOST_JOBS",
    "SPLIT_BYTES",
    "load_located",
    "load_range",
    "prepare",
    "split_load",
]
