"""Check each IKE SA and child SA of an analysis against device configurations.

``apply_configs(analysis, configs)`` returns the analysis with ``config_checks`` filled on every
IKE SA and child SA a config applies to; ``config_findings(analysis)`` lists the findings. Rules:

- IKE proposal: the responder's choice is simulated (``proposals.choose``: IOS policy proposals,
  or swanctl ``proposals``, in configured order against the offer in the initiator's order) and
  compared with the capture; as initiator, the config must accept what the responder chose.
- Child proposal: the same over transform sets / ``esp_proposals``; KE is left out for the child
  made inside IKE_AUTH (RFC 7296 section 1.2: no KE there), so a KE difference is a PFS finding.
- Identity, AUTH method and PSK: the peer's ID must match a profile / connection; each AUTH's
  method must be what the config expects; a PSK AUTH that the config's key did not reproduce is
  ``psk-mismatch``. The decryptor tries the config's keys (``keys.config_keyring``) first, so
  the key that verified an AUTH (``AuthSide.psk``) tells which configured key matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ikeview.config import match
from ikeview.config.keys import build_key, libreswan_key, psk_label, verify_keys
from ikeview.config.match import Role
from ikeview.config.proposals import (
    KINDS,
    ConfProposal,
    accepts,
    choose,
    same_algorithms,
    text_of,
    value_name,
)
from ikeview.config.records import ConfigPsk, Connection, DeviceConfig
from ikeview.config.strongswan_words import AUTH_WORDS
from ikeview.diagnosis.engine import fold_config_findings
from ikeview.diagnosis.records import ConfigCheck, Finding, FindingSeverity, ProposalCheck
from ikeview.dissectors.ike_records import Proposal, SaPayload
from ikeview.keys.model import KeyRing
from ikeview.pipeline.model import Analysis, AuthSide, ChildSa, Exchange, IkeSa

_NO_PROPOSAL_CHOSEN = 14


def _finding(code: str, severity: FindingSeverity, frames: Sequence[int], explanation: str,
             fix: str | None, *, cisco: str | None = None, swan: str | None = None,
             extra: tuple = ()) -> Finding:  # fmt: skip
    return Finding(
        code=code,
        severity=severity,
        frames=tuple(sorted(set(frames))),
        basis="decrypted",
        explanation=explanation,
        fix=fix,
        fix_cisco=cisco,
        fix_strongswan=swan,
        extra=extra,
    )


def _init_exchange(sa: IkeSa) -> Exchange | None:
    found = [e for e in sa.exchanges if e.exchange_type in (34, 36) and e.request is not None]
    return found[-1] if found and sa.created_by in (34, 36, None) else None


def _frames(ex: Exchange | None) -> list[int]:
    if ex is None:
        return []
    return [m.frame for m in (ex.request, ex.response) if m is not None]


def _ike_proposals(
    cfg: DeviceConfig, conn: Connection | None, my_addr: str | None
) -> tuple[tuple[ConfProposal, ...], str]:
    """(proposals, where they come from) for the IKE SA."""
    if cfg.kind == "ios":
        pol = match.ios_policy(cfg, my_addr)
        if pol is not None:
            where = f"crypto ikev2 policy {pol.name}"
            return pol.proposals, where + (f" (line {pol.line})" if pol.line else "")
        fvrf = match.fvrf_of(cfg, my_addr) or "global"
        return (), f"no crypto ikev2 policy matches local address {my_addr} (fvrf {fvrf})"
    if conn is not None:
        return conn.proposals, f"connection {conn.name} (line {conn.line})"
    return tuple(p for c in cfg.connections for p in c.proposals), "every connection"


def _proposal_check(
    configured: tuple[ConfProposal, ...], offered: tuple[Proposal, ...],
    chosen: Proposal | None, role: Role | None, *, skip_ke: bool, refused: bool,
) -> ProposalCheck:  # fmt: skip
    choice = choose(configured, offered, skip_ke=skip_ke)
    matched = choice.conf is not None
    agrees: bool | None = None
    number = choice.offer.number if choice.offer is not None else None
    if role == "initiator":
        if chosen is not None:
            matched = accepts(configured, chosen, skip_ke=skip_ke)
            number = chosen.number if matched else None
        if configured and all(c.line for c in configured):
            # Explicit proposals (not defaults, which depend on the build): the capture's
            # initiator must have offered exactly them, in order.
            agrees = _same_offer(configured, offered, skip_ke)
    elif chosen is not None and choice.algorithms is not None and choice.offer is not None:
        agrees = choice.offer.number == chosen.number and same_algorithms(choice.algorithms, chosen)
    elif chosen is None and refused:
        agrees = not matched
    elif chosen is not None:
        agrees = False
    shown = choice.conf or choice.closest
    simulated: tuple[str, ...] = ()
    if choice.algorithms and role != "initiator":
        simulated = tuple(
            value_name(t, choice.algorithms[t])
            for t, _k in KINDS
            if t in choice.algorithms and not (t in (4, 5) and choice.algorithms[t] == 0)
        )
    return ProposalCheck(
        matched=matched,
        configured=shown.text if shown else "(none configured)",
        offered_number=number,
        differences=() if matched else choice.differences,
        agrees_with_capture=agrees,
        simulated=simulated,
    )


def _signature(values: dict[int, tuple], skip_ke: bool) -> frozenset:
    return frozenset(
        (t, v)
        for t, vs in values.items()
        for v in vs
        if not (t in (3, 4, 5) and v == 0) and not (t == 4 and skip_ke)
    )


def _same_offer(configured: tuple[ConfProposal, ...], offered: tuple[Proposal, ...],
                skip_ke: bool) -> bool:  # fmt: skip
    """Whether an offer holds exactly the configured proposals (same algorithms, same order)."""
    from ikeview.config.proposals import offered_values

    mine = [_signature({t: c.values(t) for t, _k in KINDS}, skip_ke) for c in configured]
    theirs = [_signature({t: offered_values(p, t) for t, _k in KINDS}, skip_ke) for p in offered]
    return mine == theirs


def _mismatch_finding(check: ProposalCheck, frames: list[int], what: str, where: str) -> Finding:
    diffs = "; ".join(
        f"{d.type} offered {', '.join(d.offered)} but configured {', '.join(d.configured)}"
        for d in check.differences
    )
    pfs_only = bool(check.differences) and all(d.type == "KE" for d in check.differences)
    if pfs_only and what != "IKE":
        return _finding(
            "config-pfs-mismatch", "error", frames,
            f"the PFS group of {where} does not fit the offer ({diffs}; {check.configured})",
            "use the same PFS group on both peers, or PFS on neither",
            cisco="set pfs groupN (or no set pfs) in the crypto map / crypto ipsec profile",
            swan="add or remove the group in esp_proposals (e.g. aes128-sha256-modp2048)",
            extra=(("differs", ("KE",)),),
        )  # fmt: skip
    code = "config-proposal-mismatch"
    if not check.differences and check.configured == "(none configured)":
        return _finding(
            code, "error", frames, f"{where}: nothing in this config can accept the {what} offer",
            f"configure a {what} proposal the peer offers",
            cisco="a crypto ikev2 policy whose match address local is this address",
            swan="a connection whose local_addrs / remote_addrs fit these peers",
        )  # fmt: skip
    return _finding(
        code, "error", frames,
        f"no {what} proposal of {where} fits the offer; the closest is {check.configured}: "
        f"{diffs or 'no offer was seen'}",
        f"make both peers allow a common {what} proposal (same algorithm of each type)",
        cisco="add the offered algorithms to the crypto ikev2 proposal (and reference it from "
        "a crypto ikev2 policy)" if what == "IKE" else "set transform-set / set pfs to match",
        swan="proposals = ... in the connection" if what == "IKE" else "esp_proposals = ...",
        extra=(("differs", tuple(d.type for d in check.differences)),),
    )  # fmt: skip


def _offer_finding(check: ProposalCheck, offered: tuple[Proposal, ...], frames: list[int],
                   what: str) -> Finding:  # fmt: skip
    shown = "; ".join(f"#{p.number} {text_of(p)}" for p in offered) or "nothing"
    return _finding(
        "config-proposal-mismatch", "warning", frames,
        f"the capture's initiator offered {shown} for {what}, which is not what this config "
        f"offers ({check.configured}...): it is not the configuration the initiator ran",
        "check that the config is the one the initiator was running",
    )  # fmt: skip


def _disagree_finding(check: ProposalCheck, chosen: Proposal | None, frames: list[int]) -> Finding:
    shown = (
        "?"
        if chosen is None
        else "/".join(value_name(t, v) for t, _k in KINDS for v in _wire_values(chosen, t))
    )
    return _finding(
        "config-proposal-mismatch", "warning", frames,
        f"with this config the responder would choose offered proposal "
        f"#{check.offered_number} with {'/'.join(check.simulated)} ({check.configured}), but "
        f"the capture shows #{chosen.number if chosen else '?'} with {shown}: the responder in "
        f"the capture does not run this configuration (or orders its algorithms differently)",
        "check that the config is the one the responder was running",
    )  # fmt: skip


def _wire_values(p: Proposal, ttype: int) -> tuple[object, ...]:
    from ikeview.config.proposals import offered_values

    return tuple(v for v in offered_values(p, ttype) if not (ttype in (3, 4) and v == 0))


_PUBKEY_WORDS = ("pubkey", "rsa", "ecdsa", "ed25519", "ed448", "bliss")


def _auth_class(written: str | None) -> str | None:
    """``psk``, ``pubkey`` or ``null`` for a configured method; None when the AUTH payload's
    method says nothing about it (EAP and XAuth run on top; unset)."""
    if not written:
        return None
    word = written.lower()
    if word.startswith(("eap", "xauth")):
        return None
    if word.startswith(_PUBKEY_WORDS):
        return "pubkey"
    return word if word in ("psk", "null") else None


def _auth_findings(sa: IkeSa, conn: Connection, role: Role | None) -> list[Finding]:
    out: list[Finding] = []
    for a in sa.auth:
        if a.method is None or role is None:
            continue
        written = conn.local_auth if a.side == role else conn.remote_auth
        expected = _auth_class(written)
        got = AUTH_WORDS.get(a.method, a.method_name or str(a.method))
        if expected is not None and expected != got:
            whose = "this device's" if a.side == role else "the peer's"
            out.append(_finding(
                "config-auth-method-mismatch", "error", [a.frame] if a.frame else [],
                f"{conn.name} expects {written} for {whose} AUTH, but the {a.side} used "
                f"{a.method_name}", "use the same authentication method on both peers",
                cisco="authentication local|remote pre-share|rsa-sig|ecdsa-sig in the profile",
                swan="local/remote auth = psk|pubkey in the connection",
            ))  # fmt: skip
    return out


def _psk_for(cfg: DeviceConfig, label: str | None) -> ConfigPsk | None:
    if not label:
        return None
    for p in cfg.psks:
        if label == psk_label(cfg, p):
            return p
    return None


def _psk_in_scope(p: ConfigPsk, sa: IkeSa) -> bool:
    ids = {a.identity for a in sa.auth if a.identity}
    if p.peer and p.peer not in (sa.initiator, sa.responder):
        return False
    return not p.ids or bool(ids & set(p.ids))


def _psk_findings(
    sa: IkeSa, cfg: DeviceConfig, role: Role | None, keyring: KeyRing | None
) -> tuple[list[Finding], str | None]:
    out: list[Finding] = []
    used: list[str] = []
    scoped = [p for p in cfg.psks if _psk_in_scope(p, sa)]
    for a in sa.auth:
        if a.method != 2 or a.verified is None:
            continue
        if a.verified and not a.psk:
            continue  # verified with no PSK: the AUTH after EAP, made with the MSK (RFC 7296 2.16)
        mine = _psk_for(cfg, a.psk)
        charon = _charon_keys(sa, cfg, role, a.side)
        if mine is not None:
            used.append(f"{mine.label} (line {mine.line}) for the {a.side}'s AUTH")
            if (
                charon is not None
                and mine not in charon
                and all(p.secret != mine.secret for p in charon)
            ):
                out.append(_charon_would_differ(a, mine, charon))
            continue
        readable = [p for p in (scoped if charon is None else charon) if p.secret is not None]
        if not readable:
            continue
        names = ", ".join(f"{p.label} (line {p.line})" for p in readable)
        other = "" if a.verified is False else f"; the key {a.psk} does"
        out.append(_finding(
            "psk-mismatch", "error", [a.frame] if a.frame else [],
            f"the {a.side}'s AUTH is not reproduced by the key this config holds for it "
            f"({names}){other}", "give both peers the same pre-shared key",
            cisco="pre-shared-key (or pre-shared-key local/remote) in the keyring peer",
            swan="secret = ... in the secrets ike-* section",
            extra=(("side", a.side),),
        ))  # fmt: skip
    del keyring
    return out, "; ".join(used) or None


def _charon_keys(
    sa: IkeSa, cfg: DeviceConfig, role: Role | None, side: str
) -> list[ConfigPsk] | None:
    """strongSwan/Libreswan configs with a known role: the secret charon builds this device's
    AUTH with, or those it verifies the peer's with (keys.build_key / verify_keys); None for
    IOS or an unknown role (the scope alone then decides)."""
    if cfg.kind == "ios" or role is None:
        return None
    me = match.identity(sa, role)
    other = match.identity(sa, match.peer_of(role))
    if cfg.dialect == "libreswan":
        # pluto takes one PSK for both AUTHs (lib/libswan/secrets.c secret_find_by_id).
        psk = libreswan_key(cfg.psks, me, other)
        return [psk] if psk is not None else []
    if side == role:
        key = build_key(cfg.psks, me, other)
        return [key] if key is not None else []
    return verify_keys(cfg.psks, me, other)


def _charon_would_differ(a: AuthSide, mine: ConfigPsk, charon: list[ConfigPsk]) -> Finding:
    side, frame = a.side, a.frame
    pick = charon[0] if charon else None
    what = f"{pick.label} (line {pick.line})" if pick else "no secret"
    return _finding(
        "psk-mismatch", "error", [frame] if frame else [],
        f"the {side}'s AUTH was made with {mine.label} (line {mine.line}), but with these "
        f"secrets strongSwan would build it with {what} (the secret whose identities match "
        f"the peer best, then this side; credential_manager.c get_shared)",
        "bind each secret to the identities it is for (id = ...), or remove the one that wins",
        cisco="pre-shared-key (or pre-shared-key local/remote) in the keyring peer",
        swan="id-* of the secrets ike-* sections",
        extra=(("side", side),),
    )  # fmt: skip


def _refused_child_offer(sa: IkeSa) -> tuple[tuple[Proposal, ...], list[int]] | None:
    """The ESP proposals of an IKE_AUTH whose child was refused with NO_PROPOSAL_CHOSEN."""
    for ex in sa.exchanges:
        if ex.exchange_type != 35 or ex.request is None or ex.response is None:
            continue
        if _NO_PROPOSAL_CHOSEN not in ex.response.notifies:
            continue
        for p in ex.request.inner:
            if isinstance(p, SaPayload):
                return p.proposals, _frames(ex)
    return None


def _ike_part(
    sa: IkeSa, cfg: DeviceConfig, conns: list[Connection], role: Role | None, my_addr: str | None
) -> tuple[Connection | None, ProposalCheck | None, list[Finding]]:
    """The connection used and the IKE proposal check with its findings."""
    conn = conns[0] if conns else None
    props, where = _ike_proposals(cfg, conn, my_addr)
    # A capture that starts after IKE_SA_INIT may hold only the choice (an IKE SA rekey's).
    offered = sa.offered or ((sa.chosen,) if sa.chosen else ())
    if not offered:
        return conn, None, []
    # Several connections may fit the addresses and identities (swanctl picks by proposal
    # too): the first whose proposals fit is the one that was used.
    for cand in conns[1:]:
        c_props, c_where = _ike_proposals(cfg, cand, my_addr)
        if choose(props, offered).conf is None and choose(c_props, offered).conf:
            conn, props, where = cand, c_props, c_where
    ex = _init_exchange(sa)
    frames = _frames(ex)
    refused = ex is not None and ex.error == _NO_PROPOSAL_CHOSEN
    check = _proposal_check(props, offered, sa.chosen, role, skip_ke=False, refused=refused)
    if not check.matched:
        return conn, check, [_mismatch_finding(check, frames, "IKE", where)]
    if check.agrees_with_capture is False and role == "initiator" and sa.offered:
        return conn, check, [_offer_finding(check, sa.offered, frames, "IKE")]
    if check.agrees_with_capture is False:
        return conn, check, [_disagree_finding(check, sa.chosen, frames)]
    return conn, check, []


def _unused_findings(cfg: DeviceConfig) -> list[Finding]:
    smart = all(p.line == 0 for pol in cfg.policies for p in pol.proposals)
    tail = "; the Smart Default proposal applies instead" if smart else ""
    fix = "reference the proposal from a crypto ikev2 policy (proposal NAME)"
    return [
        _finding(n.code, "warning", [], n.text + tail, fix)
        for n in cfg.notes
        if n.code == "config-proposal-unused"
    ]


def _no_profile_finding(sa: IkeSa, cfg: DeviceConfig, role: Role | None) -> Finding:
    peer_id = match.identity(sa, match.peer_of(role))
    wanted = match.requested_idr(sa) if role == "responder" else None
    own = sorted({c.local_id for c in cfg.connections if c.local_id})
    if cfg.kind != "ios" and wanted is not None and own and wanted not in own:
        return _finding(
            "config-profile-no-match", "error", [],
            f"the initiator asked for the responder identity {wanted!r} (IDr in IKE_AUTH), but "
            f"{cfg.path} has local id {', '.join(map(repr, own))}: charon finds no peer config "
            f"(\"no matching peer config found\") and answers AUTHENTICATION_FAILED",
            "make the initiator's remote id the responder's own identity, or drop it there",
            cisco="identity local ... in the profile",
            swan="local { id = ... } here, or remote { id = ... } on the initiator",
        )  # fmt: skip
    me = sa.initiator if role == "initiator" else sa.responder
    # The profiles that would match but for their "match fvrf".
    relaxed = replace(cfg, connections=tuple(replace(c, match_fvrf="any") for c in cfg.connections))
    fits = {c.name for c in match.select_connections(sa, relaxed, role)}
    other_vrf = [c for c in cfg.connections if cfg.kind == "ios" and c.name in fits
                 and not match.profile_fvrf_fits(cfg, c, me)]  # fmt: skip
    if other_vrf:
        vrf = match.fvrf_of(cfg, me)
        names = ", ".join(f"{c.name} (match fvrf {c.match_fvrf or 'none: global'})"
                          for c in other_vrf)  # fmt: skip
        return _finding(
            "config-profile-no-match", "error", [],
            f"no crypto ikev2 profile of {cfg.path} matches the peer: the IKE SA runs on {me} "
            f"in {'VRF ' + vrf if vrf else 'the global table'}, which {names} do not match",
            "match the front-door VRF the tunnel's source address is in",
            cisco=f"match fvrf {vrf or 'any'} in the profile",
            swan=None,
        )  # fmt: skip
    return _finding(
        "config-profile-no-match", "error", [],
        f"no {'crypto ikev2 profile' if cfg.kind == 'ios' else 'connection'} of "
        f"{cfg.path} matches the peer" + (f" identity {peer_id!r}" if peer_id else ""),
        "make the profile's remote identity match what the peer sends",
        cisco="match identity remote fqdn|address|email|key-id ... in the profile",
        swan="remote { id = ... } in the connection",
    )  # fmt: skip


def _refused_child_findings(sa: IkeSa, conn: Connection | None, role: Role | None) -> list[Finding]:
    """A refused child SA is in the model (ChildSa.error) and checked there; older snapshots
    without it get the check here, from the IKE_AUTH request's SA payload."""
    if any(getattr(c, "error", None) is not None for c in sa.child_sas):
        return []
    refused_child = _refused_child_offer(sa)
    if refused_child is None or conn is None or not conn.children:
        return []
    offered, cframes = refused_child
    child_props = tuple(p for c in conn.children for p in c.proposals)
    ccheck = _proposal_check(child_props, offered, None, role, skip_ke=True, refused=True)
    return [] if ccheck.matched else [_mismatch_finding(ccheck, cframes, "ESP", conn.name)]


