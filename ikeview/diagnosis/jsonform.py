"""The diagnosis records as plain JSON types (docs/report-json.md): one form for every view that
prints them (``report --json``, the config checks, ``batch``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ikeview.diagnosis.records import Diagnosis, Finding


def finding_json(f: Finding) -> dict[str, Any]:
    """One finding: the fixed fields, then its own (``extra``) fields by name."""
    out: dict[str, Any] = {
        "code": f.code,
        "severity": f.severity,
        "frames": list(f.frames),
        "basis": f.basis,
        "explanation": f.explanation,
        "fix": f.fix,
        "fix_cisco": f.fix_cisco,
        "fix_strongswan": f.fix_strongswan,
    }
    for key, value in f.extra:
        out.setdefault(key, list(value) if isinstance(value, tuple) else value)
    return out


def diagnosis_json(d: Diagnosis) -> dict[str, Any]:
    """``{"outcome", "basis", "verdict", "findings": [...]}`` (docs/report-json.md)."""
    return {
        "outcome": d.outcome,
        "basis": d.basis,
        "verdict": d.verdict,
        "findings": [finding_json(f) for f in d.findings],
    }


__all__ = ["diagnosis_json", "finding_json"]
