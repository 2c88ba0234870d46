"""ESP counting: one :class:`EspCounter` per (SPI, destination), with the RFC 4303 anti-replay
window. Packets are counted, never stored: memory grows with SPIs, not with packets.

The window is kept for reporting only (replays, late packets, gaps); nothing is dropped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ikeview.dissectors.esp import esp_packet
from ikeview.dissectors.records import EspPacket
from ikeview.pipeline.capture_model import EspSpiStats
from ikeview.pipeline.inner import InnerFlowCounter
from ikeview.pipeline.seam import EspOpened

ESP_REPLAY_WINDOW = 1024
"""Bits of sequence-number history kept per SPI to tell replays from late packets."""
MAX_ESP_NESTING = 4
"""ESP layers opened inside one packet at most (ESP in ESP in ...): bounds hostile input."""
_IPPROTO_ESP, _IPPROTO_IPV4, _IPPROTO_IPV6 = 50, 4, 41
_WINDOW_MASK = (1 << ESP_REPLAY_WINDOW) - 1


def nested_esp(outer: EspPacket, opened: EspOpened) -> EspPacket | None:
    """The ESP packet a decrypted tunnel-mode packet carries (IP protocol 50), if it does.

    Its flow is the inner IP header's addresses, at the outer packet's frame and time, so the
    nested SA is counted under its own SPI and destination like any other.
    """
    ip = opened.inner
    if ip is None or opened.next_header not in (_IPPROTO_IPV4, _IPPROTO_IPV6) or len(ip) < 40:
        return None
    version = ip[0] >> 4
    if version == 4:
        start, proto = (ip[0] & 0x0F) * 4, ip[9]
        end = int.from_bytes(ip[2:4], "big")
        src, dst = ip[12:16], ip[16:20]
    elif version == 6:
        # Extension headers before ESP are not walked: ESP right after the fixed header only.
        start, proto = 40, ip[6]
        end = 40 + int.from_bytes(ip[4:6], "big")
        src, dst = ip[8:24], ip[24:40]
    else:
        return None
    if proto != _IPPROTO_ESP or start < 20 or len(ip) < start + 8:
        return None
    # The IP length bounds the ESP packet (TFC padding may follow it, RFC 4303 section 2.7).
    data = ip[start : end if start + 8 <= end <= len(ip) else len(ip)]
    flow = replace(
        outer.flow,
        ip_version=version,
        src=str(ipaddress.ip_address(bytes(src))),
        dst=str(ipaddress.ip_address(bytes(dst))),
        transport="ip",
        sport=0,
        dport=0,
    )
    return esp_packet(flow, bytes(data), len(data), False)


@dataclass(slots=True)
class ReplayWindow:
    """Anti-replay bookkeeping in the manner of RFC 4303 3.4.3: a bitmap of the last
    :data:`ESP_REPLAY_WINDOW` sequence numbers below the highest one seen."""

    max_seq: int = 0
    min_seq: int = 0
    unique: int = 0
    """Distinct sequence numbers seen."""
    bits: int = 0
    """Bit ``n`` set: ``max_seq - n`` was seen."""
    replays: int = 0
    out_of_order: int = 0
    gap_frame: int | None = None
    """First frame whose sequence number jumped ahead of the next expected one."""
    replay_frame: int | None = None
    """First frame that repeated a sequence number."""

    def see(self, seq: int, frame: int = 0) -> None:
        if self.unique == 0:
            self.max_seq = self.min_seq = seq
            self.bits = 1
            self.unique = 1
            return
        if seq > self.max_seq:
            shift = seq - self.max_seq
            if shift > 1 and self.gap_frame is None:
                self.gap_frame = frame
            self.bits = ((self.bits << shift) | 1) & ((1 << ESP_REPLAY_WINDOW) - 1)
            self.max_seq = seq
            self.unique += 1
            return
        diff = self.max_seq - seq
        if diff < ESP_REPLAY_WINDOW and (self.bits >> diff) & 1:
            self.replays += 1
            if self.replay_frame is None:
                self.replay_frame = frame
            return
        if diff < ESP_REPLAY_WINDOW:
            self.bits |= 1 << diff
        self.out_of_order += 1
        self.unique += 1
        self.min_seq = min(self.min_seq, seq)

    def see_run(self, seqs: list[int], frames: Sequence[int]) -> None:
        """``see(seq, frame)`` for each pair in turn. A run of consecutive numbers right after
        the highest one seen (or starting an empty window), nearly every batch of a healthy SA,
        is taken in one step: same bits and counts, no gap, no replay."""
        n = len(seqs)
        if not n:
            return
        first = self.max_seq + 1 if self.unique else seqs[0]
        if seqs[-1] == first + n - 1 and seqs == list(range(first, first + n)):
            if self.unique:
                self.bits = ((self.bits << n) | ((1 << n) - 1)) & _WINDOW_MASK
            else:
                self.bits = ((1 << n) - 1) & _WINDOW_MASK
                self.min_seq = first
            self.max_seq = seqs[-1]
            self.unique += n
            return
        see = self.see
        for seq, frame in zip(seqs, frames, strict=True):
            see(seq, frame)

    @property
    def missing(self) -> int:
        """Sequence numbers between the lowest and highest seen that never arrived."""
        span = self.max_seq - self.min_seq + 1 if self.unique else 0
        return max(span - self.unique, 0)


@dataclass(slots=True)
class EspCounter:
    """The packets of one SPI towards one destination, counted as they pass."""

    spi: int
    src: str
    dst: str
    udp_encap: bool
    first_ts: float
    first_seq: int
    packets: int = 0
    bytes: int = 0
    last_ts: float = 0.0
    last_seq: int = 0
    window: ReplayWindow = field(default_factory=ReplayWindow)
    decrypted: int = 0
    integrity_failed: int = 0
    problem: str | None = None
    inner: InnerFlowCounter | None = None
    """Inner flows of the decrypted packets; made at the first one."""
    first_frame: int = 0
    last_frame: int = 0
    integrity_failed_frame: int | None = None

    def freeze(self) -> EspSpiStats:
        w = self.window
        return EspSpiStats(
            spi=self.spi,
            src=self.src,
            dst=self.dst,
            udp_encap=self.udp_encap,
            packets=self.packets,
            bytes=self.bytes,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            first_seq=self.first_seq,
            last_seq=self.last_seq,
            max_seq=w.max_seq,
            missing=w.missing,
            replays=w.replays,
            out_of_order=w.out_of_order,
            decrypted=self.decrypted,
            integrity_failed=self.integrity_failed,
            problem=self.problem,
            inner_flows=self.inner.freeze() if self.inner is not None else (),
            inner_other=self.inner.other if self.inner is not None else 0,
            first_frame=self.first_frame,
            last_frame=self.last_frame,
            gap_frame=w.gap_frame,
            replay_frame=w.replay_frame,
            integrity_failed_frame=self.integrity_failed_frame,
        )
