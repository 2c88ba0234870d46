"""The mutable records the correlator fills in, one per model record, each owning its
``freeze()`` into the frozen model (model.py). A new model field is added in two places: the
model and its builder here.

    Sa     -> IkeSa        Ex   -> Exchange
    Child  -> ChildSa      Half    (one message of an Ex being assembled)

ESP counters live in esp.py, the running totals (Counts -> Counters) in context.py; IKE SA
states change only through state.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ikeview import iana
from ikeview.dissectors.ike_records import (
    AuthPayload,
    CertPayload,
    IdPayload,
    Payload,
    Proposal,
    TrafficSelector,
)
from ikeview.pipeline import nat
from ikeview.pipeline.correlate import state
from ikeview.pipeline.correlate.eap import EapTrack
from ikeview.pipeline.correlate.payloads import ename
from ikeview.pipeline.ids import IkeSpis, Side
from ikeview.pipeline.model import (
    AddressChange,
    AuthSide,
    ChildSa,
    EspSpiStats,
    Exchange,
    ExchangeStatus,
    IkeSa,
    IkeSaState,
    Message,
    NatInfo,
    Problem,
)


@dataclass(slots=True)
class Half:
    """One message of an exchange (its request or its response) being assembled."""

    message: Message | None = None
    """The first copy seen; later copies go to the exchange's ``others``."""
    raw: dict[int, bytes] = field(default_factory=dict)
    """Raw bytes by fragment number (0 for an unfragmented message), for rule 3."""
    payloads: list[Payload] = field(default_factory=list)
    """Clear and decrypted payloads (all fragments)."""
    done: bool = False
    """The whole message is here and its exchange handler has run."""
    decrypted: bool = False
    """Some copy or fragment of it was decrypted."""


@dataclass(slots=True)
class Ex:
    """An exchange being assembled."""

    exchange_type: int
    message_id: int
    requester: Side
    attempt: int
    req: Half = field(default_factory=Half)
    resp: Half = field(default_factory=Half)
    others: list[Message] = field(default_factory=list)
    firsts: dict[tuple[bool, int], Message] = field(default_factory=dict)
    """(response, fragment number) -> the first copy in ``others`` that is not a retransmission
    (later fragments): what a retransmission points back to, found without scanning ``others``,
    which grows with every copy (a peer retransmitting for hours, or a hostile capture)."""
    error: int | None = None
    retry: int | None = None
    purpose: str | None = None

    @property
    def request(self) -> Message | None:
        return self.req.message

    @property
    def response(self) -> Message | None:
        return self.resp.message

    def status(self) -> ExchangeStatus:
        if self.request is None:
            return "no-request"
        if self.response is None:
            return "unanswered"
        if self.retry is not None:
            return "retry"
        if self.error is not None:
            return "failed"
        return "ok"

    def freeze(self, sa: Sa, problems: list[Problem], complete: bool) -> Exchange:
        """The model's Exchange; an unanswered request of a complete capture adds a problem."""
        status = self.status()
        if status == "unanswered" and complete and self.request is not None:
            problems.append(
                Problem(
                    "warning",
                    f"IKE SA {sa.label}: {ename(self.exchange_type)} "
                    f"request mid {self.message_id} from the {self.requester} (frame "
                    f"{self.request.frame}) was never answered in the capture",
                    self.request.frame,
                    sa.spis,
                )
            )
        purpose = self.purpose
        if (
            purpose is None
            and self.exchange_type == iana.ExchangeType.INFORMATIONAL
            and self.req.decrypted
        ):
            purpose = "informational"
        return Exchange(
            exchange_type=self.exchange_type,
            message_id=self.message_id,
            requester=self.requester,
            attempt=self.attempt,
            request=self.request,
            response=self.response,
            copies=tuple(self.others),
            status=status,
            error=self.error,
            retry=self.retry,
            purpose=purpose,
        )


@dataclass(slots=True)
class Child:
    """A child SA, from the exchange that made it to its deletion."""

    ike: IkeSpis
    protocol_id: int
    spi_i: int
    spi_r: int
    initiator: str
    responder: str
    frame: int
    ts: float
    exchange_type: int
    proposal: Proposal | None
    offered: tuple[Proposal, ...]
    mode: str
    ts_i: tuple[TrafficSelector, ...]
    ts_r: tuple[TrafficSelector, ...]
    rekey_of: int | None
    rekeyed_by: tuple[int, int] | None = None
    deleted_ts: float | None = None
    problem: str | None = None
    lowest_nonce: bytes | None = None
    """The lower of the nonces of the CREATE_CHILD_SA that made it (collision rule)."""
    redundant: bool = False

    def freeze(self, esp_by_spi: dict[int, list[EspSpiStats]]) -> ChildSa:
        return ChildSa(
            ike_sa=self.ike,
            protocol_id=self.protocol_id,
            spi_initiator=self.spi_i,
            spi_responder=self.spi_r,
            initiator=self.initiator,
            responder=self.responder,
            created_frame=self.frame,
            created_ts=self.ts,
            exchange_type=self.exchange_type,
            proposal=self.proposal,
            offered=self.offered,
            mode=self.mode,
            ts_i=self.ts_i,
            ts_r=self.ts_r,
            rekey_of=self.rekey_of,
            rekeyed_by=self.rekeyed_by,
            deleted_ts=self.deleted_ts,
            esp=tuple(s for spi in (self.spi_r, self.spi_i) for s in esp_by_spi.get(spi, ())),
            problem=self.problem,
            redundant=self.redundant,
        )


