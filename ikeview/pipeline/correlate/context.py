"""What the correlator knows so far, shared by it and the exchange handlers: the IKE SAs and
their indexes, child SAs by SPI, ESP counters, problems, totals and the decryptor.

The handlers (exchanges.py, auth.py, children.py) change the capture's picture only through
this object and the builders it holds; they never see the dissector stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from ikeview.pipeline.capture_model import Counters, Problem, Severity
from ikeview.pipeline.correlate.esp import EspCounter
from ikeview.pipeline.ids import ZERO_SPI, IkeSpis
from ikeview.pipeline.seam import Decryptor

if TYPE_CHECKING:
    # Named only: the IKE side (builders.py and up) loads with the first IKE message.
    from ikeview.pipeline.correlate.builders import Child, Sa
    from ikeview.pipeline.ike_seam import IkeSaSetup


@dataclass(slots=True)
class Counts:
    """Running totals; the same names as :class:`Counters`, which adds ``frames``."""

    ike_messages: int = 0
    ike_decrypted: int = 0
    ike_integrity_failed: int = 0
    esp_packets: int = 0
    esp_decrypted: int = 0
    esp_integrity_failed: int = 0
    keepalives: int = 0
    frame_errors: int = 0
    ikev1_messages: int = 0

    def freeze(self, frames: int) -> Counters:
        return Counters(frames=frames, **{f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(slots=True)
class Context:
    decryptor: Decryptor
    sas: list[Sa] = field(default_factory=list)
    """Every IKE SA in the order first seen."""
    by_spis: dict[IkeSpis, Sa] = field(default_factory=dict)
    by_spi_i: dict[bytes, Sa] = field(default_factory=dict)
    """Latest SA per SPIi, for half-open SAs and IKE_SA_INIT retries."""
    esp: dict[tuple[int, str], EspCounter] = field(default_factory=dict)
    """ESP counters by (SPI, destination address)."""
    child_by_spi: dict[int, Child] = field(default_factory=dict)
    """Child SAs by either of their SPIs, for deletes and rekeys."""
    problems: list[Problem] = field(default_factory=list)
    seen_problems: set[tuple[str, str]] = field(default_factory=set)
    counts: Counts = field(default_factory=Counts)

    def problem(
        self,
        severity: Severity,
        text: str,
        *,
        frame: int | None = None,
        sa: Sa | None = None,
        once: str | None = None,
        code: str | None = None,
    ) -> None:
        """Record a problem; with ``once``, only the first problem of that key and severity.
        ``code`` marks a problem the diagnosis rules judge again with its fix (and replace)."""
        if once is not None:
            if (severity, once) in self.seen_problems:
                return
            self.seen_problems.add((severity, once))
        self.problems.append(Problem(severity, text, frame, sa.spis if sa else None, code))

    def add_sa(self, sa: Sa) -> None:
        self.sas.append(sa)
        self.by_spi_i[sa.spi_i] = sa
        if sa.spi_r != ZERO_SPI:
            self.by_spis[sa.spis] = sa

    def rename_sa(self, sa: Sa, spi_r: bytes) -> None:
        """Give ``sa`` its (new) responder SPI (rule 1)."""
        self.by_spis.pop(sa.spis, None)
        sa.spi_r = spi_r
        self.by_spis[sa.spis] = sa

    def register_ike(self, sa: Sa, setup: IkeSaSetup) -> None:
        """Hand an IKE SA's key material to the decryptor before its first encrypted message."""
        problem = self.decryptor.ike_sa(setup)
        if problem:
            sa.problem = problem
            self.problem("warning", problem, sa=sa, once=f"ike-setup:{sa.spis}")
