"""The records a diagnosis is made of, shared by the model, the rules, the config checks and views.

Nothing here computes. The JSON shape (``docs/report-json.md``) is these fields by name, with a
finding's ``extra`` pairs flattened into the finding object (``rejected_by``, ``group``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["established", "failed", "incomplete", "unknown"]
"""``established`` the SA was set up; ``failed`` a peer refused it or it broke down;
``incomplete`` the capture stops before the end of the negotiation (or starts after it);
``unknown`` the evidence allows no verdict."""

Basis = Literal["decrypted", "inferred"]
"""``decrypted`` read from decrypted payloads (or payloads sent in clear); ``inferred`` judged
from sizes, timing and what followed, without reading the protected payloads. The views word
it as ``words.BASIS_WORDS`` says."""

FindingSeverity = Literal["error", "warning", "info"]
"""``error`` something failed; ``warning`` something is wrong or risky but did not (yet) fail;
``info`` worth knowing."""

ExtraValue = str | int | float | bool | None | tuple[str | int | float, ...]
"""What a finding's own fields may hold (JSON scalars, or a tuple of them)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement about an IKE SA or child SA, with the frames it rests on and the fix."""

    code: str
    """From the fixed vocabulary in ``docs/diagnosis.md`` (``no-proposal-chosen``, ...)."""
    severity: FindingSeverity
    """See :data:`FindingSeverity`."""
    frames: tuple[int, ...]
    """1-based frame numbers (as tshark counts) of the evidence, in capture order."""
    basis: Basis
    """Whether the evidence was read from decrypted/clear payloads or inferred."""
    explanation: str
    """One sentence: what happened, naming the frames and sides."""
    fix: str | None
    """One sentence, vendor-neutral; None for findings that need no fix (info)."""
    fix_cisco: str | None = None
    """The Cisco IOS / IOS XE setting to change, where it differs from the neutral fix."""
    fix_strongswan: str | None = None
    """The strongSwan (swanctl.conf) setting to change, where it differs."""
    extra: tuple[tuple[str, ExtraValue], ...] = ()
    """Fields of its own (``rejected_by``, ``group``, ``count``, ``direction``...), in order."""

    def get(self, name: str, default: ExtraValue = None) -> ExtraValue:
        """One of the ``extra`` fields by name."""
        for key, value in self.extra:
            if key == name:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The verdict on one IKE SA or child SA."""

    outcome: Outcome
    """See :data:`Outcome`."""
    basis: Basis
    """How the outcome was reached (``decrypted`` only when it was read, not guessed)."""
    findings: tuple[Finding, ...] = ()
    """Most severe first, then in capture order."""
    verdict: str = ""
    """The one line a report opens the SA with (``FAILED  the responder rejected ...``)."""


NOT_DIAGNOSED = Diagnosis(outcome="unknown", basis="inferred", findings=(), verdict="")
"""What an SA carries before the rules have run (snapshots taken while a capture loads)."""


# ------------------------------------------------------------------ checks against a config


TransformKind = Literal["ENCR", "INTEG", "PRF", "KE", "ESN"]
"""The transform types a proposal difference names (RFC 7296 section 3.3.2, IANA names)."""


@dataclass(frozen=True, slots=True)
class ProposalDifference:
    """One transform type on which the offer and the configuration disagree."""

    type: TransformKind
    """Which transform type."""
    offered: tuple[str, ...]
    """What the initiator offered for it (IANA names, e.g. ``ENCR_AES_CBC_256``)."""
    configured: tuple[str, ...]
    """What the configuration allows for it (same naming)."""


@dataclass(frozen=True, slots=True)
class ProposalCheck:
    """Does a configured proposal (IOS proposal / transform set, swanctl proposal) fit the offer?"""

    matched: bool
    """True when the configuration accepts something offered."""
    configured: str
    """The configured proposal in the config's own words (IOS proposal name and lines, or the
    swanctl proposal string)."""
    offered_number: int | None
    """The initiator's proposal number the configuration would choose; None when none."""
    differences: tuple[ProposalDifference, ...] = ()
    """For the closest configured proposal when nothing matched."""
    agrees_with_capture: bool | None = None
    """Whether the simulated choice equals what the capture shows; None when unknown."""
    simulated: tuple[str, ...] = ()
    """The algorithms the configuration would pick from ``offered_number`` (IANA names, one per
    transform type, in the config's priority order); empty when nothing fits or not simulated."""


@dataclass(frozen=True, slots=True)
class ConfigCheck:
    """An IKE SA or child SA checked against one device's configuration."""

    device: str
    """The config file (and for IOS the hostname) it was read from."""
    kind: Literal["ios", "swanctl", "ipsec.conf"]
    """Which config language."""
    role: Literal["initiator", "responder"] | None
    """Which side of the SA the config belongs to; None when it could not be told."""
    proposal: ProposalCheck | None = None
    """The proposal check: the IKE proposal for an IKE SA, transform set / esp_proposals for a
    child SA."""
    profile: str | None = None
    """The IOS IKEv2 profile / swanctl connection that matched the peer, if any."""
    keyring_peer: str | None = None
    """The IOS keyring peer / swanctl secret that holds the PSK used, if any."""
    findings: tuple[Finding, ...] = field(default=())
    """The ``config-*`` (and ``psk-mismatch``) findings this check raised."""
    notes: tuple[str, ...] = ()
    """What the config reader could not use, in one sentence each (a type 6 key that cannot be
    read, an algorithm ikeview does not know); not findings, as they judge nothing."""
