"""Which side of an IKE SA a config belongs to, and which of its connections / children applies.

Side: an address of the device (IOS interface addresses, swanctl ``local_addrs``) equal to the
SA's initiator or responder address decides it; failing that, the peer's configured address
(``remote_addrs``, keyring peers), then the device's own identity against IDi/IDr; failing all,
the ``--config-side`` the user gave; else unknown (None).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from ikeview.config.records import ChildConf, Connection, DeviceConfig, IkePolicy
from ikeview.dissectors.ike_records import IdPayload, TrafficSelector
from ikeview.pipeline.model import ChildSa, IkeSa

Role = Literal["initiator", "responder"]


def in_net(addr: str | None, spec: str) -> bool:
    """Whether an address lies in a config address spec (host, CIDR, ``a-b`` range)."""
    if addr is None:
        return False
    try:
        ip = ipaddress.ip_address(addr)
        if "-" in spec:
            lo, hi = (ipaddress.ip_address(s.strip()) for s in spec.split("-", 1))
            # By integer value: an IPv4 and an IPv6 address do not compare (TypeError).
            return lo.version == ip.version == hi.version and int(lo) <= int(ip) <= int(hi)
        return ip in ipaddress.ip_network(spec, strict=False)
    except ValueError:
        return addr == spec


def _is_ip_spec(spec: str) -> bool:
    """Whether a config address is an address, network or range (not a host name)."""
    try:
        for part in spec.split("-", 1):
            ipaddress.ip_network(part.strip(), strict=False)
    except ValueError:
        return False
    return True


def identity(sa: IkeSa, side: Role) -> str | None:
    """IDi / IDr text when it was read."""
    for a in sa.auth:
        if a.side == side:
            return a.identity
    return None


def _addr_role(sa: IkeSa, mine: tuple[str, ...], theirs: tuple[str, ...]) -> Role | None:
    if any(in_net(sa.initiator, a) for a in mine):
        return "initiator"
    if any(in_net(sa.responder, a) for a in mine):
        return "responder"
    if any(in_net(sa.responder, a) for a in theirs if a):
        return "initiator"
    if any(in_net(sa.initiator, a) for a in theirs if a):
        return "responder"
    return None


def role_of(sa: IkeSa, cfg: DeviceConfig, side: Role | None) -> Role | None:
    """The side of ``sa`` this config belongs to (see module doc)."""
    mine = tuple(cfg.local_addrs) + tuple(a for c in cfg.connections for a in c.local_addrs)
    theirs = tuple(a for c in cfg.connections for a in c.remote_addrs)
    theirs += tuple(p.peer for p in cfg.psks if p.peer)
    role = _addr_role(sa, mine, theirs)
    if role is not None:
        return role
    own_ids = {c.local_id for c in cfg.connections if c.local_id}
    if identity(sa, "initiator") in own_ids:
        return "initiator"
    if identity(sa, "responder") in own_ids:
        return "responder"
    return side


def as_role(side: str | None) -> Role | None:
    """``--config-side`` as a :data:`Role` (argparse admits only the two names; None else)."""
    if side == "initiator":
        return "initiator"
    if side == "responder":
        return "responder"
    return None


def peer_of(role: Role | None) -> Role:
    """The other side (the responder when the role is unknown: the config is then simulated
    as the responder, which is what decides)."""
    return "initiator" if role != "initiator" else "responder"


def _id_matches(pattern: str, ident: str) -> bool:
    if pattern == ident or pattern in ("%any", "*"):
        return True
    if pattern.startswith("*"):
        return ident.endswith(pattern[1:])
    if pattern.startswith("@"):
        return pattern.lstrip("@") == ident
    return in_net(ident, pattern) if pattern[:1].isdigit() else False


_REDIRECTED_FROM = 16408
"""RFC 5685 notify an initiator sends in IKE_SA_INIT after being redirected."""


def _redirected(sa: IkeSa) -> bool:
    first = sa.exchanges[0] if sa.exchanges else None
    req = first.request if first is not None else None
    return req is not None and _REDIRECTED_FROM in req.notifies


def connection_candidates(sa: IkeSa, cfg: DeviceConfig, role: Role | None) -> list[Connection]:
    """Connections whose addresses fit the SA (identities not looked at); IKEv1-only ones never
    fit (the SAs ikeview reads are IKEv2)."""
    me = sa.responder if role != "initiator" else sa.initiator
    peer = sa.initiator if role != "initiator" else sa.responder
    out = []
    for conn in cfg.connections:
        if conn.version == 1:
            continue  # IKEv1 only (swanctl version = 1, keyexchange=ikev1, ikev2=no)
        local_ok = not conn.local_addrs or any(in_net(me, a) for a in conn.local_addrs)
        # A host name (remote_addrs = vpn.example.com) cannot be resolved here: it may fit.
        remote_ok = (
            not conn.remote_addrs
            or any(in_net(peer, a) for a in conn.remote_addrs)
            or not any(_is_ip_spec(a) for a in conn.remote_addrs)
        )
        if cfg.kind == "ios" and not profile_fvrf_fits(cfg, conn, me):
            continue
        if cfg.kind == "ios" or _redirected(sa):
            # IOS profiles match by identity; an address identity is left to that check. After
            # an RFC 5685 redirect charon keeps the connection for the new gateway's address.
            remote_ok = True
        # Behind a NAT the device's own address is not the one captured: the peer's decides.
        if remote_ok and (local_ok or conn.remote_addrs):
            out.append(conn)
    return out


def profile_fvrf_fits(cfg: DeviceConfig, conn: Connection, me: str | None) -> bool:
    """An IOS profile's ``match fvrf`` (none = global) against the front-door VRF of the
    device's address; when the captured address is not one of the device's own (a NAT, or no
    interface in the file) its VRF is unknown and the profile is kept."""
    if conn.match_fvrf == "any" or not me or not any(in_net(me, a) for a in cfg.local_addrs):
        return True
    return conn.match_fvrf == fvrf_of(cfg, me)


def _certificate_may_admit(sa: IkeSa, conn: Connection, role: Role | None) -> bool:
    """An IOS profile's ``match certificate`` admits a peer whose identity no ``match
    identity`` line names, when that peer authenticated with a certificate (or its AUTH was
    not seen): the certificate map itself is not evaluated."""
    if not conn.match_certificate:
        return False
    peer = peer_of(role)
    methods = [a.method for a in sa.auth if a.side == peer and a.method is not None]
    return not methods or any(m not in _SECRET_METHODS for m in methods)


_SECRET_METHODS = frozenset({2, 13})
"""AUTH methods without a certificate: shared key MIC (2), NULL authentication (13)."""


def select_connections(sa: IkeSa, cfg: DeviceConfig, role: Role | None) -> list[Connection]:
    """Connections that fit the SA, best first. The peer's identity, when read, must match one
    of a connection's remote identities; without it every address-fitting one is kept."""
    cands = connection_candidates(sa, cfg, role)
    peer_id = identity(sa, peer_of(role))
    if peer_id is not None:
        cands = [
            c
            for c in cands
            if (not c.remote_ids and not c.match_certificate)
            or any(_id_matches(p, peer_id) for p in c.remote_ids)
            or _certificate_may_admit(sa, c, role)
        ]
    # charon's responder looks for peer configs whose local id matches the IDr the initiator
    # asked for (RFC 7296 3.5; "looking for peer configs matching ...[IDr]...[IDi]").
    wanted = requested_idr(sa) if role == "responder" and cfg.kind != "ios" else None
    if wanted is not None:
        cands = [c for c in cands if not c.local_id or _id_matches(c.local_id, wanted)]
    # Connections alike but for their children (swanctl's lab and lab2 to the same peer): the
    # one whose child selectors hold the SA's children is the one that ran.
    me = sa.initiator if role == "initiator" else sa.responder
    return sorted(cands, key=lambda c: not _children_fit(sa, c, me))


