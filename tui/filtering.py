"""The filter bar: words that must all appear in what an IKE SA or a message shows.

Matching is on text the user can see (SPIs, peers, state, exchange and notify names, proposals,
identities), lower-cased, so ``cookie``, ``0xc1a2``, ``192.0.2.1`` and ``ike_auth`` all work.
Common words find their RFC names (``dpd`` finds liveness checks, RFC 7296 2.4), and field
filters narrow to one field: ``spi:``, ``exchange:``, ``notify:``, ``frame:``, ``peer:``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.dissectors.ike_records import DeletePayload, NotifyPayload, SaPayload

from ikeview.iana import names
from ikeview.pipeline.model import IkeSa, Message, proposal_text

from . import text


def message_haystack(m: Message) -> str:
    """Everything searchable about one message."""
    parts = [
        m.exchange_name,
        "response" if m.response else "request",
        m.sender,
        f"frame {m.frame}",
        f"#{m.message_id}",
        m.flow.src,
        m.flow.dst,
        *text.message_notifies(m),
        *(names.payload_name(t) for t in (*m.payload_types, *m.inner_types)),
    ]
    if m.retransmission:
        parts.append(m.retransmission)
    if m.problem:
        parts.append(m.problem)
    return " ".join(parts).lower()


def sa_haystack(sa: IkeSa) -> str:
    """Everything searchable about one IKE SA."""
    parts = [
        sa.spi_i.hex(),
        sa.spi_r.hex(),
        sa.initiator or "",
        sa.responder or "",
        sa.state,
        sa.failure or "",
        text.proposal_short(sa.chosen),
        proposal_text(sa.chosen) if sa.chosen else "",
        *(a.identity or "" for a in sa.auth),
        *(a.method_name or "" for a in sa.auth),
        *sa.retries,
    ]
    for child in sa.child_sas:
        parts += (text.spi_hex(child.spi_initiator), text.spi_hex(child.spi_responder))
    parts.extend(ex.purpose for ex in sa.exchanges if ex.purpose)
    parts.extend(message_haystack(m) for m in sa.messages)
    return " ".join(parts).lower()


SYNONYMS: dict[str, tuple[str, ...]] = {
    "dpd": ("liveness", "dpd"),
    "liveness": ("liveness",),
    "keepalive": ("liveness", "keepalive"),
    "rekey": ("rekey",),
    "delete": ("delete",),
    "nat": ("nat_detection", "nat "),
    "cookie": ("cookie",),
    "frag": ("frag", "skf"),
}
"""Everyday words and what they stand for in RFC 7296 names (any alternative matches)."""

FIELDS = ("spi", "exchange", "notify", "frame", "peer")
"""Field filters (``field:value``)."""


def _message_field(m: Message, field: str, value: str) -> bool:
    if field == "frame":
        return value.isdigit() and m.frame == int(value)
    if field == "spi":
        return (
            value in m.spi_i.hex()
            or value in m.spi_r.hex()
            or any(value in p.hex() for p in _payload_spis(m))
        )
    if field == "exchange":
        return value in m.exchange_name.lower()
    if field == "notify":
        return any(value in n.lower() for n in text.message_notifies(m))
    if field == "peer":
        return value in m.flow.src.lower() or value in m.flow.dst.lower()
    return False


def _sa_field(sa: IkeSa, field: str, value: str) -> bool:
    if field == "spi":
        own = [sa.spi_i.hex(), sa.spi_r.hex()]
        own += [f"{c.spi_initiator:08x} {c.spi_responder:08x}" for c in sa.child_sas]
        if any(value in s for s in own):
            return True
    return any(_message_field(m, field, value) for m in sa.messages)


def _payload_spis(m: Message) -> list[bytes]:
    """ESP SPIs a message names (SA proposals, notifies, deletes)."""
    out: list[bytes] = []
    for p in (*m.payloads, *m.inner):
        match p:
            case SaPayload(proposals=proposals):
                out.extend(prop.spi for prop in proposals)
            case DeletePayload(spis=spis):
                out.extend(spis)
            case NotifyPayload(spi=spi) if spi:
                out.append(spi)
    return out


@dataclass(frozen=True, slots=True)
class Filter:
    """The words typed in the filter bar."""

    text: str = ""
    """As typed."""

    @property
    def words(self) -> tuple[str, ...]:
        """Lower-cased words, each of which must match."""
        return tuple(self.text.lower().split())

    @staticmethod
    def _split(word: str) -> tuple[str | None, str]:
        field, sep, value = word.partition(":")
        if sep and field in FIELDS and value:
            return field, value.removeprefix("0x")
        return None, word.removeprefix("0x")

    @staticmethod
    def _word_in(word: str, haystack: str) -> bool:
        return any(alt in haystack for alt in SYNONYMS.get(word, (word,)))

    def _message_ok(self, m: Message, haystack: str) -> bool:
        for word in self.words:
            field, value = self._split(word)
            ok = _message_field(m, field, value) if field else self._word_in(value, haystack)
            if not ok:
                return False
        return True

    def accepts_sa(self, sa: IkeSa) -> bool:
        """True when every word matches the SA; a field filter must match one of its messages
        (``spi:`` also its own and its child SAs' SPIs)."""
        if not self.words:
            return True
        haystack = sa_haystack(sa)
        for word in self.words:
            field, value = self._split(word)
            ok = _sa_field(sa, field, value) if field else self._word_in(value, haystack)
            if not ok:
                return False
        return True

    def accepts_message(self, m: Message) -> bool:
        """True when every word matches the message."""
        return not self.words or self._message_ok(m, message_haystack(m))
