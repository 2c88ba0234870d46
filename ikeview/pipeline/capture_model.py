"""The capture-level half of the analysis model: ``Analysis`` itself, its ``Counters`` and
``Problem`` lines, and ESP per SPI (``EspSpiStats``, ``InnerFlow``).

model.py holds the IKE records (``IkeSa``, ``ChildSa``, ``Exchange``, ``Message``...) and
re-exports these, so ``from ikeview.pipeline.model import X`` names every record. Kept apart so
that an analysis of ESP alone (the bulk of a whole-file decryption) builds its ``Analysis``
without creating the IKE record classes at start-up; the code that runs on every capture (the
correlator's ESP side, ``analyze``, the report's frame) imports from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from ikeview.pipeline.ids import IkeSpis

if TYPE_CHECKING:
    from ikeview.pipeline.model import IkeSa

Severity = Literal["info", "warning", "error"]
"""How much a problem matters: ``error`` = something failed (integrity, AUTH, an exchange),
``warning`` = something is missing or odd (no keys, unanswered), ``info`` = worth knowing."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the user should know about, with where it was seen."""

    severity: Severity
    """``error``, ``warning`` or ``info``."""
    text: str
    """One line naming the IKE SA / SPI / frame and, where possible, what would fix it."""
    frame: int | None = None
    """Frame it concerns, if one."""
    ike_sa: IkeSpis | None = None
    """IKE SA it concerns, if one."""
    code: str | None = None
    """The diagnosis code (``docs/diagnosis.md``) when the problem is a finding's."""


@dataclass(frozen=True, slots=True)
class InnerFlow:
    """One flow inside an SPI's decrypted ESP packets (at most ``MAX_INNER_FLOWS`` per SPI)."""

    text: str
    """One line, e.g. ``IPv4 ICMP 198.51.100.1 > 203.0.113.1 echo-request``."""
    packets: int
    """Decrypted packets of this flow."""
    bytes: int
    """Sum of their decrypted payload lengths (inner packet, no ESP padding or trailer)."""
    ip_version: int | None
    """4 or 6 (tunnel mode); None when the payload is not an IP packet (transport mode)."""
    protocol: int
    """IP protocol of the innermost header read (the ESP Next Header in transport mode)."""
    src: str | None
    """Inner source address; None in transport mode."""
    dst: str | None
    """Inner destination address; None in transport mode."""
    sport: int | None
    """TCP/UDP/SCTP source port, else None."""
    dport: int | None
    """TCP/UDP/SCTP destination port, else None."""
    icmp_type: int | None
    """ICMP/ICMPv6 type, else None."""
    icmp_code: int | None
    """ICMP/ICMPv6 code, else None."""
    error: str | None
    """Why the inner headers could not be read to the end, if so."""


MAX_INNER_FLOWS = 16
"""Distinct inner flows kept per SPI; packets of later flows only count in ``inner_other``."""


