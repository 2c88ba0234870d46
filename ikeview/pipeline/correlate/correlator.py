"""The correlator: dissector records in, capture order; an ``Analysis`` snapshot out at any time.

It routes each record: ESP to its counter (esp.py), IKE to ``messages.IkeMessages`` (made on
the first IKE message, so ESP alone never imports the IKE side), which finds or opens the IKE SA,
classifies the copy (rules 2, 3), opens its SK payload or inherits the outcome of the copy it
repeats, builds the ``Message`` and hands the complete message to its exchange shape
(exchanges.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, NatKeepalive
from ikeview.pipeline.capture_model import MAX_INNER_FLOWS, Analysis, EspSpiStats, Problem
from ikeview.pipeline.correlate.context import Context
from ikeview.pipeline.correlate.esp import MAX_ESP_NESTING, EspCounter, nested_esp
from ikeview.pipeline.correlate.espbulk import EspBulk, integrity_failure_text
from ikeview.pipeline.correlate.null import NO_KEYS_ESP, NullDecryptor
from ikeview.pipeline.inner import InnerFlowCounter
from ikeview.pipeline.seam import Decryptor, EspObserver

if TYPE_CHECKING:
    from ikeview.pipeline.correlate import merge
    from ikeview.pipeline.correlate.messages import IkeMessages

MAX_FRAME_ERROR_PROBLEMS = 50
"""Frame errors beyond this many are only counted."""


class Correlator:
    """Feed records in capture order; take a snapshot (an ``Analysis``) at any time."""

    def __init__(
        self,
        decryptor: Decryptor | None = None,
        capture: str = "",
        *,
        on_esp: EspObserver | None = None,
        inner_limit: int = MAX_INNER_FLOWS,
    ) -> None:
        """``on_esp`` (optional) sees every ESP packet and what the decryptor made of it;
        ``inner_limit``: inner flows kept per SPI (a later range of ``--jobs`` keeps more)."""
        self._dec: Decryptor = decryptor if decryptor is not None else NullDecryptor()
        # ESP is nearly every packet of a real capture: without keys, skip the call entirely.
        self._esp_open = self._dec.esp if self._dec.has_keys else None
        self._on_esp_seen = on_esp
        self.capture = capture
        self._ctx = Context(self._dec)
        self._inner_limit = inner_limit
        self._ike: IkeMessages | None = None

    # ------------------------------------------------------------ input

    def feed(self, record: object) -> None:
        """Take one dissector record (capture order)."""
        counts = self._ctx.counts
        # Exact type tests (cheaper than isinstance on the per-packet path; mypy narrows on
        # them too), ESP first: one test for nearly every record.
        if type(record) is EspPacket:
            self._on_esp(record)
        elif type(record) is IkeDatagram:
            self._on_ike(record)
        elif type(record) is NatKeepalive:
            counts.keepalives += 1
        elif isinstance(record, FrameError):
            counts.frame_errors += 1
            # Where a damaged file stopped being read is said whatever came before it: it comes
            # once, last, and is what tells the reader that the rest was never seen.
            if counts.frame_errors <= MAX_FRAME_ERROR_PROBLEMS or record.ends_damaged_file:
                self._ctx.problem(
                    "warning", f"frame {record.frame}: {record.reason}", frame=record.frame
                )

    # ------------------------------------------------------------ ESP

    def _on_esp(self, pkt: EspPacket, depth: int = 0) -> None:
        ctx = self._ctx
        ctx.counts.esp_packets += 1
        f = pkt.flow
        key = (pkt.spi, f.dst)
        c = ctx.esp.get(key)
        if c is None:
            c = ctx.esp[key] = EspCounter(pkt.spi, f.src, f.dst, pkt.udp_encap, f.ts, pkt.seq)
            c.first_frame = f.frame
        c.last_frame = f.frame
        c.packets += 1
        c.bytes += pkt.length
        c.last_ts = f.ts
        c.last_seq = pkt.seq
        if pkt.error is None:
            c.window.see(pkt.seq, f.frame)
        if self._esp_open is None:
            c.problem = "no keys"
            if self._on_esp_seen is not None:
                self._on_esp_seen(pkt, NO_KEYS_ESP)
            return
        opened = self._esp_open(pkt)
        if self._on_esp_seen is not None:
            self._on_esp_seen(pkt, opened)
        if opened.decrypted:
            c.decrypted += 1
            ctx.counts.esp_decrypted += 1
            if c.inner is None:
                c.inner = InnerFlowCounter(self._inner_limit)
            c.inner.add_opened(opened)
            inner = opened.inner
            if (
                inner is not None
                and len(inner) > 40
                and 50 in (inner[9], inner[6])  # IPv4 protocol / IPv6 next header is ESP
                and depth < MAX_ESP_NESTING
            ):
                # ESP inside the decrypted tunnel packet is an SA of its own: count it and
                # decrypt it in turn when keys for it exist.
                inner_esp = nested_esp(pkt, opened)
                if inner_esp is not None:
                    self._on_esp(inner_esp, depth + 1)
        if opened.integrity == "failed":
            c.integrity_failed += 1
            ctx.counts.esp_integrity_failed += 1
            if c.integrity_failed == 1:
                c.integrity_failed_frame = f.frame
                ctx.problem(
                    "error",
                    integrity_failure_text(pkt.spi, f.frame),
                    frame=f.frame,
                    code="esp-integrity-failure",
                )
        if opened.problem and c.problem is None:
            c.problem = opened.problem

    # ------------------------------------------------------------ IKE

    def _on_ike(self, rec: IkeDatagram) -> None:
        if self._ike is None:
            # The IKE side (messages.py and the builders, shapes, AUTH, NAT and EAP code it
            # needs) is imported with the first IKE message: ESP alone never loads it.
            from ikeview.pipeline.correlate.messages import IkeMessages

            self._ike = IkeMessages(self._ctx, self._dec)
        self._ike.feed(rec)

    def esp_bulk(self, *, observed: bool = False) -> EspBulk | None:
        """The ESP counters for the batch path (``pipeline.fastesp``); None when an ``on_esp``
        observer must see every packet. ``observed``: the caller records the batches' packets
        itself (the TUI's rows, ``pipeline.fastsnap``); ``on_esp`` then sees the others only."""
        if self._on_esp_seen is not None and not observed:
            return None
        return EspBulk(self._ctx, self._inner_limit, keys=self._esp_open is not None)

    # ------------------------------------------------------------ output

    def snapshot(self, *, frames: int = 0, complete: bool = True) -> Analysis:
        """Freeze what is known so far into an ``Analysis``."""
        ctx = self._ctx
        if complete and ctx.sas:
            from ikeview.pipeline.correlate.auth import verify_pending

            # The capture ended with an AUTH whose exchange never completed: check it now.
            for sa in ctx.sas:
                if sa.pending_auth:
                    verify_pending(ctx, sa)
        problems = list(ctx.problems)
        child_spis = {spi for sa in ctx.sas for c in sa.children for spi in (c.spi_i, c.spi_r)}
        esp_by_spi: dict[int, list[EspSpiStats]] = {}
        unassociated: list[EspSpiStats] = []
        for c in ctx.esp.values():
            stats = c.freeze()
            if c.spi in child_spis:
                esp_by_spi.setdefault(c.spi, []).append(stats)
            else:
                unassociated.append(stats)
        ike_sas = tuple(sa.freeze(esp_by_spi, problems, complete) for sa in ctx.sas)
        for s in unassociated:
            if s.packets and complete:
                problems.append(
                    Problem(
                        "info",
                        f"ESP SPI 0x{s.spi:08x} ({s.src} > {s.dst}, {s.packets} packets) is not "
                        "tied to any child SA seen (IKE_AUTH/CREATE_CHILD_SA not decrypted or "
                        "not in the capture)",
                    )
                )
        if complete:
            problems.extend(self._unused_secrets())
        return Analysis(
            capture=self.capture,
            counters=ctx.counts.freeze(frames),
            ike_sas=ike_sas,
            unassociated_esp=tuple(unassociated),
            problems=tuple(problems),
            complete=complete,
            derived_keys=self._dec.derived_keys() if complete else (),
        )

    def _unused_secrets(self) -> list[Problem]:
        """Unscoped DH secrets that fit no SA (KeyringDecryptor.unused_dh), as info lines."""
        method = getattr(self._dec, "unused_dh", None)
        if not callable(method):
            return []
        return [
            Problem("info", f"{origin} fits no IKE SA or PFS child SA in the capture (unused)")
            for origin in method()
        ]

    # ------------------------------------------------------------ ranges (ikeview.parallel)

    def esp_counter(self, spi: int, dst: str) -> EspCounter | None:
        """The live counter of one SPI towards one destination (None before its first packet)."""
        return self._ctx.esp.get((spi, dst))

    def take_esp(self, recorder: merge.Recorder) -> merge.EspPart:
        """This range's ESP counters, problems and totals (see ``correlate.merge``)."""
        from ikeview.pipeline.correlate import merge  # --jobs only

        return merge.take_part(self._ctx, recorder)

    def absorb_esp(self, parts: list[merge.EspPart]) -> bool:
        """Fold later ranges' ESP into this correlator; False if they cannot be (then discard
        this correlator and read the capture in one pass)."""
        from ikeview.pipeline.correlate import merge

        return merge.absorb(self._ctx, parts)
