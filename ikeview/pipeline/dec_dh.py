"""Which Diffie-Hellman secrets of the key ring can be g^ir of one key exchange.

RFC 7296 section 2.14 (IKE SA) and 2.17/2.18 (CREATE_CHILD_SA with KE): g^ir is the shared
secret of the exchange's two KE payloads. A user gives it directly, or one side's private value
(we then compute g^ir with the peer's public value), scoped to one SA or not at all. Unscoped
secrets cannot be matched by looking at them, so they are returned as candidates for the caller
to try against the first encrypted message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ikeview.crypto import dh
from ikeview.keys.model import DhSecret
from ikeview.pipeline.dec_records import key_origin
from ikeview.pipeline.ike_seam import KeyExchange

# How sure a candidate is; lower sorts first.
_RANK_PRIVATE = 0  # its public value is one of the KE payloads: certainly this exchange
_RANK_SCOPED = 1  # the user said which SA it belongs to
_RANK_TRIAL = 2  # unscoped: only an integrity check can tell


@dataclass(frozen=True, slots=True)
class GirCandidate:
    """One possible g^ir and where it came from."""

    g_ir: bytes = field(repr=False)
    """The shared secret as used in SKEYSEED/KEYMAT."""
    origin: str
    """``[[dh]] keys.toml:4`` (private values: ``... private key``)."""
    rank: int
    """0 matched by public value, 1 scoped by SPI, 2 unscoped (needs a trial)."""


class DhMatcher:
    """Turns key-ring DH records into g^ir candidates; caches public values of private keys."""

    __slots__ = ("_public", "_secrets")

    def __init__(self, secrets: tuple[DhSecret, ...]) -> None:
        self._secrets = secrets
        # (group, private value) -> public value: MODP exponentiations are worth keeping.
        self._public: dict[tuple[int, bytes], bytes | None] = {}

    def _public_of(self, group: int, private: bytes) -> bytes | None:
        key = (group, private)
        if key not in self._public:
            try:
                self._public[key] = dh.public_value(group, private)
            except (ValueError, KeyError):
                self._public[key] = None
        return self._public[key]

    def candidates(
        self,
        ke: KeyExchange | None,
        *,
        spi_i: bytes | None,
        child: bool,
        child_spis: tuple[int, ...] = (),
        either_kind: bool = False,
    ) -> list[GirCandidate]:
        """g^ir candidates for the exchange with KE payloads ``ke``, best first.

        ``spi_i`` is the IKE SA's SPIi that scoped secrets must name; ``child`` selects
        CREATE_CHILD_SA PFS secrets (``child_spis`` the ESP SPIs they may name). With
        ``either_kind`` both kinds are accepted (an IKE SA rekey is a CREATE_CHILD_SA).
        """
        out: list[GirCandidate] = []
        secret_len = _secret_len(ke.group) if ke is not None else None
        for rec in self._secrets:
            if rec.child != child and not either_kind and not _trial_for_child(rec, child):
                continue
            origin = key_origin(rec)
            if rec.private_key is not None:
                g_ir = self._from_private(ke, rec.private_key)
                if g_ir is not None:
                    out.append(GirCandidate(g_ir, f"{origin} private key", _RANK_PRIVATE))
                continue
            if rec.shared_secret is None:
                continue
            if secret_len is not None and len(rec.shared_secret) != secret_len:
                continue
            if rec.child and child_spis and rec.child_spi is not None:
                if rec.child_spi not in child_spis:
                    continue
                out.append(GirCandidate(rec.shared_secret, origin, _RANK_SCOPED))
            elif rec.spi_i is not None:
                if rec.spi_i != spi_i:
                    continue
                out.append(GirCandidate(rec.shared_secret, origin, _RANK_SCOPED))
            else:
                out.append(GirCandidate(rec.shared_secret, origin, _RANK_TRIAL))
        out.sort(key=lambda c: c.rank)
        return out

    def _from_private(self, ke: KeyExchange | None, private: bytes) -> bytes | None:
        if ke is None:
            return None
        public = self._public_of(ke.group, private)
        if public is None:
            return None
        # The private value is the side whose KE payload it yields; the peer is the other.
        if public == ke.initiator_public:
            peer = ke.responder_public
        elif public == ke.responder_public:
            peer = ke.initiator_public
        else:
            return None
        try:
            return dh.shared_secret(ke.group, private, peer)
        except (ValueError, KeyError):
            return None


def _trial_for_child(rec: DhSecret, child: bool) -> bool:
    """An unscoped ``[[dh]] shared_secret`` (no ``child``, no SPI) is also tried on PFS child
    SAs: it is how a user pastes what charon logged, not knowing which exchange it was for."""
    return child and not rec.child and rec.spi_i is None and rec.shared_secret is not None


def _secret_len(group: int) -> int | None:
    try:
        return dh.get_group(group).secret_len
    except KeyError:
        return None
