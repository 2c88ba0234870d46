"""What a device configuration says, in one shape for IOS, swanctl.conf and ipsec.conf.

The readers (``ios.py``, ``swanctl.py``, ``ipsec_conf.py``) turn text into these frozen records;
``check.py`` compares them with an ``Analysis``; ``keys.py`` turns the PSKs into key records.
Every record keeps the 1-based line it came from, so messages can name ``file:line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ikeview.config.proposals import ConfProposal
from ikeview.errors import IkeviewError

ConfigKind = Literal["ios", "swanctl", "ipsec.conf"]
Direction = Literal["both", "local", "remote"]
"""Which AUTH a PSK is for: ``local`` builds this device's AUTH, ``remote`` checks the peer's
(IOS ``pre-shared-key local|remote``); ``both`` is a symmetric key."""


class ConfigError(IkeviewError):
    """A config file that cannot be read: ``msg`` names ``file:line`` and the fix."""


@dataclass(frozen=True, slots=True)
class ConfigPsk:
    """A pre-shared key as the config scopes it."""

    label: str
    """How the config names it: ``secrets ike-lab``, ``keyring KR peer P (remote)``."""
    secret: bytes | None = field(repr=False)
    """The key; None when it cannot be read (IOS type 6 AES-encrypted keys)."""
    ids: tuple[str, ...]
    """Identities it is bound to (empty = any)."""
    peer: str | None
    """The peer address it is bound to (exact host address), or None."""
    direction: Direction
    """See :data:`Direction`."""
    line: int
    """Line of the key in the file."""
    note: str | None = None
    """Why it cannot be used, or how it was read (``type 7 key decoded``)."""


@dataclass(frozen=True, slots=True)
class ChildConf:
    """One child SA definition: swanctl child, IOS crypto map entry or IPsec profile."""

    name: str
    """Its name in the config (``net``, ``crypto map CMAP 10``, ``ipsec profile P``)."""
    line: int
    """Line it starts on."""
    proposals: tuple[ConfProposal, ...]
    """ESP proposals in priority order (PFS groups as KE)."""
    local_ts: tuple[str, ...] = ()
    """Local traffic selectors as written (CIDR, ``a.b.c.d-e.f.g.h``); empty = any/dynamic."""
    remote_ts: tuple[str, ...] = ()
    """Remote traffic selectors."""
    mode: str = "tunnel"
    """``tunnel`` or ``transport``."""
    pfs: tuple[int, ...] | None = None
    """IOS ``set pfs groupN`` (or swanctl KE in esp_proposals); None when the config names none."""
    profile: str | None = None
    """IOS: the IKEv2 profile it names (``set ikev2-profile``); None = any."""
    protocol: str = "esp"
    """``esp`` or ``ah`` (swanctl ``ah_proposals`` without ``esp_proposals``)."""
    options: tuple[tuple[str, str], ...] = ()
    """Other settings as written (swanctl ``start_action``, ``rekey_time``...), for reports."""


@dataclass(frozen=True, slots=True)
class Connection:
    """An IKE SA definition: swanctl connection, IOS IKEv2 profile, ipsec.conf conn."""

    name: str
    """Its name."""
    line: int
    """Line it starts on."""
    local_addrs: tuple[str, ...] = ()
    """This device's addresses for it (empty = any)."""
    remote_addrs: tuple[str, ...] = ()
    """The peer's addresses or networks (empty / ``%any`` = any)."""
    local_id: str | None = None
    """This device's identity."""
    remote_ids: tuple[str, ...] = ()
    """Identities of the peer it accepts (empty = any)."""
    local_auth: str | None = None
    """How this device authenticates: ``psk``, ``pubkey``, ``eap``... (None = unset)."""
    remote_auth: str | None = None
    """How it expects the peer to authenticate."""
    proposals: tuple[ConfProposal, ...] = ()
    """IKE proposals (swanctl/ipsec.conf); IOS takes them from ``DeviceConfig.policies``."""
    children: tuple[ChildConf, ...] = ()
    """Its child SAs."""
    keyring: str | None = None
    """IOS ``keyring local``."""
    version: int = 0
    """IKE version it allows: 1, 2 or 0 for either (swanctl ``version``, ipsec.conf
    ``keyexchange``/``ikev2``)."""
    options: tuple[tuple[str, str], ...] = ()
    """Other settings as written (swanctl ``mobike``, ``encap``, ``dpd_delay``...), for reports."""
    file: str | None = None
    """The file it was read from when not the config's own (swanctl ``include``)."""
    match_fvrf: str | None = None
    """IOS profile ``match fvrf NAME|any``; None = the global routing table (IOS profiles,
    like policies, match only the global FVRF without the line). Not used for other kinds."""
    match_certificate: tuple[str, ...] = ()
    """IOS profile ``match certificate MAP``: certificate maps that also admit a peer (ORed
    with ``match identity remote``); the maps' rules are not evaluated."""


@dataclass(frozen=True, slots=True)
class IkePolicy:
    """An IOS ``crypto ikev2 policy`` (or the Smart Default policy)."""

    name: str
    """Its name (``default`` for Smart Defaults)."""
    line: int
    """Line (0 for the Smart Default)."""
    match_local: tuple[str, ...]
    """``match address local`` addresses (empty = any)."""
    match_fvrf: str | None
    """``match fvrf NAME``, ``any``, or None (no ``match fvrf``: the global table only)."""
    proposals: tuple[ConfProposal, ...]
    """Its proposals in order."""


@dataclass(frozen=True, slots=True)
class ConfigNote:
    """Something the reader noticed that a check may turn into a finding."""

    code: str
    """``config-proposal-unused``, ``psk-unreadable``..."""
    line: int
    """Where."""
    text: str
    """One sentence."""


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """One configuration file, read."""

    path: str
    """The file as the user named it."""
    kind: ConfigKind
    """Which language."""
    hostname: str | None = None
    """IOS ``hostname``."""
    local_addrs: tuple[str, ...] = ()
    """Interface addresses (IOS) or every connection's local addresses."""
    connections: tuple[Connection, ...] = ()
    """IKE SA definitions in file order."""
    policies: tuple[IkePolicy, ...] = ()
    """IOS IKEv2 policies in order (the Smart Default when none is configured)."""
    psks: tuple[ConfigPsk, ...] = ()
    """Pre-shared keys in file order."""
    notes: tuple[ConfigNote, ...] = ()
    """What the reader noticed."""
    skipped: int = 0
    """Lines not understood and skipped."""
    release: str | None = None
    """IOS: the Smart Defaults release modelled."""
    dialect: str | None = None
    """ipsec.conf: ``strongswan`` or ``libreswan`` (whose rules pick a PSK differently)."""
    fvrfs: tuple[tuple[str, str], ...] = ()
    """IOS: (local address, front-door VRF) for addresses outside the global table, from
    ``vrf forwarding`` / ``ip vrf forwarding`` on interfaces and ``tunnel vrf`` on tunnels."""
    default_policy: IkePolicy | None = None
    """IOS: the Smart Default policy (None when ``no crypto ikev2 policy default``); it is in
    ``policies`` only when no policy is configured, since IOS does not fall back to it."""

    @property
    def device(self) -> str:
        """``file`` or ``file (hostname)`` for reports."""
        return f"{self.path} ({self.hostname})" if self.hostname else self.path
