"""The analysis model: frozen records the views (report, export, TUI) read and never change.

The correlator (correlate/) builds these from dissector records; nothing here computes,
decrypts or does I/O. Byte strings are as on the wire: IKE SPIs are 8-byte strings, ESP SPIs are
ints. Times are seconds since the epoch as the capture recorded them. Payload records inside
messages are the dissector's own (``ikeview.dissectors.ike_records``). The capture-level
records (``Analysis``, ``Counters``, ``Problem``, ``EspSpiStats``, ``InnerFlow``) live in
capture_model.py, so that ESP alone never creates the IKE ones; they are re-exported here.

Shape::

    Analysis
      counters: Counters
      ike_sas: tuple[IkeSa]           one per IKE SA (a rekeyed SA is a new IkeSa linked both ways)
        exchanges: tuple[Exchange]     request/response pairs in the order requests were seen
          request, response: Message   plus retransmitted copies in ``copies``
        auth: tuple[AuthSide]          the initiator's and responder's AUTH, checked
        child_sas: tuple[ChildSa]
          esp: tuple[EspSpiStats]      per-SPI counters (never a list of packets)
      unassociated_esp: tuple[EspSpiStats]
      problems: tuple[Problem]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ikeview import iana
from ikeview.diagnosis.records import NOT_DIAGNOSED, ConfigCheck, Diagnosis
from ikeview.dissectors.ike_records import (
    NotifyPayload,
    Payload,
    Proposal,
    TrafficSelector,
)
from ikeview.dissectors.records import Flow
from ikeview.iana.names import eap_method_name as eap_method_name
from ikeview.pipeline.capture_model import (  # re-exported: this module names every record
    MAX_INNER_FLOWS as MAX_INNER_FLOWS,
)
from ikeview.pipeline.capture_model import (
    Analysis,
    Counters,
    EspSpiStats,
    Problem,
    Severity,
    iso_time,
)
from ikeview.pipeline.capture_model import (
    InnerFlow as InnerFlow,
)
from ikeview.pipeline.ids import IkeSpis, IntegrityVerdict, Side
from ikeview.pipeline.model_text import eap_text, proposal_text, ts_text

Integrity = IntegrityVerdict
"""A message's integrity check, as the decryptor reported it (``ike_seam.Opened.integrity``)."""

RetransmitKind = Literal["retransmit", "other-bytes"]
"""strongSwan's is_retransmit rule: same message ID and identical bytes is a ``retransmit``;
same message ID with other bytes (``other-bytes``) is not one (a new attempt or a bad peer)."""

ExchangeStatus = Literal["ok", "failed", "retry", "unanswered", "no-request"]
"""``ok`` answered without an error notify; ``failed`` answered with one (type < 16384);
``retry`` answered with COOKIE or INVALID_KE_PAYLOAD so the request is sent again;
``unanswered`` no response in the capture; ``no-request`` a response whose request was not seen."""

