"""The fixed vocabulary of diagnosis codes: severity, RFC section and the standing fix of each.

``docs/diagnosis.md`` documents every code listed here (a test checks both ways). A rule may
sharpen a fix with what the capture shows (the group to put first, the proposal to add); what
stays here is the sentence that holds whatever the capture.
"""

from __future__ import annotations

from dataclasses import dataclass

from ikeview.diagnosis.records import FindingSeverity


@dataclass(frozen=True, slots=True)
class Code:
    """One entry of the vocabulary."""

    code: str
    """The code as findings, JSON and CSV spell it."""
    severity: FindingSeverity
    """Its usual severity (a rule may lower it when the evidence is weaker)."""
    rfc: str
    """The RFC section the judgement relies on."""
    title: str
    """A few words for tables and docs."""
    fix: str | None
    """The vendor-neutral fix; None when nothing needs fixing."""
    fix_cisco: str | None = None
    """Cisco IOS / IOS XE, where it differs."""
    fix_strongswan: str | None = None
    """strongSwan swanctl.conf, where it differs."""


_CODES = (
    Code(
        "no-response", "error", "RFC 7296 2.1, 2.4", "IKE_SA_INIT never answered",
        "Make the responder reachable on UDP 500 (and 4500): check routing, firewalls and ACLs "
        "on the path, and that the responder runs IKE on the address the initiator targets.",
        "On the responder, apply the crypto map or tunnel protection on the interface that owns "
        "the address and permit UDP 500/4500 in its ACLs.",
        "On the responder, check `swanctl --list-conns` shows the connection, charon listens on "
        "UDP 500/4500 and the firewall accepts them.",
    ),
    Code(
        "half-open", "warning", "RFC 7296 2.6", "IKE_AUTH never sent",
        "Read the initiator's log: it stopped after IKE_SA_INIT (no matching configuration, a "
        "failed key exchange, or a dropped IKE_AUTH it never retransmitted in the capture).",
    ),
    Code(
        "no-proposal-chosen", "error", "RFC 7296 2.7, 3.3.6", "no common proposal",
        "Give both peers at least one common combination: add one of the offered proposals "
        "(listed) to the responder, or the responder's to the initiator.",
        "Add the combination to a `crypto ikev2 proposal` (IKE) or `crypto ipsec transform-set` "
        "(ESP) referenced by the policy / crypto map / IPsec profile.",
        "Add it to `proposals` (IKE) or `esp_proposals` (child) of the connection.",
    ),
    Code(
        "invalid-ke-retry", "warning", "RFC 7296 1.2, 3.10.1", "KE group refused, retried",
        "List the group the responder asked for first on the initiator, so its first KE "
        "payload uses it and the extra round trip goes away.",
        "Put that group first in the `group` line of the `crypto ikev2 proposal`.",
        "Put that group first in the connection's `proposals` string.",
    ),
    Code(
        "cookie-challenge", "info", "RFC 7296 2.6", "responder asked for a cookie",
        None,
        None,
    ),
    Code(
        "authentication-failed", "error", "RFC 7296 2.15, 2.21.2", "AUTH rejected",
        "Give both peers matching credentials for these identities: the same PSK for the "
        "identity on each side, or a certificate the other side trusts whose identity matches "
        "IDi/IDr.",
        "Check the `crypto ikev2 keyring` peer's `pre-shared-key` (local/remote), the profile's "
        "`identity local` and `match identity remote`, and the trustpoint for certificates.",
        "Check the `secrets` entry (`id`, `secret`) for the identity, and the connection's "
        "`local`/`remote` `auth` and `id` (and `cacerts` for certificates).",
    ),
    Code(
        "psk-mismatch", "error", "RFC 7296 2.15", "peers hold different PSKs",
        "Configure the same pre-shared key for this identity on both peers (or the asymmetric "
        "pair each side expects).",
        "Set `pre-shared-key` (or `local`/`remote`) in the keyring peer for that identity.",
        "Set `secret` in the `secrets` section entry whose `id` matches that identity.",
    ),
    Code(
        "ts-unacceptable", "error", "RFC 7296 2.9, 3.10.1", "traffic selectors refused",
        "Make the traffic selectors agree: the responder's policy must contain the subnets, "
        "protocols and ports the initiator proposes.",
        "Mirror the peer's crypto ACL (or use a VTI with `tunnel protection`, any/any).",
        "Make the child's `local_ts`/`remote_ts` cover what the peer proposes.",
    ),
    Code(
        "single-pair-required", "error", "RFC 7296 3.10.1", "only one address pair accepted",
        "Narrow the initiator's traffic selectors to one host pair, or let the responder accept "
        "subnets.",
    ),
    Code(
        "internal-address-failure", "error", "RFC 7296 3.15.4", "no virtual IP assigned",
        "Give the responder an address pool with free addresses for this client.",
        "Check the `ip local pool` and the IKEv2 authorization policy (`pool`) of the "
        "profile.",
        "Check the connection's `pools` and the `pools` section (size, leases in use).",
    ),
    Code(
        "failed-cp-required", "error", "RFC 7296 3.10.1", "configuration request required",
        "Make the initiator request a virtual IP (configuration payload); the responder requires "
        "one.",
        "Add `config-exchange request` to the client's IKEv2 profile.",
        "Add `vips = 0.0.0.0` (or `::`) to the initiator's connection.",
    ),
    Code(
        "temporary-failure", "warning", "RFC 7296 2.25", "peer busy, retry later",
        "Nothing to change for a single occurrence (the sender retries); if it repeats, stagger "
        "the peers' rekey times.",
        "Give the peers different `lifetime` values in the IPsec profile / crypto map.",
        "Give one side a different `rekey_time` or a larger `rand_time`.",
    ),
    Code(
        "child-sa-not-found", "warning", "RFC 7296 2.25", "the peer has no such child SA",
        "Check whether a peer restarted or deleted the child SA early (lifetimes, DPD); a new "
        "child SA must be created.",
    ),
    Code(
        "invalid-syntax", "error", "RFC 7296 2.21.1, 3.10.1", "message refused as malformed",
        "Compare both implementations' logs and versions: one sent a message the other could "
        "not parse or that broke the protocol.",
    ),
    Code(
        "ike-integrity-failure", "error", "RFC 7296 3.14", "IKE message failed its ICV",
        "If every message fails, the keys given are not this IKE SA's (check the DH secret / "
        "SK_* entries); if only some fail, something on the path alters packets.",
    ),
    Code(
        "retransmission", "warning", "RFC 7296 2.1, 2.4", "request retransmitted",
        "Find where the request or its answer was lost (interface errors, firewalls, rate "
        "limits); the true round trip is measured from the last copy.",
    ),
    Code(
        "fragmentation-suspected", "error", "RFC 7383 1, RFC 7296 2.1", "IP fragments dropped",
        "Turn on IKEv2 fragmentation (RFC 7383) on both peers, or shrink IKE_AUTH (fewer "
        "certificates), or let IP fragments through the path.",
        "Add `crypto ikev2 fragmentation mtu 1360`.",
        "Set `fragmentation = yes` in the connection (and `charon.fragment_size` if needed).",
    ),
    Code(
        "weak-algorithm", "warning", "RFC 8247 3, RFC 8221 5", "algorithm to retire",
        "Move to AES-GCM-16 (or AES-CBC with HMAC-SHA2-256-128), PRF-HMAC-SHA2-256 and group 19 "
        "or 14 or stronger.",
        "`crypto ikev2 proposal P` with `encryption aes-gcm-256`, `prf sha256`, `group 19 14`; "
        "`crypto ipsec transform-set T esp-gcm 256`.",
        "`proposals = aes256gcm16-prfsha256-ecp256`, `esp_proposals = aes256gcm16-ecp256`.",
    ),
    Code(
        "esp-one-way", "warning", "RFC 4303 3.4, RFC 7296 2.9", "ESP in one direction only",
        "Find why the silent direction sends nothing: the other peer's routing or policy for "
        "the traffic selectors, or a filter dropping ESP / UDP 4500 that way.",
    ),
    Code(
        "esp-loss", "warning", "RFC 4303 3.3.3", "ESP sequence numbers missing",
        "Packets were lost between the sender and the capture point: check links, queues and "
        "MTU (large packets lost first point to fragmentation).",
    ),
    Code(
        "esp-replay", "warning", "RFC 4303 3.4.3", "ESP sequence numbers repeated",
        "Something duplicates packets on the path, or two senders use the same SA; the receiver "
        "drops the copies.",
    ),
    Code(
        "esp-integrity-failure", "error", "RFC 4303 3.4.4", "ESP packets failed their ICV",
        "If every packet fails, the keys given are not this SA's; if only some fail, something "
        "on the path alters packets.",
    ),
    Code(
        "rekey-collision", "warning", "RFC 7296 2.8.1", "both peers rekeyed at once",
        "Harmless (the nonces decide which SA survives) but wasteful: give the peers different "
        "rekey times or more jitter.",
        "Give the peers different `lifetime` values.",
        "Give one side a different `rekey_time` or a larger `rand_time`.",
    ),
    Code(
        "dpd-timeout", "error", "RFC 7296 2.4", "liveness checks unanswered",
        "The peer stopped answering: check whether it went down or restarted, and the path "
        "between the peers.",
        "Tune `crypto ikev2 dpd <interval> <retry> on-demand|periodic` once the peer is back.",
        "Tune `dpd_delay` and the charon retransmission settings once the peer is back.",
    ),
    Code(
        "nat-detected", "info", "RFC 7296 2.23", "NAT between the peers",
        None,
    ),
    Code(
        "deleted", "info", "RFC 7296 1.4.1", "deleted by a peer",
        None,
    ),
    Code(
        "child-sa-refused", "warning", "RFC 7296 1.2, 2.21.3", "child SA refused (inferred)",
        "Give keys to learn the error notify; the usual causes are the ESP proposals and the "
        "traffic selectors.",
    ),
    Code(
        "error-notify", "error", "RFC 7296 3.10.1", "other error notify",
        "Read the named notify in RFC 7296 3.10.1 and both peers' logs.",
    ),
)  # fmt: skip

CODES: dict[str, Code] = {c.code: c for c in _CODES}
"""Every code by name, in documentation order."""


def code(name: str) -> Code:
    """The vocabulary entry for ``name`` (KeyError for a code not in the vocabulary)."""
    return CODES[name]


__all__ = ["CODES", "Code", "code"]
