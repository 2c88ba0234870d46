"""ESP rows of a classic pcap file in memory bounded by SAs: checkpoints, rows read on demand.

``EspRowStore`` keeps a row per ESP packet (about 60 bytes each: 600 MB at 10M packets). When
the load takes the batch path over a mapped pcap (``pipeline.fastsnap``), this index is its
recorder instead. It keeps:
- per SPI: its packet count, its time counts (``esptimes``), the decryptor's answer for its
  batches each time it changed (``regimes``: opening a packet again gives what the load got),
  and its count and last sequence number at each checkpoint where it had packets since the
  one before;
- a checkpoint (file offset of a record, frames before it, rows before it) after every
  ``CHECKPOINT_ROWS`` rows or so, and at every 8 MB the walk reports;
- the rows of the few packets the load took on its general path (another link type, IPv6
  extension headers, fragments, an SPI with ESN or shared by SAs), whole, as ``EspRowStore``
  keeps them.
A view's row ``n`` is found from the last checkpoint with at most ``n`` rows of its SPIs before
it: the file is read from there (``pipeline.esprowfile``, at most about ``CHECKPOINT_ROWS``
packets), the kept rows merged in by frame, and a window of rows around ``n`` made and cached.
"""

from __future__ import annotations

import os
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ikeview.pipeline.dec_esp import EspEntry
from ikeview.pipeline.esprowfile import FileRow, open_row, read_rows
from ikeview.pipeline.inner import summarize
from ikeview.pipeline.seam import EspOpened

from .esprows import STATUS_CLEAR, STATUS_DECRYPTED, STATUS_INTEGRITY_FAILED, EspRow
from .esptimes import TimeCounts

if TYPE_CHECKING:
    from ikeview.framebytes import SeekTable
    from ikeview.pipeline.fastwalk import Buffer, Lane, RecordHeader
    from ikeview.pipeline.seam import Decryptor

    from .esprows import _EspPacket

CHECKPOINT_ROWS = 1024
"""Rows between checkpoints (at least: they are taken where a batch ends)."""
BEFORE, AFTER = 64, 192
"""Rows made before and after the one asked for, when it is not in a view's window."""
_PCAP_HEADER = 24
_NOTHING = object()


class SpiIndex:
    """What the index keeps of one SPI."""

    __slots__ = (
        "count",
        "cp_count",
        "cp_index",
        "cp_seq",
        "kept",
        "last_how",
        "last_seq",
        "regime_frames",
        "regimes",
        "times",
    )

    def __init__(self) -> None:
        self.count = 0
        """Packets recorded."""
        self.kept = 0
        """Of which kept as rows (the general path's); the others were read by the batch path."""
        self.last_seq = 0
        self.times = TimeCounts()
        self.regimes: list[object] = []
        """What the decryptor gave the SPI's batches, each time it changed."""
        self.last_how: object = _NOTHING
        """The last of ``regimes`` (none yet: a value no decryptor gives)."""
        self.regime_frames = array("Q")
        """First frame of each regime."""
        self.cp_count = array("Q")
        self.cp_seq = array("Q")
        self.cp_index = array("L")
        """Checkpoints (indexes) where ``cp_count``/``cp_seq`` were taken, ascending."""

    def at(self, j: int) -> tuple[int, int | None]:
        """(packets, last sequence number) before checkpoint ``j``."""
        i = bisect_right(self.cp_index, j) - 1
        if i < 0:
            return 0, None
        return self.cp_count[i], self.cp_seq[i]

    def how(self, frame: int) -> object:
        """The decryptor's answer for the batch that held ``frame``."""
        i = bisect_right(self.regime_frames, frame) - 1
        return self.regimes[i] if i >= 0 else None


