"""``--jobs N``: one capture analysed by N processes, with the same result as one pass.

Only an uncompressed pcap or pcapng regular file is split (``ikeview.pcapranges``); anything
else (gzip, a pipe, a damaged file, a pcapng file with more than one section or with
interfaces declared after its first packet) is read in one process, with a line on stderr.
The file is cut into N byte ranges and read in two rounds, each range by its own process (the
first by this one):

1. *Locate*: each process maps the file, finds the first record of its range and walks the
   record headers, noting the (frame number, offset) of every frame that is not fast-path ESP
   (IKE, keepalives, fragments, anything else: few). The ranges must tile the file exactly, or
   the capture is read in one pass.
2. *Analyse*: each process dissects and correlates every one of those other frames of the whole
   capture, in order (so each holds every IKE SA and key: "IKE first", and the dissector's
   reassembly state is the single pass's), and all frames of its own range; ESP of other
   ranges is never read. The later ranges' ESP counters (per SA, small) come back and are
   folded into the first range's correlator in capture order (``pipeline.correlate.merge``);
   the analysis is then frozen and diagnosed as a single pass would. If the ESP cannot be
   folded exactly (sequence numbers far out of order across a boundary), the capture is read
   again in one pass: the output never depends on ``--jobs``.

On the batch path of a classic pcap nothing is located (``ikeview.parunlocated``; with keys
that open IKE, up to ``parhandoff.HANDOFF_JOBS`` processes, by handoffs). With ``--ports``, more
processes and keys that open IKE, or in the TUI's split load, only ranges 0..N-2 are located
(``rangesplit.locate_open``), that span cut into N shares, one per process; the last range is
walked once, by its own process, which notes its other frames as it goes and hands them back
with its ESP (only the first range's correlator needs them, last). Keys are loaded once, here.

Only file names, byte offsets, per-SA counters and the last range's few other frames cross
between processes, never ESP packets. ``decrypt -o`` has its own split (``pardecrypt``; on the
batch path nothing is located there: ``parhandoff``).
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ikeview import parhandoff
from ikeview.dissectors.records import RawFrame
from ikeview.fastsummary import summarize_fast
from ikeview.ikepreload import preload_ike
from ikeview.pcapranges import Layout, layout
from ikeview.procpool import pool
from ikeview.rangesplit import (
    MAX_OTHER_BYTES,
    OPEN,
    OTHER_SHARE,
    Split,
    locate,
    locate_open,
    split_of,
)
from ikeview.rangewalk import RangeLost, TooManyOthers, decryptor_for, walk_range

if TYPE_CHECKING:
    from ikeview.keys.model import KeyRing
    from ikeview.pipeline.correlate import Correlator
    from ikeview.pipeline.correlate.merge import EspPart, Recorder
    from ikeview.pipeline.fastsnap import RangeWatch
    from ikeview.pipeline.model import Analysis
    from ikeview.rangewalk import RangeFeed
    from ikeview.summary import Summary

MIN_SPLIT_BYTES = 4 << 20
"""Files smaller than this are read in one pass: starting processes would cost more."""


def job_count(jobs: int) -> int:
    """``--jobs`` as a number of processes: 0 means one per core this process may run on."""
    if jobs < 0:
        from ikeview.errors import IkeviewError

        raise IkeviewError("--jobs must be 0 (all cores) or a positive number")
    return jobs or usable_cores()


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity where the system has one (a container
    or ``taskset`` limited to 2 of a host's 64 cores gets 2 processes, not 64), else all."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


NOT_SPLIT = "the file could not be split into ranges (damage, or mostly frames not plain ESP)"


def note(text: str) -> None:
    """Why ``--jobs`` read a capture in one process, on stderr (output stays the same)."""
    print(f"ikeview: {text}", file=sys.stderr)


def splittable(name: str, jobs: int, min_bytes: int | None) -> Layout | None:
    """The file's layout when it is to be split; None to read it in one pass."""
    if jobs <= 1:
        return None
    limit = max(MIN_SPLIT_BYTES if min_bytes is None else min_bytes, 1)
    try:
        if not os.path.isfile(name) or os.path.getsize(name) < limit:
            return None
    except OSError:
        return None
    lay = layout(name)
    if lay is None:
        note(f"--jobs {jobs}: not an uncompressed pcap or pcapng file; read in one process")
    return lay


# ---------------------------------------------------------------------------- report / export


