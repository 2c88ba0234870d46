"""The tables of an ``ikeview batch`` dataset: their columns (``SCHEMA``) and the rows one
``Analysis`` contributes to each.

Rows are dicts of plain Python values (str, int, float, bool, None) so that they pickle cheaply
from a worker process or a Dask worker; ``batch.to_frames`` types them by ``SCHEMA``. Columns
are documented in ``docs/batch.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

Row = dict[str, Any]
Tables = dict[str, list[Row]]


# pandas extension dtypes: nullable, so a missing value is <NA> in every table, and the same
# column has the same type whether a run saw a value or not (local and cluster runs compare equal).
S, INT, F, B = "string", "Int64", "Float64", "boolean"

SCHEMA: dict[str, dict[str, str]] = {
    "captures": {
        "capture": S,
        "size_bytes": INT,
        "error": S,
        "damage": S,
        "frames": INT,
        "ike_messages": INT,
        "ike_decrypted": INT,
        "ike_integrity_failed": INT,
        "esp_packets": INT,
        "esp_decrypted": INT,
        "esp_integrity_failed": INT,
        "keepalives": INT,
        "frame_errors": INT,
        "ikev1_messages": INT,
        "ike_sas": INT,
        "child_sas": INT,
        "problems": INT,
        "first_ts": F,
        "last_ts": F,
    },
    "ike_sas": {
        "capture": S,
        "ike_sa": S,
        "spi_i": S,
        "spi_r": S,
        "initiator": S,
        "responder": S,
        "state": S,
        "state_inferred": B,
        "failure": S,
        "outcome": S,
        "basis": S,
        "verdict": S,
        "finding_codes": S,
        "first_ts": F,
        "last_ts": F,
        "established_ts": F,
        "deleted_ts": F,
        "time_to_establish": F,
        "exchanges": INT,
        "child_sas": INT,
        "proposal": S,
        "encr": S,
        "integ": S,
        "prf": S,
        "dh_group": S,
        "weak": S,
        "auth_i_method": S,
        "auth_i_id": S,
        "auth_i_verified": B,
        "auth_r_method": S,
        "auth_r_id": S,
        "auth_r_verified": B,
        "initiator_behind_nat": B,
        "responder_behind_nat": B,
        "udp_encapsulation": B,
        "rekey_of": S,
        "rekeyed_into": S,
        "problem": S,
    },
    "exchanges": {
        "capture": S,
        "ike_sa": S,
        "index": INT,
        "exchange": S,
        "exchange_type": INT,
        "message_id": INT,
        "requester": S,
        "attempt": INT,
        "status": S,
        "error": S,
        "retry": S,
        "purpose": S,
        "request_frame": INT,
        "response_frame": INT,
        "request_ts": F,
        "response_ts": F,
        "rtt": F,
        "copies": INT,
        "decrypted": B,
    },
    "child_sas": {
        "capture": S,
        "ike_sa": S,
        "child_sa": S,
        "protocol": S,
        "spi_initiator": S,
        "spi_responder": S,
        "initiator": S,
        "responder": S,
        "created_frame": INT,
        "created_ts": F,
        "exchange": S,
        "mode": S,
        "proposal": S,
        "encr": S,
        "integ": S,
        "dh_group": S,
        "esn": S,
        "weak": S,
        "ts_i": S,
        "ts_r": S,
        "rekey_of": S,
        "deleted_ts": F,
        "outcome": S,
        "basis": S,
        "verdict": S,
        "finding_codes": S,
        "esp_packets": INT,
        "esp_decrypted": INT,
        "problem": S,
    },
    "esp": {
        "capture": S,
        "ike_sa": S,
        "child_sa": S,
        "spi": S,
        "src": S,
        "dst": S,
        "direction": S,
        "udp_encap": B,
        "packets": INT,
        "bytes": INT,
        "first_ts": F,
        "last_ts": F,
        "first_seq": INT,
        "last_seq": INT,
        "max_seq": INT,
        "missing": INT,
        "replays": INT,
        "out_of_order": INT,
        "decrypted": INT,
        "integrity_failed": INT,
        "inner_flows": INT,
        "problem": S,
    },
    "findings": {
        "capture": S,
        "ike_sa": S,
        "child_sa": S,
        "source": S,
        "code": S,
        "severity": S,
        "basis": S,
        "frames": S,
        "explanation": S,
        "fix": S,
        "fix_cisco": S,
        "fix_strongswan": S,
        "extra": S,
    },
}
"""Table name -> column name -> pandas dtype, in column order."""


# --------------------------------------------------------------------- one capture -> rows


def _hex(b: bytes | None) -> str | None:
    return None if b is None else b.hex()


def _label(spis: tuple[bytes, bytes] | None) -> str | None:
    return None if spis is None else f"{spis[0].hex()}/{spis[1].hex()}"


def _transform(proposal: Any, ttype: int) -> str | None:
    from ikeview import iana

    names = []
    for t in proposal.transforms:
        if t.transform_type == ttype:
            name = iana.transform_id_name(t.transform_type, t.transform_id)
            names.append(f"{name}_{t.key_length}" if t.key_length else name)
    return ",".join(names) or None


def _proposal_cols(proposal: Any, *, esp: bool) -> Row:
    """encr/integ/prf/dh_group/esn/weak of a chosen proposal (None when there is none)."""
    if proposal is None:
        return {
            "proposal": None,
            "encr": None,
            "integ": None,
            "prf": None,
            "dh_group": None,
            "esn": None,
            "weak": None,
        }
    from ikeview.diagnosis.weak import weak_transforms
    from ikeview.pipeline.model import proposal_text

    weak = ",".join(f"{name} ({level})" for _, name, level in weak_transforms(proposal, esp=esp))
    return {
        "proposal": proposal_text(proposal),
        "encr": _transform(proposal, 1),
        "integ": _transform(proposal, 3),
        "prf": _transform(proposal, 2),
        "dh_group": _transform(proposal, 4),
        "esn": _transform(proposal, 5),
        "weak": weak or None,
    }


def _codes(diagnosis: Any) -> str | None:
    return ",".join(f.code for f in diagnosis.findings) or None


def _auth_cols(sa: Any) -> Row:
    from ikeview import iana

    row: Row = {}
    for side, key in (("initiator", "auth_i"), ("responder", "auth_r")):
        a = next((s for s in sa.auth if s.side == side), None)
        method = None if a is None or a.method is None else iana.AUTH_METHODS.name(a.method)
        row[f"{key}_method"] = method
        row[f"{key}_id"] = None if a is None else a.identity
        row[f"{key}_verified"] = None if a is None else a.verified
    return row


def _ike_sa_row(sa: Any) -> Row:
    nat = sa.nat
    return {
        "ike_sa": sa.label,
        "spi_i": sa.spi_i.hex(),
        "spi_r": sa.spi_r.hex(),
        "initiator": sa.initiator,
        "responder": sa.responder,
        "state": sa.state,
        "state_inferred": sa.state_inferred,
        "failure": sa.failure,
        "outcome": sa.diagnosis.outcome,
        "basis": sa.diagnosis.basis,
        "verdict": sa.diagnosis.verdict or None,
        "finding_codes": _codes(sa.diagnosis),
        "first_ts": sa.first_ts,
        "last_ts": sa.last_ts,
        "established_ts": sa.established_ts,
        "deleted_ts": sa.deleted_ts,
        "time_to_establish": sa.time_to_establish,
        "exchanges": len(sa.exchanges),
        "child_sas": len(sa.child_sas),
        **{k: v for k, v in _proposal_cols(sa.chosen, esp=False).items() if k != "esn"},
        **_auth_cols(sa),
        "initiator_behind_nat": None if nat is None else nat.initiator_behind_nat,
        "responder_behind_nat": None if nat is None else nat.responder_behind_nat,
        "udp_encapsulation": None if nat is None else nat.udp_encapsulation,
        "rekey_of": _label(sa.rekey_of),
        "rekeyed_into": _label(sa.rekeyed_into),
        "problem": sa.problem,
    }


def _exchange_row(sa: Any, index: int, ex: Any) -> Row:
    from ikeview import iana

    req, resp = ex.request, ex.response
    return {
        "ike_sa": sa.label,
        "index": index,
        "exchange": ex.name,
        "exchange_type": ex.exchange_type,
        "message_id": ex.message_id,
        "requester": ex.requester,
        "attempt": ex.attempt,
        "status": ex.status,
        "error": None if ex.error is None else iana.NOTIFY_TYPES.name(ex.error),
        "retry": None if ex.retry is None else iana.NOTIFY_TYPES.name(ex.retry),
        "purpose": ex.purpose,
        "request_frame": None if req is None else req.frame,
        "response_frame": None if resp is None else resp.frame,
        "request_ts": ex.request_ts,
        "response_ts": ex.response_ts,
        "rtt": ex.rtt,
        "copies": len(ex.copies),
        "decrypted": any(m.decrypted for m in (req, resp) if m is not None),
    }


def _child_label(c: Any) -> str:
    return f"{c.spi_initiator:08x}/{c.spi_responder:08x}"


def _child_row(sa: Any, c: Any) -> Row:
    from ikeview import iana
    from ikeview.pipeline.model import ts_text

    return {
        "ike_sa": sa.label,
        "child_sa": _child_label(c),
        "protocol": iana.PROTOCOL_IDS.name(c.protocol_id),
        "spi_initiator": f"{c.spi_initiator:08x}",
        "spi_responder": f"{c.spi_responder:08x}",
        "initiator": c.initiator,
        "responder": c.responder,
        "created_frame": c.created_frame,
        "created_ts": c.created_ts,
        "exchange": iana.EXCHANGE_TYPES.name(c.exchange_type),
        "mode": c.mode,
        **_proposal_cols(c.proposal, esp=True),
        "ts_i": ", ".join(ts_text(t) for t in c.ts_i) or None,
        "ts_r": ", ".join(ts_text(t) for t in c.ts_r) or None,
        "rekey_of": None if c.rekey_of is None else f"{c.rekey_of:08x}",
        "deleted_ts": c.deleted_ts,
        "outcome": c.diagnosis.outcome,
        "basis": c.diagnosis.basis,
        "verdict": c.diagnosis.verdict or None,
        "finding_codes": _codes(c.diagnosis),
        "esp_packets": c.esp_packets,
        "esp_decrypted": c.esp_decrypted,
        "problem": c.problem,
    }


def _esp_row(sa: Any, c: Any, s: Any) -> Row:
    # The initiator's SPI is the one it receives on (RFC 7296 section 3.3.1): packets carrying
    # it flow responder -> initiator.
    direction = None
    if c is not None:
        direction = "to-initiator" if s.spi == c.spi_initiator else "to-responder"
    return {
        "ike_sa": None if sa is None else sa.label,
        "child_sa": None if c is None else _child_label(c),
        "spi": f"{s.spi:08x}",
        "src": s.src,
        "dst": s.dst,
        "direction": direction,
        **s.counters(),
        "inner_flows": len(s.inner_flows),
        "problem": s.problem,
    }


def _finding_rows(
    sa_label: str, child: str | None, source: str, findings: Iterable[Any]
) -> Iterator[Row]:
    for f in findings:
        yield {
            "ike_sa": sa_label,
            "child_sa": child,
            "source": source,
            "code": f.code,
            "severity": f.severity,
            "basis": f.basis,
            "frames": ",".join(str(n) for n in f.frames) or None,
            "explanation": f.explanation,
            "fix": f.fix,
            "fix_cisco": f.fix_cisco,
            "fix_strongswan": f.fix_strongswan,
            "extra": json.dumps(dict(f.extra), sort_keys=True) if f.extra else None,
        }


def _sa_findings(sa: Any) -> Iterator[Row]:
    yield from _finding_rows(sa.label, None, "diagnosis", sa.diagnosis.findings)
    for check in sa.config_checks:
        yield from _finding_rows(sa.label, None, f"config:{check.device}", check.findings)
    for c in sa.child_sas:
        yield from _finding_rows(sa.label, _child_label(c), "diagnosis", c.diagnosis.findings)
        for check in c.config_checks:
            yield from _finding_rows(
                sa.label, _child_label(c), f"config:{check.device}", check.findings
            )


def analysis_tables(analysis: Any, capture: str, size: int) -> Tables:
    """The rows one ``Analysis`` contributes to each table, each tagged with ``capture``."""
    t: Tables = {name: [] for name in SCHEMA}
    for sa in analysis.ike_sas:
        t["ike_sas"].append(_ike_sa_row(sa))
        t["exchanges"] += [_exchange_row(sa, i, ex) for i, ex in enumerate(sa.exchanges)]
        for c in sa.child_sas:
            t["child_sas"].append(_child_row(sa, c))
            t["esp"] += [_esp_row(sa, c, s) for s in c.esp]
        t["findings"] += list(_sa_findings(sa))
    t["esp"] += [_esp_row(None, None, s) for s in analysis.unassociated_esp]
    k = analysis.counters
    times = [sa.first_ts for sa in analysis.ike_sas] + [s.first_ts for s in _all_esp(analysis)]
    ends = [sa.last_ts for sa in analysis.ike_sas] + [s.last_ts for s in _all_esp(analysis)]
    t["captures"].append(
        {
            "size_bytes": size,
            "error": None,
            "damage": analysis.damage,
            "frames": k.frames,
            "ike_messages": k.ike_messages,
            "ike_decrypted": k.ike_decrypted,
            "ike_integrity_failed": k.ike_integrity_failed,
            "esp_packets": k.esp_packets,
            "esp_decrypted": k.esp_decrypted,
            "esp_integrity_failed": k.esp_integrity_failed,
            "keepalives": k.keepalives,
            "frame_errors": k.frame_errors,
            "ikev1_messages": k.ikev1_messages,
            "ike_sas": len(analysis.ike_sas),
            "child_sas": len(t["child_sas"]),
            "problems": len(analysis.problems),
            "first_ts": min(times, default=None),
            "last_ts": max(ends, default=None),
        }
    )
    for rows in t.values():
        for row in rows:
            row["capture"] = capture
    return t


def _all_esp(analysis: Any) -> Iterator[Any]:
    for sa in analysis.ike_sas:
        for c in sa.child_sas:
            yield from c.esp
    yield from analysis.unassociated_esp


def error_tables(capture: str, size: int | None, error: str) -> Tables:
    t: Tables = {name: [] for name in SCHEMA}
    t["captures"].append({"capture": capture, "size_bytes": size, "error": error})
    return t


__all__ = ["SCHEMA", "Row", "Tables", "analysis_tables", "error_tables"]
