"""One IKE SA judged: its rules run, its outcome decided, its verdict line written.

``engine.diagnose`` imports this module (and with it every rule) only for an analysis with IKE
SAs: a capture of ESP alone has nothing for the rules to judge.
"""

from __future__ import annotations

from dataclasses import replace

from ikeview import iana
from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis import rules_child as rc
from ikeview.diagnosis import rules_ike as ri
from ikeview.diagnosis.child_retry import retried_at_once, rule_child_retry
from ikeview.diagnosis.codes import CHILD_ERRORS
from ikeview.diagnosis.deleted_esp import rule_esp_after_delete
from ikeview.diagnosis.reauth import rule_reauth
from ikeview.diagnosis.records import Basis, Diagnosis, Finding, Outcome
from ikeview.diagnosis.rekey import rekey_refused, rekeyed_spi
from ikeview.diagnosis.rules_auth import AuthVerdict, judge_auth
from ikeview.pipeline.model import ChildSa, Exchange, IkeSa

X = iana.ExchangeType
_RANK = {"error": 0, "warning": 1, "info": 2}
_FAILED_SETUP = {
    "half-open",
    "no-response",
    "no-proposal-chosen",
    "authentication-failed",
    "invalid-syntax",
    "temporary-failure",
    "error-notify",
    "internal-address-failure",
    "failed-cp-required",
    "ts-unacceptable",
    "single-pair-required",
}


def ordered(findings: list[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: (_RANK[f.severity], f.frames[:1] or (0,))))


def _verdict(outcome: Outcome, text: str, findings: tuple[Finding, ...]) -> str:
    line = f"{outcome.upper():<11} {text}"
    why = next((f for f in findings if f.code in ("psk-mismatch", "certificate-rejected")), None)
    if why is not None:
        line += f": {why.explanation}"
    frag = next((f for f in findings if f.code == "fragmentation-suspected"), None)
    if frag is not None and outcome == "failed":
        line += (
            f": most likely a path dropping IP fragments (a {frag.get('length')}-byte request, "
            "no IKEv2 fragmentation)"
        )
    return line


def _init_frames(sa: IkeSa) -> list[int]:
    inits = [e for e in sa.exchanges if e.exchange_type == X.IKE_SA_INIT and e.response]
    return [m.frame for e in inits[-1:] for m in (e.request, e.response) if m is not None]


def _without_auth(sa: IkeSa, findings: list[Finding]) -> tuple[Outcome, Basis, str]:
    """Outcome of an IKE SA that had no IKE_AUTH exchange in the capture."""
    failed = [f for f in findings if f.code in _FAILED_SETUP and f.severity == "error"]
    if failed:
        return "failed", failed[0].basis, failed[0].explanation
    if sa.state == "failed" and sa.failure and not sa.state_inferred:
        # Read from the payloads without an error notify: a REDIRECT (RFC 5685) sent the
        # initiator to another gateway, so this SA was never set up here.
        return "failed", "decrypted", sa.failure
    if sa.created_by == X.CREATE_CHILD_SA:
        if sa.established_ts is not None:
            return (
                "established",
                "inferred" if sa.state_inferred else "decrypted",
                (f"created by rekeying {sa.rekey_of[0].hex() if sa.rekey_of else 'an IKE SA'}"),
            )
        return "incomplete", "inferred", "the rekeying CREATE_CHILD_SA did not complete"
    if any(f.code == "half-open" for f in findings):
        return "incomplete", "inferred", "IKE_SA_INIT was answered but IKE_AUTH never followed"
    if sa.created_by is None:
        answered = [e.response for e in sa.exchanges if e.response is not None]
        if answered:
            return (
                "established",
                "inferred",
                (
                    "first seen mid-life: its setup is not in the capture, but the peers "
                    f"exchanged protected messages (frame {answered[0].frame})"
                ),
            )
        return "unknown", "inferred", "first seen mid-life, and nothing in it was answered"
    inits = [e for e in sa.exchanges if e.exchange_type == X.IKE_SA_INIT]
    if inits and inits[-1].response is None and inits[-1].request is not None:
        if any(sa.spi_r):
            return (
                "incomplete",
                "inferred",
                (
                    "the capture misses the IKE_SA_INIT response (a later message carries the "
                    "responder's SPI, so it was sent)"
                ),
            )
        return (
            "incomplete",
            "inferred",
            (
                f"the capture ends before any answer to IKE_SA_INIT (frame "
                f"{inits[-1].request.frame}, sent once)"
            ),
        )
    return "incomplete", "inferred", "the capture ends before IKE_AUTH"


