"""A capture read back as an IKE daemon's log: one ``parsed``/``generating`` line per message
in the style of strongSwan's charon (``parsed IKE_AUTH response 1 [ IDr AUTH SA TSi TSr
N(MOBIKE_SUP) ]``), with the datagram's addresses as its ``sending packet`` lines give them.

Written from the initiator's side (its requests are generated, the responder's answers
parsed), so it can be laid beside the initiator's own log in a ticket. Payload and notify
abbreviations are charon's where it has one, else the IANA name.
"""

from __future__ import annotations

from collections.abc import Collection

from ikeview import iana
from ikeview.dissectors import ike_records as rec
from ikeview.pipeline.model import IkeSa, Message
from ikeview.timebase import TimeBase

PAYLOAD_ABBREV = {
    33: "SA",
    34: "KE",
    35: "IDi",
    36: "IDr",
    37: "CERT",
    38: "CERTREQ",
    39: "AUTH",
    40: "No",
    42: "D",
    43: "V",
    44: "TSi",
    45: "TSr",
    46: "E",
    47: "CP",
    48: "EAP",
    53: "EF",
}
"""charon's short payload names (RFC 7296 payload numbers; 53 is RFC 7383's SKF)."""

NOTIFY_ABBREV = {
    7: "INVAL_SYN",
    14: "NO_PROP",
    17: "INVAL_KE",
    24: "AUTH_FAILED",
    34: "SINGLE_PAIR",
    35: "NO_ADD_SAS",
    36: "INT_ADDR_FAIL",
    38: "TS_UNACCEPT",
    43: "TEMP_FAIL",
    44: "CHLD_SA_NOT_FOUND",
    16384: "INIT_CONTACT",
    16385: "SET_WINSIZE",
    16386: "ADD_TS_POSS",
    16387: "IPCOMP_SUP",
    16388: "NATD_S_IP",
    16389: "NATD_D_IP",
    16390: "COOKIE",
    16391: "USE_TRANSP",
    16393: "REKEY_SA",
    16394: "ESP_TFC_PAD_N",
    16395: "NON_FIRST_FRAG",
    16396: "MOBIKE_SUP",
    16397: "ADD_4_ADDR",
    16398: "ADD_6_ADDR",
    16399: "NO_ADD_ADDR",
    16400: "UPD_SA_ADDR",
    16403: "AUTH_LFT",
    16404: "MULT_AUTH",
    16405: "AUTH_FOLLOWS",
    16406: "REDIR_SUP",
    16417: "EAP_ONLY",
    16418: "CHDLESS_SUP",
    16430: "FRAG_SUP",
    16431: "HASH_ALG",
    16420: "MSG_ID_SYN_SUP",
}
"""charon's short notify names for the types a capture usually carries."""


def payload_token(p: object) -> str:
    """``IDr``, ``N(MOBIKE_SUP)``, ``V``…"""
    if isinstance(p, rec.NotifyPayload):
        name = NOTIFY_ABBREV.get(p.notify_type) or iana.NOTIFY_TYPES.name(p.notify_type)
        return f"N({name})"
    kind = getattr(p, "payload_type", 0)
    return PAYLOAD_ABBREV.get(kind) or iana.PAYLOAD_TYPES.name(kind)


def message_line(m: Message, clock: TimeBase | None = None) -> str:
    """``generating IKE_AUTH request 1 [ IDi AUTH SA TSi TSr ]`` (the decrypted payloads when
    the message was decrypted, else the clear ones with ``E``/``EF``)."""
    verb = "generating" if m.from_initiator else "parsed"
    kind = "response" if m.response else "request"
    shown = m.inner if m.decrypted else m.payloads
    tokens = " ".join(payload_token(p) for p in shown)
    when = f"{clock.format(m.ts)} " if clock is not None else ""
    inside = f" {tokens} " if tokens else " "
    return f"{when}{verb} {m.exchange_name} {kind} {m.message_id} [{inside}]"


def packet_line(m: Message) -> str:
    """``sending packet: from 192.0.2.1[500] to 192.0.2.2[500] (264 bytes)``."""
    verb = "sending" if m.from_initiator else "received"
    f = m.flow
    return f"{verb} packet: from {f.src}[{f.sport}] to {f.dst}[{f.dport}] ({m.length} bytes)"


MARKED = " [marked]"
"""Appended to the line of a message the user marked (the TUI's ``m``)."""


def sa_transcript(
    sa: IkeSa, clock: TimeBase | None = None, marks: Collection[int] = ()
) -> list[str]:
    """Every message of the SA in capture order, as the initiator's log would list them;
    messages whose frame is in ``marks`` end with ``[marked]``."""
    lines = [f"IKE SA {sa.label} ({sa.initiator} -> {sa.responder})"]
    for m in sorted(sa.messages, key=lambda m: (m.ts, m.frame)):
        copy = f" (retransmit of frame {m.original_frame})" if m.retransmission else ""
        if m.frame in marks:
            copy += MARKED
        if m.from_initiator:
            lines += [message_line(m, clock) + copy, "  " + packet_line(m)]
        else:
            lines += ["  " + packet_line(m), message_line(m, clock) + copy]
    return lines