PendingAuth = tuple[AuthPayload, IdPayload | None, tuple[CertPayload, ...], int]
"""An AUTH payload waiting for its check: the payload, the ID it covers, certificates, frame."""


@dataclass(slots=True)
class Sa:
    """An IKE SA being assembled. Its ``state`` is changed only by state.py."""

    spi_i: bytes
    spi_r: bytes
    initiator: str | None
    responder: str | None
    first_ts: float
    last_ts: float
    created_by: int | None
    state: IkeSaState
    state_inferred: bool = False
    exchanges: list[Ex] = field(default_factory=list)
    by_key: dict[tuple[int, Side], Ex] = field(default_factory=dict)
    failure: str | None = None
    established_ts: float | None = None
    deleted_ts: float | None = None
    retries: list[str] = field(default_factory=list)
    offered: tuple[Proposal, ...] = ()
    chosen: Proposal | None = None
    dh_group: int | None = None
    auth: dict[Side, AuthSide] = field(default_factory=dict)
    nat_checks: list[tuple[Side, nat.NatCheck]] = field(default_factory=list)
    udp_encap: bool = False
    children: list[Child] = field(default_factory=list)
    rekey_of: IkeSpis | None = None
    rekeyed_into: IkeSpis | None = None
    problem: str | None = None
    ids: dict[Side, IdPayload] = field(default_factory=dict)
    """Latest IDi/IDr seen, by side."""
    child_offer: list[Payload] = field(default_factory=list)
    """Payloads of the IKE_AUTH request that offered the first child SA."""
    pending_auth: dict[Side, PendingAuth] = field(default_factory=dict)
    """AUTH payloads seen but not yet checked (both sides first: see auth.verify_pending)."""
    eap: EapTrack | None = None
    """The EAP conversation of IKE_AUTH, once an EAP payload was seen."""
    lowest_nonce: bytes | None = None
    """For an SA made by a rekey: the lower nonce of that exchange (collision rule)."""
    rekeyed_ts: float | None = None
    """When the rekey that replaced it completed."""
    intermediate: bool = False
    """An IKE_INTERMEDIATE or IKE_FOLLOWUP_KE exchange was seen (AUTH octets not computable)."""
    address_changes: list[AddressChange] = field(default_factory=list)
    """MOBIKE moves (see ``mobike.update_addresses``)."""
    redundant: bool = False

    @property
    def spis(self) -> IkeSpis:
        return (self.spi_i, self.spi_r)

    @property
    def label(self) -> str:
        """``SPIi_hex/SPIr_hex``, as problem lines and the model's ``IkeSa.label`` name it."""
        return f"{self.spi_i.hex()}/{self.spi_r.hex()}"

    def freeze(
        self, esp_by_spi: dict[int, list[EspSpiStats]], problems: list[Problem], complete: bool
    ) -> IkeSa:
        exchanges = tuple(ex.freeze(self, problems, complete) for ex in self.exchanges)
        st, inferred, established_ts = state.settle(
            self.state, self.state_inferred, self.established_ts, exchanges
        )
        return IkeSa(
            spi_i=self.spi_i,
            spi_r=self.spi_r,
            initiator=self.initiator,
            responder=self.responder,
            exchanges=exchanges,
            state=st,
            state_inferred=inferred,
            failure=self.failure,
            created_by=self.created_by,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            established_ts=established_ts,
            deleted_ts=self.deleted_ts,
            retries=tuple(self.retries),
            offered=self.offered,
            chosen=self.chosen,
            dh_group=self.dh_group,
            auth=self.auth_sides(),
            nat=self.nat_info(),
            child_sas=tuple(c.freeze(esp_by_spi) for c in self.children),
            rekey_of=self.rekey_of,
            rekeyed_into=self.rekeyed_into,
            problem=self.problem,
            redundant=self.redundant,
            address_changes=tuple(self.address_changes),
        )

    def auth_sides(self) -> tuple[AuthSide, ...]:
        """Both sides' AuthSide; the initiator's carries the EAP conversation when it used EAP."""
        out = [self.auth[s] for s in ("initiator", "responder") if s in self.auth]
        eap = self.eap
        if eap is not None and out and out[0].side == "initiator":
            ident = eap.identity.decode("utf-8", "replace") if eap.identity is not None else None
            out[0] = replace(out[0], eap_identity=ident, eap_method=eap.method,
                             eap_result=eap.result)  # fmt: skip
            if eap.password is not None:
                matched, text = eap.password
                out[0] = replace(out[0], eap_password=matched, detail=f"{out[0].detail}; {text}")
        return tuple(out)

    def nat_info(self) -> NatInfo | None:
        """What the NAT_DETECTION notifies of both IKE_SA_INIT messages say (RFC 7296 2.23)."""
        behind: dict[Side, bool | None] = {"initiator": None, "responder": None}
        parts: list[str] = []
        for sender, check in self.nat_checks:
            receiver: Side = "responder" if sender == "initiator" else "initiator"
            if check.source_matches is not None:
                behind[sender] = (not check.source_matches) or bool(behind[sender])
                parts.append(
                    f"{sender}'s NAT_DETECTION_SOURCE_IP "
                    f"{'matches' if check.source_matches else 'does not match'} its address"
                )
            if check.destination_matches is not None:
                behind[receiver] = (not check.destination_matches) or bool(behind[receiver])
                parts.append(
                    f"{sender}'s NAT_DETECTION_DESTINATION_IP "
                    f"{'matches' if check.destination_matches else 'does not match'} the "
                    f"{receiver}'s address"
                )
        if not parts:
            return None
        return NatInfo(behind["initiator"], behind["responder"], self.udp_encap, "; ".join(parts))
