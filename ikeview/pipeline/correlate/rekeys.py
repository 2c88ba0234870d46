"""What a completed rekey changes beyond the new SA itself (RFC 7296 1.3.2, 2.8, 2.8.1, 2.8.2).

- After an IKE SA rekey, the old SA's child SAs that are still up move to the new IKE SA; a
  child SA deleted before the rekey completed stays with the old one.
- Deleting an IKE SA ends the child SAs still under it (RFC 7296 1.4.1).
- Rekey collisions: when both peers rekey the same SA at once, two new SAs are made; the one
  made by the exchange that holds the lowest of the four nonces is redundant and is deleted by
  the peer that created it. It is marked ``redundant``, and the old SA's successor link names
  the winner. Nonces compare as octet strings (memcmp), as strongSwan does.
"""

from __future__ import annotations

from ikeview.pipeline.correlate.builders import Child, Sa
from ikeview.pipeline.correlate.context import Context


def lowest(ni: bytes | None, nr: bytes | None) -> bytes | None:
    """The lower of an exchange's two nonces (None when one is missing)."""
    if ni is None or nr is None:
        return None
    return min(ni, nr)


def ike_rekeyed(ctx: Context, old: Sa, new: Sa, ts: float) -> None:
    """``new`` replaced ``old`` at ``ts``: settle a collision, then move the children."""
    earlier = ctx.by_spis.get(old.rekeyed_into) if old.rekeyed_into else None
    winner = new
    if earlier is not None and earlier is not new:
        loser, winner = _ranked(earlier, new)
        loser.redundant = True
        move_children(loser, winner)
    old.rekeyed_into = winner.spis
    old.rekeyed_ts = old.rekeyed_ts or ts
    move_children(old, winner, before=old.rekeyed_ts)


def _ranked(a: Sa, b: Sa) -> tuple[Sa, Sa]:
    """(loser, winner): the loser holds the lowest nonce; unknown nonces lose nothing."""
    if a.lowest_nonce is None or b.lowest_nonce is None:
        return a, b  # cannot tell: the later one is taken as the successor
    return (a, b) if a.lowest_nonce < b.lowest_nonce else (b, a)


def move_children(src: Sa, dst: Sa, *, before: float | None = None) -> None:
    """Move ``src``'s child SAs that were still up (not deleted before ``before``) to ``dst``."""
    keep: list[Child] = []
    for child in src.children:
        gone = child.deleted_ts is not None and (before is None or child.deleted_ts <= before)
        if gone:
            keep.append(child)
            continue
        child.ike = dst.spis
        dst.children.append(child)
    src.children = keep


def child_rekeyed(ctx: Context, old: Child, new: Child) -> None:
    """``new`` rekeyed ``old``: with a second rekey of the same child, mark the loser."""
    prior = ctx.child_by_spi.get(old.rekeyed_by[0]) if old.rekeyed_by else None
    winner = new
    if prior is not None and prior is not new:
        if prior.lowest_nonce is not None and new.lowest_nonce is not None:
            loser, winner = (prior, new) if prior.lowest_nonce < new.lowest_nonce else (new, prior)
            loser.redundant = True
        else:
            winner = new
    old.rekeyed_by = (winner.spi_i, winner.spi_r)


def ike_deleted(sa: Sa, ts: float) -> None:
    """Deleting an IKE SA ends the child SAs still under it (RFC 7296 1.4.1)."""
    for child in sa.children:
        if child.deleted_ts is None:
            child.deleted_ts = ts
