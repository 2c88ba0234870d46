"""Proposals: every proposal offered, its transforms, its combinations; the chosen one lit."""

from __future__ import annotations

from ikeview.dissectors.ike_records import Proposal
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ikeview.iana import names
from ikeview.pipeline.model import IkeSa

from .. import text

MAX_COMBINATIONS = 60
"""Combinations listed per proposal before the rest are summarised."""


def proposal_block(offered: tuple[Proposal, ...], chosen: Proposal | None, title: str) -> Text:
    """Text for one SA's offer: each proposal, its transforms by type, its combinations."""
    out = Text()
    out.append(f"{title}\n", style="bold underline")
    if not offered:
        out.append("  no proposals seen (encrypted, or not in the capture)\n", style="dim")
    for prop in offered:
        accepted = chosen is not None and chosen.number == prop.number
        head = f"  proposal #{prop.number} {names.protocol_name(prop.protocol_id)}"
        out.append(head, style="bold green" if accepted else "bold")
        out.append("  ← accepted\n" if accepted else "\n", style="green")
        by_type: dict[int, list[str]] = {}
        for t in prop.transforms:
            short = names.transform_short(t.transform_type, t.transform_id, t.key_length)
            by_type.setdefault(t.transform_type, []).append(short)
        for ttype, algs in by_type.items():
            out.append(f"    {names.transform_type_name(ttype):<6} {', '.join(algs)}\n")
        combos = text.combinations(prop)
        if len(combos) > 1:
            out.append(f"    {len(combos)} combinations in priority order:\n", style="italic")
        for n, combo in enumerate(combos[:MAX_COMBINATIONS], 1):
            if len(combos) == 1 and not accepted:
                break
            hit = accepted and text.is_chosen(combo, chosen)
            line = f"      {n:>3}. {text.transforms_short(combo)}"
            out.append(line, style="reverse green" if hit else "")
            out.append("  ◀ chosen\n" if hit else "\n", style="bold green")
        if len(combos) > MAX_COMBINATIONS:
            out.append(f"      … {len(combos) - MAX_COMBINATIONS} more\n", style="dim")
    if chosen is not None:
        out.append("  chosen: ")
        out.append(text.proposal_short(chosen), style="bold green")
        out.append("\n")
    elif offered:
        out.append("  no proposal chosen\n", style="bold red")
    return out


def proposals_text(sa: IkeSa | None) -> Text:
    """The whole panel for one IKE SA: its own offer, then each child SA's."""
    if sa is None:
        return Text("select an IKE SA", style="dim")
    out = proposal_block(sa.offered, sa.chosen, f"IKE SA {sa.label}")
    if sa.retries:
        out.append(f"  IKE_SA_INIT retries: {', '.join(sa.retries)}\n", style="magenta")
    for child in sa.child_sas:
        title = (
            f"child SA {text.spi_hex(child.spi_initiator)}/{text.spi_hex(child.spi_responder)}"
            f" ({names.exchange_name(child.exchange_type)})"
        )
        out.append("\n")
        out.append_text(proposal_block(child.offered, child.proposal, title))
    return out


class ProposalsView(VerticalScroll):
    """Scrollable proposals panel."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="proposals-text")

    def update_from(self, sa: IkeSa | None) -> None:
        """Show the proposals of ``sa``."""
        self.query_one("#proposals-text", Static).update(proposals_text(sa))