_NOTE_CODES = frozenset({"psk-unreadable", "config-unknown-algorithm", "config-weak-algorithm"})
"""Reader notes a check repeats: they change what the check can say."""


def check_ike_sa(
    sa: IkeSa, cfg: DeviceConfig, side: Role | None = None, keyring: KeyRing | None = None
) -> ConfigCheck:
    """One IKE SA against one config."""
    role = match.role_of(sa, cfg, side)
    my_addr = sa.initiator if role == "initiator" else sa.responder
    conns = match.select_connections(sa, cfg, role)
    conn, check, findings = _ike_part(sa, cfg, conns, role, my_addr)
    findings += _unused_findings(cfg)
    if conn is None and (cfg.connections or cfg.kind == "ios") and sa.created_by != 36:
        findings.append(_no_profile_finding(sa, cfg, role))
    if conn is not None:
        findings += _auth_findings(sa, conn, role)
    psk_findings, keyring_peer = _psk_findings(sa, cfg, role, keyring)
    findings += psk_findings
    findings += _refused_child_findings(sa, conn, role)
    notes = tuple(
        n.text
        for n in cfg.notes
        if n.code in ("psk-unreadable", "config-unknown-algorithm", "config-weak-algorithm")
    ) + _policy_notes(cfg, my_addr)
    return ConfigCheck(
        device=cfg.device,
        kind=cfg.kind,
        role=role,
        proposal=check,
        profile=conn.name if conn else None,
        keyring_peer=keyring_peer,
        findings=tuple(findings),
        notes=notes,
    )


