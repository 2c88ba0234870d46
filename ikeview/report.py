"""``ikeview report``: the analysis as readable text, or as documented JSON (docs/report-json.md).

Both views only read the frozen model (``ikeview.pipeline.model``). Plain text is the contract;
no markup is emitted so the output can be piped, diffed and grepped. Secrets appear only with
``show_secrets=True`` (the derived keys, in the shape ``ikeview keys`` prints).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ikeview import iana
from ikeview.card import card_lines
from ikeview.config.render import config_check_lines, config_checks_json
from ikeview.diagnosis.jsonform import diagnosis_json, finding_json
from ikeview.diagnosis.words import BASIS_WORDS
from ikeview.pipeline.capture_model import iso_time
from ikeview.pipeline.model_text import eap_text, proposal_text, ts_text
from ikeview.textsafe import printable
from ikeview.timebase import Clock, wall_clock, wall_date

if TYPE_CHECKING:
    # Named in annotations only: the IKE records are created only when a capture has IKE.
    from ikeview.diagnosis.records import Diagnosis, Finding
    from ikeview.pipeline.capture_model import Analysis, EspSpiStats, InnerFlow
    from ikeview.pipeline.model import (
        AuthRound,
        AuthSide,
        ChildSa,
        Exchange,
        IkeSa,
        Message,
        NatInfo,
    )

JSON_VERSION = 1
"""Bumped whenever a field of the JSON report changes meaning or disappears (additions do not)."""


# ---------------------------------------------------------------- shared helpers


def _t0(a: Analysis) -> float:
    """Time origin: the first IKE message or ESP packet in the analysis."""
    times = [sa.first_ts for sa in a.ike_sas]
    times += [s.first_ts for s in a.unassociated_esp]
    times += [s.first_ts for sa in a.ike_sas for c in sa.child_sas for s in c.esp]
    return min(times) if times else 0.0


def _spis(spis: tuple[bytes, bytes] | None) -> str | None:
    return None if spis is None else f"{spis[0].hex()}/{spis[1].hex()}"


def _ptype(t: int) -> str:
    return iana.PAYLOAD_TYPES.name(t)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def _rel(ts: float | None, t0: float) -> str:
    return "-" if ts is None else f"+{ts - t0:.6f}s"


When = Callable[[float | None], str]
"""How one capture time is written on the report's clock."""

CLOCKS = ("capture", "sa", "utc", "local")
"""``report --time``: seconds since the capture's first IKE or ESP packet (the default, as the
TUI's ``t`` starts), since each IKE SA's first message, or wall-clock time in UTC or local time
(to match router syslog and ``debug`` timestamps); the same clocks as ``ikeview.timebase``."""


def _clock(clock: str, t0: float, sa: IkeSa | None = None) -> When:
    if clock in ("utc", "local"):
        wall = Clock(clock)
        return lambda ts: "-" if ts is None else wall_clock(ts, wall)
    zero = sa.first_ts if clock == "sa" and sa is not None else t0
    return lambda ts: _rel(ts, zero)


def _clock_line(clock: str, t0: float, known: bool) -> str:
    if not known:
        return "  times are relative to -"
    if clock in ("utc", "local"):
        zone = "UTC" if clock == "utc" else "local"
        return f"  times are {zone} wall-clock, from {wall_date(t0, Clock(clock))}"
    if clock == "sa":
        return "  times are relative to each IKE SA's first message"
    return f"  times are relative to {iso_time(t0)}"


# ---------------------------------------------------------------- text