def run_range(
    split: Split,
    r: int,
    key_paths: Sequence[str],
    extra_ports: Sequence[int],
    record: bool,
    fast: bool = False,
    *,
    keyring: KeyRing | None = None,
    tail: Callable[[RangeFeed], Iterable[RawFrame]] | None = None,
) -> tuple[Correlator, Recorder]:
    """Round 2 for range ``r``: its correlator, and the recorder of its first sequence numbers
    per SA when ``record`` (a later range, to be folded into the first). ``fast``: the range's
    ESP through the batch path (``pipeline.fastesp``) where it applies, as ``analyze`` does.
    ``keyring``: the keys, loaded already (else read from ``key_paths``); ``tail``: the other
    frames of an open last range (:data:`OPEN`), asked for once every located one is read."""
    corr, recorder, _ = walk_range(split, r, key_paths, extra_ports, record, fast, keyring, tail)
    return corr, recorder


def esp_range(
    split: Split,
    r: int,
    key_paths: Sequence[str],
    extra_ports: Sequence[int],
    fast: bool,
    keyring: KeyRing | None = None,
) -> EspPart:
    """Worker: the ESP of range ``r`` (counters per SA: small)."""
    corr, recorder = run_range(split, r, key_paths, extra_ports, True, fast, keyring=keyring)
    return corr.take_esp(recorder)


def last_range(
    split: Split, keyring: KeyRing | None, extra_ports: Sequence[int]
) -> tuple[EspPart, int, list[RawFrame]]:
    """Worker: the open last range (:data:`OPEN`) through the batch path: its ESP, how many
    frames it holds, and its frames that are not plain ESP (for the first range's process)."""
    r = len(split.walked) - 1
    corr, recorder, take = walk_range(split, r, (), extra_ports, True, True, keyring)
    return corr.take_esp(recorder), take.walked, take.kept or []


def analyze_parallel(
    path: str | os.PathLike[str],
    key_paths: Sequence[str | os.PathLike[str]] = (),
    *,
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    min_bytes: int | None = None,
    serial: Callable[[], Analysis] | None = None,
    fast: bool = True,
) -> Analysis:
    """The ``Analysis`` of ``analyze(path, keys)``, computed by ``jobs`` processes.

    ``serial`` is the single pass to fall back on (``analyze`` with the same keys by default);
    ``min_bytes`` is for tests, to split even the small lab captures; ``fast=False`` (or
    ``IKEVIEW_NO_FAST``) keeps every range on the record path."""
    from ikeview.pipeline.fastswitch import fast_allowed

    name = os.fspath(path)
    keys = [os.fspath(p) for p in key_paths]
    ports = tuple(extra_ports)

    def one_pass() -> Analysis:
        if serial is not None:
            return serial()
        from ikeview.pipeline.analyze import analyze

        return analyze(name, extra_ports=ports, decryptor=decryptor_for(keys), fast=fast)

    jobs = job_count(jobs)
    lay = splittable(name, jobs, min_bytes)
    if lay is None:
        return one_pass()
    try:
        result = _analyze_split(name, lay, jobs, keys, ports, fast_allowed(fast))
    except (BrokenExecutor, OSError, struct.error, RangeLost, TooManyOthers) as exc:
        # A worker that died (killed, out of memory), processes that could not be started, a
        # file cut short while it was read (a record header past its new end), or a last range
        # of mostly frames that are not plain ESP. (No room for handoffs: parunlocated.)
        note(f"--jobs {jobs}: {type(exc).__name__}; read in one process")
        result = None
    return one_pass() if result is None else result


def _analyze_split(
    name: str, lay: Layout, jobs: int, keys: list[str], ports: tuple[int, ...], fast: bool
) -> Analysis | None:
    from ikeview.diagnosis.engine import diagnose

    batch = fast and not lay.ng
    keyring = load_keyring(keys) if batch else None
    handoff = keyring is not None and not opens_no_ike(keyring)
    unlocated = batch and not ports and (not handoff or jobs <= parhandoff.HANDOFF_JOBS)
    if keyring is not None or not unlocated:
        # Without keys no later unlocated range parses IKE (parunlocated): the IKE side is then
        # imported by this process only, with its first IKE message, while the others run.
        preload_ike(name, keys=bool(keys))
    if unlocated:
        # With keys that open IKE the earlier ranges hand their other frames over as they go
        # (parhandoff); without, or with ESP keys only, a range needs none of them.
        from ikeview.parunlocated import analyze_unlocated

        return analyze_unlocated(name, lay, jobs, keyring, handoff)
    if batch:
        return _analyze_open(name, lay, jobs, keyring, ports)
    with pool(jobs - 1) as ex:
        split = locate(name, lay, jobs, not ports, ex)
        if split is None:
            note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
            return None
        futures = [ex.submit(esp_range, split, r, keys, ports, fast) for r in range(1, jobs)]
        corr, _ = run_range(split, 0, keys, ports, False, fast)
        parts = [f.result() for f in futures]
    if not corr.absorb_esp(parts):
        return None
    return diagnose(corr.snapshot(frames=split.frames, complete=True))


