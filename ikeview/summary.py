"""``ikeview summary``: one line per IKE message and one per ESP SA, from a single streaming pass.

Nothing is decrypted and nothing is correlated here: this is the fast first look at a capture, so
it touches each ESP packet only to count it (the per-SPI counters are the only state that grows,
and they grow with the number of SAs, not packets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING

from ikeview import iana
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, NatKeepalive
from ikeview.dissectors.stream import dissect

if TYPE_CHECKING:
    from ikeview.dissectors.ike_records import IkeMessage

JSON_VERSION = 1
"""Bumped whenever a field of the JSON output changes meaning or disappears."""


@dataclass(frozen=True, slots=True)
class IkeLine:
    """One IKE message as seen on the wire."""

    frame: int
    ts: float
    src: str
    sport: int
    dst: str
    dport: int
    transport: str
    version: int
    """IKE major version (1 for IKEv1, labelled only)."""
    spi_i: str
    spi_r: str
    exchange: str
    message_id: int | None
    initiator: bool
    response: bool
    payloads: tuple[str, ...]
    """Payload types in order; an SK/SKF payload ends the clear chain."""
    notifies: tuple[str, ...]
    fragment: str | None
    """"n/N" for an SKF payload (RFC 7383)."""
    error: str | None
    """Where and why decoding stopped, if it did."""


@dataclass(frozen=True, slots=True)
class EspLine:
    """All ESP packets of one SPI between one pair of addresses."""

    spi: int
    src: str
    dst: str
    udp_encap: bool
    packets: int
    bytes: int
    first: float
    last: float
    first_seq: int
    last_seq: int


@dataclass(frozen=True, slots=True)
class Summary:
    """The whole first look at a capture."""

    capture: str
    ike: tuple[IkeLine, ...]
    esp: tuple[EspLine, ...]
    keepalives: int
    errors: tuple[FrameError, ...]


def ike_line(rec: IkeDatagram) -> IkeLine:
    # Loaded by then (the dissector parsed the message); imported here so that a capture of
    # ESP alone never imports the IKE records.
    from ikeview.dissectors.ike_records import NotifyPayload, SkfPayload

    f = rec.flow
    msg: IkeMessage = rec.message
    h = msg.header
    payloads = tuple(iana.PAYLOAD_TYPES.name(p.payload_type) for p in msg.payloads)
    notifies = tuple(
        iana.NOTIFY_TYPES.name(p.notify_type) for p in msg.payloads if isinstance(p, NotifyPayload)
    )
    skf = next((p for p in msg.payloads if isinstance(p, SkfPayload)), None)
    exchange = "?"
    if h is not None:
        exchange = (
            iana.EXCHANGE_TYPES.name(h.exchange_type)
            if msg.version == 2
            else f"IKEv1({h.exchange_type})"
        )
    return IkeLine(
        frame=f.frame,
        ts=f.ts,
        src=f.src,
        sport=f.sport,
        dst=f.dst,
        dport=f.dport,
        transport=f.transport,
        version=msg.version,
        spi_i=h.spi_i.hex() if h else "",
        spi_r=h.spi_r.hex() if h else "",
        exchange=exchange,
        message_id=h.message_id if h else None,
        initiator=bool(h and h.initiator),
        response=bool(h and h.response),
        payloads=payloads,
        notifies=notifies,
        fragment=f"{skf.fragment_number}/{skf.total_fragments}" if skf else None,
        error=str(msg.error) if msg.error else None,
    )


def summarize(source: str | PathLike[str], *, extra_ports: Iterable[int] = ()) -> Summary:
    """Read the capture once and build its summary."""
    ike: list[IkeLine] = []
    errors: list[FrameError] = []
    keepalives = 0
    # (spi, src, dst) -> [packets, bytes, first, last, first_seq, last_seq, udp_encap]
    esp: dict[tuple[int, str, str], list] = {}
    for rec in dissect(source, extra_ports=extra_ports):
        # ESP first: it is nearly every record of a real capture.
        if type(rec) is EspPacket:
            f = rec.flow
            key = (rec.spi, f.src, f.dst)
            acc = esp.get(key)
            if acc is None:
                esp[key] = [1, rec.length, f.ts, f.ts, rec.seq, rec.seq, rec.udp_encap]
            else:
                acc[0] += 1
                acc[1] += rec.length
                acc[3] = f.ts
                acc[5] = rec.seq
        elif type(rec) is IkeDatagram:
            ike.append(ike_line(rec))
        elif type(rec) is NatKeepalive:
            keepalives += 1
        elif type(rec) is FrameError:
            errors.append(rec)
    esp_lines = tuple(
        EspLine(spi, src, dst, bool(a[6]), a[0], a[1], a[2], a[3], a[4], a[5])
        for (spi, src, dst), a in sorted(esp.items(), key=lambda kv: kv[1][2])
    )
    return Summary(str(source), tuple(ike), esp_lines, keepalives, tuple(errors))


def _endpoint(addr: str, port: int) -> str:
    if not port:
        return addr
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def format_ike_line(m: IkeLine, t0: float) -> str:
    """One IKE message as a terminal line, its time relative to ``t0``."""
    flags = ("I" if m.initiator else "R") + (" resp" if m.response else " req ")
    mid = "-" if m.message_id is None else str(m.message_id)
    chain = " ".join(m.payloads)
    notes = f"  N({','.join(m.notifies)})" if m.notifies else ""
    frag = f"  frag {m.fragment}" if m.fragment else ""
    err = f"  !! {m.error}" if m.error else ""
    return (
        f"{m.frame:>7} {m.ts - t0:>11.6f}  {_endpoint(m.src, m.sport)} > "
        f"{_endpoint(m.dst, m.dport)}  {m.exchange} mid={mid} {flags}  "
        f"{m.spi_i}/{m.spi_r}  [{chain}]{notes}{frag}{err}"
    )


def to_text(s: Summary) -> Iterable[str]:
    """Lines for a terminal: times relative to the first IKE or ESP record."""
    starts = [line.ts for line in s.ike[:1]] + [e.first for e in s.esp]
    t0 = min(starts) if starts else 0.0
    for m in s.ike:
        yield format_ike_line(m, t0)
    for e in s.esp:
        encap = "udp-encap" if e.udp_encap else "ip-50"
        yield (
            f"ESP spi=0x{e.spi:08x} {e.src} > {e.dst} {encap}  packets={e.packets} "
            f"bytes={e.bytes} seq={e.first_seq}..{e.last_seq}  "
            f"first={e.first - t0:.6f} last={e.last - t0:.6f}"
        )
    if s.keepalives:
        yield f"NAT-keepalives: {s.keepalives}"
    for err in s.errors:
        yield f"frame {err.frame}: undecodable at offset {err.offset}: {err.reason}"


def to_json(s: Summary) -> dict:
    """The stable JSON form (documented in README.md, "summary --json")."""
    return {
        "version": JSON_VERSION,
        "capture": s.capture,
        "ike_messages": [
            {
                "frame": m.frame,
                "time": m.ts,
                "src": m.src,
                "src_port": m.sport,
                "dst": m.dst,
                "dst_port": m.dport,
                "transport": m.transport,
                "ike_version": m.version,
                "spi_i": m.spi_i,
                "spi_r": m.spi_r,
                "exchange": m.exchange,
                "message_id": m.message_id,
                "initiator": m.initiator,
                "response": m.response,
                "payloads": list(m.payloads),
                "notifies": list(m.notifies),
                "fragment": m.fragment,
                "error": m.error,
            }
            for m in s.ike
        ],
        "esp_sas": [
            {
                "spi": f"0x{e.spi:08x}",
                "src": e.src,
                "dst": e.dst,
                "udp_encap": e.udp_encap,
                "packets": e.packets,
                "bytes": e.bytes,
                "first_time": e.first,
                "last_time": e.last,
                "first_seq": e.first_seq,
                "last_seq": e.last_seq,
            }
            for e in s.esp
        ],
        "nat_keepalives": s.keepalives,
        "errors": [
            {"frame": e.frame, "time": e.ts, "offset": e.offset, "reason": e.reason}
            for e in s.errors
        ],
    }
