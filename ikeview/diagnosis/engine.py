"""``diagnose(analysis)``: every IKE SA and child SA gets its outcome, basis and findings.

The rules live in ``rules_ike`` (setup, retransmissions, unanswered requests, integrity),
``rules_auth`` (the outcome of IKE_AUTH, with or without keys) and ``rules_child`` (child SAs,
ESP, algorithms, NAT, deletes, collisions). judge.py runs them on one SA, decides its
outcome and writes the verdict line; this module folds the findings into the analysis'
problems, and imports judge.py only when there is an IKE SA to judge.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ikeview.pipeline.capture_model import Analysis, Problem

if TYPE_CHECKING:
    from ikeview.diagnosis.records import ConfigCheck, Diagnosis
    from ikeview.pipeline.model import IkeSa


def _problems(analysis: Analysis, sas: tuple[IkeSa, ...]) -> tuple[Problem, ...]:
    # Problems the correlator tagged with a code are judged again, with their fix, below.
    kept = [p for p in analysis.problems if p.code is None]
    for sa in sas:
        owned = [(sa.diagnosis, "")] + [
            (c.diagnosis, f"child SA 0x{c.spi_initiator:08x}: ") for c in sa.child_sas
        ]
        for diagnosis, prefix in owned:
            for f in diagnosis.findings:
                if f.severity == "info":
                    continue
                text = f"IKE SA {sa.label}: {prefix}{f.explanation}"
                if f.fix:
                    text += f"; fix: {f.fix}"
                # The last frame is where it shows: the refusing response, the chosen
                # proposal, the last unanswered copy.
                frame = f.frames[-1] if f.frames else None
                kept.append(Problem(f.severity, text, frame, sa.spis, f.code))
    return tuple(kept)


def _with_checks(d: Diagnosis, checks: tuple[ConfigCheck, ...]) -> Diagnosis:
    seen = {(f.code, f.frames) for f in d.findings}
    extra = [f for c in checks for f in c.findings if (f.code, f.frames) not in seen]
    if not extra:
        return d
    from ikeview.diagnosis.judge import ordered

    return replace(d, findings=ordered([*d.findings, *extra]))


def fold_config_findings(analysis: Analysis) -> Analysis:
    """The ``config-*`` findings of each SA's config checks joined to its diagnosis and the
    problems, so every view lists them with the rest (the config's own words are in them)."""
    sas = []
    for sa in analysis.ike_sas:
        children = tuple(
            replace(c, diagnosis=_with_checks(c.diagnosis, c.config_checks)) for c in sa.child_sas
        )
        sas.append(
            replace(
                sa,
                diagnosis=_with_checks(sa.diagnosis, sa.config_checks),
                child_sas=children,
            )
        )
    folded = tuple(sas)
    base = replace(analysis, problems=tuple(p for p in analysis.problems if p.code is None))
    return replace(analysis, ike_sas=folded, problems=_problems(base, folded))


def diagnose(analysis: Analysis) -> Analysis:
    """The analysis with every IKE SA and child SA diagnosed and the findings among problems."""
    if not analysis.ike_sas:
        # No IKE SA (ESP alone, say): no rule has anything to judge; the correlator's uncoded
        # problems stay, as below.
        return replace(analysis, problems=_problems(analysis, ()))
    from ikeview.diagnosis import evidence as ev
    from ikeview.diagnosis.judge import guarded

    facts = ev.index(analysis)
    sas = tuple(guarded(sa, facts) for sa in analysis.ike_sas)
    return replace(analysis, ike_sas=sas, problems=_problems(analysis, sas))


__all__ = ["diagnose", "fold_config_findings"]
