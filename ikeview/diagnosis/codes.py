"""The fixed vocabulary of diagnosis codes: one row per code, documented in docs/diagnosis.md.

A rule may only raise a code listed here (``finding()`` checks), so the JSON contract and the
documentation cannot drift from what the rules emit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.diagnosis.records import (
    Basis,
    ExtraValue,
    Finding,
    FindingSeverity,
)


@dataclass(frozen=True, slots=True)
class Code:
    """One diagnosis code."""

    code: str
    """The code as it appears in JSON and CSV."""
    severity: FindingSeverity
    """Its usual severity (a rule may lower or raise it and says why)."""
    rfc: str
    """The RFC section the judgement rests on."""
    title: str
    """A few words for lists and tables."""


_ROWS = (
    Code("no-response", "error", "RFC 7296 2.1, 2.4", "IKE_SA_INIT never answered"),
    Code("half-open", "warning", "RFC 7296 1.2, 2.4", "IKE_SA_INIT answered, no IKE_AUTH"),
    Code("no-proposal-chosen", "error", "RFC 7296 2.7, 3.10.1", "no proposal acceptable"),
    Code("invalid-ke-retry", "warning", "RFC 7296 1.2, 2.7", "KE group refused, retried"),
    Code("cookie-challenge", "info", "RFC 7296 2.6", "responder asked for a cookie"),
    Code("authentication-failed", "error", "RFC 7296 2.21.2", "AUTH rejected"),
    Code("psk-mismatch", "error", "RFC 7296 2.15", "the peers hold different PSKs"),
    Code("certificate-rejected", "error", "RFC 7296 2.15, 3.6", "valid signature, cert refused"),
    Code("ts-unacceptable", "error", "RFC 7296 2.9, 3.10.1", "traffic selectors refused"),
    Code("single-pair-required", "error", "RFC 7296 2.9, 3.10.1", "one address pair only"),
    Code("internal-address-failure", "error", "RFC 7296 3.15.4", "no internal address"),
    Code("failed-cp-required", "error", "RFC 7296 3.10.1", "configuration payload needed"),
    Code("temporary-failure", "warning", "RFC 7296 2.25, 3.10.1", "peer busy, try later"),
    Code("rekey-refused", "warning", "RFC 7296 1.3.3, 2.8", "the child SA's rekey was refused"),
    Code("child-sa-not-found", "warning", "RFC 7296 2.25, 3.10.1", "rekeyed child unknown"),
    Code("invalid-syntax", "error", "RFC 7296 3.10.1", "peer could not parse a message"),
    Code("error-notify", "error", "RFC 7296 3.10.1", "other error notify"),
    Code("ike-integrity-failure", "error", "RFC 7296 3.14", "IKE integrity check failed"),
    Code("retransmission", "warning", "RFC 7296 2.1, 2.4", "request retransmitted"),
    Code("fragmentation-suspected", "error", "RFC 7383 1, RFC 7296 2.4", "IP fragments lost"),
    Code("weak-algorithm", "warning", "RFC 8247 3, RFC 8221 5-6", "deprecated algorithm"),
    Code("esp-one-way", "warning", "RFC 4301 4.1, RFC 4303 3", "ESP in one direction only"),
    Code("esp-loss", "warning", "RFC 4303 3.4.3", "ESP sequence numbers missing"),
    Code("esp-replay", "warning", "RFC 4303 3.4.3", "ESP sequence numbers repeated"),
    Code("esp-after-delete", "error", "RFC 7296 1.4.1", "ESP sent to a deleted child SA"),
    Code("esp-integrity-failure", "error", "RFC 4303 3.4.4", "ESP ICV check failed"),
    Code("rekey-collision", "info", "RFC 7296 2.8.1", "both peers rekeyed at once"),
    Code("dpd-timeout", "error", "RFC 7296 2.4", "liveness checks unanswered"),
    Code("nat-detected", "info", "RFC 7296 2.23", "NAT between the peers"),
    Code("deleted", "info", "RFC 7296 1.4.1", "SA deleted"),
    Code("reauthenticated", "info", "RFC 7296 2.8.3", "replaced by a new IKE SA"),
    Code("no-child-sa", "warning", "RFC 7296 1.2, 2.21.2", "IKE SA without its first child"),
    Code("config-proposal-mismatch", "error", "RFC 7296 2.7", "config accepts nothing offered"),
    Code("config-proposal-unused", "warning", "Cisco IKEv2 Smart Defaults", "proposal unused"),
    Code("config-profile-no-match", "error", "RFC 7296 2.15", "no profile matches the peer"),
    Code("config-auth-method-mismatch", "error", "RFC 7296 2.15", "auth method differs"),
    Code("config-pfs-mismatch", "error", "RFC 7296 1.3.1", "PFS group differs"),
    Code("config-ts-mismatch", "error", "RFC 7296 2.9", "traffic selectors differ"),
)

CODES: dict[str, Code] = {row.code: row for row in _ROWS}
"""Every code a finding may carry."""


# RFC 7296 3.10.1 error notifies and the code each becomes; any other error type (< 16384) is
# ``error-notify``. INVALID_KE_PAYLOAD is a retry, judged by its own rule.
NOTIFY_CODES: dict[int, str] = {
    14: "no-proposal-chosen",
    17: "invalid-ke-retry",
    24: "authentication-failed",
    34: "single-pair-required",
    36: "internal-address-failure",
    37: "failed-cp-required",
    38: "ts-unacceptable",
    7: "invalid-syntax",
    43: "temporary-failure",
    44: "child-sa-not-found",
}

CHILD_ERRORS = frozenset({14, 34, 35, 36, 37, 38})
"""Error notifies that refuse only the child SA of an IKE_AUTH that otherwise succeeded (RFC
7296 1.2 and 2.21.2): NO_PROPOSAL_CHOSEN, SINGLE_PAIR_REQUIRED, NO_ADDITIONAL_SAS,
INTERNAL_ADDRESS_FAILURE, FAILED_CP_REQUIRED, TS_UNACCEPTABLE."""


def notify_code(notify_type: int) -> str:
    """The diagnosis code of an error notify."""
    return NOTIFY_CODES.get(notify_type, "error-notify")


def finding(
    code: str,
    *,
    frames: tuple[int, ...] | list[int],
    basis: Basis,
    explanation: str,
    fix: str | None,
    severity: FindingSeverity | None = None,
    fix_cisco: str | None = None,
    fix_strongswan: str | None = None,
    **extra: ExtraValue,
) -> Finding:
    """A Finding with a code from the vocabulary (KeyError otherwise: a programming error)."""
    row = CODES[code]
    return Finding(
        code=code,
        severity=severity or row.severity,
        frames=tuple(sorted(set(frames))),
        basis=basis,
        explanation=explanation,
        fix=fix,
        fix_cisco=fix_cisco,
        fix_strongswan=fix_strongswan,
        extra=tuple(extra.items()),
    )


__all__ = ["CHILD_ERRORS", "CODES", "NOTIFY_CODES", "Code", "finding", "notify_code"]
