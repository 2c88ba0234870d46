"""The filter bar: words that must all appear in what an IKE SA or a message shows.

Matching is on text the user can see (SPIs, peers, state, exchange and notify names, proposals,
identities), lower-cased, so ``cookie``, ``0xc1a2``, ``192.0.2.1`` and ``ike_auth`` all work.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.pipeline import names
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


@dataclass(frozen=True, slots=True)
class Filter:
    """The words typed in the filter bar."""

    text: str = ""
    """As typed."""

    @property
    def words(self) -> tuple[str, ...]:
        """Lower-cased words, each of which must match."""
        return tuple(self.text.lower().split())

    def _match(self, haystack: str) -> bool:
        return all(w.removeprefix("0x") in haystack for w in self.words)

    def accepts_sa(self, sa: IkeSa) -> bool:
        """True when every word appears somewhere in the SA (or when there are no words)."""
        return not self.words or self._match(sa_haystack(sa))

    def accepts_message(self, m: Message) -> bool:
        """True when every word appears in the message."""
        return not self.words or self._match(message_haystack(m))
