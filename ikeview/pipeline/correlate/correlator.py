"""The correlator: dissector records in, capture order; an ``Analysis`` snapshot out at any time.

It routes each record: ESP to its counter (esp.py), IKE through :meth:`Correlator._on_ike`,
which finds or opens the IKE SA, classifies the copy (rules 2, 3), opens its SK payload or
inherits the outcome of the copy it repeats, builds the ``Message`` and hands the complete
message to its exchange shape (exchanges.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview import iana
from ikeview.dissectors.ike_records import (
    IkeHeader,
    IkeMessage,
    Payload,
    SkfPayload,
    SkPayload,
)
from ikeview.dissectors.records import EspPacket, Flow, FrameError, IkeDatagram, NatKeepalive
from ikeview.pipeline.correlate import merge, state
from ikeview.pipeline.correlate.auth import verify_pending
from ikeview.pipeline.correlate.builders import Ex, Sa
from ikeview.pipeline.correlate.context import Context
from ikeview.pipeline.correlate.esp import MAX_ESP_NESTING, EspCounter, nested_esp
from ikeview.pipeline.correlate.espbulk import EspBulk, integrity_failure_text
from ikeview.pipeline.correlate.exchanges import DEFAULT_SHAPE, SHAPES, check_response
from ikeview.pipeline.correlate.null import NO_KEYS_ESP, NullDecryptor
from ikeview.pipeline.correlate.payloads import ZERO_SPI, ename
from ikeview.pipeline.ids import IntegrityVerdict, Side
from ikeview.pipeline.inner import InnerFlowCounter
from ikeview.pipeline.model import (
    MAX_INNER_FLOWS,
    Analysis,
    EspSpiStats,
    Message,
    Problem,
    RetransmitKind,
)
from ikeview.pipeline.seam import Decryptor, EspObserver

ET = iana.ExchangeType
MAX_FRAME_ERROR_PROBLEMS = 50
"""Frame errors beyond this many are only counted."""


@dataclass(frozen=True, slots=True)
class _Copy:
    """Where one copy of an IKE message belongs (rules 2 and 3)."""

    ex: Ex
    retrans: RetransmitKind | None
    original: Message | None
    """The copy this one repeats (or differs from), when it is not the first."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What opening the SK/SKF payload of one copy gave."""

    inner: tuple[Payload, ...] = ()
    decrypted: bool = False
    integrity: IntegrityVerdict | None = None
    problem: str | None = None


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
            if counts.frame_errors <= MAX_FRAME_ERROR_PROBLEMS:
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

    def esp_bulk(self, *, observed: bool = False) -> EspBulk | None:
        """The ESP counters for the batch path (``pipeline.fastesp``); None when an ``on_esp``
        observer must see every packet. ``observed``: the caller records the batches' packets
        itself (the TUI's rows, ``pipeline.fastsnap``); ``on_esp`` then sees the others only."""
        if self._on_esp_seen is not None and not observed:
            return None
        return EspBulk(self._ctx, self._inner_limit, keys=self._esp_open is not None)

    # ------------------------------------------------------------ IKE: finding the SA

    def _find_sa(self, h: IkeHeader, flow: Flow) -> Sa:
        """The SA a message belongs to (rule 1), opened when this is its first message."""
        ctx = self._ctx
        sa = ctx.by_spis.get((h.spi_i, h.spi_r))
        if sa is not None:
            return sa
        sa = ctx.by_spi_i.get(h.spi_i)
        if sa is not None:
            if sa.spi_r == ZERO_SPI and h.spi_r != ZERO_SPI:
                # Rule 1: the first answer with a responder SPI completes the SA's name.
                ctx.rename_sa(sa, h.spi_r)
                return sa
            if h.spi_r == ZERO_SPI and sa.state == "half-open":
                return sa
            if (
                h.spi_r == ZERO_SPI
                and h.exchange_type == ET.IKE_SA_INIT
                and sa.state == "authenticating"
                and sa.established_ts is None
                and all(e.exchange_type == ET.IKE_SA_INIT for e in sa.exchanges)
            ):
                # The initiator repeating IKE_SA_INIT after the answer was sent (it never
                # arrived): a retransmission on the same SA, not a new one (RFC 7296 2.1).
                return sa
            if (
                h.exchange_type == ET.IKE_SA_INIT
                and sa.state == "half-open"
                and sa.established_ts is None
            ):
                # An IKE_SA_INIT retry answered with another SPIr: the SA's name changes.
                ctx.rename_sa(sa, h.spi_r)
                return sa
        return self._open_sa(h, flow)

    def _open_sa(self, h: IkeHeader, flow: Flow) -> Sa:
        initiator = flow.src if h.initiator else flow.dst
        responder = flow.dst if h.initiator else flow.src
        by_init = h.exchange_type == ET.IKE_SA_INIT
        st, inferred = state.OPENED_BY_INIT if by_init else state.SEEN_MID_LIFE
        sa = Sa(
            h.spi_i,
            h.spi_r,
            initiator,
            responder,
            flow.ts,
            flow.ts,
            h.exchange_type if by_init else None,
            st,
            state_inferred=inferred,
        )
        if not by_init:
            self._ctx.problem(
                "info",
                f"IKE SA {sa.label}: first seen mid-life in frame "
                f"{flow.frame} ({ename(h.exchange_type)}); its IKE_SA_INIT is not in the capture"
                + self._rekey_hint(initiator, responder),
                frame=flow.frame,
                sa=sa,
            )
        self._ctx.add_sa(sa)
        return sa

    def _rekey_hint(self, a: str, b: str) -> str:
        """Name the likeliest parent when an SA appears mid-life: the last SA between the same
        peers with an answered CREATE_CHILD_SA that could not be decrypted (a guess, said so)."""
        for old in reversed(self._ctx.sas):
            if {old.initiator, old.responder} != {a, b}:
                continue
            hidden = [
                e
                for e in old.exchanges
                if e.exchange_type == ET.CREATE_CHILD_SA and e.response and not e.resp.decrypted
            ]
            if hidden:
                last = hidden[-1]
                frames = ",".join(str(m.frame) for m in (last.request, last.response) if m)
                return (
                    f"; possibly a rekey of {old.label} in a "
                    f"CREATE_CHILD_SA that was not decrypted (the last one: frames {frames})"
                )
        return ""

    # ------------------------------------------------------------ IKE: messages and exchanges

    def _on_ike(self, rec: IkeDatagram) -> None:
        self._ctx.counts.ike_messages += 1
        msg, flow = rec.message, rec.flow
        h = msg.header
        if h is None or msg.version != 2:
            self._not_ikev2(msg, flow)
            return
        sa = self._find_sa(h, flow)
        sa.last_ts = flow.ts
        if flow.sport == 4500 or flow.dport == 4500 or flow.transport == "tcp":
            sa.udp_encap = sa.udp_encap or h.exchange_type != ET.IKE_SA_INIT
        sk = msg.sk
        frag_no = sk.fragment_number if isinstance(sk, SkfPayload) else 0
        copy = self._classify(sa, h, flow, frag_no, msg.raw)
        outcome = self._open(sa, h, flow, msg, copy)
        m = self._message(rec, h, copy, outcome)
        self._attach(sa, copy.ex, m, msg, frag_no, copy.retrans)

    def _not_ikev2(self, msg: IkeMessage, flow: Flow) -> None:
        if msg.version == 1:
            self._ctx.counts.ikev1_messages += 1
            self._ctx.problem(
                "info",
                "IKEv1 messages are labelled but not analyzed",
                frame=flow.frame,
                once="ikev1",
            )
        else:
            why = msg.error.reason if msg.error else "not IKEv2"
            self._ctx.problem("warning", f"frame {flow.frame}: not an IKE message ({why})")

    def _classify(self, sa: Sa, h: IkeHeader, flow: Flow, frag_no: int, raw: bytes) -> _Copy:
        """Step 1: the exchange this copy belongs to, and whether it repeats another (rule 3)."""
        requester: Side
        if h.response:
            requester = "responder" if h.initiator else "initiator"
        else:
            requester = "initiator" if h.initiator else "responder"
        key = (h.message_id, requester)
        ex = sa.by_key.get(key)
        if not h.response:
            retrans: RetransmitKind | None = None
            original: Message | None = None
            if ex is not None and ex.request is not None:
                prior = ex.req.raw.get(frag_no)
                if prior == raw:
                    return _Copy(ex, "retransmit", self._original(ex, frag_no, response=False))
                if prior is not None or frag_no == 0:
                    retrans, original = "other-bytes", ex.request
            if ex is None or retrans is not None:
                ex = self._new_exchange(sa, key, h.exchange_type, h.message_id, requester)
            return _Copy(ex, retrans, original)
        if ex is None:
            ex = self._new_exchange(sa, key, h.exchange_type, h.message_id, requester)
        prior = ex.resp.raw.get(frag_no)
        if prior == raw:
            return _Copy(ex, "retransmit", self._original(ex, frag_no, response=True))
        if prior is not None or (frag_no == 0 and ex.response is not None):
            original = ex.response
            self._ctx.problem(
                "warning",
                f"IKE SA {sa.label} frame {flow.frame}: second "
                f"response to {ename(h.exchange_type)} mid {h.message_id} with other bytes "
                f"than frame {original.frame if original else '?'} (not a retransmission)",
                frame=flow.frame,
                sa=sa,
            )
            return _Copy(ex, "other-bytes", original)
        return _Copy(ex, None, None)

    def _open(self, sa: Sa, h: IkeHeader, flow: Flow, msg: IkeMessage, copy: _Copy) -> _Outcome:
        """Step 2: open the SK/SKF payload, or inherit the outcome of the copy this one
        retransmits (same bytes, same result)."""
        o = copy.original
        if copy.retrans == "retransmit" and o is not None:
            return _Outcome(o.inner, o.decrypted, o.integrity, o.problem)
        sk = msg.sk
        if sk is None:
            return _Outcome()
        opened = self._dec.open(h, msg.raw, sk)
        decrypted = opened.payloads is not None
        counts = self._ctx.counts
        if decrypted:
            counts.ike_decrypted += 1
        if opened.integrity == "failed":
            counts.ike_integrity_failed += 1
            self._ctx.problem(
                "error",
                # The decryptor's text already names the SA, the message and the key tried.
                f"frame {flow.frame}: {opened.problem}"
                if opened.problem
                else f"IKE SA {sa.label} frame {flow.frame}: integrity check failed (wrong keys?)",
                frame=flow.frame,
                sa=sa,
            )
        elif opened.problem and not opened.pending and sa.problem is None:
            sa.problem = opened.problem
        inner = tuple(opened.payloads) if opened.payloads is not None else ()
        return _Outcome(inner, decrypted, opened.integrity, opened.problem)

    @staticmethod
    def _message(rec: IkeDatagram, h: IkeHeader, copy: _Copy, o: _Outcome) -> Message:
        """Step 3: the model's record of this copy."""
        msg, flow = rec.message, rec.flow
        sk = msg.sk
        return Message(
            frame=flow.frame,
            ts=flow.ts,
            flow=flow,
            spi_i=h.spi_i,
            spi_r=h.spi_r,
            exchange_type=h.exchange_type,
            message_id=h.message_id,
            response=h.response,
            from_initiator=h.initiator,
            length=len(msg.raw),
            payloads=tuple(msg.payloads),
            inner=o.inner,
            decrypted=o.decrypted,
            integrity=o.integrity,
            fragment=(sk.fragment_number, sk.total_fragments)
            if isinstance(sk, SkfPayload)
            else None,
            retransmission=copy.retrans,
            original_frame=copy.original.frame if copy.original else None,
            problem=o.problem,
            decode_error=str(msg.error) if msg.error else None,
            raw=msg.raw,
        )

    @staticmethod
    def _original(ex: Ex, frag_no: int, *, response: bool) -> Message | None:
        first = (ex.resp if response else ex.req).message
        for m in (first, *ex.others):
            if m is None or m.response != response or m.retransmission is not None:
                continue
            if (m.fragment[0] if m.fragment else 0) == frag_no:
                return m
        return first

    @staticmethod
    def _new_exchange(sa: Sa, key: tuple[int, Side], etype: int, mid: int, requester: Side) -> Ex:
        prior = sa.by_key.get(key)
        # A repeat of the same exchange type is another attempt; another type reusing the ID
        # (a peer bug, or a test harness) starts its own count.
        attempt = prior.attempt + 1 if prior and prior.exchange_type == etype else 1
        ex = Ex(etype, mid, requester, attempt)
        sa.by_key[key] = ex
        sa.exchanges.append(ex)
        return ex

    def _attach(
        self,
        sa: Sa,
        ex: Ex,
        m: Message,
        msg: IkeMessage,
        frag_no: int,
        retrans: RetransmitKind | None,
    ) -> None:
        """File the copy under its exchange; run the exchange's shape once it is complete."""
        sk = msg.sk
        if retrans == "retransmit" or (retrans == "other-bytes" and m.response):
            ex.others.append(m)
            return
        clear = [p for p in m.payloads if p is not sk]
        half = ex.resp if m.response else ex.req
        if half.message is None:
            half.message = m
        else:
            ex.others.append(m)
        half.raw[frag_no] = msg.raw
        if frag_no <= 1:
            half.payloads.extend(clear)
        half.payloads.extend(m.inner)
        half.decrypted = half.decrypted or m.decrypted
        if half.done or not self._complete(m, half.raw, sk):
            return
        half.done = True
        on_request, on_response = SHAPES.get(ex.exchange_type, DEFAULT_SHAPE)
        if m.response:
            check_response(self._ctx, sa, ex, m)
            on_response(self._ctx, sa, ex, m)
        else:
            on_request(self._ctx, sa, ex, m)

    @staticmethod
    def _complete(m: Message, raws: dict[int, bytes], sk: SkPayload | SkfPayload | None) -> bool:
        """All of the message is here: unfragmented, decrypted, or every fragment seen."""
        if not isinstance(sk, SkfPayload) or m.decrypted:
            return True
        return len(raws) >= sk.total_fragments

    # ------------------------------------------------------------ output

    def snapshot(self, *, frames: int = 0, complete: bool = True) -> Analysis:
        """Freeze what is known so far into an ``Analysis``."""
        ctx = self._ctx
        if complete:
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
        return merge.take_part(self._ctx, recorder)

    def absorb_esp(self, parts: list[merge.EspPart]) -> bool:
        """Fold later ranges' ESP into this correlator; False if they cannot be (then discard
        this correlator and read the capture in one pass)."""
        return merge.absorb(self._ctx, parts)