def render_text(
    analysis: Analysis, *, show_secrets: bool = False, card: bool = False, clock: str = "capture"
) -> str:
    """The whole report as plain text, one block per IKE SA; with ``card``, each SA also gets
    the card of ``ikeview.card`` (the fields of Cisco's ``show crypto ikev2 sa detailed`` and
    strongSwan's ``swanctl --list-sas``); ``clock`` is one of :data:`CLOCKS`."""
    a = analysis
    t0 = _t0(a)
    k = a.counters
    out: list[str] = [
        f"capture {a.capture}" + ("" if a.complete else " (partial: still reading)"),
        f"  {k.frames} frames; {k.ike_messages} IKE messages ({k.ike_decrypted} decrypted, "
        f"{k.ike_integrity_failed} failed integrity); {k.esp_packets} ESP packets "
        f"({k.esp_decrypted} decrypted, {k.esp_integrity_failed} failed integrity); "
        f"{k.keepalives} NAT keepalives; {k.frame_errors} undecodable frames",
        _clock_line(clock, t0, bool(a.ike_sas or a.unassociated_esp)),
    ]
    if k.ikev1_messages:
        out.append(f"  {k.ikev1_messages} IKEv1 messages (labelled only, not analyzed)")
    for sa in a.ike_sas:
        out.append("")
        out.extend(_sa_text(sa, _clock(clock, t0, sa)))
        if card:
            out.append("  card")
            out.extend("    " + line for line in card_lines(sa))
    if a.unassociated_esp:
        out.append("")
        out.append("unassociated ESP SPIs (not tied to a child SA seen in the capture)")
        for s in a.unassociated_esp:
            out.append("  " + _esp_text(s, _clock(clock, t0)))
            out.extend("    " + f for f in _inner_text(s))
    if a.problems:
        out.append("")
        out.append("problems")
        for p in a.problems:
            out.append(f"  {p.severity:<7} {p.text}")
    if show_secrets and a.derived_keys:
        out.append("")
        out.append("derived keys (secret)")
        out.extend("  " + line for line in _secrets_text(a))
    # Each element is one line: escaping them one by one turns a newline or escape sequence
    # inside a capture's identity (or any field) into visible text, so it cannot forge a line.
    return "\n".join(printable(line) for line in out) + "\n"


def _unconfirmed(sa: IkeSa) -> bool:
    """The correlator guessed ``established`` from sizes but the diagnosis could not confirm it:
    the report must not say both (the verdict line says ``UNKNOWN``)."""
    return (
        sa.state == "established"
        and sa.state_inferred
        and sa.diagnosis.verdict != ""
        and sa.diagnosis.outcome != "established"
    )


def _state_text(sa: IkeSa) -> str:
    if _unconfirmed(sa):
        return (
            "IKE_AUTH answered, established not confirmed (inferred: exchanges encrypted, no keys)"
        )
    state = sa.state + (" (inferred: exchanges encrypted, no keys)" if sa.state_inferred else "")
    if sa.failure:
        state += f": {sa.failure}"
    return state


def _findings_text(findings: tuple[Finding, ...], indent: str) -> list[str]:
    """Each finding: severity, code, frames and basis, then its explanation and fixes."""
    lines: list[str] = []
    for f in findings:
        frames = ",".join(map(str, f.frames)) or "-"
        basis = BASIS_WORDS.get(f.basis, f.basis)
        lines.append(f"{indent}{f.severity:<7} {f.code}  (frames {frames}; {basis})")
        lines.append(f"{indent}        {f.explanation}")
        if f.fix:
            lines.append(f"{indent}        fix: {f.fix}")
        if f.fix_cisco:
            lines.append(f"{indent}        Cisco IOS: {f.fix_cisco}")
        if f.fix_strongswan:
            lines.append(f"{indent}        strongSwan: {f.fix_strongswan}")
    return lines


def _verdict_text(d: Diagnosis) -> str:
    return f"{d.verdict}  [{BASIS_WORDS.get(d.basis, d.basis)}]" if d.verdict else _UNJUDGED


_UNJUDGED = "not yet judged (still reading)"


def _sa_text(sa: IkeSa, when: When) -> list[str]:
    lines = [f"IKE SA {sa.label}  {_verdict_text(sa.diagnosis)}"]
    lines.append(f"  state {_state_text(sa)}")
    lines.append(f"  initiator {sa.initiator or '?'}  responder {sa.responder or '?'}")
    origin = {34: "created by IKE_SA_INIT", 36: "created by CREATE_CHILD_SA (rekey)"}.get(
        sa.created_by or 0, "creation not in the capture (first seen mid-life)"
    )
    lines.append(f"  {origin}")
    life = f"  seen {when(sa.first_ts)} .. {when(sa.last_ts)}"
    if sa.established_ts is not None:
        what = "IKE_AUTH answered" if _unconfirmed(sa) else "established"
        life += f"; {what} {when(sa.established_ts)} after {_ms(sa.time_to_establish)}"
    if sa.deleted_ts is not None:
        life += f"; deleted {when(sa.deleted_ts)}"
    lines.append(life)
    if sa.rekey_of:
        lines.append(f"  rekey of {_spis(sa.rekey_of)}")
    if sa.rekeyed_into:
        lines.append(f"  rekeyed into {_spis(sa.rekeyed_into)}")
    if sa.retries:
        lines.append(f"  IKE_SA_INIT retried after: {', '.join(sa.retries)}")
    if sa.chosen is not None:
        lines.append(f"  proposal {proposal_text(sa.chosen)}")
    if sa.offered:
        lines.append(f"  offered  {len(sa.offered)} proposal(s):")
        lines.extend(f"    #{p.number} {proposal_text(p)}" for p in sa.offered)
    if sa.nat is not None:
        lines.append("  " + _nat_text(sa.nat))
    for side in sa.auth:
        lines.append("  " + _auth_text(side))
        lines.extend(
            "    " + _round_text(side.side, n, r) for n, r in enumerate(side.more_rounds, 2)
        )
    if sa.problem:
        lines.append(f"  keys: {sa.problem}")
    if sa.diagnosis.findings:
        lines.append("  findings")
        lines.extend(_findings_text(sa.diagnosis.findings, "    "))
    for check in sa.config_checks:
        lines.extend(config_check_lines(check, "  "))
    lines.append("  exchanges")
    lines.append(
        "    frames      time          exchange          mid  requester  status      rtt"
        "         purpose / notes"
    )
    for ex in sa.exchanges:
        lines.append("    " + _exchange_text(ex, when))
        for m in ex.messages:
            note = _message_note(m)
            if note:
                lines.append(f"      frame {m.frame}: {note}")
    if sa.child_sas:
        lines.append("  child SAs")
        for c in sa.child_sas:
            lines.extend("    " + line for line in _child_text(c, when))
    return lines


