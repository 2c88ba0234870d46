"""The PSKs of device configs as key records, scoped as the configs scope them, and strongSwan's
rules for which shared secret is used for which AUTH.

strongSwan (5.9.8 and 6.x, unchanged): ``src/libcharon/sa/ikev2/authenticators/
psk_authenticator.c`` builds this side's AUTH with ``credential_manager.c`` ``get_shared(me,
other)`` and verifies the peer's with every secret of ``create_shared_enumerator(me, other)``.
A secret's owners are its ``id*`` settings (swanctl) or selectors (ipsec.secrets); none means
``%any`` (``vici_cred.c`` ``load_shared``). ``mem_cred.c`` ``has_owner`` rates a secret by its
best owner against an identity (``identification.c`` ``matches_*``): equal = PERFECT (20),
``*suffix`` or an address range/subnet = ONE_WILDCARD (19), ``%any`` / ``*`` = ANY (1), else
NONE; a secret matching neither identity is skipped. ``get_shared`` keeps the best by the match
on the *peer's* identity, then on the own one, the first found winning ties, and secrets are
found most recently loaded first (``mem_cred.c`` ``add_shared_unique`` inserts at the head):
in one file, the later secret wins a tie. So a secret with both ids serves both AUTHs, and two
single-identity secrets make each side build its AUTH with the one bound to the peer.

IOS keyring peers are bound to the peer's host address and identity. Each Psk is labelled
``FILE: <the config's name for it>`` so that the AUTH it verifies (``AuthSide.psk``) names the
keyring peer / secret. Unreadable keys (IOS type 6) are left out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from ikeview.config.records import ConfigPsk, DeviceConfig
from ikeview.keys.model import KeyRing, Psk, SourceRef

MATCH_NONE = 0
MATCH_ANY = 1
MATCH_ONE_WILDCARD = 19
MATCH_PERFECT = 20
"""``identification.h`` ``id_match_t`` values."""


def _owner_text(owner: str) -> str:
    owner = owner.strip()
    return owner[1:] if owner.startswith("@") and not owner.startswith("@#") else owner


def owner_match(identity: str | None, owner: str) -> int:
    """How well an AUTH identity matches one secret owner (``identification.c``)."""
    if identity is None:
        return MATCH_NONE
    owner = _owner_text(owner)
    if owner in ("%any", "%any6", "*", ""):
        return MATCH_ANY
    if identity.lower() == owner.lower():
        return MATCH_PERFECT
    if owner.startswith("*") and identity.lower().endswith(owner[1:].lower()):
        return MATCH_ONE_WILDCARD
    return _range_match(identity, owner)


def _range_match(identity: str, owner: str) -> int:
    """An address owner given as a subnet or range (``matches_range``)."""
    try:
        ip = ipaddress.ip_address(identity)
        if "-" in owner:
            lo, hi = (ipaddress.ip_address(x.strip()) for x in owner.split("-", 1))
            inside = lo.version == ip.version and lo <= ip <= hi  # type: ignore[operator]
        else:
            inside = ip in ipaddress.ip_network(owner, strict=False)
    except ValueError:
        return MATCH_NONE
    return MATCH_ONE_WILDCARD if inside else MATCH_NONE


def _is_exact(owner: str) -> bool:
    """An owner that only one identity matches (no ``%any``, ``*``, subnet or range)."""
    if owner in ("%any", "%any6", "") or owner.startswith("*"):
        return False
    return _range_match("0.0.0.0", owner) == MATCH_NONE and not _is_net(owner)


def _is_net(owner: str) -> bool:
    try:
        if "/" in owner:
            ipaddress.ip_network(owner, strict=False)
            return True
        if "-" in owner:
            for part in owner.split("-", 1):
                ipaddress.ip_address(part.strip())
            return True
    except ValueError:
        return False
    return False


def _rating(p: ConfigPsk, me: str | None, other: str | None) -> tuple[int, int]:
    owners = p.ids or ("%any",)
    return (max(owner_match(other, o) for o in owners), max(owner_match(me, o) for o in owners))


def charon_order(psks: Sequence[ConfigPsk]) -> list[ConfigPsk]:
    """Secrets in the order charon finds them: the last loaded first."""
    return list(reversed(psks))


def build_key(psks: Sequence[ConfigPsk], me: str | None, other: str | None) -> ConfigPsk | None:
    """The secret charon builds its own AUTH with (``get_shared(me, other)``)."""
    best: ConfigPsk | None = None
    best_rating = (MATCH_NONE, MATCH_NONE)
    for p in charon_order(psks):
        rating = _rating(p, me, other)
        if rating == (MATCH_NONE, MATCH_NONE):
            continue
        if rating > best_rating:
            best, best_rating = p, rating
        if best_rating == (MATCH_PERFECT, MATCH_PERFECT):
            break
    return best


def verify_keys(psks: Sequence[ConfigPsk], me: str | None, other: str | None) -> list[ConfigPsk]:
    """The secrets charon tries to verify the peer's AUTH with, in its order."""
    return [p for p in charon_order(psks) if _rating(p, me, other) != (MATCH_NONE, MATCH_NONE)]


