"""The seam between correlation and decryption.

The correlator (correlate/) knows the protocol: which message set up which SA, who is initiator,
which nonces and KE payloads belong together. The decryptor (decrypt.py) knows the keys and the
crypto. They meet only through the ``Decryptor`` protocol below and its records, so each can be
tested without the other: ESP's here, IKE's (SA and child SA setups, SK payloads opened, AUTH
claims and verdicts, EAP runs) in ike_seam.py, which a capture of ESP alone never imports.
All byte strings are as on the wire; SPIs of IKE SAs are 8-byte strings, ESP SPIs are ints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

from ikeview.dissectors.records import EspPacket
from ikeview.pipeline.ids import IkeSpis, IntegrityVerdict, Side

if TYPE_CHECKING:
    # Named in annotations only: the IKE side loads with the first IKE message.
    from ikeview.dissectors.ike_records import IkeHeader, SkfPayload, SkPayload
    from ikeview.pipeline.dec_records import DerivedEspSa, DerivedIkeSa
    from ikeview.pipeline.ike_seam import (
        AuthClaim,
        AuthVerdict,
        ChildSaSetup,
        EapRun,
        IkeSaSetup,
        Opened,
    )


@dataclass(frozen=True, slots=True)
class EspOpened:
    """One ESP packet, decrypted (or not)."""

    decrypted: bool
    integrity: IntegrityVerdict | None
    next_header: int | None
    inner: bytes | None
    """The inner packet (tunnel mode: an IP packet) or transport payload."""
    problem: str | None


EspObserver = Callable[[EspPacket, EspOpened], None]
"""Sees every ESP packet with what the decryptor made of it (the TUI's per-packet rows)."""

DerivedKeys: TypeAlias = "tuple[DerivedIkeSa | DerivedEspSa, ...]"


class Decryptor(Protocol):
    """What the correlator asks of the key side; decrypt.py implements it."""

    has_keys: bool
    """False when nothing can ever be decrypted: the correlator then skips ESP altogether."""

    def ike_sa(self, setup: IkeSaSetup) -> str | None:
        """Register an IKE SA; returns a problem line when no key can possibly unlock it."""

    def open(self, header: IkeHeader, raw: bytes, sk: SkPayload | SkfPayload) -> Opened:
        """Decrypt and verify the SK/SKF payload ``sk`` of the message ``raw`` (whose header is
        ``header``: it names the IKE SA, the sender and the message)."""

    def verify_auth(self, spis: IkeSpis, claims: tuple[AuthClaim, ...]) -> tuple[AuthVerdict, ...]:
        """Check the AUTH payloads of an IKE SA, both sides in one call (a PSK scoped to one
        side's identity, or matching one side only, explains the other's verdict); one verdict
        per claim, in order."""

    def check_eap_password(self, run: EapRun) -> tuple[bool | None, str] | None:
        """For an EAP-MSCHAPv2 conversation the server refused (no final AUTH to check):
        whether an ``[[eap]]`` password reproduces the peer's NT-Response, with one line saying
        so; None when there is nothing to check."""

    def child_sa(self, setup: ChildSaSetup) -> str | None:
        """Register a child SA; returns a problem line when its keys cannot be derived."""

    def esp(self, packet: EspPacket) -> EspOpened:
        """Decrypt one ESP packet of a registered child SA (or keys given directly)."""

    def derived_keys(self) -> DerivedKeys:
        """Every key set in use (for reports and key exports); empty without keys."""


__all__ = [
    "Decryptor",
    "DerivedKeys",
    "EspObserver",
    "EspOpened",
    "IkeSpis",
    "IntegrityVerdict",
    "Side",
]
