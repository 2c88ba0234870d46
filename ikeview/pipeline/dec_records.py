"""What the decryptor derived, as records for reports and key exports, and how it names things.

Derived keys are carried as the key ring's own records (``IkeSaKeys``/``EspKeys``), so anything
that writes a key ring (the Wireshark table writers) writes derived keys unchanged; the wrapper
records add what a key ring does not hold (ESN, where the keys came from, which IKE SA).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ikeview import iana
from ikeview.keys.model import DhSecret, EspKeys, IkeSaKeys, Psk, SourceRef
from ikeview.pipeline.ids import IkeSpis

if TYPE_CHECKING:
    from ikeview.dissectors.ike_records import IkeHeader


@dataclass(frozen=True, slots=True)
class DerivedIkeSa:
    """The keys of one IKE SA as the decryptor uses them."""

    keys: IkeSaKeys
    """SPIs, SK_* and algorithm ids (``source.path`` says where they came from)."""
    origin: str
    """Where the keys came from, for people: ``derived from [[dh]] keys.toml:4`` ..."""
    verified: bool
    """True once an SK payload's integrity check passed with them."""
    initiator: str | None
    """Address of the IKE SA's initiator, when the IKE_SA_INIT was seen."""
    responder: str | None
    """Address of the responder."""
    parent: IkeSpis | None
    """For an IKE SA made by rekeying: the old SA."""


@dataclass(frozen=True, slots=True)
class DerivedEspSa:
    """The keys of one ESP SA (one direction)."""

    keys: EspKeys
    """SPI, outer addresses, keys and algorithm ids."""
    esn: bool
    """Extended sequence numbers negotiated."""
    origin: str
    """Where the keys came from (a child SA's KEYMAT of an IKE SA, or a key file row)."""
    ike: IkeSpis | None
    """The IKE SA whose SK_d made the KEYMAT; None for keys given directly."""
    verified: bool
    """True once a packet's ICV/tag verified with them."""


def spis_text(spis: IkeSpis) -> str:
    """``SPIi/SPIr`` in hex, the way reports name an IKE SA."""
    return f"{spis[0].hex()}/{spis[1].hex()}"


def describe_header(header: IkeHeader) -> str:
    """``IKE_AUTH request (message ID 1)``, naming a message the way problem lines do."""
    kind = "response" if header.response else "request"
    name = iana.EXCHANGE_TYPES.name(header.exchange_type)
    return f"{name} {kind} (message ID {header.message_id})"


def key_origin(record: DhSecret | IkeSaKeys | EspKeys | Psk) -> str:
    """``[[dh]] keys.toml:4`` for TOML records, the bare ``file:line`` for other sources."""
    where = str(record.source)
    if not record.source.path.endswith(".toml"):
        return where
    table = {DhSecret: "dh", IkeSaKeys: "ike_sa", EspKeys: "esp", Psk: "psk"}[type(record)]
    return f"[[{table}]] {where}"


def derived_source(origin: str) -> SourceRef:
    """A SourceRef for keys ikeview computed (no file line of their own)."""
    return SourceRef(origin, 0)