def _nat_text(n: NatInfo) -> str:
    def yn(v: bool | None) -> str:
        return "?" if v is None else ("yes" if v else "no")

    return (
        f"NAT: initiator behind NAT {yn(n.initiator_behind_nat)}, responder behind NAT "
        f"{yn(n.responder_behind_nat)}, UDP encapsulation {yn(n.udp_encapsulation)}"
    )


def _auth_text(s: AuthSide) -> str:
    who = f"{s.side} {s.identity or '(identity encrypted)'}"
    if s.method is None:
        return f"auth {who}: {s.detail}"
    verdict = {True: "verified", False: "NOT verified", None: "not checked"}[s.verified]
    psk = f" with PSK {s.psk}" if s.psk else ""
    # A verified AUTH says all in its verdict; otherwise the detail says what is missing.
    detail = "" if s.verified and (s.psk or not s.detail) else f" ({s.detail})"
    eap = f"; {t}" if (t := eap_text(s)) else ""
    return f"auth {who}: {s.method_name} {verdict}{psk}{detail}{eap}"


def _round_text(side: str, number: int, r: AuthRound) -> str:
    """A later authentication round (RFC 4739) under its side's auth line."""
    verdict = {True: "verified", False: "NOT verified", None: "not checked"}[r.verified]
    at = f" (frame {r.frame})" if r.frame is not None else ""
    who = r.identity or "(identity not seen)"
    return f"round {number} {side} {who}: {r.method_name} {verdict}{at}"


def _exchange_text(ex: Exchange, when: When) -> str:
    frames = ",".join(str(m.frame) for m in (ex.request, ex.response) if m is not None)
    start = ex.request_ts if ex.request is not None else ex.response_ts
    status: str = ex.status
    resp = ex.response
    if (
        status == "ok"
        and resp is not None
        and not resp.decrypted
        and resp.payload_types[-1:]
        in (
            (46,),
            (53,),
        )
    ):
        # An encrypted response without keys may hold an error notify: "ok" would claim more
        # than was read.
        status = "answered"
    notes: list[str] = []
    if ex.purpose:
        notes.append(ex.purpose)
    if ex.error is not None:
        notes.append(iana.NOTIFY_TYPES.name(ex.error))
    if ex.retry is not None:
        notes.append(f"retry: {iana.NOTIFY_TYPES.name(ex.retry)}")
    if ex.attempt > 1:
        notes.append(f"attempt {ex.attempt}")
    copies = [m for m in ex.copies if not m.response and m.retransmission == "retransmit"]
    if copies and ex.request is not None:
        # The rtt column counts from the first copy; the wait for loss hides in it.
        note = f"sent {len(copies) + 1} times"
        if ex.response is not None:
            last = max((m for m in (ex.request, *copies) if m.ts <= ex.response.ts),
                       key=lambda m: m.ts, default=ex.request)  # fmt: skip
            note += f", answered {_ms(ex.response.ts - last.ts)} after the last copy"
        notes.append(note)
    return (
        f"{frames:<11} {when(start):<13} {ex.name:<17} {ex.message_id:<4} "
        f"{ex.requester:<10} {status:<11} {_ms(ex.rtt):<11} {'; '.join(notes)}"
    ).rstrip()


