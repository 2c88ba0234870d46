"""Per-packet ESP rows for the ESP panel, recorded through the core's ``on_esp`` observer.

The model keeps only per-SPI counters (``EspSpiStats``). Rather than re-reading the capture, the
load worker hands ``iter_analysis`` an ``on_esp`` observer (``EspRowStore.watch``): the
correlator calls it once per ESP packet, in capture order, with the core's verdict, without
the TUI parsing or decrypting anything itself. Rows live in ``array`` columns (about 30 bytes a
packet), appended by the worker thread and read by the UI thread; appends only, so a reader that
takes ``len()`` first always sees complete rows.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ikeview.pipeline.inner import summarize
from ikeview.pipeline.seam import Decryptor, EspOpened

if TYPE_CHECKING:
    from ikeview.framebytes import SeekTable

STATUS_CLEAR = 0
"""Not decrypted (no keys, or the decryptor said why in ``problem``)."""
STATUS_DECRYPTED = 1
"""Decrypted and, where there is an ICV, verified."""
STATUS_INTEGRITY_FAILED = 2
"""The ICV did not verify."""
MAX_SUMMARIES = 4096
"""Distinct inner summaries a store keeps; rows of later ones show the Next Header only."""


class SpiRows:
    """Columns of one SPI's packets, in capture order."""

    __slots__ = (
        "code",
        "frame",
        "inner_len",
        "length",
        "next_header",
        "seq",
        "status",
        "summary",
        "ts",
    )

    def __init__(self) -> None:
        self.code = 0
        """``slot << 40`` of this SPI: a row's code in ``EspRowStore.order`` is ``code | row``."""
        self.frame = array("L")
        self.ts = array("d")
        self.seq = array("L")
        self.length = array("L")
        self.status = array("b")
        self.next_header = array("h")
        self.summary = array("l")
        """Index into ``EspRowStore.summaries``, -1 when none."""
        self.inner_len = array("l")

    def __len__(self) -> int:
        # The last column appended: a row counts once all of its columns are in.
        return len(self.inner_len)


@dataclass(frozen=True, slots=True)
class EspRow:
    """One ESP packet as the ESP panel shows it."""

    spi: int
    """SPI from the ESP header."""
    frame: int
    """1-based frame number."""
    ts: float
    """Capture time."""
    seq: int
    """Sequence number (low 32 bits)."""
    length: int
    """ESP length on the wire."""
    status: int
    """STATUS_CLEAR, STATUS_DECRYPTED or STATUS_INTEGRITY_FAILED."""
    next_header: int | None
    """Next Header of the decrypted trailer; None when not decrypted."""
    inner_len: int | None
    """Length of the decrypted inner packet; None when not decrypted."""
    summary: str | None = None
    """One line on the inner packet (``IPv4 ICMP a > b echo-request``); None when unknown."""


class _Flow(Protocol):
    @property
    def frame(self) -> int: ...
    @property
    def ts(self) -> float: ...


class _EspPacket(Protocol):
    """What ``watch`` reads of the core's ESP packet record (the TUI imports no dissector)."""

    @property
    def flow(self) -> _Flow: ...
    @property
    def spi(self) -> int: ...
    @property
    def seq(self) -> int: ...
    @property
    def length(self) -> int: ...


class EspRowsView(Protocol):
    """What the ESP table reads of a view: ``EspView``, or ``espindex.FileEspView``."""

    @property
    def store(self) -> object: ...
    @property
    def wanted(self) -> tuple[int, ...] | None: ...
    def refresh(self) -> bool: ...
    def __len__(self) -> int: ...
    def row(self, n: int) -> EspRow: ...
    def previous_seq(self, n: int) -> int | None: ...


class EspRows(Protocol):
    """What the views read of a load's ESP rows: ``EspRowStore`` (a row per packet: live
    captures, pcapng, gzip, the general path) or ``espindex.FileRowStore`` (checkpoints)."""

    decryptor: Decryptor | None
    seek: SeekTable | None

    def total(self) -> int: ...
    def view(self, spis: tuple[int, ...] | None = None) -> EspRowsView: ...
    def times(self, spi: int) -> tuple[Sequence[float], Sequence[int] | None]: ...


