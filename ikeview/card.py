"""The SA card: one IKE SA as the router's own status commands show it.

The fields are those of Cisco's ``show crypto ikev2 sa detailed`` and strongSwan's
``swanctl --list-sas`` (local/remote address and port, NAT-T per side, the chosen algorithms,
authentication, identities, lifetimes seen, SPIs, traffic selectors, established time, child SAs
with their packet counts), filled from what the capture shows. Lines of plain text: the TUI,
``report`` and a ticket use them as they are. A value the capture does not show says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ikeview import iana
from ikeview.pipeline.model_text import ts_text
from ikeview.timebase import wall_date

if TYPE_CHECKING:
    from ikeview.pipeline.model import ChildSa, EspSpiStats, IkeSa, Message

_UNKNOWN = "not in the capture"


def _endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _last_flow(sa: IkeSa, from_initiator: bool) -> Message | None:
    """The latest message the side sent: its port after any float to 4500 (RFC 3948)."""
    sent = [m for m in sa.messages if m.from_initiator == from_initiator]
    return sent[-1] if sent else None


def _transform(sa: IkeSa, kind: int) -> str:
    if sa.chosen is None:
        return _UNKNOWN
    found = [t for t in sa.chosen.transforms if t.transform_type == kind]
    if not found:
        return "none"
    t = found[0]
    name = iana.transform_id_name(kind, t.transform_id)
    if kind == 1:
        return f"{name}, key size {t.key_length}" if t.key_length else name
    if kind == 4:
        return f"group {t.transform_id} ({name})"
    return name


def _lifetimes(sa: IkeSa) -> str:
    """AUTH_LIFETIME values sent (RFC 4478), per side."""
    from ikeview.dissectors import ike_records as rec  # loaded by then: the SA has messages

    found = []
    for m in sa.messages:
        for p in (*m.payloads, *m.inner):
            if isinstance(p, rec.NotifyPayload) and p.notify_type == iana.NotifyType.AUTH_LIFETIME:
                value = getattr(p.decoded, "value", None)
                if value is not None:
                    found.append(f"{m.sender} re-authenticates within {value} s")
    return "; ".join(dict.fromkeys(found)) or "no AUTH_LIFETIME seen"


def _nat(sa: IkeSa) -> list[str]:
    if sa.nat is None:
        return ["NAT-T: no NAT_DETECTION notifies seen"]

    def word(flag: bool | None) -> str:
        return {True: "behind a NAT", False: "no NAT", None: "unknown"}[flag]

    return [
        f"NAT-T: initiator {word(sa.nat.initiator_behind_nat)}, "
        f"responder {word(sa.nat.responder_behind_nat)}"
        + (", UDP-encapsulated" if sa.nat.udp_encapsulation else "")
    ]


def _esp_counts(st: EspSpiStats) -> str:
    return (
        f"0x{st.spi:08x} {st.src} -> {st.dst}: #pkts {st.packets}, #bytes {st.bytes}, "
        f"#missing {st.missing}, #replayed {st.replays}, #ICV failed {st.integrity_failed}"
    )


def child_lines(child: ChildSa) -> list[str]:
    """One child SA: SPIs in/out, mode, algorithms, selectors, counts per direction."""
    algs = (
        "/".join(
            iana.transform_id_name(t.transform_type, t.transform_id)
            + (f"_{t.key_length}" if t.key_length else "")
            for t in (child.proposal.transforms if child.proposal else ())
        )
        or _UNKNOWN
    )
    lines = [
        f"  child SA {iana.PROTOCOL_IDS.name(child.protocol_id)} {child.mode}: "
        f"SPI initiator 0x{child.spi_initiator:08x}, responder 0x{child.spi_responder:08x}",
        f"    algorithms {algs}",
        f"    local selectors {', '.join(ts_text(t) for t in child.ts_i) or _UNKNOWN}",
        f"    remote selectors {', '.join(ts_text(t) for t in child.ts_r) or _UNKNOWN}",
        f"    created frame {child.created_frame}, {wall_date(child.created_ts)}",
    ]
    by_dir = {st.src == child.initiator: st for st in child.esp}
    if True in by_dir:
        lines.append(f"    encaps (from the initiator) {_esp_counts(by_dir[True])}")
    if False in by_dir:
        lines.append(f"    decaps (to the initiator)   {_esp_counts(by_dir[False])}")
    if not child.esp:
        lines.append("    no ESP packets seen")
    return lines


def card_lines(sa: IkeSa) -> list[str]:
    """The card of one IKE SA, initiator as local side (as the initiator's router prints it)."""
    mi, mr = _last_flow(sa, True), _last_flow(sa, False)
    local = _endpoint(mi.flow.src, mi.flow.sport) if mi else (sa.initiator or "?")
    remote = _endpoint(mi.flow.dst, mi.flow.dport) if mi else (sa.responder or "?")
    if mi is None and mr is not None:
        local, remote = _endpoint(mr.flow.dst, mr.flow.dport), _endpoint(mr.flow.src, mr.flow.sport)
    auth = {a.side: a for a in sa.auth}
    lines = [
        f"IKE SA {sa.label}: {sa.state}",
        f"local {local} (initiator), remote {remote} (responder)",
        *_nat(sa),
        f"encryption {_transform(sa, 1)}",
        f"PRF {_transform(sa, 2)}",
        f"hash (integrity) {_transform(sa, 3)}",
        f"DH {_transform(sa, 4)}",
    ]
    for side in ("initiator", "responder"):
        a = auth.get(side)
        method = (a.method_name if a else None) or "not seen"
        ident = (a.identity if a else None) or "not seen"
        verdict = {True: "verified", False: "FAILED", None: "not checked"}[
            a.verified if a else None
        ]
        lines.append(f"{side} identity {ident}, auth {method} ({verdict})")
        for n, r in enumerate(a.more_rounds if a else (), 2):  # RFC 4739 later rounds
            rv = {True: "verified", False: "FAILED", None: "not checked"}[r.verified]
            who, how = r.identity or "not seen", r.method_name or "not seen"
            lines.append(f"{side} round {n} identity {who}, auth {how} ({rv})")
    lines += [
        f"SPIs initiator {sa.spi_i.hex()}, responder {sa.spi_r.hex()}",
        f"lifetimes {_lifetimes(sa)}",
        "established "
        + (f"{wall_date(sa.established_ts)}" if sa.established_ts is not None else "not seen"),
    ]
    for child in sa.child_sas:
        lines += child_lines(child)
    return lines
