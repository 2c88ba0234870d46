"""ConfigCheck records as report text lines and as the ``config_check`` JSON object.

JSON contract (docs/config.md): ``config_check`` = ``{"device", "kind", "role", "proposal":
{"matched", "configured", "offered_number", "differences": [{"type", "offered",
"configured"}], "agrees_with_capture"}, "profile", "keyring_peer", "findings": [...]}``; a
finding is ``{"code", "severity", "frames", "basis", "explanation", "fix", "fix_cisco",
"fix_strongswan", ...its extra fields}`` as in docs/report-json.md. ``report.py`` calls these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ikeview.diagnosis.jsonform import finding_json

if TYPE_CHECKING:
    from ikeview.diagnosis.records import ConfigCheck, ProposalCheck
    from ikeview.pipeline.model import Analysis, IkeSa
from ikeview.textsafe import printable


def safe(text: str) -> str:
    """Text with anything a terminal would act on (escapes in a capture's identities) escaped."""
    return printable(text)


def proposal_json(p: ProposalCheck | None) -> dict[str, Any] | None:
    """The ``proposal`` member."""
    if p is None:
        return None
    return {
        "matched": p.matched,
        "configured": p.configured,
        "offered_number": p.offered_number,
        "differences": [
            {"type": d.type, "offered": list(d.offered), "configured": list(d.configured)}
            for d in p.differences
        ],
        "agrees_with_capture": p.agrees_with_capture,
        "simulated": list(p.simulated),
    }


def config_check_json(c: ConfigCheck) -> dict[str, Any]:
    """One ``config_check`` object."""
    return {
        "device": c.device,
        "kind": c.kind,
        "role": c.role,
        "proposal": proposal_json(c.proposal),
        "profile": c.profile,
        "keyring_peer": c.keyring_peer,
        "findings": [finding_json(f) for f in c.findings],
        "notes": list(c.notes),
    }


def config_checks_json(
    checks: Sequence[ConfigCheck],
) -> dict[str, Any] | list[dict[str, Any]] | None:
    """What an SA object carries: the one check as an object, several as a list, none as None."""
    if not checks:
        return None
    if len(checks) == 1:
        return config_check_json(checks[0])
    return [config_check_json(c) for c in checks]


def _proposal_line(p: ProposalCheck) -> str:
    if p.matched:
        n = f" (offered #{p.offered_number})" if p.offered_number is not None else ""
        agree = {True: ", as in the capture", False: ", NOT what the capture shows", None: ""}
        picked = f" -> {'/'.join(p.simulated)}" if p.simulated else ""
        return f"proposal ok{n}: {p.configured}{picked}{agree[p.agrees_with_capture]}"
    diffs = "; ".join(
        f"{d.type} offered {'/'.join(d.offered)} vs configured {'/'.join(d.configured)}"
        for d in p.differences
    )
    return f"proposal MISMATCH, closest {p.configured}: {diffs}"


def config_check_lines(c: ConfigCheck, indent: str = "  ") -> list[str]:
    """A few lines for the text report under an IKE SA or child SA."""
    role = c.role or "side unknown (use --config-side)"
    head = f"{indent}config {safe(c.device)} [{c.kind}]: {role}"
    if c.profile:
        head += f", {safe(c.profile)}"
    lines = [head]
    if c.proposal is not None:
        lines.append(f"{indent}  {safe(_proposal_line(c.proposal))}")
    if c.keyring_peer:
        lines.append(f"{indent}  PSK: {safe(c.keyring_peer)}")
    lines += [f"{indent}  note: {safe(n)}" for n in c.notes]
    for f in c.findings:
        lines.append(f"{indent}  {f.severity.upper():7} {f.code}: {safe(f.explanation)}")
        if f.fix:
            lines.append(f"{indent}          fix: {safe(f.fix)}")
    return lines


def analysis_lines(analysis: Analysis) -> list[str]:
    """Every config check of an analysis, grouped by IKE SA and child SA (for a report section
    when the per-SA placement is not wired)."""
    lines: list[str] = []
    for sa in analysis.ike_sas:
        checks = sa_lines(sa)
        if checks:
            lines += [f"IKE SA {sa.label}", *checks]
    return lines


def sa_lines(sa: IkeSa) -> list[str]:
    """One IKE SA's config checks, then its child SAs' (none when no --config was given); the
    TUI's SA card ends with them."""
    lines: list[str] = []
    for c in sa.config_checks:
        lines += config_check_lines(c, "  ")
    for ch in sa.child_sas:
        if ch.config_checks:
            lines.append(f"  child SA 0x{ch.spi_initiator:08x}/0x{ch.spi_responder:08x}")
            for c in ch.config_checks:
                lines += config_check_lines(c, "    ")
    return lines
