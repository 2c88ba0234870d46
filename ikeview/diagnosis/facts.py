"""Facts the rules share, read from the frozen model: notifies, ESP seen per IKE SA, sizes.

Nothing here judges; the rules do. The minimum IKE_AUTH response size is the one computation
that matters without keys: an encrypted response smaller than the least that can carry the
payloads of a success cannot be one (RFC 7296 sections 1.2, 3.14).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ikeview.crypto import transforms as tf
from ikeview.diagnosis.codes import code
from ikeview.diagnosis.records import Basis, ExtraValue, Finding, FindingSeverity
from ikeview.dissectors.ike_records import NotifyPayload, Proposal
from ikeview.pipeline.model import Analysis, EspSpiStats, Exchange, IkeSa, Message
from ikeview.pipeline.seam import IkeSpis

IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL = 34, 35, 36, 37

# RFC 7296 section 3.10.1 (IANA "IKEv2 Notify Message Error Types").
N_INVALID_SYNTAX = 7
N_NO_PROPOSAL_CHOSEN = 14
N_INVALID_KE_PAYLOAD = 17
N_AUTHENTICATION_FAILED = 24
N_SINGLE_PAIR_REQUIRED = 34
N_NO_ADDITIONAL_SAS = 35
N_INTERNAL_ADDRESS_FAILURE = 36
N_FAILED_CP_REQUIRED = 37
N_TS_UNACCEPTABLE = 38
N_INVALID_SELECTORS = 39
N_TEMPORARY_FAILURE = 43
N_CHILD_SA_NOT_FOUND = 44
N_COOKIE = 16390
N_REKEY_SA = 16393
N_FRAGMENTATION_SUPPORTED = 16430

IKE_HEADER = 28
"""RFC 7296 3.1."""
GENERIC_HEADER = 4
"""RFC 7296 3.2."""
TYPICAL_MTU = 1500
"""Ethernet; an IP datagram above it leaves the sender as IP fragments."""
SAFE_SIZE = 1280
"""IPv6's minimum MTU, the size RFC 7383 section 2.5.1 suggests fragmenting for."""


@dataclass(frozen=True, slots=True)
class Context:
    """The whole analysis plus what the rules compute once for it."""

    analysis: Analysis
    esp: dict[IkeSpis, tuple[EspSpiStats, ...]] = field(default_factory=dict)
    """ESP SPIs each IKE SA evidently carries: its child SAs' and, without keys, the
    unassociated SPIs between its peers first seen after its IKE_AUTH (see ``attribute_esp``)."""

    @property
    def capture_end(self) -> float:
        """The last time the capture shows anything (IKE or ESP)."""
        times = [sa.last_ts for sa in self.analysis.ike_sas]
        times += [s.last_ts for s in self.analysis.unassociated_esp]
        times += [s.last_ts for sa in self.analysis.ike_sas for c in sa.child_sas for s in c.esp]
        return max(times, default=0.0)


def attribute_esp(analysis: Analysis) -> dict[IkeSpis, tuple[EspSpiStats, ...]]:
    """ESP SPIs per IKE SA: its child SAs' SPIs, plus each unassociated SPI whose addresses are
    the SA's peers, given to the latest such SA set up (IKE_AUTH answered) before its first
    packet. The second part is an inference, used only as evidence without keys."""
    out: dict[IkeSpis, list[EspSpiStats]] = {}
    starts: list[tuple[float, IkeSa]] = []
    for sa in analysis.ike_sas:
        out[sa.spis] = [s for c in sa.child_sas for s in c.esp]
        auth = [e.response_ts for e in sa.exchanges if e.exchange_type == IKE_AUTH]
        start = max((t for t in auth if t is not None), default=None)
        if start is None and sa.created_by is not None:
            continue
        starts.append((sa.first_ts if start is None else start, sa))
    for s in analysis.unassociated_esp:
        best: tuple[float, IkeSa] | None = None
        for start, sa in starts:
            fits = {sa.initiator, sa.responder} == {s.src, s.dst} and start <= s.first_ts
            if fits and (best is None or start >= best[0]):
                best = (start, sa)
        if best is not None:
            out[best[1].spis].append(s)
    return {k: tuple(v) for k, v in out.items()}


def finding(
    name: str,
    frames: Iterable[int],
    basis: Basis,
    explanation: str,
    *,
    severity: FindingSeverity | None = None,
    fix: str | None = "",
    fix_cisco: str | None = "",
    fix_strongswan: str | None = "",
    **extra: ExtraValue,
) -> Finding:
    """A finding of code ``name``; fixes default to the vocabulary's ("" = use the default)."""
    c = code(name)
    return Finding(
        code=name,
        severity=severity or c.severity,
        frames=tuple(sorted(set(frames))),
        basis=basis,
        explanation=explanation,
        fix=c.fix if fix == "" else fix,
        fix_cisco=c.fix_cisco if fix_cisco == "" else fix_cisco,
        fix_strongswan=c.fix_strongswan if fix_strongswan == "" else fix_strongswan,
        extra=tuple((k, v) for k, v in extra.items() if v is not None),
    )