def load_keyring(key_paths: Sequence[str]) -> KeyRing | None:
    """The keys, loaded once (the range processes are handed them)."""
    if not key_paths:
        return None
    from ikeview.keys.loader import load_keys

    return load_keys([Path(p) for p in key_paths])


def opens_no_ike(keyring: KeyRing) -> bool:
    """Whether no key in ``keyring`` can open IKE: ESP SA keys only (``[[esp]]``, Wireshark's
    esp_sa, ``ip xfrm state``). IKE then yields no key and no ESP verdict depends on it, so a
    range's ESP reads the same without the IKE before it, as without keys."""
    return not (keyring.psks or keyring.dh_secrets or keyring.ike_sas or keyring.eap_secrets)


def _analyze_open(
    name: str, lay: Layout, jobs: int, keyring: KeyRing | None, ports: tuple[int, ...]
) -> Analysis | None:
    """A classic pcap on the batch path: ranges 0..N-2 located by all processes, the last
    walked by its own without locating; its other frames come back with its ESP."""
    from ikeview.diagnosis.engine import diagnose

    with pool(jobs - 1) as ex:
        split = locate_open(name, lay, jobs, not ports, ex)
        if split is None:
            note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
            return None
        folded = fold_open(ex, split, keyring, ports)
    if folded is None:
        return None
    return diagnose(folded.corr.snapshot(frames=folded.frames, complete=True))


@dataclass(frozen=True, slots=True)
class Folded:
    """Later ranges folded into the first range's correlator."""

    corr: Correlator
    frames: int
    """Frames in the capture."""
    split: Split
    bases: tuple[int, ...]
    """Frames before each range."""
    shifts: tuple[int, ...]
    """What to add to each range's frame numbers (its own start's, when it was not located)."""
    later: tuple[tuple[Any, ...], ...]
    """What each later range's worker gave back (its ESP first, then what the worker adds)."""


def open_range(
    split: Split, r: int, keyring: KeyRing | None, ports: tuple[int, ...]
) -> tuple[Any, ...]:
    """Worker: range ``r`` of a split located up to its open last range: (its ESP,), or for
    the last (its ESP, its frames, its frames that are not plain ESP)."""
    if r < len(split.walked) - 1:
        return (esp_range(split, r, (), ports, True, keyring),)
    return last_range(split, keyring, ports)


def fold_open(
    ex: Executor,
    split: Split,
    keyring: KeyRing | None,
    ports: tuple[int, ...],
    *,
    worker: Callable[..., tuple[Any, ...]] = open_range,
    watch: RangeWatch | None = None,
) -> Folded | None:
    """Range 0 of a split from ``locate_open`` walked here (``watch``: its recorder and pacer),
    the later ranges by ``worker(split, r, keyring, ports)`` in ``ex``, and their ESP folded
    in (frames numbered from the capture's start); None when it cannot fold exactly."""
    later = [ex.submit(worker, split, r, keyring, ports) for r in range(1, len(split.walked))]
    corr, _, _ = walk_range(
        split, 0, (), ports, False, True, keyring, lambda _: later[-1].result()[2], watch=watch
    )
    got = tuple(f.result() for f in later)
    if not corr.absorb_esp([g[0] for g in got]):
        return None
    frames = split.bases[-1] + got[-1][1]
    return Folded(corr, frames, split, split.bases, (0,) * len(split.bases), got)


# ---------------------------------------------------------------------------- summary


def summarize_parallel(
    path: str | os.PathLike[str],
    *,
    extra_ports: Sequence[int] = (),
    jobs: int = 1,
    min_bytes: int | None = None,
) -> Summary:
    """``summary.summarize(path)``, computed by ``jobs`` processes (``fastsummary``)."""
    name = os.fspath(path)
    jobs = job_count(jobs)
    if splittable(name, jobs, min_bytes) is None:
        return summarize_fast(path, extra_ports=extra_ports)
    preload_ike(name, parser_only=True)  # once before the fork, not in every process
    return summarize_fast(path, extra_ports=extra_ports, jobs=jobs, pool=pool, note=note)


__all__ = [
    "MAX_OTHER_BYTES",
    "MIN_SPLIT_BYTES",
    "NOT_SPLIT",
    "OPEN",
    "OTHER_SHARE",
    "Folded",
    "Split",
    "analyze_parallel",
    "esp_range",
    "fold_open",
    "job_count",
    "last_range",
    "load_keyring",
    "locate",
    "locate_open",
    "note",
    "open_range",
    "pool",
    "run_range",
    "split_of",
    "splittable",
    "summarize_parallel",
    "usable_cores",
]