def _policy_notes(cfg: DeviceConfig, my_addr: str | None) -> tuple[str, ...]:
    """IOS: say when the Smart Default policy stood in for configured ones, or when the local
    address is not the router's own (so the policy was not chosen by its match lines)."""
    if cfg.kind == "ios" and match.foreign_address(cfg, my_addr) and cfg.policies:
        return (
            f"the local address {my_addr} is not an interface address of this config (a NAT "
            "in between?): its crypto ikev2 policy was taken without 'match address local' "
            "and 'match fvrf'",
        )
    if cfg.kind != "ios" or not cfg.policies or match.ios_policy(cfg, my_addr) is not None:
        return ()
    fvrf = match.fvrf_of(cfg, my_addr) or "global"
    return (
        f"no configured crypto ikev2 policy matches local address {my_addr} (fvrf {fvrf}), "
        "and IOS does not fall back to the default policy once any policy is configured "
        "(shown by a published lab note's debug output, 'Failed to initiate sa'; no Cisco "
        "document found says either way): add 'match address local' or 'match fvrf' for this "
        "address to a policy",
    )


def check_child(
    sa: IkeSa, child: ChildSa, cfg: DeviceConfig, side: Role | None = None
) -> ConfigCheck:
    """One child SA against one config."""
    role = match.role_of(sa, cfg, side)
    my_addr = sa.initiator if role == "initiator" else sa.responder
    conns = match.select_connections(sa, cfg, role)
    conn = conns[0] if conns else None
    findings: list[Finding] = []
    frames = [child.created_frame]
    cconf = match.select_child(child, conn, my_addr) if conn else None
    if cconf is None:
        cconf = next((c for conn2 in cfg.connections for c in conn2.children), None)
    check = None
    offered = child.offered or ((child.proposal,) if child.proposal else ())
    # Without the offer (encrypted, no keys) there is nothing to judge the proposals by.
    if cconf is not None and offered:
        skip_ke = child.exchange_type == 35
        refused = getattr(child, "error", None) == _NO_PROPOSAL_CHOSEN
        # Who proposes is the exchange's initiator: for a rekey started by the IKE SA's
        # responder the roles of the two devices swap.
        xrole = role
        if role is not None and my_addr is not None:
            xrole = "initiator" if child.initiator == my_addr else "responder"
        check = _proposal_check(cconf.proposals, offered, child.proposal, xrole,
                                skip_ke=skip_ke, refused=refused)  # fmt: skip
        if not check.matched:
            findings.append(_mismatch_finding(check, frames, "ESP", cconf.name))
        elif check.agrees_with_capture is False and xrole == "initiator" and child.offered:
            findings.append(_offer_finding(check, child.offered, frames, "ESP"))
        elif check.agrees_with_capture is False:
            findings.append(_disagree_finding(check, child.proposal, frames))
        mine, theirs = match.child_ts(child, my_addr)
        if not (match.ts_fits(mine, cconf.local_ts) and match.ts_fits(theirs, cconf.remote_ts)):
            findings.append(_finding(
                "config-ts-mismatch", "error", frames,
                f"the negotiated traffic selectors are not inside {cconf.name}'s "
                f"local {', '.join(cconf.local_ts) or 'any'} / remote "
                f"{', '.join(cconf.remote_ts) or 'any'}",
                "make each side's local selectors the other's remote ones",
                cisco="the crypto map ACL (match address)", swan="local_ts / remote_ts",
            ))  # fmt: skip
    return ConfigCheck(
        device=cfg.device,
        kind=cfg.kind,
        role=role,
        proposal=check,
        profile=cconf.name if cconf else None,
        keyring_peer=None,
        findings=tuple(findings),
    )