class EspRowStore:
    """Every SPI's rows, plus the capture order across SPIs; one store per analysis run."""

    def __init__(self) -> None:
        self.by_spi: dict[int, SpiRows] = {}
        self.spi_of_slot: list[int] = []
        """SPI of each slot number (slots number the SPIs in order of first packet)."""
        self.slot_of: dict[int, int] = {}
        """Slot number of each SPI."""
        self.order = array("Q")
        """One code per packet in capture order: ``slot << 40 | row``."""
        self._views: dict[tuple[int, ...] | None, EspView] = {}
        self.summaries: list[str] = []
        """Distinct inner summary lines; rows hold an index (a ping flood is one line)."""
        self._summary_of: dict[object, int] = {}
        self.decryptor: Decryptor | None = None
        """The run's decryptor (its keys grow with SAs, not packets), kept to open one packet
        again for the packet detail's hex once the load is over (``ikeview.framebytes``)."""
        self.seek: SeekTable | None = None
        """Where the packet detail starts reading the file to find a frame (set with the
        complete analysis of a plain capture file; None: the file is walked from its start)."""

    def add(
        self, spi: int, frame: int, ts: float, seq: int, length: int, opened: EspOpened
    ) -> None:
        """Append one packet (worker thread). Once per ESP packet: attributes are read once
        and a packet nothing opened skips the status and summary work (a third of a 100k
        packet load's worker time went here)."""
        rows = self.by_spi.get(spi)
        if rows is None:
            rows = self._new_spi(spi)
        row = len(rows.frame)
        rows.frame.append(frame)
        rows.ts.append(ts)
        rows.seq.append(seq & 0xFFFFFFFF)
        rows.length.append(length)
        if opened.decrypted or opened.integrity == "failed":
            failed = opened.integrity == "failed"
            rows.status.append(STATUS_INTEGRITY_FAILED if failed else STATUS_DECRYPTED)
            nh, inner = opened.next_header, opened.inner
            rows.next_header.append(-1 if nh is None else nh)
            rows.summary.append(self._summary_index(opened))
            rows.inner_len.append(-1 if inner is None else len(inner))
        else:
            rows.status.append(STATUS_CLEAR)
            rows.next_header.append(-1)
            rows.summary.append(-1)
            rows.inner_len.append(-1)
        # Last: a reader that sees this code finds every column of the row in place.
        self.order.append(rows.code | row)

    def _new_spi(self, spi: int) -> SpiRows:
        rows = self.by_spi[spi] = SpiRows()
        rows.code = len(self.spi_of_slot) << _SLOT_SHIFT
        self.slot_of[spi] = len(self.spi_of_slot)
        self.spi_of_slot.append(spi)
        return rows

    def watch(self, packet: _EspPacket, opened: EspOpened) -> None:
        """The ``on_esp`` observer of ``iter_analysis``: one row per packet."""
        flow = packet.flow
        self.add(packet.spi, flow.frame, flow.ts, packet.seq, packet.length, opened)

    def _summary_index(self, opened: EspOpened) -> int:
        """Index of the packet's inner summary line, added when new; -1 when none or full."""
        summary = summarize(opened)
        if summary is None:
            return -1
        key = summary.key
        found = self._summary_of.get(key)
        if found is not None:
            return found
        if len(self.summaries) >= MAX_SUMMARIES:
            return -1
        found = self._summary_of[key] = len(self.summaries)
        self.summaries.append(summary.text())
        return found

    def total(self) -> int:
        """Packets recorded so far over all SPIs."""
        return len(self.order)

    def times(self, spi: int) -> tuple[Sequence[float], Sequence[int] | None]:
        """Capture times of the SPI's packets, for the timing lanes (counts: None, one each;
        the interface of ``espindex.FileRowStore.times``)."""
        rows = self.by_spi.get(spi)
        # A copy: a buffer exported from the worker's growing array would stop it appending.
        return ([], None) if rows is None else (rows.ts[: len(rows)], None)

    def view(self, spis: tuple[int, ...] | None = None) -> EspView:
        """Rows of these SPIs (all when None) in capture order, brought up to date.

        Views are kept per SPI set, so panels asking again at every snapshot only take in the
        new rows instead of filtering the whole capture again (UI thread only).
        """
        found = self._views.get(spis)
        if found is None:
            found = self._views[spis] = EspView(self, spis)
        else:
            found.refresh()
        return found


_SLOT_SHIFT = 40
_ROW_MASK = (1 << _SLOT_SHIFT) - 1


class EspView:
    """A capture-ordered window over some SPIs' rows, indexed 0..len-1, grown by ``refresh``."""

    def __init__(self, store: EspRowStore, spis: tuple[int, ...] | None) -> None:
        self.store = store
        self.wanted = spis
        """The SPIs asked for; None = all."""
        self._seen = 0
        self._index = array("Q")
        self.refresh()

    @property
    def spis(self) -> tuple[int, ...]:
        """The SPIs asked for that have packets."""
        chosen = self.store.spi_of_slot if self.wanted is None else self.wanted
        return tuple(s for s in chosen if s in self.store.by_spi)

    def refresh(self) -> bool:
        """Take in rows appended since the last call; True when something changed."""
        order = self.store.order
        n = len(order)
        if n == self._seen:
            return False
        new = order[self._seen : n]
        self._seen = n
        if self.wanted is None:
            self._index.extend(new)
        else:
            slots = {self.store.slot_of[s] for s in self.wanted if s in self.store.slot_of}
            self._index.extend(c for c in new if c >> _SLOT_SHIFT in slots)
        return True

    def __len__(self) -> int:
        return len(self._index)

    def row(self, n: int) -> EspRow:
        """Row ``n`` in capture order."""
        code = self._index[n]
        spi = self.store.spi_of_slot[code >> _SLOT_SHIFT]
        i = code & _ROW_MASK
        r = self.store.by_spi[spi]
        nh = r.next_header[i]
        inner = r.inner_len[i]
        text = r.summary[i]
        return EspRow(
            spi,
            r.frame[i],
            r.ts[i],
            r.seq[i],
            r.length[i],
            r.status[i],
            None if nh < 0 else nh,
            None if inner < 0 else inner,
            None if text < 0 else self.store.summaries[text],
        )

    def previous_seq(self, n: int) -> int | None:
        """Sequence number of the packet before row ``n`` on the same SPI (None for its first):
        the SPI's own columns are in capture order, so it is one index back, no search."""
        code = self._index[n]
        i = code & _ROW_MASK
        if i == 0:
            return None
        spi = self.store.spi_of_slot[code >> _SLOT_SHIFT]
        return self.store.by_spi[spi].seq[i - 1]

    def times(self) -> list[float]:
        """Capture times of every row (for the packets-over-time chart)."""
        by_spi = self.store.by_spi
        out: list[float] = []
        for s in self.spis:
            out.extend(by_spi[s].ts[: len(by_spi[s])])
        return out
