"""Test support for the decryptor tests: a tiny stand-in for the correlator.

It reads a capture with the real dissector, pairs IKE_SA_INIT request/response and the first
IKE_AUTH child SA, and builds the seam records the correlator would hand the decryptor. It
handles the simple captures used in these tests only (no rekeys, no retransmissions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ikeview.dissectors.ike_records import (
    KePayload,
    NoncePayload,
    SaPayload,
)
from ikeview.dissectors.records import EspPacket, IkeDatagram
from ikeview.dissectors.stream import dissect

from ikeview.pipeline.ike_seam import (
    AuthClaim,
    ChildSaSetup,
    ChosenAlgorithms,
    IkeSaSetup,
    KeyExchange,
)

IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA = 34, 35, 36


def chosen(sa: SaPayload) -> tuple[ChosenAlgorithms, bytes]:
    """The responder's single proposal as ChosenAlgorithms, plus its SPI."""
    prop = sa.proposals[0]
    picks: dict[int, tuple[int, int | None]] = {}
    for t in prop.transforms:
        picks.setdefault(t.transform_type, (t.transform_id, t.key_length))
    encr, bits = picks[1]
    return (
        ChosenAlgorithms(
            encr=encr,
            encr_key_bits=bits,
            integ=picks.get(3, (None, None))[0],
            prf=picks.get(2, (None, None))[0],
            dh=picks.get(4, (None, None))[0],
            esn=picks.get(5, (0, None))[0] == 1,
        ),
        prop.spi,
    )


def first(payloads, kind):
    return next((p for p in payloads if isinstance(p, kind)), None)


@dataclass
class Capture:
    """What the tests need from one capture."""

    ike: list[IkeDatagram] = field(default_factory=list)
    esp: list[EspPacket] = field(default_factory=list)
    setups: list[IkeSaSetup] = field(default_factory=list)


def read(path: Path) -> Capture:
    cap = Capture()
    for rec in dissect(str(path)):
        if isinstance(rec, IkeDatagram) and rec.message.header is not None:
            cap.ike.append(rec)
        elif isinstance(rec, EspPacket):
            cap.esp.append(rec)
    reqs = [d for d in cap.ike if d.message.header.exchange_type == IKE_SA_INIT]
    for req in reqs:
        h = req.message.header
        if h.response:
            continue
        resp = next(
            (
                d
                for d in reqs
                if d.message.header.response
                and d.message.header.spi_i == h.spi_i
                and d.message.header.spi_r != bytes(8)
            ),
            None,
        )
        if resp is None:
            continue
        algs, _ = chosen(first(resp.message.payloads, SaPayload))
        ke_i = first(req.message.payloads, KePayload)
        ke_r = first(resp.message.payloads, KePayload)
        cap.setups.append(
            IkeSaSetup(
                spis=(h.spi_i, resp.message.header.spi_r),
                ni=first(req.message.payloads, NoncePayload).data,
                nr=first(resp.message.payloads, NoncePayload).data,
                algorithms=algs,
                ke=KeyExchange(ke_i.group, ke_i.data, ke_r.data) if ke_i and ke_r else None,
                initiator=req.flow.src,
                responder=req.flow.dst,
                init_request=req.message.raw,
                init_response=resp.message.raw,
            )
        )
    return cap


def child_setup(ike_setup: IkeSaSetup, auth_req_inner, auth_resp_inner) -> ChildSaSetup:
    """The IKE_AUTH child SA from the decrypted IKE_AUTH request and response payloads."""
    _, spi_i = chosen(first(auth_req_inner, SaPayload))
    algs, spi_r = chosen(first(auth_resp_inner, SaPayload))
    return ChildSaSetup(
        ike=ike_setup.spis,
        spi_at_initiator=int.from_bytes(spi_i, "big"),
        spi_at_responder=int.from_bytes(spi_r, "big"),
        algorithms=algs,
        ni=None,
        nr=None,
        ke=None,
        initiator=ike_setup.initiator,
        responder=ike_setup.responder,
    )


def run_capture(dec, cap: Capture) -> dict[str, object]:
    """IKE_SA_INIT -> every SK payload -> both AUTHs -> first child SA, as a correlator would.

    Returns {"opened": [(datagram, Opened)], "auth": {side: AuthVerdict}, "child": problem}.
    """
    from ikeview.dissectors.ike_records import AuthPayload, CertPayload, IdPayload

    for setup in cap.setups:
        dec.ike_sa(setup)
    opened, inner, verdicts = [], {}, {}
    for dg in cap.ike:
        m = dg.message
        if m.sk is None:
            continue
        h = m.header
        o = dec.open(h, m.raw, m.sk)
        opened.append((dg, o))
        if h.exchange_type == IKE_AUTH and o.payloads is not None:
            inner[h.response] = o.payloads
            side = "responder" if h.response else "initiator"
            auth = first(o.payloads, AuthPayload)
            if auth is not None:
                certs = tuple(p for p in o.payloads if isinstance(p, CertPayload))
                claim = AuthClaim(side, auth, first(o.payloads, IdPayload), certs)
                (verdicts[side],) = dec.verify_auth((h.spi_i, h.spi_r), (claim,))
    child = None
    if len(inner) == 2 and first(inner[True], SaPayload) is not None and cap.setups:
        child = dec.child_sa(child_setup(cap.setups[0], inner[False], inner[True]))
    return {"opened": opened, "auth": verdicts, "child": child}