def _applies(sa: IkeSa, cfg: DeviceConfig, side: Role | None) -> bool:
    return side is not None or match.role_of(sa, cfg, None) is not None or len(cfg.connections) > 0


def apply_configs(
    analysis: Analysis,
    configs: Sequence[DeviceConfig],
    *,
    side: str | None = None,
    keyring: KeyRing | None = None,
) -> Analysis:
    """The analysis with ``config_checks`` on every IKE SA and child SA (one per config)."""
    role = match.as_role(side)
    sas = []
    for sa in analysis.ike_sas:
        cfgs = [c for c in configs if _applies(sa, c, role)]
        checks = tuple(check_ike_sa(sa, c, role, keyring) for c in cfgs)
        children = tuple(
            replace(ch, config_checks=tuple(check_child(sa, ch, c, role) for c in cfgs))
            for ch in sa.child_sas
        )
        sas.append(replace(sa, config_checks=checks, child_sas=children))
    return fold_config_findings(replace(analysis, ike_sas=tuple(sas)))


def config_findings(analysis: Analysis) -> list[tuple[str, Finding]]:
    """Every config finding as (SA label, finding), IKE SAs then their child SAs."""
    out: list[tuple[str, Finding]] = []
    for sa in analysis.ike_sas:
        out += [(sa.label, f) for c in sa.config_checks for f in c.findings]
        for ch in sa.child_sas:
            label = f"{sa.label} child 0x{ch.spi_initiator:08x}/0x{ch.spi_responder:08x}"
            out += [(label, f) for c in ch.config_checks for f in c.findings]
    return out
