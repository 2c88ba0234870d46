"""Plain-text and Rich-text formatting of model records, shared by the widgets (no state)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import product

from ikeview.dissectors.ike_records import Proposal, Transform
from rich.text import Text

from ikeview.iana import names
from ikeview.iana.names import CHARON_TYPE_ORDER
from ikeview.iana.names import transform_short as transform_short
from ikeview.pipeline.model import AuthSide, Exchange, IkeSa, Message

STATE_STYLE = {
    "established": "bold green",
    "failed": "bold red",
    "deleted": "dim",
    "rekeyed": "cyan",
    "half-open": "yellow",
    "authenticating": "yellow",
}
"""Colour of each IKE SA state in the tree and headers."""

# RFC 7296 section 3.3.2: the order strongSwan prints transform types in (ENCR, INTEG, PRF, KE).
_TYPE_ORDER = CHARON_TYPE_ORDER


def transforms_short(transforms: Iterable[Transform]) -> str:
    """Short text of a set of transforms in ENCR/INTEG/PRF/KE/ESN order; NO-ESN is left out."""
    ordered = sorted(transforms, key=lambda t: _TYPE_ORDER.get(t.transform_type, 9))
    parts = [transform_short(t.transform_type, t.transform_id, t.key_length) for t in ordered]
    return "/".join(p for p in parts if p != "NO-ESN") or "(no transforms)"


def proposal_short(proposal: Proposal | None) -> str:
    """Short form of a (chosen) proposal, e.g. ``AES-GCM-16-256/PRF-SHA256/ECP-256``.

    None reads "proposal unknown" (the answer is not in the capture or not decrypted): a
    refusal is NO_PROPOSAL_CHOSEN, said by the verdict, never by this placeholder."""
    if proposal is None:
        return "proposal unknown"
    return transforms_short(proposal.transforms)


def transform_key(t: Transform) -> tuple[int, int, int | None]:
    """What makes two transforms the same algorithm: (type, id, key length)."""
    return (t.transform_type, t.transform_id, t.key_length)


def combinations(proposal: Proposal) -> list[tuple[Transform, ...]]:
    """Every algorithm combination a proposal offers, in the sender's priority order.

    RFC 7296 section 3.3.6: transforms of one type are alternatives listed in preference
    order, so the combinations are the product over types taken in the order types appear.
    """
    by_type: dict[int, list[Transform]] = {}
    for t in proposal.transforms:
        by_type.setdefault(t.transform_type, []).append(t)
    return list(product(*by_type.values())) if by_type else []


def is_chosen(combo: Iterable[Transform], chosen: Proposal | None) -> bool:
    """True when a combination is exactly the chosen proposal's transforms."""
    if chosen is None:
        return False
    want = sorted(transform_key(t) for t in chosen.transforms)
    return sorted(transform_key(t) for t in combo) == want


def duration(seconds: float | None) -> str:
    """``12.3 ms`` / ``1.250 s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if abs(seconds) < 1.0:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.3f} s"


def verdict(verified: bool | None) -> Text:
    """✓ verified / ✗ failed / ? not checked, coloured."""
    if verified is True:
        return Text("✓ AUTH verified", style="green")
    if verified is False:
        return Text("✗ failed", style="bold red")
    return Text("? not checked", style="yellow")


def auth_line(side: AuthSide, sa: IkeSa | None = None) -> Text:
    """``initiator: SHARED_KEY_MIC moon.example ✓ AUTH verified``; on a failed SA a verified
    AUTH says that its own check passed and what the peer rejected all the same."""
    from .safe import clean

    text = Text(f"{side.side}: ")
    text.append(side.method_name or "AUTH not seen", style="bold")
    if side.identity:
        text.append(f" {clean(side.identity)}")
    text.append(" ")
    if side.method is None and side.verified is None:
        text.append("(sent no AUTH)", style="dim")
        return text
    text.append_text(verdict(side.verified))
    if side.verified and sa is not None and sa.state == "failed":
        why = clean(sa.failure) if sa.failure else "the exchange"
        text.append(f" (this side's AUTH is right; the SA failed on {why})", style="yellow")
    return text


def state_text(sa: IkeSa) -> Text:
    """The state word, coloured, with the failure reason for a failed SA."""
    text = Text(sa.state, style=STATE_STYLE.get(sa.state, ""))
    if sa.state_inferred:
        text.append(" (inferred)", style="dim")
    if sa.state == "failed" and sa.failure:
        text.append(f": {sa.failure}", style="red")
    return text


def peers(sa: IkeSa) -> str:
    """``initiator ⇄ responder`` addresses."""
    return f"{sa.initiator or '?'} ⇄ {sa.responder or '?'}"


def message_notifies(message: Message) -> list[str]:
    """Names of the notifies a message carries (clear, then decrypted)."""
    return [names.notify_name(n) for n in message.notifies]


def exchange_summary(ex: Exchange) -> str:
    """``IKE_AUTH #1 ok`` with its purpose and error, one line."""
    text = f"{ex.name} #{ex.message_id} {ex.status}"
    if ex.error is not None:
        text += f" ({names.notify_name(ex.error)})"
    if ex.purpose:
        text += f" [{ex.purpose}]"
    return text


def spi_hex(spi: int) -> str:
    """An ESP SPI as ``0x1234abcd``."""
    return f"0x{spi:08x}"
