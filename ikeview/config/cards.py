"""An IKE SA as the two CLIs people know print it: Cisco ``show crypto ikev2 sa detailed`` and
strongSwan ``swanctl --list-sas``, from one side's point of view.

Only what the capture shows is filled in; what it cannot show (Cisco's tunnel-id, CE id,
reqid) is left out rather than invented. Times are relative to the SA's establishment and the
capture's last message (``Life/Active Time`` = configured lifetime is unknown, so only active
time is given). Text from the capture (identities) is escaped for the terminal.
"""

from __future__ import annotations

import ipaddress
from typing import cast

from ikeview import iana
from ikeview.config.proposals import offered_values
from ikeview.dissectors.ike_records import Proposal, TrafficSelector
from ikeview.pipeline.model import ChildSa, IkeSa, ts_text
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


# strongSwan's enum names (crypter.c, signer.c, prf.c, key_exchange.c), as list-sas prints them.
_SWAN_ENCR = {2: "DES_CBC", 3: "3DES_CBC", 6: "CAST_CBC", 7: "BLOWFISH_CBC", 11: "NULL",
              12: "AES_CBC", 13: "AES_CTR", 14: "AES_CCM_8", 15: "AES_CCM_12",
              16: "AES_CCM_16", 18: "AES_GCM_8", 19: "AES_GCM_12", 20: "AES_GCM_16",
              21: "NULL_AES_GMAC", 23: "CAMELLIA_CBC", 24: "CAMELLIA_CTR", 25: "CAMELLIA_CCM_8",
              26: "CAMELLIA_CCM_12", 27: "CAMELLIA_CCM_16", 28: "CHACHA20_POLY1305",
              1026: "SERPENT_CBC", 1027: "TWOFISH_CBC"}  # fmt: skip
_SWAN_INTEG = {1: "HMAC_MD5_96", 2: "HMAC_SHA1_96", 5: "AES_XCBC_96", 6: "HMAC_MD5_128",
               7: "HMAC_SHA1_160", 8: "AES_CMAC_96", 9: "AES_128_GMAC", 10: "AES_192_GMAC",
               11: "AES_256_GMAC", 12: "HMAC_SHA2_256_128", 13: "HMAC_SHA2_384_192",
               14: "HMAC_SHA2_512_256", 1026: "HMAC_SHA2_256_96"}  # fmt: skip
_SWAN_PRF = {1: "PRF_HMAC_MD5", 2: "PRF_HMAC_SHA1", 4: "PRF_AES128_XCBC", 5: "PRF_HMAC_SHA2_256",
             6: "PRF_HMAC_SHA2_384", 7: "PRF_HMAC_SHA2_512", 8: "PRF_AES128_CMAC"}  # fmt: skip
_SWAN_KE = {1: "MODP_768", 2: "MODP_1024", 5: "MODP_1536", 14: "MODP_2048", 15: "MODP_3072",
            16: "MODP_4096", 17: "MODP_6144", 18: "MODP_8192", 19: "ECP_256", 20: "ECP_384",
            21: "ECP_521", 22: "MODP_1024_160", 23: "MODP_2048_224", 24: "MODP_2048_256",
            25: "ECP_192", 26: "ECP_224", 27: "ECP_224_BP", 28: "ECP_256_BP", 29: "ECP_384_BP",
            30: "ECP_512_BP", 31: "CURVE_25519", 32: "CURVE_448", 35: "ML_KEM_512",
            36: "ML_KEM_768", 37: "ML_KEM_1024"}  # fmt: skip
_SWAN_PROTO = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"}


def _first(p: Proposal, ttype: int) -> int | None:
    v = next((x for x in offered_values(p, ttype) if isinstance(x, int) and x), None)
    return v


def _swan_algs(p: Proposal, ike: bool) -> str:
    """The algorithms as list_sas.c prints them: ``AES_CBC-128/HMAC_SHA2_256_128[/PRF...][/DH]
    [/ESN]`` (key size after a dash; no ESN word when ESN is off)."""
    parts: list[str] = []
    encr = next((v for v in offered_values(p, 1) if isinstance(v, tuple)), None)
    if encr is not None:
        ident, bits = encr
        name = _SWAN_ENCR.get(int(ident), f"ENCR_{ident}")
        parts.append(f"{name}-{bits}" if bits else name)
    for ttype, table, prefix in ((3, _SWAN_INTEG, "INTEG"), (2, _SWAN_PRF, "PRF"),
                                 (4, _SWAN_KE, "KE")):  # fmt: skip
        v = _first(p, ttype)
        if v is not None:
            parts.append(table.get(v, f"{prefix}_{v}"))
    if not ike and _first(p, 5) == 1:
        parts.append("ESN")
    return "/".join(parts)


def _swan_ts(ts: TrafficSelector) -> str:
    """A traffic selector as strongSwan prints one: ``net/len`` or ``from..to``, then
    ``[proto/port]`` when limited (ports as numbers; charon names known services)."""
    start, end = ts.start_address, ts.end_address
    if start is None or end is None:
        return ts_text(ts)
    try:
        nets = list(
            ipaddress.summarize_address_range(
                ipaddress.ip_address(start), ipaddress.ip_address(end)
            )
        )
        addr = str(nets[0]) if len(nets) == 1 else f"{start}..{end}"
    except (TypeError, ValueError):
        addr = f"{start}..{end}"
    proto = ts.ip_protocol or 0
    lo, hi = ts.start_port or 0, ts.end_port if ts.end_port is not None else 65535
    if not proto and (lo, hi) == (0, 65535):
        return addr
    port = "" if (lo, hi) == (0, 65535) else (f"/{lo}" if lo == hi else f"/{lo}-{hi}")
    return f"{addr}[{_SWAN_PROTO.get(proto, str(proto))}{port}]"


def swanctl_sa_lines(sa: IkeSa, side: str, name: str = "conn") -> list[str]:
    """``swanctl --list-sas`` lines (strongSwan ``src/swanctl/commands/list_sas.c``) for the
    device on ``side``; the unique ids, reqids, child names and times it also prints are not in
    a capture and left out."""
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
        lines.append(f"  {_swan_algs(sa.chosen, ike=True)}")
    me = sa.initiator if side == "initiator" else sa.responder
    for child in sa.child_sas:
        if child.error is not None or child.proposal is None:
            continue
        spi_in, spi_out = _child_spis(child, me)
        (pin, bin_), (pout, bout) = _counts(child, spi_in), _counts(child, spi_out)
        mine, theirs = (child.ts_i, child.ts_r) if me == child.initiator else (
            child.ts_r, child.ts_i)  # fmt: skip
        encap = "-in-UDP" if any(s.udp_encap for s in child.esp) else ""
        proto = "AH" if child.proposal.protocol_id == 2 else "ESP"
        lines += [
            f"  child: INSTALLED, {child.mode.upper()}{encap}, "
            f"{proto}:{_swan_algs(child.proposal, ike=False)}",
            f"    in  {spi_in:08x}, {bin_:6} bytes, {pin:5} packets",
            f"    out {spi_out:08x}, {bout:6} bytes, {pout:5} packets",
            f"    local  {' '.join(_swan_ts(t) for t in mine) or '-'}",
            f"    remote {' '.join(_swan_ts(t) for t in theirs) or '-'}",
        ]
    return lines