class FileRowStore:
    """The ``EspRecorder`` of a batch-path load, and the rows of its views (UI thread)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        extra_ports: tuple[int, ...] = (),
        *,
        samples: bool = False,
    ) -> None:
        self.path = path
        self.extra_ports = extra_ports
        self._identity = _identity(path)
        """(size, mtime) of the file as loaded: another file there gives no rows, not wrong
        ones."""
        self.by_spi: dict[int, SpiIndex] = {}
        self.cp_offset = array("Q", [_PCAP_HEADER])
        self.cp_frames = array("Q", [0])
        self.cp_total = array("Q", [0])
        self._total = 0
        self._since = 0
        self._active: set[int] = set()
        self._samples: dict[tuple[int, int], bytes] | None = {} if samples else None
        """With ``samples`` (a later range of a split load): the first packet (SPI .. ICV) of
        each regime, by (SPI, regime), for ``detached``."""
        self.kept: list[EspRow] = []
        """Rows of the general path's packets, in capture order."""
        self.kept_frames = array("Q")
        self._mm: Buffer | None = None
        self._record: RecordHeader | None = None
        self._views: dict[tuple[int, ...] | None, FileEspView] = {}
        self.decryptor: Decryptor | None = None
        self.seek: SeekTable | None = None

    # ------------------------------------------------------------ recording (worker thread)

    def begin(self, mm: Buffer, record: RecordHeader) -> None:
        self._mm, self._record = mm, record

    def _spi(self, spi: int) -> SpiIndex:
        st = self.by_spi.get(spi)
        if st is None:
            st = self.by_spi[spi] = SpiIndex()
        return st

    def lanes(self, lanes: Sequence[Lane], settled: bool = True) -> None:
        # Measured hot path (once per SPI per batch: ~86,000 lanes at 1M packets of 9 IKE SAs,
        # ~0.1 s CPU, most of it the time bins): locals only, the SPI's state found once, a
        # batch within one time bin counted in one step (``add_run``).
        by_spi, active, added = self.by_spi, self._active, 0
        for lane in lanes:
            items, spi, how = lane.items, lane.spi, lane.how
            st = by_spi.get(spi)
            if st is None:
                st = self._spi(spi)
            if how is not st.last_how and how != st.last_how:
                st.last_how = how
                st.regimes.append(how)
                st.regime_frames.append(items[0][0])
                if self._samples is not None and self._mm is not None:
                    first = items[0]
                    self._samples[spi, len(st.regimes) - 1] = bytes(self._mm[first[2] : first[3]])
            n = len(items)
            if not st.times.add_run(items[0][1], items[-1][1], n):
                st.times.add_items(items)
            st.last_seq = items[-1][4]
            st.count += n
            active.add(spi)
            added += n
        self._total += added
        self._since += added
        if (
            settled
            and self._since >= CHECKPOINT_ROWS
            and self._mm is not None
            and self._record is not None
        ):
            frame, _ts, _a, _b, _seq, start = max(lane.items[-1] for lane in lanes)
            incl = self._record(self._mm, start - 16)[2]
            self._checkpoint(start + incl, frame)

    def esp(self, packet: _EspPacket, opened: EspOpened) -> None:
        f = packet.flow
        seq = packet.seq & 0xFFFFFFFF
        if opened.decrypted or opened.integrity == "failed":
            failed = opened.integrity == "failed"
            summary = summarize(opened)
            inner = opened.inner
            row = EspRow(
                packet.spi,
                f.frame,
                f.ts,
                seq,
                packet.length,
                STATUS_INTEGRITY_FAILED if failed else STATUS_DECRYPTED,
                opened.next_header,
                None if inner is None else len(inner),
                None if summary is None else summary.text(),
            )
        else:
            row = EspRow(packet.spi, f.frame, f.ts, seq, packet.length, STATUS_CLEAR, None, None)
        self.kept.append(row)
        self.kept_frames.append(f.frame)  # after the row: a reader takes len() of this one
        st = self._spi(packet.spi)
        st.times.add(f.ts)
        st.last_seq = seq
        st.count += 1
        st.kept += 1
        self._active.add(packet.spi)
        self._total += 1
        self._since += 1

    def boundary(self, offset: int, frames_before: int) -> None:
        """A record boundary with every packet before it recorded (the walk's progress)."""
        if frames_before > self.cp_frames[-1]:
            self._checkpoint(offset, frames_before)

    def _checkpoint(self, offset: int, frames_before: int) -> None:
        j = len(self.cp_offset)
        for spi in self._active:
            st = self.by_spi[spi]
            st.cp_count.append(st.count)
            st.cp_seq.append(st.last_seq)
            st.cp_index.append(j)  # last: a reader bisects this one
        self._active.clear()
        self._since = 0
        self.cp_frames.append(frames_before)
        self.cp_total.append(self._total)
        self.cp_offset.append(offset)  # last: a reader takes len() of this one

    def seek_points(self) -> list[tuple[int, int]]:
        return list(zip(self.cp_frames, self.cp_offset, strict=True))

    # ------------------------------------------------------------ a split load (tui.parload)

    def detached(self) -> FileRowStore:
        """This store made ready to cross to another process (a later range's worker): the
        map, the views and the decryptor dropped, each SA entry among the regimes replaced by
        an ``EntryOf`` that the first range's process resolves (``absorb``)."""
        self._mm = self._record = self.decryptor = None
        self._views = {}
        samples = self._samples or {}
        for spi, st in self.by_spi.items():
            st.regimes = [
                _entry_of(h, samples.get((spi, i), b"")) for i, h in enumerate(st.regimes)
            ]
            st.last_how = _NOTHING
        return self

    def absorb(
        self, part: FileRowStore, start: tuple[int, int], shift: int, resolve: Resolve
    ) -> bool:
        """The rows of the range that starts at ``start`` (file offset, frames before it),
        recorded by another process (``detached``; its frame numbers ``shift`` short of the
        capture's when it counted from its own start), added after every row recorded here;
        False, nothing changed, when one of its regimes does not resolve to this process's
        answer (``resolve(spi, EntryOf)``)."""
        resolved: dict[int, list[object]] = {}
        for spi, p in part.by_spi.items():
            hows = [resolve(spi, h) if isinstance(h, EntryOf) else h for h in p.regimes]
            if any(h is None for h in hows):
                return False
            resolved[spi] = hows
        offset, before = start
        if before > self.cp_frames[-1]:
            self._checkpoint(offset, before)  # every packet of the ranges before is recorded
        j0, total = len(self.cp_offset) - 1, self._total  # the part's checkpoint 0, here
        for spi, p in part.by_spi.items():
            st = self._spi(spi)
            for how, frame in zip(resolved[spi], p.regime_frames, strict=True):
                if how is not st.last_how and how != st.last_how:
                    st.last_how = how
                    st.regimes.append(how)
                    st.regime_frames.append(frame + shift)
            st.times.absorb(p.times)
            st.cp_count.extend(c + st.count for c in p.cp_count)
            st.cp_seq.extend(p.cp_seq)
            st.cp_index.extend(j + j0 for j in p.cp_index)
            st.count += p.count
            st.kept += p.kept
            st.last_seq = p.last_seq
        self.kept.extend(replace(row, frame=row.frame + shift) for row in part.kept)
        self.kept_frames.extend(f + shift for f in part.kept_frames)
        self._total += part._total
        self._since = part._since
        self._active = set(part._active)
        for k in range(1, len(part.cp_offset)):
            self.cp_frames.append(part.cp_frames[k] + shift)
            self.cp_total.append(part.cp_total[k] + total)
            self.cp_offset.append(part.cp_offset[k])
        return True

    # ------------------------------------------------------------ reading (UI thread)

    def total(self) -> int:
        """Packets recorded so far over all SPIs."""
        return self._total

    def count(self, spis: tuple[int, ...] | None) -> int:
        """Packets of these SPIs (all when None) recorded so far."""
        if spis is None:
            return self._total
        return sum(self.by_spi[s].count for s in spis if s in self.by_spi)

    def times(self, spi: int) -> tuple[Sequence[float], Sequence[int] | None]:
        """The SPI's packet times for the timing lanes (see ``TimeCounts.weighted``)."""
        st = self.by_spi.get(spi)
        return ([], None) if st is None else st.times.weighted()

    def view(self, spis: tuple[int, ...] | None = None) -> FileEspView:
        """Rows of these SPIs (all when None) in capture order, brought up to date."""
        found = self._views.get(spis)
        if found is None:
            found = self._views[spis] = FileEspView(self, spis)
        else:
            found.refresh()
        return found

    def window(self, spis: tuple[int, ...] | None, lo: int, hi: int) -> list[_Made]:
        """Rows ``lo`` to ``hi`` (excluded) of a view, with each one's previous sequence
        number on its SPI."""
        if _identity(self.path) != self._identity:
            return []  # the file changed since the load: its offsets mean nothing now
        chosen = None if spis is None else frozenset(spis)
        j, base = self._start(chosen, lo)
        offset, frames_before = self.cp_offset[j], self.cp_frames[j]
        need = hi - base
        kept = self._kept_after(chosen, frames_before, need)
        stop = kept[need - 1].frame if len(kept) >= need else 1 << 62
        by_spi = self.by_spi

        def keep(spi: int) -> bool:
            st = by_spi.get(spi)
            return st is not None and st.count > st.kept and (chosen is None or spi in chosen)

        got: list[FileRow] = []
        last = 1 << 62
        if chosen is None or any(keep(s) for s in chosen):  # else every row is a kept one
            start = (offset, frames_before)
            got, last = read_rows(
                self.path, start, keep, self._is_kept, need, stop, self.extra_ports
            )
        rows: list[FileRow | EspRow] = [*got, *(r for r in kept if r.frame <= last)]
        rows.sort(key=_frame_of)  # stable: rows of one frame keep their order
        previous: dict[int, int | None] = {}
        out: list[_Made] = []
        for k, r in enumerate(rows[: hi - base]):
            spi = r[2] if isinstance(r, tuple) else r.spi
            seq = r[3] if isinstance(r, tuple) else r.seq
            before = previous[spi] if spi in previous else by_spi[spi].at(j)[1]
            previous[spi] = seq
            if k >= lo - base:
                out.append((self._made(r), before))
        return out

    def _start(self, chosen: frozenset[int] | None, n: int) -> tuple[int, int]:
        """(checkpoint, rows of the view before it): the last with at most ``n`` rows."""
        top = len(self.cp_offset)
        if chosen is None:
            j = bisect_right(self.cp_total, n, 0, top) - 1
            return j, self.cp_total[j]
        sts = [self.by_spi[s] for s in chosen if s in self.by_spi]

        def before(j: int) -> int:
            return sum(st.at(j)[0] for st in sts)

        lo, hi = 0, top - 1  # before(0) == 0 <= n
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if before(mid) <= n:
                lo = mid
            else:
                hi = mid - 1
        return lo, before(lo)

    def _kept_after(self, chosen: frozenset[int] | None, frame: int, need: int) -> list[EspRow]:
        """Kept rows of the view after ``frame``, up to the ``need``-th."""
        top = len(self.kept_frames)
        out: list[EspRow] = []
        for i in range(bisect_right(self.kept_frames, frame, 0, top), top):
            row = self.kept[i]
            if chosen is None or row.spi in chosen:
                out.append(row)
                if len(out) >= need:
                    break
        return out

    def _is_kept(self, frame: int) -> bool:
        frames = self.kept_frames
        i = bisect_right(frames, frame) - 1
        return i >= 0 and frames[i] == frame

    def _made(self, r: FileRow | EspRow) -> EspRow:
        if isinstance(r, EspRow):
            return r
        frame, ts, spi, seq, length, data = r
        opened = open_row(self.by_spi[spi].how(frame), data)
        if opened is None or not (opened.decrypted or opened.integrity == "failed"):
            return EspRow(spi, frame, ts, seq, length, STATUS_CLEAR, None, None)
        failed = opened.integrity == "failed"
        summary = summarize(opened)
        inner = opened.inner
        return EspRow(
            spi,
            frame,
            ts,
            seq,
            length,
            STATUS_INTEGRITY_FAILED if failed else STATUS_DECRYPTED,
            opened.next_header,
            None if inner is None else len(inner),
            None if summary is None else summary.text(),
        )


