"""ESP counters of one range of a capture, taken out of a correlator and folded into another.

``ikeview --jobs N`` (``ikeview.parallel``) gives every process all of the IKE traffic and one
range of the ESP packets. Each correlator then holds the same IKE SAs and problems, and ESP
counters for its own range only; :func:`take_part` lifts those out (picklable) and
:func:`absorb` folds the parts, in capture order, into the correlator of the first range, so that
its snapshot equals the one a single pass would take.

Everything adds up except the anti-replay window, which is a state machine: a range's first
:data:`PREFIX` sequence numbers per counter are kept, replayed on top of the previous ranges'
window, and the range's own later decisions are taken over only if the replay ends in the very
state the range's own counter was in at that point (the window then decides everything after
it alike). When it does not (traffic far out of order across the boundary), :func:`absorb`
says so and the caller runs the capture in one pass instead.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ikeview.pipeline.capture_model import MAX_INNER_FLOWS, Problem
from ikeview.pipeline.correlate.context import Context
from ikeview.pipeline.correlate.esp import ESP_REPLAY_WINDOW, EspCounter, ReplayWindow
from ikeview.pipeline.inner import InnerFlowCounter

PREFIX = 2 * ESP_REPLAY_WINDOW
"""Sequence numbers kept per counter at the start of a range (a window's worth, twice over)."""

ESP_PROBLEM = "esp-integrity-failure"
"""The code of the only problem the ESP path raises (the first failed ICV of a counter)."""

Key = tuple[int, str]

Prefix = tuple[list[int], list[int]]
"""A counter's first sequence numbers and their frames, as two lists: they cross between
processes, and two lists of numbers pickle and load in a fraction of the time of as many
pairs (20,480 pairs of the mix's later range: 1.8 and 2.8-7.8 ms)."""


@dataclass(slots=True)
class Recorder:
    """Kept beside a range's correlator while it runs: the first sequence numbers per counter,
    and the counter's window once :data:`PREFIX` of them went by."""

    prefix: dict[Key, Prefix] = field(default_factory=dict)
    at_prefix: dict[Key, ReplayWindow] = field(default_factory=dict)

    def before(self, key: Key, seq: int, frame: int) -> bool:
        """Note one packet about to be counted; True when it is the last of the prefix."""
        seen = self.prefix.get(key)
        if seen is None:
            seen = self.prefix[key] = ([], [])
        seqs, frames = seen
        if len(seqs) >= PREFIX:
            return False
        seqs.append(seq)
        frames.append(frame)
        return len(seqs) == PREFIX

    def after_last(self, key: Key, counter: EspCounter) -> None:
        """The prefix just ended: keep the window, and clear its first-gap/first-replay frames so
        that they name the first ones after the prefix from now on."""
        self.at_prefix[key] = copy.copy(counter.window)
        counter.window.gap_frame = None
        counter.window.replay_frame = None


@dataclass(slots=True)
class EspPart:
    """What one range adds to the ESP side of the analysis."""

    counters: dict[Key, EspCounter]
    prefix: dict[Key, Prefix]
    at_prefix: dict[Key, ReplayWindow]
    packets: int
    decrypted: int
    integrity_failed: int
    problems: list[tuple[int, Problem]]
    """ESP problems with the number of other problems raised before each."""


def take_part(ctx: Context, recorder: Recorder) -> EspPart:
    """Lift a range's ESP counters out of its correlator's context."""
    problems: list[tuple[int, Problem]] = []
    others = 0
    for p in ctx.problems:
        if p.code == ESP_PROBLEM:
            problems.append((others, p))
        else:
            others += 1
    c = ctx.counts
    return EspPart(
        dict(ctx.esp),
        recorder.prefix,
        recorder.at_prefix,
        c.esp_packets,
        c.esp_decrypted,
        c.esp_integrity_failed,
        problems,
    )


def _merge_window(t: ReplayWindow, part: EspPart, key: Key, final: ReplayWindow) -> bool:
    if final.unique and key not in part.prefix:
        # Counted without passing the recorder: ESP found inside decrypted ESP. Its numbers
        # were not kept, so the two halves cannot be lined up.
        return False
    # In one step where the range's first numbers follow on from the window (see_run): replayed
    # one by one they were the fold's main cost, ~1 ms a counter.
    seqs, frames = part.prefix.get(key, ([], []))
    t.see_run(seqs, frames)
    fk = part.at_prefix.get(key)
    if fk is None:  # the whole range was replayed
        return True
    if (t.max_seq, t.bits) != (fk.max_seq, fk.bits):
        return False
    t.replays += final.replays - fk.replays
    t.out_of_order += final.out_of_order - fk.out_of_order
    t.unique += final.unique - fk.unique
    t.min_seq = min(t.min_seq, final.min_seq)
    t.max_seq, t.bits = final.max_seq, final.bits
    if t.gap_frame is None:
        t.gap_frame = final.gap_frame
    if t.replay_frame is None:
        t.replay_frame = final.replay_frame
    return True


WIDE_INNER = 64 * MAX_INNER_FLOWS
"""Inner flows a later range keeps per SPI: far more than a report shows, so that the flows a
single pass would have kept are almost always among them (see :func:`_merge_inner`)."""


def _merge_inner(a: InnerFlowCounter | None, b: InnerFlowCounter | None) -> InnerFlowCounter | None:
    """Flows of ``b`` (a later range, kept up to :data:`WIDE_INNER`) added to ``a`` as if its
    packets had come after, under ``a``'s limit. Exact unless ``b`` overflowed while ``a``
    already held flows: the overflow may then hide packets of ``a``'s flows (raises)."""
    if b is None:
        return a
    if a is None:
        a = InnerFlowCounter()
    if b.other and a._flows:
        raise _Unmergeable
    flows = a._flows  # the counter's own storage, merged in place
    for key, (summary, packets, size) in b._flows.items():
        found = flows.get(key)
        if found is not None:
            found[1] += packets
            found[2] += size
        elif len(flows) < a.limit:
            flows[key] = [summary, packets, size]
        else:
            a.other += packets
    a.other += b.other
    a._by_header.clear()
    return a


class _Unmergeable(Exception):
    pass


def _merge_counter(m: EspCounter, w: EspCounter, part: EspPart, key: Key) -> bool:
    if not _merge_window(m.window, part, key, w.window):
        return False
    m.packets += w.packets
    m.bytes += w.bytes
    m.last_ts, m.last_seq, m.last_frame = w.last_ts, w.last_seq, w.last_frame
    m.decrypted += w.decrypted
    m.integrity_failed += w.integrity_failed
    if m.integrity_failed_frame is None:
        m.integrity_failed_frame = w.integrity_failed_frame
    if m.problem is None:
        m.problem = w.problem
    m.inner = _merge_inner(m.inner, w.inner)
    return True


def absorb(ctx: Context, parts: list[EspPart]) -> bool:
    """Fold later ranges' parts into ``ctx`` (the first range's), in order; False when the
    windows do not line up (``ctx`` is then half-merged: throw it away)."""
    first_fail = {k: c.integrity_failed_frame for k, c in ctx.esp.items()}
    keep = take_part(ctx, Recorder()).problems
    try:
        for part in parts:
            for key, w in part.counters.items():
                m = ctx.esp.get(key)
                if m is None:
                    w.inner = _merge_inner(None, w.inner)  # back to the report's limit
                    ctx.esp[key] = w
                    first_fail[key] = w.integrity_failed_frame
                    continue
                if not _merge_counter(m, w, part, key):
                    return False
                if first_fail.get(key) is None:
                    first_fail[key] = w.integrity_failed_frame
            ctx.counts.esp_packets += part.packets
            ctx.counts.esp_decrypted += part.decrypted
            ctx.counts.esp_integrity_failed += part.integrity_failed
            # A range reports the first failure it saw per counter; only the capture's first
            # per counter is a problem.
            keep += [(n, p) for n, p in part.problems if p.frame in first_fail.values()]
    except _Unmergeable:
        return False
    _place_problems(ctx, keep)
    return True


def _place_problems(ctx: Context, esp: list[tuple[int, Problem]]) -> None:
    others = [p for p in ctx.problems if p.code != ESP_PROBLEM]
    merged: list[Problem] = []
    ordered = sorted(esp, key=lambda item: item[0])  # stable: ranges stay in capture order
    i = 0
    for n, other in enumerate([*others, None]):
        while i < len(ordered) and ordered[i][0] == n:
            merged.append(ordered[i][1])
            i += 1
        if other is not None:
            merged.append(other)
    ctx.problems[:] = merged


__all__ = ["PREFIX", "WIDE_INNER", "EspPart", "Prefix", "Recorder", "absorb", "take_part"]