@dataclass(frozen=True, slots=True)
class EspSpiStats:
    """Counters for the ESP packets of one SPI (memory stays fixed however many packets)."""

    spi: int
    """SPI from the ESP header."""
    src: str
    """Outer source address of the first packet."""
    dst: str
    """Outer destination address of the first packet."""
    udp_encap: bool
    """Carried in UDP (RFC 3948) or TCP."""
    packets: int
    """Packets seen."""
    bytes: int
    """Sum of ESP lengths (SPI to ICV)."""
    first_ts: float
    """Time of the first packet."""
    last_ts: float
    """Time of the last packet."""
    first_seq: int
    """Sequence number of the first packet."""
    last_seq: int
    """Sequence number of the last packet."""
    max_seq: int
    """Highest sequence number seen."""
    missing: int
    """Sequence numbers between the lowest and highest seen that never arrived."""
    replays: int
    """Packets whose sequence number was already seen (within a 1024-packet window)."""
    out_of_order: int
    """Packets that arrived with a lower sequence number than one already seen (not replays)."""
    decrypted: int
    """Packets the decryptor opened."""
    integrity_failed: int
    """Packets whose ICV did not verify."""
    problem: str | None
    """The first reason a packet was not decrypted, if any."""
    inner_flows: tuple[InnerFlow, ...] = ()
    """Flows inside the decrypted packets, in order of first packet (at most
    ``MAX_INNER_FLOWS``, so memory is bounded by SAs, not packets)."""
    inner_other: int = 0
    """Decrypted packets of flows beyond the first ``MAX_INNER_FLOWS``."""
    first_frame: int = 0
    """Frame of the first packet (0 when not known)."""
    last_frame: int = 0
    """Frame of the last packet."""
    gap_frame: int | None = None
    """First packet whose sequence number jumped ahead, leaving a gap; None without gaps."""
    replay_frame: int | None = None
    """First packet whose sequence number was already seen; None without replays."""
    integrity_failed_frame: int | None = None
    """First packet whose ICV did not verify; None when none failed."""

    def counters(self) -> dict[str, bool | int | float]:
        """The counters by name, in the one order the report JSON and the batch tables use."""
        return {
            "udp_encap": self.udp_encap,
            "packets": self.packets,
            "bytes": self.bytes,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "max_seq": self.max_seq,
            "missing": self.missing,
            "replays": self.replays,
            "out_of_order": self.out_of_order,
            "decrypted": self.decrypted,
            "integrity_failed": self.integrity_failed,
        }


@dataclass(frozen=True, slots=True)
class Counters:
    """Totals over the capture (or the part of it read so far)."""

    frames: int = 0
    """Frames read."""
    ike_messages: int = 0
    """IKE datagrams (IKEv1 included)."""
    ike_decrypted: int = 0
    """IKE messages whose SK/SKF payload was opened."""
    ike_integrity_failed: int = 0
    """IKE messages whose ICV did not verify."""
    esp_packets: int = 0
    """ESP packets."""
    esp_decrypted: int = 0
    """ESP packets opened."""
    esp_integrity_failed: int = 0
    """ESP packets whose ICV did not verify."""
    keepalives: int = 0
    """NAT keepalives."""
    frame_errors: int = 0
    """Frames that could not be decoded far enough."""
    ikev1_messages: int = 0
    """IKEv1 messages (labelled, not analyzed)."""


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the views show about one capture."""

    capture: str
    """The capture path as given."""
    counters: Counters
    """Totals."""
    ike_sas: tuple[IkeSa, ...]
    """IKE SAs in the order they were first seen."""
    unassociated_esp: tuple[EspSpiStats, ...]
    """ESP SPIs not (yet) tied to a child SA (e.g. no keys, or the IKE exchange is missing)."""
    problems: tuple[Problem, ...]
    """Problems in the order they were found."""
    complete: bool = True
    """False for a partial snapshot taken while the capture is still being read."""
    derived_keys: tuple[object, ...] = field(default=(), repr=False, compare=False)
    """The decryptor's derived-key records (``dec_records.DerivedIkeSa``/``DerivedEspSa``), for
    ``ikeview keys`` and ``report --show-secrets``; empty without keys. Holds secrets: views
    show them only when asked."""

    def ike_sa(self, spi_i: bytes, spi_r: bytes | None = None) -> IkeSa | None:
        """The IKE SA with these SPIs (any SPIr when None)."""
        for sa in self.ike_sas:
            if sa.spi_i == spi_i and (spi_r is None or sa.spi_r == spi_r):
                return sa
        return None

    @property
    def damage(self) -> str | None:
        """Where a damaged capture stopped being read (the text of its last problem, as the
        report shows it); None for a capture read whole."""
        from ikeview.dissectors.errors import CAPTURE_DAMAGED

        for p in self.problems:
            if p.frame is not None and p.text.startswith(f"frame {p.frame}: {CAPTURE_DAMAGED}"):
                return p.text
        return None


def iso_time(ts: float) -> str:
    """A capture time as ISO 8601 in UTC with microseconds: ``2024-05-01T10:00:00.000000Z``."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


__all__ = [
    "MAX_INNER_FLOWS",
    "Analysis",
    "Counters",
    "EspSpiStats",
    "InnerFlow",
    "Problem",
    "Severity",
    "iso_time",
]