@dataclass(frozen=True, slots=True)
class EntryOf:
    """A regime that was an SA entry of another process's decryptor: which candidate key of
    the SPI's entry it was pinned to."""

    candidate: int
    sample: bytes
    """The first packet (SPI .. ICV) it opened there: the first range's process may not have
    pinned the SA's keys yet (``KeyringDecryptor.esp_batch_after``)."""


Resolve = Callable[[int, EntryOf], object]


def _entry_of(how: object, sample: bytes) -> object:
    if isinstance(how, EspEntry):  # an entry batched is pinned (else -1: never resolves)
        return EntryOf(-1 if how.pinned is None else how.candidates.index(how.pinned), sample)
    return how


_Made = tuple[EspRow, "int | None"]
_MISSING = EspRow(0, 0, 0.0, 0, 0, STATUS_CLEAR, None, None, "(not found in the file)")


def _identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _frame_of(r: FileRow | EspRow) -> int:
    return r[0] if isinstance(r, tuple) else r.frame


class FileEspView:
    """A capture-ordered window over some SPIs' rows of a ``FileRowStore``; rows made on
    demand, a window at a time (the ``EspView`` interface)."""

    def __init__(self, store: FileRowStore, spis: tuple[int, ...] | None) -> None:
        self.store = store
        self.wanted = spis
        self._len = 0
        self._first = 0
        self._made: list[_Made] = []
        self.refresh()

    @property
    def spis(self) -> tuple[int, ...]:
        """The SPIs asked for that have packets."""
        chosen = tuple(self.store.by_spi) if self.wanted is None else self.wanted
        return tuple(s for s in chosen if s in self.store.by_spi)

    def refresh(self) -> bool:
        """Take in rows recorded since the last call; True when something changed."""
        n = self.store.count(self.wanted)
        changed = n != self._len
        self._len = n
        return changed

    def __len__(self) -> int:
        return self._len

    def _get(self, n: int) -> _Made:
        if not self._first <= n < self._first + len(self._made):
            first = max(0, n - BEFORE)
            self._made = self.store.window(self.wanted, first, min(self._len, n + AFTER))
            self._first = first
            if not self._first <= n < self._first + len(self._made):
                # The file changed under the load, or was cut: said in the row, never a crash.
                return _MISSING, None
        return self._made[n - self._first]

    def row(self, n: int) -> EspRow:
        """Row ``n`` in capture order."""
        return self._get(n)[0]

    def previous_seq(self, n: int) -> int | None:
        """Sequence number of the packet before row ``n`` on the same SPI (None for its
        first)."""
        return self._get(n)[1]