def _message_note(m: Message) -> str:
    parts: list[str] = []
    if m.retransmission == "retransmit":
        parts.append(f"retransmission of frame {m.original_frame}")
    elif m.retransmission == "other-bytes":
        parts.append(
            f"same message ID as frame {m.original_frame} with other bytes (not a retransmission)"
        )
    if m.fragment:
        parts.append(f"fragment {m.fragment[0]}/{m.fragment[1]}")
    if m.integrity == "failed":
        # The problem text starts "integrity check failed for ..." and names the key tried.
        parts.append(m.problem or "INTEGRITY CHECK FAILED")
    if m.decrypted:
        parts.append("decrypted: " + (" ".join(_ptype(t) for t in m.inner_types) or "(empty)"))
    elif (
        m.problem
        and m.problem != "no keys"
        and m.retransmission is None
        and m.integrity != "failed"
    ):
        parts.append(m.problem)
    if m.decode_error:
        parts.append(f"decode error: {m.decode_error}")
    return "; ".join(parts)


def _child_text(c: ChildSa, when: When) -> list[str]:
    proto = iana.PROTOCOL_IDS.name(c.protocol_id)
    # A refused child SA never got the responder's SPI: say so rather than print zeros.
    theirs = "none (refused)" if c.error is not None else f"0x{c.spi_responder:08x}"
    lines = [
        f"{proto} SPIs 0x{c.spi_initiator:08x} (in at {c.initiator}) / "
        f"{theirs} (in at {c.responder})  {c.mode}",
        f"  {_verdict_text(c.diagnosis)}",
    ]
    how = iana.EXCHANGE_TYPES.name(c.exchange_type)
    life = f"  created {when(c.created_ts)} by {how} (frame {c.created_frame})"
    if c.rekey_of is not None:
        life += f", rekey of 0x{c.rekey_of:08x}"
    if c.rekeyed_by is not None:
        life += f", rekeyed by 0x{c.rekeyed_by[0]:08x}/0x{c.rekeyed_by[1]:08x}"
    if c.deleted_ts is not None:
        life += f", deleted {when(c.deleted_ts)}"
    lines.append(life)
    if c.proposal is not None:
        lines.append(f"  proposal {proposal_text(c.proposal)}")
    if c.ts_i or c.ts_r:
        lines.append(
            "  TSi "
            + (", ".join(ts_text(t) for t in c.ts_i) or "-")
            + "  TSr "
            + (", ".join(ts_text(t) for t in c.ts_r) or "-")
        )
    if c.error is not None:
        lines.append(f"  offered  {len(c.offered)} proposal(s):")
        lines.extend(f"    #{p.number} {proposal_text(p)}" for p in c.offered)
    else:
        lines.append(f"  {c.esp_packets} packets, {c.esp_decrypted} decrypted")
        for spi, src, dst in (
            (c.spi_responder, c.initiator, c.responder),
            (c.spi_initiator, c.responder, c.initiator),
        ):
            stats = [s for s in c.esp if s.spi == spi]
            if not stats:
                lines.append(f"  SPI 0x{spi:08x} {src} > {dst}: 0 packets (silent)")
            for s in stats:
                lines.append("  " + _esp_text(s, when))
                lines.extend("    " + f for f in _inner_text(s))
    if c.problem:
        lines.append(f"  keys: {c.problem}")
    if c.diagnosis.findings:
        lines.append("  findings")
        lines.extend(_findings_text(c.diagnosis.findings, "    "))
    for check in c.config_checks:
        lines.extend(config_check_lines(check, "  "))
    return lines


def _esp_text(s: EspSpiStats, when: When) -> str:
    text = (
        f"SPI 0x{s.spi:08x} {s.src} > {s.dst}{' (UDP)' if s.udp_encap else ''}: "
        f"{s.packets} packets, {s.bytes} bytes, {s.decrypted} decrypted, seq {s.first_seq}.."
        f"{s.max_seq}, {s.missing} missing, {s.replays} replayed, {s.out_of_order} out of order, "
        f"{when(s.first_ts)} .. {when(s.last_ts)}"
    )
    if s.integrity_failed:
        text += f", {s.integrity_failed} FAILED integrity"
    if s.problem and s.decrypted < s.packets:
        text += f" ({s.problem})"
    return text


