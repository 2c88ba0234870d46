"""An IKE SA as the two CLIs people know print it: Cisco ``show crypto ikev2 sa detailed`` and
strongSwan ``swanctl --list-sas``, from one side's point of view.

Only what the capture shows is filled in; what it cannot show (Cisco's tunnel-id, CE id,
reqid) is left out rather than invented. Times are relative to the SA's establishment and the
capture's last message (``Life/Active Time`` = configured lifetime is unknown, so only active
time is given). Text from the capture (identities) is escaped for the terminal.
"""

from __future__ import annotations

from typing import cast

from ikeview.config.proposals import offered_values
from ikeview.dissectors import iana
from ikeview.pipeline.model import ChildSa, IkeSa, proposal_text, ts_text
from ikeview.textsafe import printable

_CISCO_ENCR = {12: "AES-CBC", 13: "AES-CTR", 20: "AES-GCM", 3: "3DES", 2: "DES", 28: "CHACHA20"}
_CISCO_HASH = {1: "MD5", 2: "SHA96", 12: "SHA256", 13: "SHA384", 14: "SHA512"}
_CISCO_PRF = {1: "MD5", 2: "SHA1", 5: "SHA256", 6: "SHA384", 7: "SHA512"}
_CISCO_AUTH = {1: "RSA", 2: "PSK", 9: "ECDSA", 10: "ECDSA", 11: "ECDSA", 14: "RSA/ECDSA"}


def _endpoints(sa: IkeSa, side: str) -> tuple[str, str]:
    """``addr/port`` of this side and of the peer, from the last message seen."""
    msgs = sa.messages
    if not msgs:
        return sa.initiator or "?", sa.responder or "?"
    last = msgs[-1]
    mine_is_src = last.from_initiator == (side == "initiator")
    f = last.flow
    src, dst = f"{f.src}/{f.sport}", f"{f.dst}/{f.dport}"
    return (src, dst) if mine_is_src else (dst, src)


def _auth(sa: IkeSa, side: str) -> str | None:
    for a in sa.auth:
        if a.side == side and a.method is not None:
            return _CISCO_AUTH.get(a.method, a.method_name)
    return None


def _ident(sa: IkeSa, side: str) -> str:
    for a in sa.auth:
        if a.side == side and a.identity is not None:
            return printable(a.identity)
    return "(not seen)"


def ios_sa_card(sa: IkeSa, side: str) -> list[str]:
    """``show crypto ikev2 sa detailed``-style lines for the device on ``side``."""
    other = "responder" if side == "initiator" else "initiator"
    local, remote = _endpoints(sa, side)
    status = "READY" if sa.state in ("established", "rekeyed") else sa.state.upper()
    lines = [f"Local {local:22} Remote {remote:22} Status {status}"]
    if sa.chosen is not None:
        encr = offered_values(sa.chosen, 1)
        ident, bits = cast("tuple[int | None, int | None]", encr[0] if encr else (None, None))
        integ = [cast(int, v) for v in offered_values(sa.chosen, 3) if v]
        prf = [cast(int, v) for v in offered_values(sa.chosen, 2)]
        cipher = _CISCO_ENCR.get(ident, str(ident)) if ident is not None else "-"
        lines.append(
            f"      Encr: {cipher}, keysize: {bits or '-'}, "
            f"PRF: {_CISCO_PRF.get(prf[0], str(prf[0])) if prf else '-'}, "
            f"Hash: {_CISCO_HASH.get(integ[0], str(integ[0])) if integ else 'None'}, "
            f"DH Grp:{sa.dh_group if sa.dh_group is not None else '-'}, "
            f"Auth sign: {_auth(sa, side) or '-'}, Auth verify: {_auth(sa, other) or '-'}"
        )
    if sa.established_ts is not None:
        lines.append(
            f"      Active Time: {int(sa.last_ts - sa.established_ts)} sec (in the capture)"
        )
    spi_local, spi_remote = (sa.spi_i, sa.spi_r) if side == "initiator" else (sa.spi_r, sa.spi_i)
    lines += [
        f"      Local spi: {spi_local.hex().upper()}       Remote spi: {spi_remote.hex().upper()}",
        f"      Local id: {_ident(sa, side)}",
        f"      Remote id: {_ident(sa, other)}",
    ]
    if sa.nat is not None and sa.nat.udp_encapsulation:
        lines.append("      NAT-T is detected (UDP encapsulation in use)")
    lines.append(f"      Initiator of SA : {'Yes' if side == 'initiator' else 'No'}")
    for child in sa.child_sas:
        lines += _ios_child(child, side, sa)
    return lines