def requested_idr(sa: IkeSa) -> str | None:
    """The IDr payload of the initiator's first IKE_AUTH request (the identity it wants the
    responder to have), when it sent one and it was read."""
    for ex in sa.exchanges:
        if ex.exchange_type != 35 or ex.request is None:
            continue
        for p in ex.request.inner:
            if isinstance(p, IdPayload) and p.which == "IDr":
                return p.text
        return None
    return None


def _children_fit(sa: IkeSa, conn: Connection, me: str | None) -> bool:
    made = [ch for ch in sa.child_sas if ch.ts_i or ch.ts_r]
    if not made or not conn.children:
        return False
    for ch in made:
        mine, theirs = child_ts(ch, me)
        if not any(ts_fits(mine, c.local_ts) and ts_fits(theirs, c.remote_ts)
                   for c in conn.children):  # fmt: skip
            return False
    return True


def select_child(child: ChildSa, conn: Connection, my_addr: str | None) -> ChildConf | None:
    """The child definition whose traffic selectors hold the negotiated ones (else the first)."""
    if not conn.children:
        return None
    mine, theirs = child_ts(child, my_addr)
    for c in conn.children:
        if ts_fits(mine, c.local_ts) and ts_fits(theirs, c.remote_ts):
            return c
    return conn.children[0]


def child_ts(child: ChildSa, my_addr: str | None) -> tuple[tuple, tuple]:
    """(this device's TS, the peer's TS): TSi belongs to the exchange initiator, which for a
    rekey may be either peer, so the device's address decides."""
    if my_addr is not None and my_addr == child.initiator:
        return child.ts_i, child.ts_r
    return child.ts_r, child.ts_i