def _inner_text(s: EspSpiStats) -> list[str]:
    """One line per inner flow of a decrypted SPI, and one for any flows beyond the limit."""
    lines = [f"{f.text}: {f.packets} packets, {f.bytes} bytes" for f in s.inner_flows]
    if s.inner_other:
        lines.append(f"(other flows: {s.inner_other} packets)")
    return lines


def _secrets_text(a: Analysis) -> list[str]:
    keys = _keys_json(a)
    lines: list[str] = []
    for ike in keys.get("ike_sas", []):
        lines.append(f"IKE SA {ike.get('spi_i')}/{ike.get('spi_r')}")
        for name, value in ike.items():
            if name.startswith("sk_") and value:
                lines.append(f"  {name.upper()} {value}")
    for esp in keys.get("esp_sas", []):
        items = ", ".join(f"{k} {v}" for k, v in esp.items() if v is not None)
        lines.append(f"ESP {items}")
    return lines


def _keys_json(a: Analysis) -> dict[str, Any]:
    from ikeview.pipeline.keyout import keys_json

    return keys_json(a) if a.derived_keys else {"ike_sas": [], "esp_sas": []}


# ---------------------------------------------------------------- JSON


def to_json(analysis: Analysis, *, show_secrets: bool = False) -> dict[str, Any]:
    """The report as plain JSON types; every field is described in docs/report-json.md."""
    a = analysis
    k = a.counters
    out: dict[str, Any] = {
        "version": JSON_VERSION,
        "capture": a.capture,
        "complete": a.complete,
        "counters": {
            "frames": k.frames,
            "ike_messages": k.ike_messages,
            "ike_decrypted": k.ike_decrypted,
            "ike_integrity_failed": k.ike_integrity_failed,
            "esp_packets": k.esp_packets,
            "esp_decrypted": k.esp_decrypted,
            "esp_integrity_failed": k.esp_integrity_failed,
            "keepalives": k.keepalives,
            "frame_errors": k.frame_errors,
            "ikev1_messages": k.ikev1_messages,
        },
        "ike_sas": [_sa_json(sa) for sa in a.ike_sas],
        "unassociated_esp": [_esp_json(s) for s in a.unassociated_esp],
        "problems": [
            {
                "severity": p.severity,
                "code": p.code,
                "text": p.text,
                "frame": p.frame,
                "ike_sa": _spis(p.ike_sa),
            }
            for p in a.problems
        ],
    }
    if show_secrets:
        out["keys"] = _keys_json(a)
    return out


def _auth_json(s: AuthSide | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "identity": s.identity,
        "id_type": None if s.id_type is None else iana.ID_TYPES.name(s.id_type),
        "method": s.method_name,
        "method_id": s.method,
        "verified": s.verified,
        "psk": s.psk,
        "detail": s.detail,
        "frame": s.frame,
        "eap_identity": s.eap_identity,
        "eap_method": s.eap_method,
        "eap_result": s.eap_result,
        "eap_password": s.eap_password,
        "more_rounds": [
            {
                "identity": r.identity,
                "method": r.method_name,
                "method_id": r.method,
                "verified": r.verified,
                "frame": r.frame,
            }
            for r in s.more_rounds
        ],
    }


def _sa_json(sa: IkeSa) -> dict[str, Any]:
    auth = {s.side: s for s in sa.auth}
    nat = sa.nat
    return {
        "spi_i": sa.spi_i.hex(),
        "spi_r": sa.spi_r.hex(),
        "initiator": sa.initiator,
        "responder": sa.responder,
        "state": sa.state,
        "state_inferred": sa.state_inferred,
        "failure": sa.failure,
        "created_by": None if sa.created_by is None else iana.EXCHANGE_TYPES.name(sa.created_by),
        "first_ts": sa.first_ts,
        "last_ts": sa.last_ts,
        "established_ts": sa.established_ts,
        "deleted_ts": sa.deleted_ts,
        "time_to_establish": sa.time_to_establish,
        "retries": list(sa.retries),
        "proposal": None if sa.chosen is None else proposal_text(sa.chosen),
        "offered": [proposal_text(p) for p in sa.offered],
        "dh_group": None if sa.dh_group is None else iana.DH_GROUPS.name(sa.dh_group),
        "auth": {
            "initiator": _auth_json(auth.get("initiator")),
            "responder": _auth_json(auth.get("responder")),
        },
        "nat": None
        if nat is None
        else {
            "initiator_behind_nat": nat.initiator_behind_nat,
            "responder_behind_nat": nat.responder_behind_nat,
            "udp_encapsulation": nat.udp_encapsulation,
            "detail": nat.detail,
        },
        "rekey_of": _spis(sa.rekey_of),
        "rekeyed_into": _spis(sa.rekeyed_into),
        "problem": sa.problem,
        "exchanges": [_exchange_json(e) for e in sa.exchanges],
        "child_sas": [_child_json(c) for c in sa.child_sas],
        "diagnosis": diagnosis_json(sa.diagnosis),
        "config_check": config_checks_json(sa.config_checks),
    }


