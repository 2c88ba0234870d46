"""The names both the model and the correlator/decryptor seam use, below both of them.

Nothing here imports the rest of ikeview, so model.py, seam.py and the views can share these
without importing each other.
"""

from __future__ import annotations

from typing import Literal

IkeSpis = tuple[bytes, bytes]
"""(SPIi, SPIr) of an IKE SA, 8 bytes each as on the wire."""

ZERO_SPI = bytes(8)
"""SPIr of the first IKE_SA_INIT request (RFC 7296 3.1)."""

Side = Literal["initiator", "responder"]
"""Which end of an IKE SA (or of an exchange)."""

SIDES: tuple[Side, Side] = ("initiator", "responder")

IntegrityVerdict = Literal["ok", "failed"]
"""An integrity check that ran; ``None`` where these are used means it could not run."""

AuthVerified = bool | None
"""An AUTH check: True/False when checked, None when nothing was available to check it with."""


def other_side(side: Side) -> Side:
    return "responder" if side == "initiator" else "initiator"


__all__ = [
    "SIDES",
    "ZERO_SPI",
    "AuthVerified",
    "IkeSpis",
    "IntegrityVerdict",
    "Side",
    "other_side",
]
