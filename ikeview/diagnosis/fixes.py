"""What to change for each error notify: one vendor-neutral sentence, then the Cisco IOS and the
strongSwan setting where they differ. Kept apart from the rules so the wording is in one place.
"""

from __future__ import annotations

Fix = tuple[str, str | None, str | None]
"""(vendor-neutral fix, Cisco IOS setting, strongSwan swanctl.conf setting)."""

_IKE_PROPOSAL: Fix = (
    "give both peers at least one IKE proposal in common (encryption, integrity or AEAD, PRF "
    "and DH group)",
    "add the algorithms to the `crypto ikev2 proposal` that the matching `crypto ikev2 policy` "
    "uses (a proposal no policy names is never used; the default proposal applies only when "
    "no policy is configured)",
    "`proposals = ...` in the connection on both peers (e.g. aes256-sha256-modp2048)",
)
_ESP_PROPOSAL: Fix = (
    "give both peers at least one ESP proposal in common (cipher, integrity, ESN and, with "
    "PFS, the DH group)",
    "the `crypto ipsec transform-set` used by the IPsec profile or crypto map, and `set pfs "
    "group` on both sides",
    "`esp_proposals = ...` in the child on both peers (a DH group in it means PFS)",
)
_FIXES: dict[int, Fix] = {
    24: (
        "make the peers' credentials agree: the same PSK for this identity on both sides, or a "
        "certificate the other side trusts, with the identity it expects",
        "the `pre-shared-key` of the matching peer in the `crypto ikev2 keyring`, and "
        "`identity local` / `match identity remote` in the `crypto ikev2 profile`",
        "the `secrets { ike-... { secret, id } }` entry for this identity, and `id` in "
        "`local`/`remote`",
    ),
    38: (
        "make the traffic selectors agree: the initiator's proposed subnets must fall within "
        "what the responder's policy allows",
        "the crypto ACL (crypto map `match address`) or the tunnel's IPsec profile selectors must "
        "mirror each other",
        "`local_ts` / `remote_ts` in the child must mirror the peer's",
    ),
    34: (
        "propose a single address pair (one TSi and one TSr) or let the responder accept ranges",
        "one ACL entry per crypto map sequence",
        "one subnet per `local_ts` / `remote_ts`, or several children",
    ),
    36: (
        "give the responder an address pool with free addresses for this client",
        "`ip local pool` referenced by the IKEv2 authorization policy",
        "`pools` in the responder's connection with addresses free",
    ),
    37: (
        "the responder requires a configuration payload: let the initiator request a virtual "
        "address",
        "`aaa authorization` / `config-exchange request` on the initiator's profile",
        "`vips = 0.0.0.0` in the initiator's connection",
    ),
    7: (
        "the peer could not parse the message: compare both peers' versions and options in "
        "their logs",
        None,
        None,
    ),
    43: (
        "the peer was busy (a rekey or another exchange in progress); it is retried",
        None,
        None,
    ),
    44: (
        "the peer no longer knows the child SA being rekeyed: it was deleted; a new one is created",
        None,
        None,
    ),
}


def error_fix(notify_type: int, *, ike: bool) -> Fix:
    """The fix for an error notify; NO_PROPOSAL_CHOSEN differs for an IKE or an ESP proposal."""
    if notify_type == 14:
        return _IKE_PROPOSAL if ike else _ESP_PROPOSAL
    return _FIXES.get(
        notify_type,
        ("read the peer's log for the reason behind this error notify", None, None),
    )


__all__ = ["Fix", "error_fix"]
