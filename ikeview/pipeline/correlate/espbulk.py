"""ESP counted a batch at a time: what ``Correlator._on_esp`` does per packet, for a run of one
SPI's packets that the batch path (``pipeline.fastesp``) read without building records.

The batch path hands over, per (SPI, destination), the packets it collected between two records
of the general path, with what decrypting them gave. Counters, replay window, inner flows and
integrity failures come out exactly as ``_on_esp`` makes them packet by packet: each SPI's
packets are taken in capture order, and the problems lines, the one effect that interleaves
SPIs, are handed back with their frame numbers for the caller to record in frame order.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import cast

from ikeview.pipeline.correlate.context import Context
from ikeview.pipeline.correlate.esp import EspCounter
from ikeview.pipeline.inner import InnerFlowCounter
from ikeview.pipeline.seam import EspOpened

FastItem = tuple[int, float, int, int, int, int]
"""One ESP packet as the batch path keeps it: (frame, time, start and end of SPI .. ICV in the
mapped file, sequence number, start of the frame in the mapped file)."""
CleanOutcome = tuple[int, bytes, bool | None]
Outcome = CleanOutcome | EspOpened
"""What decrypting one packet gave: a clean (next header, inner, integrity_ok) or, for any other
packet, the decryptor's ``EspOpened``."""
_FRAME, _START, _END, _SEQ = itemgetter(0), itemgetter(2), itemgetter(3), itemgetter(4)
DeferredProblem = tuple[int, str]
"""(frame, text) of an ``esp-integrity-failure`` error line."""


def integrity_failure_text(spi: int, frame: int) -> str:
    """The error line of an SA's first integrity failure."""
    return f"ESP SPI 0x{spi:08x} frame {frame}: integrity check failed"


class EspBulk:
    """The correlator's ESP counters, updated a batch of one SPI at a time."""

    __slots__ = ("_ctx", "_keys", "_limit")

    def __init__(self, ctx: Context, inner_limit: int, *, keys: bool) -> None:
        self._ctx = ctx
        self._limit = inner_limit
        self._keys = keys

    def record_problems(self, deferred: list[DeferredProblem]) -> None:
        """The integrity-failure lines of a flush, in frame order (as packet by packet)."""
        for frame, text in sorted(deferred):
            self._ctx.problem("error", text, frame=frame, code="esp-integrity-failure")

    def count(
        self, spi: int, src: str, dst: str, udp: bool, items: Sequence[FastItem]
    ) -> EspCounter:
        """Count a run of packets of one SPI towards ``dst`` (capture order; none damaged)."""
        ctx = self._ctx
        first, last = items[0], items[-1]
        key = (spi, dst)
        c = ctx.esp.get(key)
        if c is None:
            c = ctx.esp[key] = EspCounter(spi, src, dst, udp, first[1], first[4])
            c.first_frame = first[0]
        n = len(items)
        c.last_frame, c.last_ts, c.last_seq = last[0], last[1], last[4]
        c.packets += n
        # Columns taken by C loops (itemgetter), not one bytecode loop per packet.
        c.bytes += sum(map(_END, items)) - sum(map(_START, items))
        ctx.counts.esp_packets += n
        c.window.see_run(list(map(_SEQ, items)), list(map(_FRAME, items)))
        return c

    def no_keys(self, c: EspCounter, problem: str) -> None:
        """The run had no keys to try: ``problem`` is what the decryptor says of each packet."""
        if not self._keys:
            c.problem = "no keys"
        elif c.problem is None:
            c.problem = problem

    def opened(
        self,
        c: EspCounter,
        items: Sequence[FastItem],
        outcomes: Sequence[Outcome],
        deferred: list[DeferredProblem],
        *,
        clean: bool = False,
    ) -> None:
        """Fold what decrypting the run gave into ``c`` (outcomes in the order of ``items``;
        ``clean``: every one a clean tuple); no outcome may carry ESP inside (the caller takes
        such runs packet by packet)."""
        inner = c.inner
        if inner is None:
            inner = InnerFlowCounter(self._limit)
        if clean:
            # Once per run: the caller vouches that every outcome is a clean tuple.
            inner.add_clean(cast("Sequence[CleanOutcome]", outcomes))
            self._decrypted(c, inner, len(outcomes))
            return
        add = inner.add_inner
        decrypted = 0
        # Measured hot loop (one iteration per ESP packet): the clean case first and inline.
        for item, out in zip(items, outcomes, strict=True):
            if type(out) is tuple:
                decrypted += 1
                add(out[0], out[1])
            else:
                # Not a tuple, so an EspOpened (mypy narrows only the positive exact-type test).
                decrypted += self._slow(c, item[0], cast(EspOpened, out), inner, deferred)
        self._decrypted(c, inner, decrypted)

    def _decrypted(self, c: EspCounter, inner: InnerFlowCounter, n: int) -> None:
        if n:
            c.decrypted += n
            self._ctx.counts.esp_decrypted += n
            c.inner = inner

    def _slow(
        self,
        c: EspCounter,
        frame: int,
        opened: EspOpened,
        inner: InnerFlowCounter,
        deferred: list[DeferredProblem],
    ) -> int:
        """One packet that did not decrypt cleanly, as ``Correlator._on_esp`` takes it; 1 when
        it counts as decrypted."""
        got = 0
        if opened.decrypted:
            got = 1
            inner.add_opened(opened)
        if opened.integrity == "failed":
            c.integrity_failed += 1
            self._ctx.counts.esp_integrity_failed += 1
            if c.integrity_failed == 1:
                c.integrity_failed_frame = frame
                deferred.append((frame, integrity_failure_text(c.spi, frame)))
        if opened.problem and c.problem is None:
            c.problem = opened.problem
        return got


__all__ = ["DeferredProblem", "EspBulk", "FastItem", "Outcome", "integrity_failure_text"]
