"""IKE messages in the correlator: the SA each copy belongs to (rule 1), whether it repeats
another (rule 3), its SK payload opened, the model's ``Message`` built and filed under its
exchange, whose shape (exchanges.py) runs once the message is complete.

The correlator makes its :class:`IkeMessages` on the first IKE message, so a capture of ESP
alone never imports this module nor what it needs (builders, exchange shapes, AUTH, NAT, EAP).
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview import iana
from ikeview.dissectors.ike_records import IkeHeader, IkeMessage, Payload, SkfPayload, SkPayload
from ikeview.dissectors.records import Flow, IkeDatagram
from ikeview.pipeline.correlate import state
from ikeview.pipeline.correlate.builders import Ex, Sa
from ikeview.pipeline.correlate.context import Context
from ikeview.pipeline.correlate.exchanges import DEFAULT_SHAPE, SHAPES, check_response
from ikeview.pipeline.correlate.payloads import ZERO_SPI, ename
from ikeview.pipeline.ids import IntegrityVerdict, Side
from ikeview.pipeline.model import Message, RetransmitKind
from ikeview.pipeline.seam import Decryptor

ET = iana.ExchangeType


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


class IkeMessages:
    """Files each IKE message into the correlator's context (its SAs, exchanges, problems)."""

    def __init__(self, ctx: Context, decryptor: Decryptor) -> None:
        self._ctx = ctx
        self._dec = decryptor

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

    def feed(self, rec: IkeDatagram) -> None:
        """One IKE datagram, in capture order."""
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
        if (
            first is not None
            and first.response == response
            and first.retransmission is None
            and (first.fragment[0] if first.fragment else 0) == frag_no
        ):
            return first
        return ex.firsts.get((response, frag_no), first)

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
            if m.retransmission is None:
                ex.firsts.setdefault((m.response, frag_no), m)
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


__all__ = ["IkeMessages"]