def _children(sa: IkeSa, auth: AuthVerdict | None) -> list[ChildSa]:
    """The child SAs, refused ones included, each with its diagnosis."""
    out: list[ChildSa] = []
    refused_rekeys: list[tuple[Exchange, ChildSa]] = []
    if auth is not None and auth.refused_child_exchange is not None:
        ex = auth.refused_child_exchange
        child = rc.refused_child(sa, ex, auth.refused_child_error or 0)
        found = rc.refused_findings(child, ex)
        out.append(replace(child, diagnosis=_child_diagnosis("failed", found)))
    for ex in sa.exchanges:
        # TEMPORARY_FAILURE and CHILD_SA_NOT_FOUND refuse a CREATE_CHILD_SA only (RFC 7296
        # 2.25), e.g. a rekey of a child SA the peer is deleting or no longer has.
        refused = (
            ex.error in CHILD_ERRORS
            or ex.error in (iana.NotifyType.TEMPORARY_FAILURE, iana.NotifyType.CHILD_SA_NOT_FOUND)
            or ev.refused_by_size(sa.chosen, ex)
        )
        if ex.exchange_type == X.CREATE_CHILD_SA and refused and ex.error is None:
            # Without keys: a refusal retried at once and answered in full is an
            # INVALID_KE_PAYLOAD round (rule_child_retry), not a refused child SA.
            refused = retried_at_once(sa, ex) is None
        if ex.exchange_type == X.CREATE_CHILD_SA and refused:
            # Without keys, a response too small for SA + Nonce is a refusal (error unknown: 0).
            child = rc.refused_child(sa, ex, ex.error or 0)
            found = rc.refused_findings(child, ex, sa)
            out.append(replace(child, diagnosis=_child_diagnosis("failed", found)))
            if rekeyed_spi(ex) is not None:
                refused_rekeys.append((ex, child))
    auth_failed = auth is not None and auth.outcome == "failed"
    rekeys = [(ex, iana.NOTIFY_TYPES.name(c.error or 0)) for ex, c in refused_rekeys]
    for c in sa.child_sas:
        found = [
            *rc.rule_weak(c.proposal, [c.created_frame], esp=True),
            *rc.rule_esp(c),
            *rekey_refused(sa, c, rekeys),
            *rule_esp_after_delete(sa, c),
        ]
        if auth is not None and auth_failed and c.exchange_type == X.IKE_AUTH:
            # Negotiated in IKE_AUTH, but a peer then refused the other's AUTH (RFC 7296
            # 2.21.2): the child SA is torn down with the IKE SA, never used.
            diag = _child_diagnosis("failed", found)
            text = f"the IKE SA's authentication failed ({auth.text})"
            diag = replace(diag, basis=auth.basis, verdict=_verdict("failed", text, ()))
            out.append(replace(c, diagnosis=diag))
            continue
        out.append(replace(c, diagnosis=_child_diagnosis("established", found)))
    return sorted(out, key=lambda c: c.created_frame)


def _child_diagnosis(outcome: Outcome, found: list[Finding]) -> Diagnosis:
    findings = ordered(found)
    basis: Basis = "decrypted"
    if outcome == "failed" and findings and findings[0].basis == "inferred":
        basis = "inferred"
    if outcome == "failed":
        text = findings[0].explanation if findings else "refused"
    else:
        worst = next((f for f in findings if f.severity != "info"), None)
        text = "set up" + (f"; {worst.explanation}" if worst else "")
    return Diagnosis(outcome, basis, findings, _verdict(outcome, text, ()))


