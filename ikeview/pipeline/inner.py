"""What decrypted ESP packets carry: the core's door to the inner-packet dissector.

The views may not import the dissectors (tests/test_architecture.py), so they ask here: the
correlator folds each decrypted packet into its SPI's :class:`InnerFlowCounter`, and the TUI
summarizes the rows it records with :func:`summarize`. Both read the same ``EspOpened`` the
decryptor returned, so neither parses or decrypts anything on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ikeview.dissectors.inner import FlowKey, InnerSummary, inner_summary
from ikeview.pipeline.capture_model import MAX_INNER_FLOWS, InnerFlow
from ikeview.pipeline.seam import EspOpened


def summarize(opened: EspOpened) -> InnerSummary | None:
    """The inner packet of a decrypted ESP packet, summarized; None when not decrypted."""
    if not opened.decrypted or opened.inner is None or opened.next_header is None:
        return None
    return inner_summary(opened.next_header, opened.inner)


class InnerFlowCounter:
    """Packets per inner flow of one SPI, for at most ``limit`` distinct flows.

    Memory stays bounded by the number of SAs, not packets: once ``limit`` flows are known, the
    packets of any other flow only add to ``other``.
    """

    __slots__ = ("_by_header", "_flows", "limit", "other")

    def __init__(self, limit: int = MAX_INNER_FLOWS) -> None:
        self.limit = limit
        self._flows: dict[FlowKey, list[Any]] = {}
        """Per flow key: [first summary, packets, bytes] (insertion order = first seen)."""
        self._by_header: dict[tuple[int, bytes] | tuple[int, bytes, bytes], list[Any] | None] = {}
        """The same entries (None: an uncounted flow) keyed by the raw header bytes that decide
        the flow, so most packets skip the dissector (a summary costs ~4 us, this ~0.3 us)."""
        self.other = 0

    def add_opened(self, opened: EspOpened) -> None:
        """Count one ESP packet if it was decrypted."""
        inner = opened.inner
        if not opened.decrypted or inner is None or opened.next_header is None:
            return
        self.add_inner(opened.next_header, inner)

    def add_inner(self, next_header: int, inner: bytes) -> None:
        """Count one decrypted packet: its Next Header and what it carried."""
        key = _ipv4_flow_bytes(next_header, inner)
        if key is None:
            self.add(inner_summary(next_header, inner))
            return
        entry = self._by_header.get(key, _MISSING)
        if entry is _MISSING:
            before = len(self._flows)
            summary = inner_summary(next_header, inner)
            self.add(summary)
            entry = self._flows.get(summary.key) if len(self._flows) > before else None
            if len(self._by_header) < _HEADER_CACHE:
                self._by_header[key] = entry
            return
        if entry is None:
            self.other += 1
        else:
            entry[1] += 1
            entry[2] += len(inner)

    def add_clean(self, packets: Iterable[tuple[int, bytes, bool | None]]) -> None:
        """``add_inner(next_header, inner)`` for each (next header, inner, _) in turn."""
        # Measured hot loop (one iteration per decrypted ESP packet of a batch): the common
        # case, an already known IPv4 flow without options, inline; the rest via add_inner.
        get, slow, ports = self._by_header.get, self.add_inner, _PORTS
        other = 0
        for next_header, inner, _ok in packets:
            if (
                next_header == 4
                and inner[0] == 0x45
                and len(inner) >= 28
                and not (inner[6] & 0x3F or inner[7])
            ):
                proto = inner[9]
                tail = 24 if proto in ports else 22 if proto == 1 else 20
                entry = get((proto, inner[12:tail]), _MISSING)
                if entry is not _MISSING:
                    if entry is None:
                        other += 1
                    else:
                        entry[1] += 1
                        entry[2] += len(inner)
                    continue
            slow(next_header, inner)
        self.other += other

    def add(self, summary: InnerSummary) -> None:
        """Count one decrypted packet."""
        key = summary.key
        found = self._flows.get(key)
        if found is not None:
            found[1] += 1
            found[2] += summary.length
        elif len(self._flows) < self.limit:
            self._flows[key] = [summary, 1, summary.length]
        else:
            self.other += 1

    def freeze(self) -> tuple[InnerFlow, ...]:
        """The flows as model records, in order of first packet."""
        return tuple(_flow(s, n, b) for s, n, b in self._flows.values())


_MISSING: list[Any] = []
_HEADER_CACHE = 4096


_PORTS = (6, 17, 132)  # TCP, UDP, SCTP: ports in the first 4 octets after the IP header


def _ipv4_flow_bytes(
    next_header: int, inner: bytes
) -> tuple[int, bytes] | tuple[int, bytes, bytes] | None:
    """For a whole (unfragmented) inner IPv4 packet in tunnel mode, the bytes that decide its
    flow: protocol and addresses (RFC 791 offsets 9 and 12-19), then the ports (TCP, UDP, SCTP)
    or the ICMP type and code. None for anything else, which takes the dissector's path."""
    if next_header != 4 or len(inner) < 28 or inner[0] >> 4 != 4:
        return None
    if inner[6] & 0x3F or inner[7]:  # MF or a fragment offset: let the dissector say so
        return None
    ihl = (inner[0] & 0x0F) * 4
    proto = inner[9]
    if ihl == 20:
        # The usual header without options: addresses and ports (or ICMP type and code) are
        # one run of octets, so one slice (the key add_clean computes inline).
        return proto, inner[12 : 24 if proto in _PORTS else 22 if proto == 1 else 20]
    if proto in (6, 17, 132):
        tail = inner[ihl : ihl + 4]
        if len(tail) < 4:
            return None
    elif proto == 1:
        tail = inner[ihl : ihl + 2]
        if len(tail) < 2:
            return None
    else:
        tail = b""
    return proto, inner[12:20], tail


def _flow(s: InnerSummary, packets: int, size: int) -> InnerFlow:
    return InnerFlow(
        text=s.text(),
        packets=packets,
        bytes=size,
        ip_version=s.ip_version,
        protocol=s.protocol,
        src=s.src,
        dst=s.dst,
        sport=s.sport,
        dport=s.dport,
        icmp_type=s.icmp_type,
        icmp_code=s.icmp_code,
        error=None if s.error is None else str(s.error),
    )


__all__ = ["InnerFlowCounter", "InnerSummary", "summarize"]