IkeSaState = Literal["half-open", "authenticating", "established", "failed", "deleted", "rekeyed"]
"""``half-open`` IKE_SA_INIT only; ``authenticating`` IKE_AUTH not (yet) answered;
``established``; ``failed`` (see ``IkeSa.failure``); ``deleted`` by a Delete payload;
``rekeyed`` replaced by a successor (``IkeSa.rekeyed_into``)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One IKE message as seen and, where keys allowed, decrypted."""

    frame: int
    """1-based frame number (the last fragment's frame for IP-reassembled datagrams)."""
    ts: float
    """Capture time, seconds since the epoch."""
    flow: Flow
    """Addresses, ports and transport it was seen on."""
    spi_i: bytes
    """SPIi from the header."""
    spi_r: bytes
    """SPIr from the header (zero in IKE_SA_INIT requests)."""
    exchange_type: int
    """IANA exchange type."""
    message_id: int
    """Message ID."""
    response: bool
    """R flag: this is a response."""
    from_initiator: bool
    """I flag: sent by the original initiator of the IKE SA."""
    length: int
    """Length of the message in bytes."""
    payloads: tuple[Payload, ...]
    """Clear payload records in chain order (an SK/SKF payload ends the chain)."""
    inner: tuple[Payload, ...]
    """Decrypted inner payload records; empty when not decrypted (or an SKF fragment pending)."""
    decrypted: bool
    """The SK/SKF payload was opened (for SKF: this fragment completed the message)."""
    integrity: Integrity | None
    """ICV/tag check of the SK/SKF payload; None when not checked (no keys, or no SK payload)."""
    fragment: tuple[int, int] | None
    """(fragment number, total) for an SKF payload (RFC 7383)."""
    retransmission: RetransmitKind | None
    """None for a first copy; ``retransmit`` for an identical copy; ``other-bytes`` for a message
    reusing an earlier one's ID with other bytes (a request doing so starts a new attempt of the
    exchange, e.g. IKE_SA_INIT after COOKIE). See :data:`RetransmitKind`."""
    original_frame: int | None
    """For a retransmission: the frame of the earlier message with the same ID."""
    problem: str | None
    """Why it was not decrypted, or what else is wrong with it."""
    decode_error: str | None
    """Where and why dissecting stopped early (from the dissector)."""
    raw: bytes = b""
    """The IKE message as received (after any non-ESP marker or TCP framing), for hex views."""

    @property
    def payload_types(self) -> tuple[int, ...]:
        """Types of the clear payloads."""
        return tuple(p.payload_type for p in self.payloads)

    @property
    def inner_types(self) -> tuple[int, ...]:
        """Types of the decrypted inner payloads."""
        return tuple(p.payload_type for p in self.inner)

    @property
    def notifies(self) -> tuple[int, ...]:
        """Notify types, clear ones first then decrypted ones."""
        return tuple(
            p.notify_type for p in (*self.payloads, *self.inner) if isinstance(p, NotifyPayload)
        )

    @property
    def exchange_name(self) -> str:
        """IANA name of the exchange type."""
        return iana.EXCHANGE_TYPES.name(self.exchange_type)

    @property
    def sender(self) -> Side:
        """Which end of the IKE SA sent it (from the I flag)."""
        return "initiator" if self.from_initiator else "responder"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response (RFC 7296 section 2.1), matched by message ID and direction."""

    exchange_type: int
    """IANA exchange type of the request (or of the response when no request was seen)."""
    message_id: int
    """Message ID shared by request and response."""
    requester: Side
    """Which end of the IKE SA sent the request (responders send requests too, e.g. DPD)."""
    attempt: int
    """1 for the first request with this ID and direction; 2+ when the ID was reused with other
    bytes (IKE_SA_INIT after COOKIE / INVALID_KE_PAYLOAD)."""
    request: Message | None
    """The first copy of the request; None when the capture has only the response."""
    response: Message | None
    """The first copy of the response; None when unanswered."""
    copies: tuple[Message, ...]
    """Retransmitted copies of request and response, and same-ID-other-bytes responses."""
    status: ExchangeStatus
    """See :data:`ExchangeStatus`."""
    error: int | None
    """The error notify (type < 16384) that failed it, if any."""
    retry: int | None
    """COOKIE (16390) or INVALID_KE_PAYLOAD (17) when the responder asked for a new attempt."""
    purpose: str | None
    """What the exchange did, once known: ``new child SA``, ``rekey child SA``, ``rekey IKE SA``,
    ``delete IKE SA``, ``delete child SA``, ``liveness check``; None when unknown/encrypted."""

    @property
    def name(self) -> str:
        """IANA name of the exchange type."""
        return iana.EXCHANGE_TYPES.name(self.exchange_type)

    @property
    def request_ts(self) -> float | None:
        """Capture time of the request's first copy."""
        return self.request.ts if self.request else None

    @property
    def response_ts(self) -> float | None:
        """Capture time of the response's first copy."""
        return self.response.ts if self.response else None

    @property
    def rtt(self) -> float | None:
        """Round trip: response time minus request time (first copies), in seconds."""
        if self.request is None or self.response is None:
            return None
        return self.response.ts - self.request.ts

    @property
    def messages(self) -> tuple[Message, ...]:
        """Every message of the exchange (copies included) in capture order."""
        found = [m for m in (self.request, self.response) if m is not None]
        return tuple(sorted((*found, *self.copies), key=lambda m: (m.ts, m.frame)))


@dataclass(frozen=True, slots=True)
class AuthRound:
    """A later authentication round of one side (RFC 4739 multiple authentication): its own
    IDi/IDr and AUTH, after the round ``AuthSide`` describes."""

    identity: str | None
    """IDi/IDr sent for this round as text; None when not seen."""
    method: int | None
    """IANA auth method of this round's AUTH payload."""
    verified: bool | None
    """True/False when this round's AUTH was checked; None when it could not be."""
    frame: int | None
    """Frame of the message that carried this round's AUTH payload."""

    @property
    def method_name(self) -> str | None:
        """IANA name of the method."""
        return None if self.method is None else iana.AUTH_METHODS.name(self.method)