def _child_spis(child: ChildSa, me: str | None) -> tuple[int, int]:
    """(inbound SPI, outbound SPI) for the device at address ``me``."""
    if me == child.initiator:
        return child.spi_initiator, child.spi_responder
    return child.spi_responder, child.spi_initiator


def _counts(child: ChildSa, spi: int) -> tuple[int, int]:
    for s in child.esp:
        if s.spi == spi:
            return s.packets, s.bytes
    return 0, 0


def _my_ts(child: ChildSa, me: str | None) -> tuple[str, str]:
    mine, theirs = (child.ts_i, child.ts_r) if me == child.initiator else (child.ts_r, child.ts_i)
    return ", ".join(ts_text(t) for t in mine) or "-", ", ".join(ts_text(t) for t in theirs) or "-"


def _ios_child(child: ChildSa, side: str, sa: IkeSa) -> list[str]:
    me = sa.initiator if side == "initiator" else sa.responder
    spi_in, spi_out = _child_spis(child, me)
    pkts_in, _b = _counts(child, spi_in)
    pkts_out, _b = _counts(child, spi_out)
    local_ts, remote_ts = _my_ts(child, me)
    if child.error is not None:
        name = iana.NOTIFY_TYPES.name(child.error) if child.error else "refused"
        return [f"  Child sa: refused ({name})"]
    return [
        f"  Child sa: local selector  {local_ts}",
        f"          remote selector {remote_ts}",
        f"          ESP spi in/out: 0x{spi_in:08X}/0x{spi_out:08X}",
        f"          decaps: {pkts_in}, encaps: {pkts_out} (packets seen in the capture)",
    ]


def swanctl_sa_lines(sa: IkeSa, side: str, name: str = "conn") -> list[str]:
    """``swanctl --list-sas``-style lines for the device on ``side``."""
    other = "responder" if side == "initiator" else "initiator"
    local, remote = _endpoints(sa, side)
    state = "ESTABLISHED" if sa.state in ("established", "rekeyed") else sa.state.upper()
    mark_i, mark_r = ("*", "") if side == "initiator" else ("", "*")
    lines = [
        f"{name}: {state}, IKEv2, {sa.spi_i.hex()}_i{mark_i} {sa.spi_r.hex()}_r{mark_r}",
        f"  local  '{_ident(sa, side)}' @ {local.replace('/', '[')}]",
        f"  remote '{_ident(sa, other)}' @ {remote.replace('/', '[')}]",
    ]
    if sa.chosen is not None:
        lines.append(f"  {proposal_text(sa.chosen).removeprefix('IKE:')}")
    me = sa.initiator if side == "initiator" else sa.responder
    for child in sa.child_sas:
        if child.error is not None or child.proposal is None:
            continue
        spi_in, spi_out = _child_spis(child, me)
        (pin, bin_), (pout, bout) = _counts(child, spi_in), _counts(child, spi_out)
        local_ts, remote_ts = _my_ts(child, me)
        encap = "-in-UDP" if any(s.udp_encap for s in child.esp) else ""
        lines += [
            f"  child: {child.mode.upper()}{encap}, {proposal_text(child.proposal)}",
            f"    in  {spi_in:08x}, {bin_:6} bytes, {pin:5} packets",
            f"    out {spi_out:08x}, {bout:6} bytes, {pout:5} packets",
            f"    local  {local_ts}",
            f"    remote {remote_ts}",
        ]
    return lines
