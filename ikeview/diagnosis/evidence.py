"""Facts the rules share: what a message carries, how small an encrypted message can be.

Everything here reads the frozen model only. The size bounds are what lets a verdict be honest
without keys: an encrypted message shorter than the least that could carry a payload set cannot
carry it, whatever the keys would show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ikeview import iana
from ikeview.crypto import transforms
from ikeview.dissectors.ike_records import (
    AuthPayload,
    DeletePayload,
    NotifyPayload,
    Proposal,
    SaPayload,
)
from ikeview.pipeline.model import Analysis, EspSpiStats, Exchange, IkeSa, Message

N = iana.NotifyType
X = iana.ExchangeType

IKE_HEADER = 28
"""RFC 7296 3.1."""
GENERIC_HEADER = 4
"""RFC 7296 3.2: every payload, the SK payload included."""

# RFC 7296 1.2: a successful IKE_AUTH response carries IDr, AUTH, SA, TSi and TSr. The least
# each can be (header included): ID with a 1-octet identity; AUTH with a PSK MAC (prf output,
# added below); SA with one ESP proposal (8) with a 4-octet SPI and two 8-octet transforms (an
# AEAD cipher and ESN); TSi/TSr with one IPv4 range each (8-octet header and 16 octets).
MIN_IDR = GENERIC_HEADER + 4 + 1
MIN_AUTH_FIXED = GENERIC_HEADER + 4
MIN_SA = GENERIC_HEADER + 8 + 4 + 2 * 8
MIN_TS = GENERIC_HEADER + 4 + 16


def notifies(m: Message | None) -> tuple[int, ...]:
    """Notify types a message carries, clear and decrypted."""
    return () if m is None else m.notifies


def payloads(m: Message | None) -> tuple[object, ...]:
    """Clear then decrypted payload records of a message."""
    return () if m is None else (*m.payloads, *m.inner)


def readable(m: Message | None) -> bool:
    """The message's payloads can be read: it was decrypted, or it carries no SK/SKF payload."""
    if m is None:
        return False
    if m.decrypted:
        return True
    return not any(t in (iana.PayloadType.SK, iana.PayloadType.SKF) for t in m.payload_types)


def has_auth(m: Message | None) -> bool:
    """An AUTH payload was read in the message."""
    return any(isinstance(p, AuthPayload) for p in payloads(m))


def sa_payload(m: Message | None) -> SaPayload | None:
    """The message's SA payload, if one was read."""
    for p in payloads(m):
        if isinstance(p, SaPayload):
            return p
    return None


def deletes(m: Message | None) -> tuple[DeletePayload, ...]:
    """Delete payloads read in the message."""
    return tuple(p for p in payloads(m) if isinstance(p, DeletePayload))


def notify(m: Message | None, ntype: int) -> NotifyPayload | None:
    """The first notify of a type in the message."""
    for p in payloads(m):
        if isinstance(p, NotifyPayload) and p.notify_type == ntype:
            return p
    return None


def _spec(ttype: int, proposal: Proposal) -> transforms.TransformSpec | None:
    for t in proposal.transforms:
        if t.transform_type == ttype:
            try:
                return transforms.lookup(ttype, t.transform_id, t.key_length)
            except (LookupError, ValueError):
                return None
    return None


def min_sk_message(chosen: Proposal | None, inner: int) -> int | None:
    """Least length of an IKE message whose SK payload protects ``inner`` octets of payloads
    under the chosen IKE proposal (RFC 7296 3.14: IV, padding to the block size with the Pad
    Length octet, ICV); None when the proposal is unknown or not in the registry."""
    if chosen is None:
        return None
    encr = _spec(transforms.TransformType.ENCR, chosen)
    if encr is None:
        return None
    icv = encr.icv_len
    if not encr.aead:
        integ = _spec(transforms.TransformType.INTEG, chosen)
        if integ is None:
            return None
        icv = integ.icv_len
    block = max(encr.block_len, 1)
    plain = inner + 1  # the Pad Length octet
    plain += (-plain) % block
    return IKE_HEADER + GENERIC_HEADER + encr.iv_len + plain + icv


def prf_len(chosen: Proposal | None) -> int:
    """Output length of the chosen PRF (16 when unknown: the shortest IKEv2 PRF)."""
    if chosen is None:
        return 16
    spec = _spec(transforms.TransformType.PRF, chosen)
    return spec.output_len if spec is not None and spec.output_len else 16


def min_auth_response(chosen: Proposal | None, *, with_child: bool) -> int | None:
    """Least length of an IKE_AUTH response carrying IDr and AUTH, and with ``with_child`` also
    SA, TSi and TSr (RFC 7296 1.2)."""
    inner = MIN_IDR + MIN_AUTH_FIXED + prf_len(chosen)
    if with_child:
        inner += MIN_SA + 2 * MIN_TS
    return min_sk_message(chosen, inner)


MIN_NONCE = GENERIC_HEADER + 16
"""A Nonce payload with the least nonce allowed (RFC 7296 3.9: 16 octets)."""