@dataclass(frozen=True, slots=True)
class AuthSide:
    """One side's identity and AUTH payload (RFC 7296 section 2.15)."""

    side: Side
    """Whose AUTH this is."""
    identity: str | None
    """IDi/IDr as text (decrypted); None when not seen."""
    id_type: int | None
    """IANA ID type."""
    method: int | None
    """IANA auth method of the AUTH payload; None when not seen (encrypted or absent)."""
    verified: bool | None
    """True/False when checked; None when it could not be checked."""
    psk: str | None
    """Label/source of the PSK that reproduced the AUTH value."""
    detail: str
    """One line: what was checked with what, or what is missing."""
    frame: int | None
    """Frame of the message that carried the AUTH payload."""
    eap_identity: str | None = None
    """The identity in the EAP-Response/Identity, when this side authenticated with EAP."""
    eap_method: int | None = None
    """The EAP method type this side answered (26 EAP-MSCHAPv2, 4 EAP-MD5 ...)."""
    eap_result: str | None = None
    """``success`` or ``failure`` (the EAP Code the responder sent), None when not seen."""
    eap_password: bool | None = None
    """After a refused EAP-MSCHAPv2 response: True when an ``[[eap]]`` password given reproduces
    the peer's NT-Response (so the server holds another password), False when none does, None
    when not checked (no password given, no MS-CHAPv2 round, or EAP not refused)."""
    more_rounds: tuple[AuthRound, ...] = ()
    """The side's later authentication rounds (RFC 4739), in order; the fields above describe
    its first round, with ``verified`` and ``detail`` covering all rounds."""

    @property
    def method_name(self) -> str | None:
        """IANA name of the method."""
        return None if self.method is None else iana.AUTH_METHODS.name(self.method)


@dataclass(frozen=True, slots=True)
class AddressChange:
    """A peer of an established IKE SA moved (MOBIKE, RFC 4555 section 3.5: the IKE SA
    initiator's INFORMATIONAL with UPDATE_SA_ADDRESSES, sent from and to the new addresses)."""

    frame: int
    """The frame of the UPDATE_SA_ADDRESSES request."""
    ts: float
    """Its time."""
    side: Side
    """Whose address changed."""
    old: str
    """The address used before."""
    new: str
    """The address used from then on (the IKE SA's ESP moves with it)."""


@dataclass(frozen=True, slots=True)
class NatInfo:
    """NAT detection recomputed (RFC 7296 section 2.23) against the addresses in the capture.

    The verdicts are what a peer concludes from the hashes: a mismatch means a translator, or a
    peer that fakes the hash to force UDP encapsulation (strongSwan ``encap = yes``, and its
    responder once the initiator is behind NAT); ``detail`` says which hash did not match."""

    initiator_behind_nat: bool | None
    """The initiator's NAT_DETECTION hash did not match its address as captured; None = no data."""
    responder_behind_nat: bool | None
    """The responder's hash did not match its address as captured; None = no data."""
    udp_encapsulation: bool
    """Later messages (or ESP) moved to UDP 4500 / NAT-T encapsulation."""
    detail: str
    """Which hashes were compared and how they came out."""


@dataclass(frozen=True, slots=True)
class ChildSa:
    """One child SA (a pair of ESP/AH SAs) set up in IKE_AUTH or CREATE_CHILD_SA."""

    ike_sa: IkeSpis
    """The IKE SA that created it."""
    protocol_id: int
    """3 ESP, 2 AH."""
    spi_initiator: int
    """SPI chosen by the exchange initiator (traffic towards it carries this SPI)."""
    spi_responder: int
    """SPI chosen by the exchange responder (traffic towards it carries this SPI)."""
    initiator: str
    """Address of the exchange initiator."""
    responder: str
    """Address of the exchange responder."""
    created_frame: int
    """Frame of the response that completed it."""
    created_ts: float
    """Its time."""
    exchange_type: int
    """IKE_AUTH or CREATE_CHILD_SA."""
    proposal: Proposal | None
    """The proposal the responder chose."""
    offered: tuple[Proposal, ...]
    """Every proposal the exchange initiator offered."""
    mode: str
    """``tunnel`` or ``transport`` (USE_TRANSPORT_MODE in both messages)."""
    ts_i: tuple[TrafficSelector, ...]
    """TSi as the responder narrowed it."""
    ts_r: tuple[TrafficSelector, ...]
    """TSr as the responder narrowed it."""
    rekey_of: int | None
    """SPI named in N(REKEY_SA) when this child replaced another."""
    rekeyed_by: tuple[int, int] | None
    """(spi_initiator, spi_responder) of the child that replaced this one."""
    deleted_ts: float | None
    """When a Delete payload named one of its SPIs."""
    esp: tuple[EspSpiStats, ...]
    """Per-SPI counters of its traffic (one or two entries; none when no packets were seen)."""
    problem: str | None
    """Why its keys could not be derived, if they could not."""
    error: int | None = None
    """For a child SA the responder refused: the error notify (e.g. NO_PROPOSAL_CHOSEN, 14), or
    0 when the refusal is inferred without keys; None for child SAs that were set up."""
    diagnosis: Diagnosis = NOT_DIAGNOSED
    """Verdict, basis and findings (``ikeview.diagnosis``); filled after correlation."""
    config_checks: tuple[ConfigCheck, ...] = ()
    """This child SA checked against each ``--config`` that applies to it."""
    redundant: bool = False
    """It lost a rekey collision (RFC 7296 2.8.1: both peers rekeyed the same child SA at once;
    the SA of the exchange holding the lowest of the four nonces is redundant and deleted)."""

    @property
    def esp_packets(self) -> int:
        """ESP packets of both SPIs."""
        return sum(s.packets for s in self.esp)

    @property
    def esp_decrypted(self) -> int:
        """ESP packets of both SPIs the decryptor opened."""
        return sum(s.decrypted for s in self.esp)


