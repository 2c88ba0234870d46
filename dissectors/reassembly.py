"""IP fragment reassembly for IPv4 (RFC 791 section 3.2) and IPv6 (RFC 8200 section 4.5).

IKE_AUTH messages carrying certificates are often larger than the path MTU and arrive as IP
fragments; this puts them back together. Memory is bounded: at most ``max_datagrams`` are held
at once (the oldest is dropped to make room), a datagram whose first fragment is older than
``timeout`` capture-seconds is dropped (Linux's ipfrag_time default is 30 s), and no datagram
may grow past 65535 + 40 bytes. Where fragments overlap, the lower-offset fragment's bytes
win (a duplicate of an already-held offset is ignored).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

_MAX_DATAGRAM = 65535 + 40
_PART_COST = 96
"""Bytes charged per held fragment on top of its payload (the bytes object and its dict slot):
8192 eight-byte fragments of one datagram cost far more than 64 KB of Python memory."""


@dataclass(slots=True)
class _Pending:
    """Fragments of one datagram seen so far."""

    first_ts: float
    parts: dict[int, bytes] = field(default_factory=dict)
    total: int = -1  # payload length, known once the last fragment (MF=0) arrived
    size: int = 0  # memory charged: payload bytes plus _PART_COST per fragment
    got: int = 0  # payload bytes held
    meta: object = None  # caller's data from the offset-0 fragment (e.g. its protocol)


class Reassembler:
    """Collects fragments per (addresses, protocol, identification) key until complete."""

    def __init__(
        self, *, timeout: float = 30.0, max_datagrams: int = 256, max_bytes: int = 8 << 20
    ) -> None:
        self.timeout = timeout
        self.max_datagrams = max_datagrams
        self.max_bytes = max_bytes
        self.dropped = 0
        """Incomplete datagrams given up (timeout, limits, impossible offsets)."""
        self._pending: dict[Hashable, _Pending] = {}
        self._bytes = 0
        self._oldest = 0.0

    def __len__(self) -> int:
        return len(self._pending)

    def add(
        self, key: Hashable, offset: int, more: bool, payload: bytes, ts: float, meta: object = None
    ) -> tuple[bytes, object] | None:
        """Add one fragment's payload; once the datagram is complete return (whole payload,
        the ``meta`` given with its offset-0 fragment). IPv6 needs the latter: only the first
        fragment's Next Header counts (RFC 8200 section 4.5)."""
        pend = self._pending
        if pend and ts - self._oldest > self.timeout:
            self._expire(ts)
        entry = pend.get(key)
        if entry is None:
            while len(pend) >= self.max_datagrams or (
                pend and self._bytes + len(payload) + _PART_COST > self.max_bytes
            ):
                self._drop(next(iter(pend)))
            entry = pend[key] = _Pending(ts)
            if len(pend) == 1:
                self._oldest = ts
        end = offset + len(payload)
        if end > _MAX_DATAGRAM or (entry.total >= 0 and end > entry.total):
            self._drop(key)
            return None
        if not more:
            if entry.total >= 0 and entry.total != end:
                self._drop(key)
                return None
            entry.total = end
        if offset == 0:
            entry.meta = meta
        if offset not in entry.parts:
            cost = len(payload) + _PART_COST
            if entry.size + cost > 2 * _MAX_DATAGRAM or self._bytes + cost > self.max_bytes:
                # Overlapping fragments piling onto one datagram (broken or hostile input): a
                # real one never holds twice the largest datagram, and the total stays bounded.
                self._drop(key)
                return None
            entry.parts[offset] = payload
            entry.size += cost
            entry.got += len(payload)
            self._bytes += cost
        if entry.total < 0 or entry.got < entry.total:
            return None
        whole = _join(entry.parts, entry.total)
        if whole is None:
            return None
        del pend[key]
        self._bytes -= entry.size
        return whole, entry.meta

    def _drop(self, key: Hashable) -> None:
        entry = self._pending.pop(key)
        self._bytes -= entry.size
        self.dropped += 1

    def _expire(self, now: float) -> None:
        limit = now - self.timeout
        for key in [k for k, e in self._pending.items() if e.first_ts < limit]:
            self._drop(key)
        self._oldest = min((e.first_ts for e in self._pending.values()), default=now)


def _join(parts: dict[int, bytes], total: int) -> bytes | None:
    """Concatenate fragments in offset order; None while a hole remains."""
    buf = bytearray(total)
    covered = 0
    for off in sorted(parts):
        piece = parts[off]
        if off > covered:
            return None
        end = off + len(piece)
        if end > covered:
            # Overlap: keep what the lower-offset piece gave, only fill the new tail.
            buf[covered:end] = piece[covered - off :]
            covered = end
    return bytes(buf) if covered >= total else None