def _broke_down(
    outcome: Outcome, text: str, found: list[Finding], dpd: Finding | None
) -> tuple[Outcome, str]:
    """An established SA that later died: a failed liveness check, or a later request (a rekey,
    an INFORMATIONAL) retransmitted until the sender gave up, the peer silent from then on."""
    if outcome != "established":
        return outcome, text
    gave_up = next(
        (
            f
            for f in found
            if f.code == "no-response" and f.get("exchange") in ("CREATE_CHILD_SA", "INFORMATIONAL")
        ),
        None,
    )
    if dpd is not None:
        return "failed", f"{text}; then the peer stopped answering (dead peer)"
    if gave_up is not None and gave_up.get("peer_gave_up"):
        return (
            "failed",
            f"{text}; then the IKE SA broke down: requests one way were lost, the peer that sent "
            "them gave up and dropped the SA, and the other side's later requests found it gone",
        )
    if gave_up is not None:
        return (
            "failed",
            f"{text}; then the peer stopped answering: {gave_up.get('exchange')} sent "
            f"{gave_up.get('count')} time(s), never answered (a restarted peer that lost the "
            "SA, or a broken path)",
        )
    return outcome, text


def diagnose_sa(sa: IkeSa, analysis: ev.Facts) -> IkeSa:
    """One IKE SA with its diagnosis and its children's (refused ones added)."""
    found: list[Finding] = [
        *ri.rule_init(sa, analysis),
        *ri.rule_unanswered(sa, analysis),
        *ri.rule_retransmission(sa, analysis),
        *ri.rule_integrity(sa, analysis),
        *rc.rule_weak(sa.chosen, _init_frames(sa), esp=False),
        *rc.rule_nat(sa),
        *rc.rule_deleted(sa),
        *rule_reauth(sa, ev.same_peers(analysis, sa)),
        *rule_child_retry(sa),
        *rc.rule_collision(sa),
        *rc.rule_esp_keyless(sa, analysis),
    ]
    auth = judge_auth(sa, analysis)
    if auth is not None:
        outcome, basis, text = auth.outcome, auth.basis, auth.text
        found += auth.findings
    else:
        outcome, basis, text = _without_auth(sa, found)
    dpd = next((f for f in found if f.code == "dpd-timeout"), None)
    outcome, text = _broke_down(outcome, text, found, dpd)
    findings = ordered(found)
    diagnosis = Diagnosis(outcome, basis, findings, _verdict(outcome, text, findings))
    children = tuple(_children(sa, auth))
    state, failure, inferred = sa.state, sa.failure, sa.state_inferred
    established_ts = sa.established_ts
    if outcome == "failed" and state in ("half-open", "authenticating", "established"):
        # The correlator's state never outranks the verdict: a refused or dead SA is failed,
        # and one refused during setup was never established.
        state, failure, inferred = "failed", text, basis == "inferred"
        if dpd is None:
            established_ts = None
    return replace(
        sa,
        established_ts=established_ts,
        diagnosis=diagnosis,
        child_sas=children,
        state=state,
        failure=failure,
        state_inferred=inferred,
    )


def guarded(sa: IkeSa, facts: ev.Facts) -> IkeSa:
    """diagnose_sa, except that a fault in a rule on a capture nobody foresaw leaves this SA
    undiagnosed (saying so) instead of taking every view of the whole capture down."""
    try:
        return diagnose_sa(sa, facts)
    except Exception as exc:  # a rule's bug must not cost the report of the other SAs
        text = (
            f"the diagnosis stopped on an internal error ({type(exc).__name__}); the "
            "exchanges below are unaffected; please report the capture"
        )
        return replace(sa, diagnosis=Diagnosis("unknown", "inferred", (), f"UNKNOWN     {text}"))


__all__ = ["diagnose_sa", "guarded", "ordered"]