# Libreswan lib/libswan/secrets.c secret_find_by_id: match bits and the combinations it takes.
_LS_DEFAULT, _LS_ANY, _LS_REMOTE, _LS_LOCAL = 1, 2, 4, 8
_LS_TAKEN = {_LS_DEFAULT, _LS_ANY, _LS_LOCAL | _LS_DEFAULT, _LS_LOCAL | _LS_ANY,
             _LS_REMOTE | _LS_ANY, _LS_LOCAL | _LS_REMOTE}  # fmt: skip


def libreswan_key(psks: Sequence[ConfigPsk], me: str | None, other: str | None) -> ConfigPsk | None:
    """The PSK pluto uses for both AUTHs (``secret_find_by_id``, symmetric): a secret without
    selectors is a default; ``%any`` counts as its own, lower match than an exact id; a secret
    listing only the local id matches any peer when it is its one selector; the highest match
    wins, and of equal ones the earlier in the file (pluto's list is kept backwards)."""
    best: ConfigPsk | None = None
    best_match = 0
    for p in reversed(psks):
        match = _LS_DEFAULT if not p.ids else 0
        for owner in p.ids:
            o = _owner_text(owner)
            if o in ("%any", "%any6", "0.0.0.0", "::"):
                match |= _LS_ANY
                continue
            if me is not None and o.lower() == me.lower():
                match |= _LS_LOCAL
            if other is not None and o.lower() == other.lower():
                match |= _LS_REMOTE
        if match == _LS_LOCAL and len(p.ids) == 1:
            match |= _LS_DEFAULT
        if match not in _LS_TAKEN:
            continue
        if match > best_match or (match == best_match and best is not None
                                  and p.secret != best.secret):  # fmt: skip
            best, best_match = p, match
    return best


def _psks(cfg: DeviceConfig, p: ConfigPsk) -> list[Psk]:
    if p.secret is None:
        return []
    label = f"{cfg.path}: {p.label}"
    src = SourceRef(cfg.path, p.line)
    if cfg.kind == "ios":
        # A key bound to a host address is found by address (IOS keyring peers): the peer's
        # identity may never have been sent (a failed IKE_AUTH).
        ident = p.ids[0] if p.ids and not p.peer else None
        return [Psk(p.secret, label, p.peer, ident, src)]
    # strongSwan/Libreswan: one record per exact owner, so the key is tried on an SA where any
    # of them is IDi or IDr; %any, wildcards and subnets cannot be scoped by an exact identity
    # and are tried everywhere (a wrong key never verifies an AUTH).
    exact = [_owner_text(o) for o in p.ids]
    if not exact or not all(_is_exact(o) for o in exact):
        return [Psk(p.secret, label, None, None, src)]
    return [Psk(p.secret, label, None, o, src) for o in dict.fromkeys(exact)]


def psk_label(cfg: DeviceConfig, p: ConfigPsk) -> str:
    """The text ``AuthSide.psk`` carries when this key verified an AUTH."""
    return f"{cfg.path}: {p.label} ({SourceRef(cfg.path, p.line)})"


def config_keyring(configs: Sequence[DeviceConfig]) -> KeyRing:
    """Every readable PSK of the configs, in file order (merge it *before* other keys so the
    config's keys are the ones tried first)."""
    return KeyRing(psks=tuple(k for c in configs for p in c.psks for k in _psks(c, p)))
