"""Unlocated ranges of ``--jobs``: each walked at once from where its first record is guessed.

Without keys, or with keys that open no IKE (``parallel.opens_no_ike``), and without
``--ports``, nothing a range counts or decrypts of its ESP depends on the frames before it but
their number and the dissector's reassembly state. Each range is then walked from where its
first record is guessed to start (``pcapranges.resync``), frames numbered from its own start.
The first range's process checks that each range ended where the next began and left its
dissector idle (else: one pass), renumbers the later ranges' ESP and their other frames, reads
those last (streamed to it by each later range as it meets them: ``parback``) and folds the ESP
in, as with located ranges, moving the frame numbers in their integrity failures' lines too
(when every SA the keys name has one candidate key: see ``one_candidate_each``; else a failure
sends the capture to one pass).

Without keys a later range does not even parse its IKE (``Dissector(ike=False)``): it only
hands its IKE frames back, and the IKE side is imported by the first range's process alone,
with its first IKE message, rather than by every process's parent before the fork. On 1M
packets of the mix (2026-12-05) the later range then started 0.04 s sooner and parsed ~1,500
IKE frames fewer, and ``report --jobs 2`` took 0.685 s against 0.70-0.71 s.

With keys that open IKE (a PSK, DH secrets) the ranges are walked the same way, each later one
fed the earlier ranges' other frames as they hand them over (``parhandoff``; its frames then
numbered from ``parhandoff.base(r)``, moved on the same way). There an integrity failure in a
later range sends the capture to one pass (a child SA's keys may have several candidates), and
so does any SPI given keys twice.

``fold_unlocated`` is that fold, shared by ``report --jobs`` (:func:`analyze_unlocated`) and
the TUI's split load (``tui.parload``, whose ranges also record their rows).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ikeview import parhandoff
from ikeview.dissectors.records import RawFrame
from ikeview.parallel import NOT_SPLIT, Folded, note, pool
from ikeview.parback import back_frames
from ikeview.parhandoff import Diverged, HandoffLost, Handoffs, base, handoff_files
from ikeview.parsched import chunk_cuts
from ikeview.pcapranges import Layout, Walked, cuts, open_map, resync
from ikeview.rangesplit import OPEN, Split
from ikeview.rangewalk import RangeFeed, RangeLost, walk_range

if TYPE_CHECKING:
    from ikeview.keys.model import KeyRing
    from ikeview.pipeline.capture_model import Problem
    from ikeview.pipeline.correlate.merge import EspPart
    from ikeview.pipeline.fastsnap import RangeWatch
    from ikeview.pipeline.model import Analysis

NO_KEYS_FIRST_LESS = 0.015
"""Without keys range 0 is this fraction of the whole file, and :data:`NO_KEYS_FIRST_BYTES`,
shorter than an equal share (at most half a share: :func:`no_keys_short`): its process parses
every IKE frame of the capture, the later ranges' too, and imports the IKE side to do so, where
theirs parse none. The parsing grows with the capture (this fraction), the import does not (the
octets). Since the later ranges stream those frames back as they meet them (``parback``), range
0's process reads most of them while the others are still walking, provided it is done with its
own range first. Measured on the mix (2026-12-05, medians of interleaved runs): at 1M packets
``report --jobs 2`` 0.709 s with 2% of the file (range 0 at 48%), 0.694 s with 3.5%, 0.700 s
with 4.5% (eleven runs each; ``export --esp`` 0.697 s before streaming at 2%, 0.678 s after at
3.5%). On a slower day (22:30) range 0's process at 3.5% was done with its own range only about
when the worker ended, and the fold came 18-51 ms after the worker; at 4.5% 5-10 ms after
(``report --json`` 0.882 -> 0.854 s, fifteen runs). At 10M packets, though, that process waited
for the worker's frames for 0.88 s at 4.5%, 0.25 s at 2.5% and not at all at 1% (``report``
7.55, 7.40, 7.15 s): what it does besides its range is not a fixed share of the file. 1.5% and
14 MiB make 4.7% of the file at 1M and 1.8% at 10M. With ``[[esp]]`` keys every range parses
its IKE, and equal ranges measured best (docs/speed.md)."""
NO_KEYS_FIRST_BYTES = 14 << 20
"""What range 0 gives up besides :data:`NO_KEYS_FIRST_LESS`: about what its process walks in the
time it takes to import the IKE side (~0.04 s)."""


def no_keys_short(jobs: int, body: int) -> float:
    """How much shorter range 0 is without keys, as a fraction of an equal share
    (``pcapranges.cuts``) of a file of ``body`` octets of records: :data:`NO_KEYS_FIRST_LESS`
    of it and :data:`NO_KEYS_FIRST_BYTES`, at most half a share."""
    if body <= 0:
        return 0.0
    return min((NO_KEYS_FIRST_LESS + NO_KEYS_FIRST_BYTES / body) * jobs, 0.5)


Unlocated = tuple["EspPart", int, list[RawFrame], int, bool]
"""What an unlocated range gives back: its ESP (frames numbered from its own start), its frame
count, its frames that are not plain ESP, the offset where it ended, whether its dissector
held nothing there. A worker may add more after these five (the TUI's rows)."""


def unlocated_split(
    name: str,
    lay: Layout,
    jobs: int,
    chunked: bool = False,
    short: float = 0.0,
    handoff: bool = False,
) -> Split | None:
    """The file cut into ``jobs`` ranges at the record starts guessed near equal shares
    (``pcapranges.resync``), none located: each range's walk must end where the next begins,
    which the caller checks (:func:`fold_unlocated`, ``pardecrypt``); None when no start
    could be guessed for some range. ``chunked``: more ranges than processes, the later ones
    handed out as processes come free (``parsched.chunk_cuts``); else ``short``: range 0 that
    fraction of a share shorter (``pcapranges.cuts``). ``handoff``: each range numbers its
    frames from ``parhandoff.base(r)`` (its ``bases``), so that frame numbers stay in capture
    order in a process that reads earlier ranges' frames beside its own."""
    bounds = chunk_cuts(lay, jobs) if chunked else cuts(lay, jobs, short)
    count = len(bounds) - 1
    with open_map(name) as mm:
        guessed = [resync(mm, lay, b) for b in bounds[1:count]]
    starts = [lay.first, *(g for g in guessed if g is not None)]
    if len(starts) != count or any(a > b for a, b in itertools.pairwise(starts)):
        return None
    ends = [*starts[1:], lay.size]
    walked = tuple(Walked(a, b, OPEN) for a, b in zip(starts, ends, strict=True))
    bases = tuple(base(r) for r in range(count)) if handoff else (0,) * count
    return Split(name, lay, walked, (b"",) * count, bases)


def unlocated_range(
    split: Split, r: int, keyring: KeyRing | None = None, *, back: str | None = None
) -> Unlocated | None:
    """Worker: range ``r`` of an unlocated split; None when it cannot be walked from where its
    start was guessed (then it is no record start, or the file is damaged there: the first
    range's process tells which). ``back``: its other frames streamed to that file rather
    than given back (``parback``)."""
    # Without keys its IKE is not parsed here: the first range's process reads this range's
    # IKE frames anyway (they are handed back), and nothing counted of the ESP depends on them
    # (no key opens IKE, so no ESP is tied to a child SA; without keys no ESP problem is
    # raised, whose place among the other problems their count would give).
    try:
        corr, recorder, take = walk_range(
            split, r, (), (), True, True, keyring, ike=keyring is not None, back=back
        )
    except RangeLost:
        return None
    return corr.take_esp(recorder), take.walked, take.kept or [], take.end, take.idle


Handed = tuple["EspPart", int, list[RawFrame], int, bool, bool]
"""What a later range with handoffs gives back: :data:`Unlocated`, then whether its decryptor
was given keys for an SPI that had some."""


def handoff_range(
    split: Split,
    r: int,
    keyring: KeyRing,
    paths: Sequence[str],
    grace: float,
    *,
    back: str | None = None,
) -> Handed | None:
    """Worker: range ``r`` of an unlocated split whose keys open IKE, the earlier ranges'
    other frames taken as they hand them over (``parhandoff``): what :func:`unlocated_range`
    gives, then whether the range's decryptor was given keys for an SPI that had some."""
    try:
        corr, recorder, take = walk_range(
            split, r, (), (), True, True, keyring, handoffs=(paths, grace), back=back
        )
    except (RangeLost, Diverged):
        return None
    part = corr.take_esp(recorder)
    return part, take.walked, take.kept or [], take.end, take.idle, take.redefined


Worker = Callable[..., "tuple[Any, ...] | None"]


def fold_unlocated(
    ex: Executor,
    split: Split,
    keyring: KeyRing | None = None,
    *,
    worker: Worker = unlocated_range,
    watch: RangeWatch | None = None,
    handoffs: Handoffs | None = None,
    backs: Sequence[str],
    idle: Callable[[], None] | None = None,
) -> Folded | None:
    """Range 0 walked here (``watch``: its recorder and pacer), the later ranges by ``worker``
    in ``ex`` (with ``handoffs``: :func:`handoff_range`'s), and their ESP folded in; None when
    the ranges do not add up to one pass (say why on stderr where it is the split's fault).
    ``backs``: a file per later range, to which its worker (called with ``back=``) streams its
    other frames (``parback``), read here as they come once range 0 is walked; ``idle``: called
    once, the first time this process has to wait for them."""
    jobs = len(split.walked)
    ends = [w.end for w in split.walked]
    extra = () if handoffs is None else handoffs

    futures = [
        ex.submit(worker, split, r, keyring, *extra, back=backs[r - 1]) for r in range(1, jobs)
    ]
    later = _Later(split, futures, backs, idle)
    got, bases, shift, tail = later.got, later.bases, later.shift, later.tail
    try:
        corr, _, first = walk_range(
            split, 0, (), (), False, True, keyring, tail, watch=watch, handoffs=handoffs
        )
    except Diverged:  # more other frames than are worth handing over
        note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
        return None
    edges = [(first.end, first.idle), *((g[3], g[4]) for g in got)]
    if len(edges) < jobs or any(end != ends[r] for r, (end, _) in enumerate(edges)):
        # A range that did not end where the next was guessed to start (the guess was wrong)
        # or could not be walked (damage): as when located ranges do not tile the file.
        note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
        return None
    if not all(idle for _, idle in edges[:-1]):
        return None  # a fragment or stream held across an edge: the ranges' counts may differ
    if handoffs is not None and (first.redefined or any(g[5] for g in got)):
        return None  # keys given twice to an SPI: a range may have read it early (parhandoff)
    parts = [g[0] for g in got]
    movable = handoffs is None and (keyring is None or one_candidate_each(keyring))
    if not all(renumber(p, shift(r), movable) for r, p in enumerate(parts, 1)):
        return None
    if not corr.absorb_esp(parts):
        return None
    shifts = tuple(shift(r) for r in range(jobs))
    return Folded(corr, bases[-1] + got[-1][1], split, tuple(bases), shifts, tuple(got))


class _Later:
    """The later ranges of :func:`fold_unlocated`, as range 0's walk takes them: their results
    (``got``, those that have one), the frames before each range (``bases``, known as the
    ranges before it are done) and their other frames, moved to the capture's numbers."""

    def __init__(
        self,
        split: Split,
        futures: list[Future[Any]],
        backs: Sequence[str],
        idle: Callable[[], None] | None = None,
    ) -> None:
        self._split, self._futures, self._backs, self._idle = split, futures, backs, idle
        self.got: list[tuple[Any, ...]] = []
        self.bases = [0]

    def shift(self, r: int) -> int:
        """Range r's frame numbers to the capture's: its true base less what it counted from."""
        return self.bases[r] - self._split.bases[r]

    def _idle_once(self) -> None:
        """The caller's idle work, the first time any later range's frames are waited for."""
        idle, self._idle = self._idle, None
        if idle is not None:
            idle()

    def tail(self, first: RangeFeed) -> Iterator[RawFrame]:
        """Range 0 is walked (``first``): the later ranges' other frames, in order, each read
        as its worker writes it (``parback``); a range's result is waited for once its frames
        are read (its frame count gives the next range's base). None after a range that
        cannot be walked (the fold's edges then say so)."""
        self.bases.append(first.walked)
        last = len(self._futures)
        for r, f in enumerate(self._futures, 1):
            move = self.shift(r)
            for raw in back_frames(self._backs[r - 1], f, self._idle_once):
                yield raw._replace(index=raw.index + move)
            g = f.result()
            if g is None:
                return
            self.got.append(g)
            if r < last:
                self.bases.append(self.bases[-1] + g[1])


def analyze_unlocated(
    name: str, lay: Layout, jobs: int, keyring: KeyRing | None = None, handoff: bool = False
) -> Analysis | None:
    """``report --jobs`` on unlocated ranges (see the module's docstring); ``handoff``: keys
    that open IKE, the earlier ranges' other frames handed over as they go (``parhandoff``)."""
    from ikeview.diagnosis.engine import diagnose

    short = no_keys_short(jobs, lay.size - lay.first) if keyring is None else 0.0
    split = unlocated_split(name, lay, jobs, short=short, handoff=handoff)
    if split is None:
        note(f"--jobs {jobs}: {NOT_SPLIT}; read in one process")
        return None
    try:
        with (
            pool(jobs - 1) as ex,
            handoff_files(jobs if handoff else 0) as paths,
            handoff_files(jobs) as backs,
        ):
            worker = handoff_range if handoff else unlocated_range
            handoffs = (paths, parhandoff.GRACE) if handoff else None
            folded = fold_unlocated(
                ex, split, keyring, worker=worker, handoffs=handoffs, backs=backs, idle=_judging
            )
    except HandoffLost as exc:  # no room for them: not an OSError, the output's own kind
        note(f"--jobs {jobs}: {type(exc).__name__}; read in one process")
        return None
    if folded is None:
        return None
    return diagnose(folded.corr.snapshot(frames=folded.frames, complete=True))


def _judging() -> None:
    """What ``diagnose`` imports only when it has an IKE SA to judge (the rules: ~7 ms on
    1M packets of the mix), imported while this process waits for a later range's frames,
    rather than after every range has ended, with a core idle (2026-12-05)."""
    import ikeview.diagnosis.evidence
    import ikeview.diagnosis.judge  # noqa: F401


def renumber(part: EspPart, base: int, failures: bool = True) -> bool:
    """Frame numbers of a range's ESP counted from its own start, moved ``base`` frames on,
    in its integrity failures' lines too; False when it has a failure and ``failures`` is
    False (see ``one_candidate_each``), or a line that is not the one
    ``integrity_failure_text`` makes (the number in it cannot be moved)."""
    if part.problems and not failures:
        return False
    problems = []
    for others, p in part.problems:
        moved = _moved(p, base)
        if moved is None:
            return False
        problems.append((others, moved))
    part.problems = problems
    for c in part.counters.values():
        c.first_frame += base
        c.last_frame += base
        if c.integrity_failed_frame is not None:
            c.integrity_failed_frame += base
    for w in [*(c.window for c in part.counters.values()), *part.at_prefix.values()]:
        if w.gap_frame is not None:
            w.gap_frame += base
        if w.replay_frame is not None:
            w.replay_frame += base
    for key, (seqs, frames) in part.prefix.items():
        part.prefix[key] = (seqs, [frame + base for frame in frames])
    return True


def one_candidate_each(keyring: KeyRing) -> bool:
    """Whether each SPI the keys name has one record and that record one candidate key (its
    algorithms given). A later range then meets an SA's keys as one
    pass does: with a single candidate, trying it on the SA's first packet gives what the
    pinned candidate gives, a corrupt packet included (several candidates tried on a corrupt
    first packet say "none verifies", where one pass, pinned, says the ICV failed). ESP keys
    alone never carry ESN, whose state a later range would start without."""
    from ikeview.pipeline.dec_esp import build_candidates

    # By SPI alone: records of one SPI whose addresses overlap (one with a wildcard) become
    # one SA with two candidates.
    seen: set[int] = set()
    for k in keyring.esp_sas:
        if k.spi in seen or len(build_candidates(k, "", esn=False)[0]) != 1:
            return False
        seen.add(k.spi)
    return True


def _moved(p: Problem, base: int) -> Problem | None:
    from ikeview.pipeline.correlate.espbulk import integrity_failure_text

    if p.frame is None or not p.text.startswith("ESP SPI 0x"):
        return None
    try:
        spi = int(p.text[10:18], 16)
    except ValueError:
        return None
    if p.text != integrity_failure_text(spi, p.frame):
        return None
    frame = p.frame + base
    return replace(p, frame=frame, text=integrity_failure_text(spi, frame))


__all__ = [
    "Unlocated",
    "analyze_unlocated",
    "fold_unlocated",
    "handoff_range",
    "no_keys_short",
    "one_candidate_each",
    "renumber",
    "unlocated_range",
    "unlocated_split",
]
