"""Text of IKE model records for the views: a proposal as strongSwan writes it, a traffic
selector, a side's EAP run. Kept out of model.py (which re-exports them) so a view imports them
without creating the IKE record classes, which a capture of ESP alone never needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ikeview import iana

if TYPE_CHECKING:
    from ikeview.dissectors.ike_records import Proposal, TrafficSelector
    from ikeview.pipeline.model import AuthSide


def eap_text(side: AuthSide) -> str | None:
    """``EAP-MSCHAPv2 as 'bob': success`` for a side that used EAP, else None."""
    from ikeview.iana.names import eap_method_name  # with the IKE registries, on first use

    if side.eap_method is None and side.eap_identity is None and side.eap_result is None:
        return None
    who = f" as {side.eap_identity!r}" if side.eap_identity is not None else ""
    return f"{eap_method_name(side.eap_method)}{who}: {side.eap_result or 'no result seen'}"


def proposal_text(proposal: Proposal) -> str:
    """strongSwan-style text of a proposal, e.g. ``IKE:AES_CBC_128/HMAC_SHA2_256_128/...``."""
    from ikeview.iana.names import CHARON_TYPE_ORDER, charon_transform_name

    proto = iana.PROTOCOL_IDS.name(proposal.protocol_id)
    # charon's order (ENCR, INTEG, PRF, KE, ESN, ADDKE) whatever the wire order, so the text
    # compares equal to what charon logs.
    ordered = sorted(proposal.transforms, key=lambda t: CHARON_TYPE_ORDER.get(t.transform_type, 9))
    parts = [charon_transform_name(t.transform_type, t.transform_id, t.key_length) for t in ordered]
    return f"{proto}:{'/'.join(parts)}"


def ts_text(ts: TrafficSelector) -> str:
    """A traffic selector as ``start-end`` (or ``a/32``-like single address) with protocol/port."""
    if ts.start_address is None:
        return f"{iana.TS_TYPES.name(ts.ts_type)}({ts.raw.hex()})"
    addr = (
        ts.start_address
        if ts.start_address == ts.end_address
        else f"{ts.start_address}-{ts.end_address}"
    )
    extra = ""
    if ts.ip_protocol:
        extra += f" proto {ts.ip_protocol}"
    if (ts.start_port, ts.end_port) not in ((0, 65535), (None, None)):
        extra += (
            f" port {ts.start_port}"
            if ts.start_port == ts.end_port
            else f" ports {ts.start_port}-{ts.end_port}"
        )
    return addr + extra


__all__ = ["eap_text", "proposal_text", "ts_text"]
