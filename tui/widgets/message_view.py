"""Message detail: the payload tree above a hex view; moving in the tree marks the bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ikeview.dissectors.ike_records import Payload
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ikeview.pipeline.model import IkeSa, Message
from ikeview.timebase import TimeBase

from .. import payloads, text
from ..wire import message_bytes, plaintext_bytes
from .hexview import HexView

DECRYPTED_MARK = "◆ "
"""Marks payloads that came out of the SK payload."""

HEADER_LENGTH = 28
"""RFC 7296 section 3.1: the fixed IKE header."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes a tree node stands for in the hex view."""

    section: int
    """0 the message as on the wire, 1 the decrypted SK body."""
    start: int
    """Offset of the first byte in that section."""
    length: int
    """Number of bytes."""


class PayloadTree(Tree[ByteRange]):
    """Payloads of one message; clear ones, then the SK payload with its decrypted contents."""

    BINDINGS = [  # noqa: RUF012 - Textual's own convention for bindings
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("h", "cursor_parent", "Parent", show=False),
        Binding("l", "toggle_node", "Expand", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:  # Textual widget options, passed on
        super().__init__("no message", **kwargs)


def _auth_verdict(sa: IkeSa | None, m: Message) -> Text | None:
    if sa is None:
        return None
    for side in sa.auth:
        if side.frame == m.frame:
            line = text.verdict(side.verified)
            line.append(f" · {side.detail}", style="dim")
            return line
    return None


class MessageView(Vertical):
    """Payload tree and hex dump of the message chosen in the ladder."""

    def compose(self) -> ComposeResult:
        yield PayloadTree(id="payload-tree")
        yield HexView(id="hex")

    def update_from(
        self, m: Message | None, sa: IkeSa | None, clock: TimeBase | None = None
    ) -> None:
        """Show message ``m`` of IKE SA ``sa`` (its time on ``clock``)."""
        clock = clock or TimeBase()
        tree = self.query_one(PayloadTree)
        hexview = self.query_one(HexView)
        tree.clear()
        if m is None:
            tree.root.set_label("select a message in the ladder")
            hexview.show(())
            return
        wire = message_bytes(m)
        plain = plaintext_bytes(m)
        hexview.show((wire, plain) if plain is not None else (wire,))
        kind = "response" if m.response else "request"
        tree.root.set_label(
            Text(f"{m.exchange_name} #{m.message_id} {kind} · frame {m.frame} · {m.length} bytes")
        )
        tree.root.data = ByteRange(0, 0, m.length)
        head = tree.root.add(
            f"IKE header (from the {m.sender})", data=ByteRange(0, 0, HEADER_LENGTH)
        )
        for line in payloads.header_lines(m, clock):
            at = ByteRange(0, 0, 16) if line.startswith("SPIi") else head.data
            head.add_leaf(line, data=at)
        if m.decode_error:
            tree.root.add_leaf(Text(f"decode error: {m.decode_error}", style="bold red"))
        verdict = _auth_verdict(sa, m)
        for p in m.payloads:
            node = self._add_payload(tree.root, p, 0, verdict, m)
            if payloads.is_sk(p):
                self._add_sk(node, m, verdict)
        tree.root.expand_all()
        tree.move_cursor(tree.root)

    def _add_payload(
        self,
        parent: TreeNode[ByteRange],
        p: Payload,
        section: int,
        verdict: Text | None,
        m: Message | None = None,
    ) -> TreeNode[ByteRange]:
        rng = ByteRange(section, p.offset, p.length)
        label = Text(payloads.payload_label(p))
        if section == 1:
            label = Text(DECRYPTED_MARK, style="green") + label
        if payloads.is_auth(p) and verdict is not None:
            label.append(" · ")
            label.append_text(verdict)
        node = parent.add(label, data=rng)
        for line in payloads.payload_details(p, m):
            node.add_leaf(line, data=rng)
        return node

    def _add_sk(self, node: TreeNode[ByteRange], m: Message, verdict: Text | None) -> None:
        status = Text()
        if m.decrypted:
            status.append("decrypted", style="green")
        elif m.fragment and m.integrity == "ok":
            status.append("fragment stored until the message completes", style="dim")
        else:
            status.append(f"not decrypted: {m.problem or 'no keys'}", style="yellow")
        integrity = {
            "ok": ("integrity ✓ ok", "green"),
            "failed": ("integrity ✗ FAILED", "bold red"),
        }
        word, style = integrity.get(m.integrity or "", ("integrity not checked", "yellow"))
        status.append(" · ")
        status.append(word, style=style)
        node.add_leaf(status, data=node.data)
        for p in m.inner:
            self._add_payload(node, p, 1, verdict, m)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[ByteRange]) -> None:
        event.stop()
        rng = event.node.data
        if rng is not None:
            self.query_one(HexView).highlight(rng.section, rng.start, rng.length)