# /etc/protocols and /etc/services names strongSwan's parse_ts (vici_config.c) resolves with
# getprotobyname/getservbyname; the common ones, so the result does not depend on this host.
_PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
              "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132, "%any": 0, "any": 0}  # fmt: skip
_SERVICES = {"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67,
             "bootpc": 68, "tftp": 69, "http": 80, "ntp": 123, "snmp": 161, "ldap": 389,
             "https": 443, "isakmp": 500, "syslog": 514, "ipsec-nat-t": 4500}  # fmt: skip


def ts_spec(spec: str) -> tuple[str, int, int, int]:
    """``10.0.0.0/24[tcp/http]`` to (address part, protocol, first port, last port); 0 and
    0-65535 mean any. A name this table does not know counts as any (never a false alarm)."""
    addr, _, rest = spec.strip().partition("[")
    proto_s, _, port_s = rest.rstrip("]").partition("/")
    proto_s = proto_s.strip().lower()
    proto = _PROTOCOLS.get(proto_s, int(proto_s) if proto_s.isdigit() else 0)
    lo, hi = 0, 65535
    port_s = port_s.strip().lower()
    if port_s and port_s not in ("%any", "any", "%opaque"):
        first, _, last = port_s.partition("-")
        nums = [int(p) if p.isdigit() else _SERVICES.get(p) for p in (first, last or first)]
        if nums[0] is not None and nums[1] is not None:
            lo, hi = nums[0], nums[1]
    return addr.strip(), proto, lo, hi


def _ts_in(ts: TrafficSelector, spec: str) -> bool:
    addr, proto, lo, hi = ts_spec(spec)
    anywhere = addr in ("dynamic", "%dynamic", "")
    if not anywhere and not (in_net(ts.start_address, addr) and in_net(ts.end_address, addr)):
        return False
    if proto and ts.ip_protocol != proto:
        return False
    start = ts.start_port if ts.start_port is not None else 0
    end = ts.end_port if ts.end_port is not None else 65535
    return lo <= start and end <= hi


def ts_fits(selectors: tuple[TrafficSelector, ...], specs: tuple[str, ...]) -> bool:
    """Every selector lies inside one configured spec: its address range, and when the spec
    names them (strongSwan's ``[proto/port]``) its protocol and ports; no specs = anything,
    ``dynamic`` = the SA's own address (any here)."""
    if not specs or not selectors:
        return True
    return all(ts.start_address is None or any(_ts_in(ts, s) for s in specs) for ts in selectors)


def foreign_address(cfg: DeviceConfig, addr: str | None) -> bool:
    """Whether the SA's local address is not one of the config's own (a NAT in between)."""
    if not addr or not cfg.local_addrs:
        return False
    return not any(in_net(addr, own) for own in cfg.local_addrs)


def fvrf_of(cfg: DeviceConfig, addr: str | None) -> str | None:
    """The front-door VRF of a local address (None = the global table)."""
    return next((vrf for own, vrf in cfg.fvrfs if in_net(addr, own)), None)


def _policy_fits(pol: IkePolicy, addr: str | None, fvrf: str | None) -> bool:
    if pol.match_fvrf != "any" and pol.match_fvrf != fvrf:
        return False
    return not pol.match_local or any(in_net(addr, a) for a in pol.match_local)


def ios_policy(cfg: DeviceConfig, addr: str | None) -> IkePolicy | None:
    """The IOS IKEv2 policy for an IKE SA on local address ``addr``, or None when none fits.

    A policy fits when its ``match fvrf`` (none = global, ``any``) holds the address's
    front-door VRF and one of its ``match address local`` is the address (none = any). Among
    several, ikeview takes the most specific: a local-address match before none, a named or
    global VRF before ``any``, then file order (this order is not confirmed by a Cisco document).
    The Smart Default policy is among ``cfg.policies`` only when no policy is configured: once
    one is, IOS does not fall back to the default policy for an address no policy matches
    (a published lab note shows ``IKEv2-ERROR: Failed to initiate sa`` then; no Cisco document
    found says either way), so no fallback is modelled.
    """
    fvrf = fvrf_of(cfg, addr)
    if foreign_address(cfg, addr):
        # Behind a NAT the captured address is not the router's own: neither its VRF nor the
        # policies' local addresses can be judged, so every policy is a candidate.
        fits = [(False, p.match_fvrf == "any", i, p) for i, p in enumerate(cfg.policies)]
    else:
        fits = [
            (not p.match_local, p.match_fvrf == "any", i, p)
            for i, p in enumerate(cfg.policies)
            if _policy_fits(p, addr, fvrf)
        ]
    return min(fits, key=lambda f: f[:3])[3] if fits else None