@dataclass(frozen=True, slots=True)
class IkeSa:
    """One IKE SA: its exchanges, proposals, authentication, NAT, child SAs, lifetime and state."""

    spi_i: bytes
    """SPIi."""
    spi_r: bytes
    """SPIr (zero while only IKE_SA_INIT requests were seen)."""
    initiator: str | None
    """Address of the original initiator (sender of messages with the I flag)."""
    responder: str | None
    """Address of the original responder."""
    exchanges: tuple[Exchange, ...]
    """In the order their first message was seen."""
    state: IkeSaState
    """See :data:`IkeSaState`."""
    state_inferred: bool
    """True when the state was inferred from encrypted traffic (e.g. IKE_AUTH answered but not
    decrypted), not read from decrypted payloads."""
    failure: str | None
    """Why it failed (the error notify and the exchange), when ``state`` is ``failed``."""
    created_by: int | None
    """IKE_SA_INIT (34) or CREATE_CHILD_SA (36, a rekey); None when first seen mid-life."""
    first_ts: float
    """First message of this SA in the capture."""
    last_ts: float
    """Last message of this SA in the capture."""
    established_ts: float | None
    """Time of the response that established it (IKE_AUTH or the rekeying CREATE_CHILD_SA)."""
    deleted_ts: float | None
    """Time of the request carrying a Delete payload for it."""
    retries: tuple[str, ...]
    """IKE_SA_INIT retries, e.g. ``COOKIE``, ``INVALID_KE_PAYLOAD(group 19)``."""
    offered: tuple[Proposal, ...]
    """Every IKE proposal the initiator offered (last attempt)."""
    chosen: Proposal | None
    """The IKE proposal the responder chose."""
    dh_group: int | None
    """KE group of the accepted key exchange."""
    auth: tuple[AuthSide, ...]
    """Initiator's then responder's AUTH."""
    nat: NatInfo | None
    """NAT detection; None when IKE_SA_INIT carried no NAT_DETECTION notifies."""
    child_sas: tuple[ChildSa, ...]
    """Child SAs this IKE SA created or, after an IKE SA rekey, inherited from the SA it
    replaced (RFC 7296 1.3.2: the child SAs move to the new IKE SA)."""
    rekey_of: IkeSpis | None
    """The IKE SA this one replaced."""
    rekeyed_into: IkeSpis | None
    """The IKE SA that replaced this one."""
    problem: str | None
    """Why its messages could not be decrypted, if so."""
    diagnosis: Diagnosis = NOT_DIAGNOSED
    """Verdict, basis and findings (``ikeview.diagnosis``); filled after correlation."""
    config_checks: tuple[ConfigCheck, ...] = ()
    """This IKE SA checked against each ``--config`` that applies to it."""
    address_changes: tuple[AddressChange, ...] = ()
    """MOBIKE moves of either peer, in capture order (``initiator``/``responder`` keep the
    addresses the SA was set up with)."""
    redundant: bool = False
    """It lost an IKE SA rekey collision (RFC 7296 2.8.2: the new SA of the exchange holding the
    lowest of the four nonces is redundant and deleted; ``rekey_of``'s ``rekeyed_into`` names
    the winner)."""

    @property
    def spis(self) -> IkeSpis:
        """(SPIi, SPIr)."""
        return (self.spi_i, self.spi_r)

    @property
    def label(self) -> str:
        """``SPIi_hex/SPIr_hex`` as most tools print it."""
        return f"{self.spi_i.hex()}/{self.spi_r.hex()}"

    @property
    def time_to_establish(self) -> float | None:
        """Seconds from the first message to the establishing response."""
        return None if self.established_ts is None else self.established_ts - self.first_ts

    @property
    def messages(self) -> tuple[Message, ...]:
        """Every message of every exchange in capture order."""
        return tuple(sorted((m for e in self.exchanges for m in e.messages), key=lambda m: m.frame))


__all__ = [
    "Analysis",
    "AuthRound",
    "AuthSide",
    "ChildSa",
    "Counters",
    "EspSpiStats",
    "Exchange",
    "ExchangeStatus",
    "IkeSa",
    "IkeSaState",
    "Integrity",
    "Message",
    "NatInfo",
    "Problem",
    "RetransmitKind",
    "Severity",
    "eap_text",
    "iso_time",
    "proposal_text",
    "ts_text",
]
