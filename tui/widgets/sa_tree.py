"""The IKE SA tree: one node per IKE SA, its details and child SAs beneath it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ikeview.iana import names
from ikeview.pipeline.model import Analysis, ChildSa, IkeSa
from ikeview.pipeline.seam import IkeSpis

from .. import text
from ..filtering import Filter
from ..safe import clean
from ..verdicts import outcome_text, outcome_word


@dataclass(frozen=True, slots=True)
class NodeRef:
    """What a tree node stands for."""

    spis: IkeSpis
    """The IKE SA."""
    child: tuple[int, int] | None = None
    """(SPI initiator, SPI responder) of a child SA node, else None."""


def sa_label(sa: IkeSa) -> Text:
    """One line: state and peers (the chosen proposal has its own line below: on this one it
    was cut off at every width but the widest)."""
    label = Text()
    # The lifecycle word (rekeyed, deleted) says more than "established"; the diagnosis
    # outcome takes over when it contradicts the correlator (a failure seen in the payloads)
    # or when the correlator could only say half-open / authenticating.
    word: str = sa.state
    outcome = outcome_word(sa)
    if outcome == "failed" or sa.state in ("half-open", "authenticating"):
        word = outcome
    style = text.STATE_STYLE.get(word, "") or {"unknown": "yellow", "incomplete": "yellow"}.get(
        word, ""
    )
    label.append(word, style=style)
    label.append(f"  {text.peers(sa)}")
    return label


def child_label(child: ChildSa) -> Text:
    """``ESP 0xc1.../0xc2... 14 pkts 14 dec rekeyed tunnel``."""
    label = Text(f"{names.protocol_name(child.protocol_id)} ")
    label.append(f"{text.spi_hex(child.spi_initiator)}/{text.spi_hex(child.spi_responder)}")
    label.append(f" {child.esp_packets} pkts", style="bold")
    if child.esp_packets:
        label.append(f" {child.esp_decrypted} dec", style="green" if child.esp_decrypted else "dim")
    if child.rekeyed_by is not None:
        label.append(" rekeyed", style="cyan")
    elif child.deleted_ts is not None:
        label.append(" deleted", style="dim")
    label.append(f" {child.mode}")
    if child.problem:
        label.append(f"  {clean(child.problem)}", style="yellow")
    return label


def empty_text(analysis: Analysis, flt: Filter) -> str:
    """What the tree says when it shows no IKE SA."""
    if flt.text and analysis.ike_sas:
        return "no IKE SA matches the filter"
    if not analysis.complete:
        return "no IKE SA yet"
    esp = analysis.counters.esp_packets
    return f"no IKEv2 SA in this capture ({esp} ESP packets: see 5 ESP)"


EXPAND_UP_TO = 50
"""IKE SAs shown expanded; with more, only the selected one is, and the others get their lines
when opened (3,000 SAs made 18,000 tree lines: 2 s of the UI thread per snapshot)."""


class SaTree(Tree[NodeRef]):
    """IKE SAs of the analysis; highlighting a node announces ``SaTree.Chosen``."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("h", "collapse", "Collapse", show=False),
        Binding("l", "expand", "Expand", show=False),
        Binding("g", "scroll_home_cursor", "Top", show=False),
        Binding("G", "scroll_end_cursor", "Bottom", show=False),
    ]

    class Chosen(Message):
        """The user moved to an IKE SA (or one of its child SAs)."""

        def __init__(self, ref: NodeRef) -> None:
            super().__init__()
            self.ref = ref

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__("IKE SAs", **kwargs)
        self.show_root = False
        self._signature: tuple[object, ...] = ()
        self._shown: tuple[Analysis, Filter, NodeRef | None] | None = None

    def update_from(self, analysis: Analysis, flt: Filter, selected: NodeRef | None) -> None:
        """Show the SAs the filter accepts; keep the cursor on ``selected`` when still shown."""
        self._shown = (analysis, flt, selected)
        shown = [sa for sa in analysis.ike_sas if flt.accepts_sa(sa)]
        width = max(24, self.size.width - 8)  # room right of the tree guides
        signature = (flt.text, analysis.complete, width, *(self._sa_signature(sa) for sa in shown))
        if signature == self._signature:
            return
        self._signature = signature
        self.clear()
        target: TreeNode[NodeRef] | None = None
        eager = len(shown) <= EXPAND_UP_TO
        for sa in shown:
            ref = NodeRef(sa.spis)
            mine = selected is not None and selected.spis == sa.spis
            node = self.root.add(sa_label(sa), data=ref, expand=eager or mine)
            if not (eager or mine):
                continue  # its lines are made when it is expanded (on_tree_node_expanded)
            found = self._fill(node, sa, width, selected)
            target = found or target
        if not shown:
            self.root.add_leaf(Text(empty_text(analysis, flt), style="dim"))
        if target is not None:
            self.move_cursor(target)

    def _fill(
        self, node: TreeNode[NodeRef], sa: IkeSa, width: int, selected: NodeRef | None
    ) -> TreeNode[NodeRef] | None:
        """The lines under an IKE SA's node; returns the node of ``selected`` among them."""
        target: TreeNode[NodeRef] | None = None
        ref = NodeRef(sa.spis)
        node.add_leaf(Text(f"SPIs {sa.label}", style="dim"), data=ref)
        node.add_leaf(Text(f"proposal {text.proposal_short(sa.chosen)}"), data=ref)
        for side in sa.auth:
            node.add_leaf(text.auth_line(side, sa), data=ref)
        # One verdict line (outcome and how it was reached): never a second line that
        # contradicts it ("established (inferred)" above "not established").
        # Wrapped to the tree's width so a failure's "(frame N)" is never cut off.
        for line in outcome_text(sa).wrap(self.app.console, width):
            node.add_leaf(line, data=ref)
        if sa.time_to_establish is not None and outcome_word(sa) == "established":
            took = f"established in {text.duration(sa.time_to_establish)}"
            node.add_leaf(Text(took), data=ref)
        if selected is not None and selected.spis == sa.spis and selected.child is None:
            target = node
        for child in sa.child_sas:
            cref = NodeRef(sa.spis, (child.spi_initiator, child.spi_responder))
            cnode = node.add_leaf(child_label(child), data=cref)
            if selected == cref:
                target = cnode
        return target

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        """An IKE SA left collapsed (many SAs shown) gets its lines when first opened."""
        event.stop()
        node, ref = event.node, event.node.data
        if node.children or ref is None or self._shown is None or node.parent is not self.root:
            return
        sa = self._shown[0].ike_sa(*ref.spis)
        if sa is not None:
            self._fill(node, sa, max(24, self.size.width - 8), None)

    def on_resize(self) -> None:
        """Re-wrap the verdict lines to the new width, keeping the node under the cursor."""
        if self._shown is not None:
            analysis, flt, selected = self._shown
            node = self.cursor_node
            self.update_from(analysis, flt, node.data if node is not None else selected)

    def show_ref(self, ref: NodeRef) -> bool:
        """Move the cursor to the node of ``ref`` (an IKE SA or child SA); False when not shown."""
        for node in self.root.children:
            if node.data == ref:
                self.move_cursor(node)
                return True
            for leaf in node.children:
                if leaf.data == ref and ref.child is not None:
                    self.move_cursor(leaf)
                    return True
        return False

    @staticmethod
    def _sa_signature(sa: IkeSa) -> tuple[object, ...]:
        return (
            sa.spis,
            sa.state,
            sa.chosen is not None,
            len(sa.exchanges),
            tuple(a.verified for a in sa.auth),
            sa.diagnosis,
            tuple((c.esp_packets, c.esp_decrypted, c.deleted_ts) for c in sa.child_sas),
        )

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Chosen(event.node.data))

    def action_collapse(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.children:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_expand(self) -> None:
        node = self.cursor_node
        if node is not None and (node.children or node.parent is self.root):
            node.expand()

    def action_scroll_home_cursor(self) -> None:
        self.cursor_line = 0

    def action_scroll_end_cursor(self) -> None:
        self.cursor_line = max(0, self.last_line)