def min_create_child_response(chosen: Proposal | None) -> int | None:
    """Least length of a CREATE_CHILD_SA response that accepts something: SA and Nonce at
    least (RFC 7296 1.3); anything shorter holds only notifies, i.e. a refusal."""
    return min_sk_message(chosen, MIN_SA + MIN_NONCE)


def refused_by_size(chosen: Proposal | None, ex: Exchange) -> bool:
    """An encrypted, unread CREATE_CHILD_SA response too small for SA + Nonce (no retry)."""
    resp = ex.response
    if resp is None or readable(resp) or resp.fragment is not None or ex.retry is not None:
        return False
    least = min_create_child_response(chosen)
    return least is not None and resp.length < least


def first_request(ex: Exchange) -> Message | None:
    """The request, or None when only the response was seen."""
    return ex.request


def request_copies(ex: Exchange) -> tuple[Message, ...]:
    """The request and its retransmitted copies, in capture order."""
    found = [ex.request] if ex.request is not None else []
    found += [m for m in ex.copies if not m.response and m.retransmission == "retransmit"]
    return tuple(sorted(found, key=lambda m: (m.ts, m.frame)))


def all_esp(sa: IkeSa) -> Iterator[EspSpiStats]:
    """ESP counters of every child SA of the IKE SA."""
    for c in sa.child_sas:
        yield from c.esp


@dataclass(frozen=True, slots=True)
class Index:
    """The analysis with what every SA's rules ask of the whole capture computed once: without
    it, each SA would scan every SA and ESP SPI again (quadratic on a scan of 10,000 IKE SAs)."""

    analysis: Analysis
    end: float
    """Time of the last IKE message or ESP packet."""
    esp_by_peers: dict[frozenset[str], tuple[EspSpiStats, ...]]
    """Unassociated ESP SPIs by their pair of addresses."""
    sas_by_peers: dict[frozenset[str | None], tuple[IkeSa, ...]] = field(default_factory=dict)
    """IKE SAs by their pair of addresses."""


def same_peers(facts: Facts, sa: IkeSa) -> tuple[IkeSa, ...]:
    """The IKE SAs between the same two addresses as ``sa`` (itself included)."""
    key = frozenset((sa.initiator, sa.responder))
    if isinstance(facts, Index):
        return facts.sas_by_peers.get(key, ())
    return tuple(s for s in facts.ike_sas if frozenset((s.initiator, s.responder)) == key)


Facts = Analysis | Index
"""What the rules read: the analysis itself, or its Index (the engine passes an Index)."""


def index(analysis: Analysis) -> Index:
    """Build the Index of an analysis (one pass over its SAs and ESP SPIs)."""
    by_peers: dict[frozenset[str], list[EspSpiStats]] = {}
    for s in analysis.unassociated_esp:
        by_peers.setdefault(frozenset((s.src, s.dst)), []).append(s)
    sas: dict[frozenset[str | None], list[IkeSa]] = {}
    for sa in analysis.ike_sas:
        sas.setdefault(frozenset((sa.initiator, sa.responder)), []).append(sa)
    return Index(
        analysis,
        _capture_end(analysis),
        {k: tuple(v) for k, v in by_peers.items()},
        {k: tuple(v) for k, v in sas.items()},
    )


def _capture_end(analysis: Analysis) -> float:
    times = [sa.last_ts for sa in analysis.ike_sas]
    times += [s.last_ts for s in analysis.unassociated_esp]
    times += [s.last_ts for sa in analysis.ike_sas for s in all_esp(sa)]
    return max(times, default=0.0)


def capture_end(facts: Facts) -> float:
    """Time of the last IKE message or ESP packet in the analysis."""
    return facts.end if isinstance(facts, Index) else _capture_end(facts)


def esp_after(facts: Facts, sa: IkeSa, ts: float) -> list[EspSpiStats]:
    """ESP SPIs between the SA's peers first seen after ``ts`` (their child SAs may not be known
    without keys, so unassociated SPIs count too)."""
    peers = {sa.initiator, sa.responder}
    found = [s for s in all_esp(sa) if s.first_ts >= ts]
    if isinstance(facts, Index):
        keys = {frozenset(p for p in peers if p)} | {frozenset((p,)) for p in peers if p}
        pool: list[EspSpiStats] = [s for k in keys for s in facts.esp_by_peers.get(k, ())]
        pool.sort(key=lambda s: s.first_ts)
    else:
        pool = list(facts.unassociated_esp)
    found += [s for s in pool if s.first_ts >= ts and {s.src, s.dst} <= peers]
    return found


def group_name(group: int) -> str:
    """``group 19 (ECP_256)``-style name of a DH group."""
    return f"group {group} ({iana.DH_GROUPS.name(group)})"


__all__ = [
    "Facts",
    "Index",
    "N",
    "X",
    "all_esp",
    "capture_end",
    "deletes",
    "esp_after",
    "group_name",
    "has_auth",
    "index",
    "min_auth_response",
    "min_create_child_response",
    "min_sk_message",
    "notifies",
    "notify",
    "payloads",
    "prf_len",
    "readable",
    "refused_by_size",
    "request_copies",
    "sa_payload",
    "same_peers",
]
