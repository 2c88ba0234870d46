"""The load of a large classic pcap split across processes: ``--jobs`` for the TUI.

One process can read about a million packets a second, and the load shares it with the UI
thread (the GIL), so a large file loads slower than ``report`` reads it. Here, as in
``report --jobs 0`` (``ikeview.parunlocated``), the file is cut into one range per core:
the load worker walks the first range itself, posting snapshots as ``stream_fast`` does, and
each later range is walked by a process of its own, which records its rows into its own
``FileRowStore``. The ranges' ESP counters are then folded into the first range's correlator
and their rows into the first range's store (``FileRowStore.absorb``), in capture order.

It applies where the ranges' ESP cannot depend on what came before them: no keys, or keys that
open no IKE (``[[esp]]``, ``ip xfrm state``); no extra ports; a file of at least
``SPLIT_BYTES``. Anything else, and a split that does not add up to one pass (the ranges do
not tile the file, a fragment spans an edge, an SA's key pinned differently), takes the one
process load (``loading._run_fast``) from the start: the result never depends on the split,
except the timing lanes' bins (``TimeCounts.absorb``: within a bin of a single pass).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from typing import Any

from ikeview.keys.model import KeyRing
from ikeview.parallel import (
    RangeLost,
    TooManyOthers,
    _run_range,
    job_count,
    opens_no_ike,
    pool,
    splittable,
)
from ikeview.parunlocated import fold_unlocated, unlocated_split
from ikeview.pipeline.analyze import Step
from ikeview.pipeline.dec_esp import EspEntry
from ikeview.pipeline.fastsnap import Cancelled, last_step, partial_step, range_watch
from ikeview.pipeline.fastswitch import fast_allowed
from ikeview.rangesplit import Split

from .espindex import EntryOf, FileRowStore

JOBS = 0
"""Processes of a split load: 0, one per core (``--jobs 0``)."""
SPLIT_BYTES = 128 << 20
"""Smallest file split: starting a process costs ~0.08 s (a fork server, then the range's
process), which a range of ~140,000 packets (64 MB at 460 bytes each) saves."""


def split_load(
    rows: FileRowStore,
    ring: KeyRing,
    on_step: Callable[[Step], object],
    cancelled: Callable[[], bool],
) -> bool:
    """The load of ``rows.path`` by one process per core into ``rows`` (with its decryptor,
    made from ``ring``), each ``Step`` handed to ``on_step`` (the last complete); True when
    done or cancelled, False when the one process load must take it (from the start, with a
    store of its own: nothing was posted, or snapshots that its own replace)."""
    name = os.fspath(rows.path)
    jobs = job_count(JOBS)
    decryptor = rows.decryptor
    if rows.extra_ports or decryptor is None or not fast_allowed():
        return False
    keyring = ring if _has_keys(ring) else None
    if keyring is not None and not opens_no_ike(keyring):
        return False  # a range's ESP keys come from the IKE before it: one process
    lay = splittable(name, jobs, SPLIT_BYTES)
    if lay is None or lay.ng:
        return False
    split = unlocated_split(name, lay, jobs)
    if split is None:
        return False
    try:
        mtime = os.stat(name).st_mtime_ns
    except OSError:
        return False
    first, end = split.walked[0].start, split.walked[0].end
    total = lay.size

    def step(frames: int, done: int) -> None:
        # Range 0's walk, read as the whole file's progress: every range moves at its pace.
        guess = first + (done - first) * (total - first) // max(1, end - first)
        assert watch.corr is not None
        on_step(partial_step(watch.corr, frames, min(guess, total - 1), total))

    watch = range_watch(rows, step, cancelled, decryptor)
    ex = pool(jobs - 1)
    try:
        folded = fold_unlocated(ex, split, keyring, worker=load_range, watch=watch)
    except Cancelled:
        _stop(ex)
        return True
    except (BrokenExecutor, OSError, ValueError, struct.error, RangeLost, TooManyOthers):
        # ValueError: no fork server could be started (``prepare``, not called before the app).
        _stop(ex)
        return False
    ex.shutdown()
    if folded is None:
        return False

    def resolve(spi: int, entry: EntryOf) -> object:
        how = decryptor.esp_batch(spi)  # type: ignore[attr-defined]  # KeyringDecryptor's
        if not isinstance(how, EspEntry) or how.pinned is None:
            return None
        return how if how.candidates.index(how.pinned) == entry.candidate else None

    for r, got in enumerate(folded.later, start=1):
        if not rows.absorb(got[5], folded.bases[r], split.walked[r].start, resolve):
            return False
    on_step(last_step(folded.corr, folded.frames, rows, (total, mtime)))
    return True


def prepare(path: str | os.PathLike[str]) -> None:
    """Start the fork server the ranges' processes come from, when ``path`` is to be split.

    Called before the app runs: Textual then replaces ``sys.stderr`` with an object whose
    file number is not a real one, and multiprocessing hands that number to the server it
    starts (and to its resource tracker), which then fails ("bad value(s) in fds_to_keep").
    The server imports the modules a range needs now, on another core, while the first
    screen is drawn; each range's process is then forked from it, ready."""
    import multiprocessing
    from multiprocessing import forkserver

    name = os.fspath(path)
    if not fast_allowed() or "forkserver" not in multiprocessing.get_all_start_methods():
        return
    if splittable(name, job_count(JOBS), SPLIT_BYTES) is None:
        return
    # Not "__main__": Python 3.11's server never imports it (it looks for a key its caller
    # does not send), and each range's process runs the main module again anyway: for
    # ``ikeview`` that imports ikeview.cli, preloaded here with this module.
    forkserver.set_forkserver_preload(["ikeview.cli", __name__])
    try:
        forkserver.ensure_running()
    except (OSError, ValueError):
        return  # no server: the load's pool says so, and the load takes one process


def load_range(split: Split, r: int, keyring: KeyRing | None) -> tuple[Any, ...] | None:
    """Worker: range ``r`` of an unlocated split with its rows recorded: an ``Unlocated``
    (``parunlocated.unlocated_range``), then the rows; None when it cannot be walked from where
    its start was guessed."""
    rows = FileRowStore(split.name)
    try:
        corr, recorder, take = _run_range(
            split, r, (), (), True, True, keyring, watch=range_watch(rows)
        )
    except RangeLost:
        return None
    part = corr.take_esp(recorder)
    return part, take.walked, take.kept or [], take.end, take.idle, rows.detached()


def _has_keys(ring: KeyRing) -> bool:
    return bool(ring.psks or ring.dh_secrets or ring.ike_sas or ring.eap_secrets or ring.esp_sas)


def _stop(ex: ProcessPoolExecutor) -> None:
    """The pool ended without waiting for its ranges (a cancelled load ends at once)."""
    terminate = getattr(ex, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    for proc in list(getattr(ex, "_processes", {}).values()):
        proc.terminate()
    ex.shutdown(wait=False, cancel_futures=True)


__all__ = ["SPLIT_BYTES", "load_range", "prepare", "split_load"]
