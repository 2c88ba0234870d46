"""What decrypted ESP packets carry: the core's door to the inner-packet dissector.

The views may not import the dissectors (tests/test_architecture.py), so they ask here: the
correlator folds each decrypted packet into its SPI's :class:`InnerFlowCounter`, and the TUI
summarizes the rows it records with :func:`summarize`. Both read the same ``EspOpened`` the
decryptor returned, so neither parses or decrypts anything on its own.
"""

from __future__ import annotations

from ikeview.dissectors.inner import FlowKey, InnerSummary, inner_summary
from ikeview.pipeline.model import MAX_INNER_FLOWS, InnerFlow
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

    __slots__ = ("_flows", "limit", "other")

    def __init__(self, limit: int = MAX_INNER_FLOWS) -> None:
        self.limit = limit
        self._flows: dict[FlowKey, list] = {}
        """Per flow key: [first summary, packets, bytes] (insertion order = first seen)."""
        self.other = 0

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
