"""``diagnose(analysis)``: every IKE SA and child SA gets its Diagnosis; problems get codes.

Runs once on the complete analysis (``ikeview.pipeline.analyze``), after correlation and
decryption. Pure: the analysis in, a new one out (``dataclasses.replace``), nothing printed.
"""

from __future__ import annotations

from dataclasses import replace

from ikeview.diagnosis.facts import Context, attribute_esp
from ikeview.diagnosis.records import Diagnosis, Finding
from ikeview.diagnosis.rules_child import child_refusals, other_errors, weak_esp
from ikeview.diagnosis.rules_esp import counters, one_way_child, one_way_inferred
from ikeview.diagnosis.rules_exchanges import RULES
from ikeview.diagnosis.rules_ike import establishment, init_retries
from ikeview.pipeline.model import Analysis, ChildSa, IkeSa, Problem

_RANK = {"error": 0, "warning": 1, "info": 2}
_ANSWER_CODES = frozenset({
    "authentication-failed", "psk-mismatch", "no-proposal-chosen", "ts-unacceptable",
    "single-pair-required", "internal-address-failure", "failed-cp-required",
    "temporary-failure", "child-sa-not-found", "invalid-syntax", "child-sa-refused",
    "error-notify",
})  # fmt: skip
"""Codes whose key frame is the answer that refused (their last frame), not the request."""


def _ordered(findings: list[Finding]) -> tuple[Finding, ...]:
    seen: set[tuple[str, tuple[int, ...], str]] = set()
    unique = []
    for f in findings:
        key = (f.code, f.frames, f.explanation)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return tuple(sorted(unique, key=lambda f: (_RANK[f.severity], f.frames[:1] or (0,))))


def key_frame(f: Finding) -> int | None:
    """The frame a view should jump to for this finding."""
    if not f.frames:
        return None
    return f.frames[-1] if f.code in _ANSWER_CODES else f.frames[0]


def _is_refused(c: ChildSa) -> bool:
    return c.proposal is None or getattr(c, "error", None) is not None


def _child(c: ChildSa, refusals: list[tuple[int, Finding]]) -> tuple[ChildSa, list[Finding]]:
    """Diagnose one child SA; returns it and the refusals it took from ``refusals``."""
    taken = [f for fr, f in refusals if fr == c.created_frame] if _is_refused(c) else []
    found = [
        *taken,
        *weak_esp(c),
        *one_way_child(c),
        *counters(c.esp, c.created_frame, "decrypted"),
    ]
    if _is_refused(c):
        head = taken[0].explanation.rstrip(".") if taken else "refused"
        outcome = "failed"
    else:
        outcome = "established"
        head = f"created in frame {c.created_frame}"
        if c.esp_packets:
            head += f"; {c.esp_packets} ESP packets"
    verdict = f"{outcome.upper()}  {head}"
    diag = Diagnosis(outcome=outcome, basis="decrypted", findings=_ordered(found),
                     verdict=verdict)  # fmt: skip
    return replace(c, diagnosis=diag), taken


def _verdict(outcome: str, head: str, findings: tuple[Finding, ...], own: set[str]) -> str:
    text = f"{outcome.upper()}  {head}"
    others = [f.code for f in findings if f.severity != "info" and f.code not in own]
    if others:
        text += "; also " + ", ".join(dict.fromkeys(others))
    return text


def _sa(sa: IkeSa, ctx: Context) -> IkeSa:
    est = establishment(sa, ctx)
    found: list[Finding] = [*est.findings, *init_retries(sa), *other_errors(sa, ctx)]
    for rule in RULES:
        found.extend(rule(sa, ctx))
    refusals = child_refusals(sa, ctx)
    children = []
    used: list[Finding] = []
    for c in sa.child_sas:
        new, taken = _child(c, refusals)
        children.append(new)
        used.extend(taken)
    found.extend(f for _fr, f in refusals if not any(f is u for u in used))
    if not sa.child_sas and est.outcome == "established":
        esp = ctx.esp.get(sa.spis, ())
        frame = next((m.frame for m in sa.messages if m.response), 0)
        peers = {p for p in (sa.initiator, sa.responder) if p}
        found.extend(one_way_inferred(esp, peers, frame))
        found.extend(counters(esp, frame, "inferred"))
    findings = _ordered(found)
    own = {f.code for f in est.findings}
    diag = Diagnosis(
        outcome=est.outcome,
        basis=est.basis,
        findings=findings,
        verdict=_verdict(est.outcome, est.headline, findings, own),
    )
    return replace(sa, diagnosis=diag, child_sas=tuple(children))


def _problems(analysis: Analysis, sas: tuple[IkeSa, ...]) -> tuple[Problem, ...]:
    """The correlator's problems, each given the code of the finding that covers it (same IKE SA,
    its frame among the finding's), plus one problem per error/warning finding not covered."""
    problems = list(analysis.problems)
    for sa in sas:
        items = [*sa.diagnosis.findings, *(f for c in sa.child_sas for f in c.diagnosis.findings)]
        for f in items:
            if f.severity == "info":
                continue
            hit = next(
                (i for i, p in enumerate(problems)
                 if p.ike_sa == sa.spis and p.code is None and p.frame in f.frames),
                None,
            )  # fmt: skip
            if hit is not None:
                p = problems[hit]
                severity = f.severity if _RANK[f.severity] < _RANK[p.severity] else p.severity
                problems[hit] = replace(p, code=f.code, severity=severity)
                continue
            text = f"IKE SA {sa.label}: {f.explanation}"
            if f.fix:
                text += f" Fix: {f.fix}"
            problems.append(Problem(f.severity, text, key_frame(f), sa.spis, f.code))
    return tuple(problems)


def diagnose(analysis: Analysis) -> Analysis:
    """The analysis with every IKE SA's and child SA's ``diagnosis`` filled and coded problems."""
    ctx = Context(analysis, attribute_esp(analysis))
    sas = tuple(_sa(sa, ctx) for sa in analysis.ike_sas)
    return replace(analysis, ike_sas=sas, problems=_problems(analysis, sas))


__all__ = ["diagnose", "key_frame"]
