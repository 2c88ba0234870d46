"""Configured proposals, how a responder picks one from an offer, and what differs when none fits.

A ``ConfProposal`` holds, per transform type, the algorithms a configuration allows in its own
priority order. Two selection rules are modelled:

- strongSwan (``proposal.c`` ``proposal_select``/``select_algos``, 5.9.x): with the default
  ``charon.prefer_configured_proposals = yes`` the responder walks its *configured* proposals in
  order and, for each, the offered proposals in the initiator's order; within a type the
  configured order of algorithms wins. A type only one side lists is "optional" for KE and ESN
  in ESP: it matches when the other side lists NONE (KE) / allows no-ESN.
- Cisco IOS (IKEv2 configuration guide, "IKEv2 proposal" and "IKEv2 policy"): the policy's
  proposals in order; for each, the offered proposals in the initiator's order; a proposal fits
  when every transform type has an algorithm in common; the algorithm picked is the first one
  of the configured line (IOS priority order).

Names are IANA's (``ENCR_AES_CBC_256``) so findings read the same whatever the config language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

from ikeview import iana
from ikeview.diagnosis.records import ProposalDifference, TransformKind
from ikeview.dissectors.ike_records import Proposal

Protocol = Literal["ike", "esp", "ah"]
_PROTOCOL_IDS = {"ike": 1, "ah": 2, "esp": 3}
"""IANA Protocol IDs (RFC 7296 3.3.1)."""
Encr = tuple[int, int | None]
"""(IANA ENCR id, key bits or None for fixed-size ciphers)."""

AEAD_ENCR = frozenset({14, 15, 16, 18, 19, 20, 21, 25, 26, 27, 28})
"""ENCR ids whose integrity is part of the cipher (RFC 5282, RFC 7634)."""

KINDS: tuple[tuple[int, TransformKind], ...] = (
    (1, "ENCR"),
    (3, "INTEG"),
    (2, "PRF"),
    (4, "KE"),
    (5, "ESN"),
)


@dataclass(frozen=True, slots=True)
class ConfProposal:
    """One configured proposal: the algorithms allowed per transform type, in priority order."""

    protocol: Protocol
    """``ike`` or ``esp``."""
    text: str
    """The proposal in the config's own words (``aes256-sha256-prfsha256-modp2048``, or the IOS
    proposal name with its lines)."""
    line: int
    """1-based line in the config file (0 for built-in defaults)."""
    encr: tuple[Encr, ...] = ()
    """Encryption algorithms."""
    integ: tuple[int, ...] = ()
    """Integrity algorithms (empty for AEAD-only proposals)."""
    prf: tuple[int, ...] = ()
    """PRFs (IKE only)."""
    ke: tuple[int, ...] = ()
    """Key exchange methods (for ESP: the PFS groups; 0 = NONE)."""
    esn: tuple[int, ...] = field(default=())
    """ESN transform ids (ESP only; empty = no-ESN only)."""
    ake: tuple[tuple[int, int], ...] = ()
    """Additional key exchanges (RFC 9370; strongSwan 6 ``ke1_mlkem768``): (slot 1-7, KE id).
    Read and written back, not compared (the findings' transform types stop at ESN)."""

    def values(self, ttype: int) -> tuple[object, ...]:
        """The algorithms of one transform type (ENCR as (id, bits) pairs)."""
        return {1: self.encr, 3: self.integ, 2: self.prf, 4: self.ke, 5: self.esn}.get(ttype, ())


def offered_values(proposal: Proposal, ttype: int) -> tuple[object, ...]:
    """The algorithms of one transform type in an offered (or chosen) proposal, wire order."""
    out: list[object] = []
    for t in proposal.transforms:
        if t.transform_type != ttype:
            continue
        out.append((t.transform_id, t.key_length) if ttype == 1 else t.transform_id)
    return tuple(out)


def value_name(ttype: int, value: object) -> str:
    """IANA name of one algorithm: ``ENCR_AES_CBC_256``, ``PRF_HMAC_SHA2_256``, ``MODP_2048``."""
    if ttype == 1:
        ident, bits = cast("Encr", value)
        name = iana.transform_id_name(1, int(ident))
        return f"{name}_{bits}" if bits else name
    return iana.transform_id_name(ttype, int(value))  # type: ignore[call-overload]


def _is_aead(values: Iterable[object]) -> bool:
    return any(isinstance(v, tuple) and v[0] in AEAD_ENCR for v in values)


def _types(conf: ConfProposal, offer: Proposal, skip_ke: bool) -> list[int]:
    """Transform types to compare (strongSwan merges both sides' types)."""
    types = []
    for ttype, _kind in KINDS:
        if ttype == 4 and skip_ke:
            continue
        if conf.values(ttype) or offered_values(offer, ttype):
            types.append(ttype)
    if _is_aead(conf.encr) and _is_aead(offered_values(offer, 1)) and 3 in types:
        # AEAD: integrity is part of the cipher; an INTEG NONE on one side is not a mismatch.
        types.remove(3)
    return types


def _pick(ttype: int, conf: Sequence[object], offer: Sequence[object]) -> object | None:
    """The configured side's first algorithm the offer also has; None when none."""
    if not conf or not offer:
        # Optional types (ESP KE, ESN): absent on one side matches NONE / no-ESN on the other.
        if ttype in (4, 5):
            other = offer or conf
            return 0 if 0 in other else None
        return None
    for value in conf:
        if value in offer:
            return value
    return None


def select(
    conf: ConfProposal, offer: Proposal, *, skip_ke: bool = False
) -> dict[int, object] | None:
    """The algorithms chosen from one offered proposal, by type; None when it does not fit."""
    chosen: dict[int, object] = {}
    for ttype in _types(conf, offer, skip_ke):
        value = _pick(ttype, conf.values(ttype), offered_values(offer, ttype))
        if value is None:
            return None
        chosen[ttype] = value
    return chosen


def differences(
    conf: ConfProposal, offer: Proposal, *, skip_ke: bool = False
) -> tuple[ProposalDifference, ...]:
    """The transform types on which the offer and the configured proposal have nothing in common."""
    out: list[ProposalDifference] = []
    kinds = dict(KINDS)
    for ttype in _types(conf, offer, skip_ke):
        mine = conf.values(ttype)
        theirs = offered_values(offer, ttype)
        if _pick(ttype, mine, theirs) is not None:
            continue
        out.append(
            ProposalDifference(
                type=kinds[ttype],
                offered=tuple(value_name(ttype, v) for v in theirs) or ("none",),
                configured=tuple(value_name(ttype, v) for v in mine) or ("none",),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Choice:
    """The outcome of simulating a responder over an offer."""

    conf: ConfProposal | None
    """The configured proposal that fits (None when none does)."""
    offer: Proposal | None
    """The offered proposal chosen."""
    algorithms: dict[int, object] | None
    """The algorithms picked, by transform type."""
    closest: ConfProposal | None
    """When nothing fits: the configured proposal with the fewest differing types."""
    differences: tuple[ProposalDifference, ...]
    """Differences of ``closest`` from the offered proposal it is closest to."""


def choose(
    configured: Sequence[ConfProposal], offered: Sequence[Proposal], *, skip_ke: bool = False
) -> Choice:
    """Configured proposals in order, then the offered ones in the initiator's order.

    Both strongSwan (prefer_configured_proposals = yes) and IOS (the policy's proposals in
    order) walk the configured list outside and the offer inside, so one loop serves both."""
    for conf in configured:
        for offer in offered:
            if conf.protocol != "ike" and offer.protocol_id != _PROTOCOL_IDS[conf.protocol]:
                continue
            picked = select(conf, offer, skip_ke=skip_ke)
            if picked is not None:
                return Choice(conf, offer, picked, None, ())
    best: tuple[int, ConfProposal, tuple[ProposalDifference, ...]] | None = None
    for conf in configured:
        for offer in offered:
            diff = differences(conf, offer, skip_ke=skip_ke)
            if best is None or len(diff) < best[0]:
                best = (len(diff), conf, diff)
    if best is None:
        return Choice(None, None, None, configured[0] if configured else None, ())
    return Choice(None, None, None, best[1], best[2])


def same_algorithms(picked: dict[int, object], chosen: Proposal) -> bool:
    """Whether a simulated pick equals the proposal the responder actually returned."""
    for ttype, value in picked.items():
        values = offered_values(chosen, ttype)
        if ttype in (4, 5) and value == 0 and not values:
            continue
        if values != (value,):
            return False
    for ttype, _kind in KINDS:
        if ttype not in picked and offered_values(chosen, ttype) not in ((), (0,)):
            return False
    return True


def accepts(configured: Sequence[ConfProposal], chosen: Proposal, *, skip_ke: bool = False) -> bool:
    """Whether an initiator with this configuration accepts the responder's chosen proposal."""
    return any(select(c, chosen, skip_ke=skip_ke) is not None for c in configured)


def text_of(proposal: Proposal) -> str:
    """A compact IANA-name text of a wire proposal, for messages."""
    parts: list[str] = []
    for ttype, _kind in KINDS:
        parts.extend(value_name(ttype, v) for v in offered_values(proposal, ttype))
    return "/".join(parts)