def notify(m: Message | None, notify_type: int) -> NotifyPayload | None:
    """The first notify of that type in a message (clear or decrypted)."""
    if m is None:
        return None
    for p in (*m.payloads, *m.inner):
        if isinstance(p, NotifyPayload) and p.notify_type == notify_type:
            return p
    return None


def readable(m: Message | None) -> bool:
    """The message's payloads can be read: decrypted, or sent without an SK/SKF payload."""
    if m is None:
        return False
    return m.decrypted or not any(t in (46, 53) for t in m.payload_types)


def answer(ex: Exchange) -> Message | None:
    """The response as far as it can be read: for RFC 7383 fragments the fragment whose arrival
    completed (and decrypted) the message, else the first copy."""
    if ex.response is None or ex.response.fragment is None:
        return ex.response
    done = [m for m in ex.copies if m.response and m.decrypted]
    return done[0] if done else ex.response


def request_copies(ex: Exchange) -> tuple[Message, ...]:
    """The request's first copy and its identical retransmissions, in time order."""
    if ex.request is None:
        return ()
    copies = [m for m in ex.copies if not m.response and m.retransmission == "retransmit"]
    return tuple(sorted((ex.request, *copies), key=lambda m: (m.ts, m.frame)))


def datagram_size(m: Message) -> int:
    """Bytes of the IP datagram that carried the message (IP + UDP/TCP + marker + IKE)."""
    ip = 20 if m.flow.ip_version == 4 else 40
    marker = 4 if 4500 in (m.flow.sport, m.flow.dport) else 0
    return ip + 8 + marker + m.length


def _spec(proposal: Proposal, ttype: int) -> tf.TransformSpec | None:
    for t in proposal.transforms:
        if t.transform_type == ttype:
            try:
                return tf.lookup(ttype, t.transform_id, t.key_length)
            except tf.UnsupportedTransform:
                return None
    return None


def sk_size(proposal: Proposal | None, plaintext: int) -> int | None:
    """Smallest IKE message (header + SK payload) carrying ``plaintext`` inner-payload bytes with
    this proposal's ENCR/INTEG (RFC 7296 3.14: IV, padding to the block, pad length octet, ICV);
    None when the cipher is not in the transform table."""
    if proposal is None:
        return None
    encr = _spec(proposal, 1)
    if encr is None:
        return None
    icv = encr.icv_len
    if not encr.aead:
        integ = _spec(proposal, 3)
        if integ is None:
            return None
        icv = integ.icv_len
    block = max(encr.block_len, 1)
    padded = -(-(plaintext + 1) // block) * block
    return IKE_HEADER + GENERIC_HEADER + encr.iv_len + padded + icv


def prf_len(proposal: Proposal | None) -> int | None:
    """PRF output octets of the proposal (the size of a shared-key AUTH value)."""
    prf = None if proposal is None else _spec(proposal, 2)
    return None if prf is None else prf.output_len


MIN_IDR = GENERIC_HEADER + 4 + 1
"""An ID payload with a one-octet identity (RFC 7296 3.5)."""
MIN_SA_CHILD = GENERIC_HEADER + 8 + 4 + 8 + 8
"""An SA payload: one ESP proposal (SPI of 4) with one ENCR and the ESN transform (3.3)."""
MIN_TS_PAIR = 2 * (GENERIC_HEADER + 4 + 16)
"""TSi and TSr, one IPv4 selector each (3.13)."""


@dataclass(frozen=True, slots=True)
class AuthSizes:
    """Least sizes of an IKE_AUTH response for the negotiated IKE proposal."""

    with_auth: int
    """IDr + AUTH (shared-key MIC, the smallest AUTH there is): the IKE SA was accepted."""
    full: int
    """IDr + AUTH + SA + TSi + TSr: the IKE SA and its first child SA were accepted."""


def auth_response_sizes(proposal: Proposal | None) -> AuthSizes | None:
    """The least IKE_AUTH response sizes for ``proposal``; None when they cannot be computed."""
    prf = prf_len(proposal)
    if prf is None:
        return None
    auth = MIN_IDR + GENERIC_HEADER + 4 + prf
    with_auth = sk_size(proposal, auth)
    full = sk_size(proposal, auth + MIN_SA_CHILD + MIN_TS_PAIR)
    if with_auth is None or full is None:
        return None
    return AuthSizes(with_auth, full)


def message_size(ex: Exchange, response: bool) -> int | None:
    """The length of the request or response, summing RFC 7383 fragments of its first copy."""
    first = ex.response if response else ex.request
    if first is None:
        return None
    if first.fragment is None:
        return first.length
    frags = {
        m.fragment[0]: m.length
        for m in (first, *ex.copies)
        if m.response == response and m.fragment is not None and m.retransmission is None
    }
    return sum(frags.values())


__all__ = [
    "AuthSizes",
    "Context",
    "answer",
    "attribute_esp",
    "auth_response_sizes",
    "datagram_size",
    "finding",
    "message_size",
    "notify",
    "readable",
    "request_copies",
    "request_frames",
    "sk_size",
]


def request_frames(*exchanges: Exchange) -> list[int]:
    """Frames of the first request and response of each exchange."""
    return [m.frame for e in exchanges for m in (e.request, e.response) if m is not None]
