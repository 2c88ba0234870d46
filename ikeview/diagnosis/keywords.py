"""A proposal in the words of the two configurations a fix names: a strongSwan proposal string
(``aes256-sha256-modp2048``) and Cisco IOS IKEv2 proposal / transform-set lines.

The keywords are the config writers' (``ikeview.config.strongswan_words``,
``ikeview.config.writers``), so a fix and ``ikeview config`` never spell an algorithm two ways;
what IOS has no keyword for is said, not invented.
"""

from __future__ import annotations

from ikeview.dissectors.ike_records import Proposal


def strongswan(p: Proposal) -> str:
    """The proposal as a strongSwan proposal string."""
    # The config writers are imported when a fix is worded (a failed negotiation), not with
    # the rules: a capture that negotiates fine never needs them (start-up time).
    from ikeview.config.strongswan_words import proposal_words
    from ikeview.config.writers import conf_of

    return proposal_words(conf_of(p, "ike" if p.protocol_id == 1 else "esp"))


def cisco(p: Proposal) -> str:
    """The proposal as one IOS line, in backticks, then which of its algorithms IOS cannot
    express (outside them: it is not configuration)."""
    from ikeview.config.writers import ios_words

    line, lost = ios_words(p)
    return f"`{line}`" + (f" (IOS has no keyword for {', '.join(lost)})" if lost else "")


def first_group(p: Proposal, group: int) -> Proposal:
    """The proposal with ``group`` moved to the front of its DH transforms (the one a KE uses)."""
    rest = [t for t in p.transforms if t.transform_type != 4]
    groups = sorted((t for t in p.transforms if t.transform_type == 4),
                    key=lambda t: t.transform_id != group)  # fmt: skip
    return Proposal(p.number, p.protocol_id, p.spi, (*rest, *groups), p.offset)


def offer_words(
    offered: tuple[Proposal, ...], cisco_fix: str | None, swan_fix: str | None
) -> tuple[str, str]:
    """The standing fixes with the offer spelled in each configuration's words, so it can be
    compared with the other peer's configuration line by line."""
    sw = "; ".join(f"`{strongswan(p)}`" for p in offered[:4])
    ios = "; ".join(cisco(p) for p in offered[:4])
    return (
        f"{cisco_fix or 'compare with the offer'}; the offer in IOS terms: {ios}",
        f"{swan_fix or 'compare with the offer'}; the offer in swanctl terms: {sw}",
    )


__all__ = ["cisco", "first_group", "offer_words", "strongswan"]