def _exchange_json(e: Exchange) -> dict[str, Any]:
    return {
        "exchange": e.name,
        "message_id": e.message_id,
        "requester": e.requester,
        "attempt": e.attempt,
        "status": e.status,
        "error": None if e.error is None else iana.NOTIFY_TYPES.name(e.error),
        "retry": None if e.retry is None else iana.NOTIFY_TYPES.name(e.retry),
        "purpose": e.purpose,
        "request_ts": e.request_ts,
        "response_ts": e.response_ts,
        "rtt": e.rtt,
        "messages": [_message_json(m) for m in e.messages],
    }


def _message_json(m: Message) -> dict[str, Any]:
    f = m.flow
    return {
        "frame": m.frame,
        "ts": m.ts,
        "src": f.src,
        "sport": f.sport,
        "dst": f.dst,
        "dport": f.dport,
        "transport": f.transport,
        "response": m.response,
        "sender": m.sender,
        "length": m.length,
        "payloads": [_ptype(t) for t in m.payload_types],
        "inner_payloads": [_ptype(t) for t in m.inner_types],
        "notifies": [iana.NOTIFY_TYPES.name(n) for n in m.notifies],
        "fragment": None if m.fragment is None else f"{m.fragment[0]}/{m.fragment[1]}",
        "decrypted": m.decrypted,
        "integrity": m.integrity,
        "retransmission": m.retransmission,
        "original_frame": m.original_frame,
        "problem": m.problem,
        "decode_error": m.decode_error,
    }


def _child_json(c: ChildSa) -> dict[str, Any]:
    return {
        "protocol": iana.PROTOCOL_IDS.name(c.protocol_id),
        "spi_initiator": f"{c.spi_initiator:08x}",
        "spi_responder": f"{c.spi_responder:08x}",
        "initiator": c.initiator,
        "responder": c.responder,
        "exchange": iana.EXCHANGE_TYPES.name(c.exchange_type),
        "created_frame": c.created_frame,
        "created_ts": c.created_ts,
        "proposal": None if c.proposal is None else proposal_text(c.proposal),
        "offered": [proposal_text(p) for p in c.offered],
        "mode": c.mode,
        "ts_i": [ts_text(t) for t in c.ts_i],
        "ts_r": [ts_text(t) for t in c.ts_r],
        "rekey_of": None if c.rekey_of is None else f"{c.rekey_of:08x}",
        "rekeyed_by": None
        if c.rekeyed_by is None
        else [f"{c.rekeyed_by[0]:08x}", f"{c.rekeyed_by[1]:08x}"],
        "deleted_ts": c.deleted_ts,
        "esp_packets": c.esp_packets,
        "esp_decrypted": c.esp_decrypted,
        "esp": [_esp_json(s) for s in c.esp],
        "problem": c.problem,
        "error": None if not c.error else iana.NOTIFY_TYPES.name(c.error),
        "refused": c.error is not None,
        "diagnosis": diagnosis_json(c.diagnosis),
        "config_check": config_checks_json(c.config_checks),
    }


def _esp_json(s: EspSpiStats) -> dict[str, Any]:
    return {
        "spi": f"{s.spi:08x}",
        "src": s.src,
        "dst": s.dst,
        **s.counters(),
        "problem": s.problem,
        "inner_flows": [_inner_json(f) for f in s.inner_flows],
        "inner_other_packets": s.inner_other,
        "first_frame": s.first_frame,
        "last_frame": s.last_frame,
    }


def _inner_json(f: InnerFlow) -> dict[str, Any]:
    return {
        "text": f.text,
        "packets": f.packets,
        "bytes": f.bytes,
        "ip_version": f.ip_version,
        "protocol": f.protocol,
        "src": f.src,
        "dst": f.dst,
        "sport": f.sport,
        "dport": f.dport,
        "icmp_type": f.icmp_type,
        "icmp_code": f.icmp_code,
        "error": f.error,
    }


__all__ = ["JSON_VERSION", "diagnosis_json", "finding_json", "render_text", "to_json"]
