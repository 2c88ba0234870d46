"""A child SA refused only for its PFS group (RFC 7296 1.3.1, 2.7).

IKE_AUTH carries no KE payload, so the first child SA is negotiated without a DH group even when
both peers configured PFS: a peer that wants another group (or none) shows it only when a
CREATE_CHILD_SA carries a KE, typically at the first rekey, as N(NO_PROPOSAL_CHOSEN). When the
same IKE SA had already accepted those ESP transforms without a DH group, the group is what the
responder refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview import iana
from ikeview.dissectors.ike_records import Proposal
from ikeview.pipeline.model import ChildSa, IkeSa

T = iana.TransformType
_NOT_KE = (T.ENCR, T.INTEG, T.ESN)


@dataclass(frozen=True, slots=True)
class PfsRefusal:
    """What shows that only the PFS group was refused."""

    groups: tuple[str, ...]
    """The DH groups offered in the refused CREATE_CHILD_SA (IANA names)."""
    accepted_frame: int
    """Frame of the response that accepted the same ESP transforms without a DH group."""


def _of_type(p: Proposal, ttype: int) -> set[tuple[int, int | None]]:
    return {(t.transform_id, t.key_length) for t in p.transforms if t.transform_type == ttype}


def _covers(offer: Proposal, accepted: Proposal) -> bool:
    """Every non-KE transform of ``accepted`` is offered in ``offer`` (same ID and key length)."""
    return all(_of_type(accepted, t) <= _of_type(offer, t) for t in _NOT_KE)


def pfs_refusal(sa: IkeSa, refused: ChildSa) -> PfsRefusal | None:
    """The PFS group explains a NO_PROPOSAL_CHOSEN to a CREATE_CHILD_SA: its offer carries KE
    groups, and an established child SA of the same IKE SA has a proposal without one whose
    cipher, integrity and ESN the offer repeats. None when the capture does not show that."""
    if refused.exchange_type != iana.ExchangeType.CREATE_CHILD_SA:
        return None
    groups = [
        t.transform_id for p in refused.offered for t in p.transforms if t.transform_type == T.KE
    ]
    if not groups:
        return None
    for child in sa.child_sas:
        got = child.proposal
        if got is None or _of_type(got, T.KE):
            continue
        if any(_covers(offer, got) for offer in refused.offered):
            names = tuple(dict.fromkeys(iana.DH_GROUPS.name(g) for g in groups))
            return PfsRefusal(names, child.created_frame)
    return None


__all__ = ["PfsRefusal", "pfs_refusal"]
