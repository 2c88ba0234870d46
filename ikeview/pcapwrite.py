"""The ``decrypt`` command: copy a capture, replacing each decrypted ESP packet by its content.

Streaming, one pass: raw frames flow from the reader through the dissector; IKE records go to
the correlator (which registers IKE and child SAs with the decryptor) and ESP records to the
decryptor. A frame is written once the dissector has asked for the next one, by which time all
records of that frame have been handled.

What replaces a decrypted ESP frame (RFC 4303 section 3.1):
- tunnel mode (Next Header 4 or 41): the frame's own link header, its protocol field set to the
  inner IP version, followed by the inner IP packet;
- transport mode: the outer IP header rebuilt with the ESP Next Header as its protocol (UDP
  encapsulation, RFC 3948, removed too), followed by the decrypted payload.
An IKE message over UDP whose SK payload decrypted gets the SK payload replaced by the inner
payloads it carried (RFC 7296 section 3.14: the payload before it, or the header, then names the
first inner payload), with IKE, UDP and IP lengths and checksums fixed, so any tool shows the
exchange in clear. A message sent in SKF fragments (RFC 7383) is written whole, in clear, in
the frame of the fragment that completed it; the other fragments and IKE over TCP stay as they
were.
Everything else, and what did not decrypt, is copied unchanged. The output is a classic pcap
(microsecond time stamps) with the link type of the first frame; later frames of another link
type are left out and counted.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Protocol

from ikeview.dissectors.capture import CaptureReader
from ikeview.dissectors.errors import DecodeError
from ikeview.dissectors.esp import esp_packet
from ikeview.dissectors.net import link_to_ip
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, RawFrame, Record
from ikeview.dissectors.stream import Dissector
from ikeview.keys.model import KeyRing
from ikeview.outfile import open_output
from ikeview.pcapfile import PcapWriter
from ikeview.pipeline.correlate import Correlator
from ikeview.pipeline.decrypt import KeyringDecryptor
from ikeview.pipeline.fastswitch import fast_allowed
from ikeview.pipeline.seam import EspOpened

# draft-ietf-opsawg-pcap section 4: File Header (magic, version 2.4, reserved, snaplen,
# link type); section 5: Packet Record header (seconds, microseconds, captured and original
# length). Written in little-endian order, as libpcap does on the common hosts.

_LINKTYPE_ETHERNET = 1
_LINKTYPE_NULL = 0
_LINKTYPE_LOOP = 108
_LINKTYPE_LINUX_SLL = 113
_LINKTYPE_LINUX_SLL2 = 276
_ETHERTYPE = {4: 0x0800, 6: 0x86DD}
_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)

_IPPROTO_IPV4 = 4
_IPPROTO_IPV6 = 41
_IPPROTO_UDP = 17
_IPPROTO_NONE = 59
_IPPROTO_ESP = 50
_SK_PAYLOAD = 46
_SKF_PAYLOAD = 53


class _Feed(Protocol):
    """What the writer needs of a correlator: take IKE records in capture order."""

    def feed(self, record: Record) -> object: ...


@dataclass(slots=True)
class DecryptStats:
    """What ``write_decrypted`` did; ``str()`` is the one line the CLI prints."""

    frames: int = 0
    """Frames read."""
    written: int = 0
    """Frames written."""
    esp: int = 0
    """ESP packets seen."""
    replaced: int = 0
    """ESP frames replaced by their decrypted content."""
    failed: int = 0
    """ESP packets that had keys but did not decrypt (bad ICV, truncated ...)."""
    no_keys: int = 0
    """ESP packets of SPIs without keys."""
    ike_replaced: int = 0
    """IKE messages written with their SK payload in clear."""
    other_linktype: int = 0
    """Frames left out because their link type differs from the first frame's."""
    frame_errors: int = 0
    """Frames the dissector could not decode (copied as they are), and a damaged file's end."""
    problems: list[str] = field(default_factory=list)
    """The first few distinct problem lines, in capture order: the CLI prints them under the
    counts (keys missing or not verifying, undecodable frames)."""
    damage: str | None = None
    """Where a damaged file stopped being read: kept apart from ``problems`` so that no number
    of earlier lines can crowd it out (the CLI prints it last)."""

    def __str__(self) -> str:
        text = (
            f"{self.frames} frames read, {self.written} written; {self.esp} ESP packets: "
            f"{self.replaced} decrypted, {self.failed} failed, {self.no_keys} without keys"
        )
        if self.ike_replaced:
            text += f"; {self.ike_replaced} IKE messages written in clear"
        if self.other_linktype:
            text += f"; {self.other_linktype} frames of another link type left out"
        if self.frame_errors:
            text += f"; {self.frame_errors} undecodable frames"
        return text

    def note(self, problem: str | None) -> None:
        """Remember a problem line (the first 20 distinct ones)."""
        if problem and problem not in self.problems and len(self.problems) < 20:
            self.problems.append(problem)

    def frame_error(self, rec: FrameError) -> None:
        """A frame the dissector could not decode, or the end of a damaged file: said as
        ``report`` says it (frame number, then the reason)."""
        self.frame_errors += 1
        line = f"frame {rec.frame}: {rec.reason}"
        if rec.ends_damaged_file:
            self.damage = line
        else:
            self.note(line)


def rebuild_frame(frame: RawFrame, packet: EspPacket | None, opened: EspOpened) -> bytes | None:
    """The frame with the ESP packet replaced by what it carried; None if it cannot be done.
    (``packet`` is not read: the batch path, which has no record, passes None.)"""
    inner = opened.inner
    nh = opened.next_header
    if inner is None or nh is None or nh == _IPPROTO_NONE:
        return None
    try:
        version, ip_off = link_to_ip(frame.linktype, frame.data)
    except DecodeError:
        return None
    if version not in (4, 6):
        return None
    link = bytearray(frame.data[:ip_off])
    if nh in (_IPPROTO_IPV4, _IPPROTO_IPV6):
        inner_version = 4 if nh == _IPPROTO_IPV4 else 6
        if inner_version != version and not _set_link_protocol(frame.linktype, link, inner_version):
            return None
        return bytes(link) + inner
    outer = _transport_header(frame.data, ip_off, version, nh, len(inner))
    return None if outer is None else bytes(link) + outer + inner


def _set_link_protocol(linktype: int, link: bytearray, version: int) -> bool:
    """Point the link header at an IPv4/IPv6 payload; False where we cannot."""
    etype = _ETHERTYPE[version].to_bytes(2, "big")
    if linktype == _LINKTYPE_ETHERNET and len(link) >= 14:
        link[-2:] = etype  # the last EtherType, after any VLAN tags
        return True
    if linktype == _LINKTYPE_LINUX_SLL and len(link) >= 16:
        link[14:16] = etype
        return True
    if linktype == _LINKTYPE_LINUX_SLL2 and len(link) >= 20:
        link[0:2] = etype
        return True
    if linktype == _LINKTYPE_LOOP and len(link) == 4:
        link[:] = (2 if version == 4 else 24).to_bytes(4, "big")
        return True
    if linktype == _LINKTYPE_NULL and len(link) == 4:
        little = link[0] != 0
        family = 2 if version == 4 else 24
        link[:] = family.to_bytes(4, "little" if little else "big")
        return True
    return len(link) == 0  # raw IP: nothing to change


def _transport_header(
    data: bytes, off: int, version: int, next_header: int, payload_len: int
) -> bytes | None:
    # RFC 4303 section 3.1.1: in transport mode ESP sits between the IP header and the upper
    # layer; without it (and without RFC 3948's UDP header) the IP header carries the
    # upper-layer protocol directly.
    if version == 4:
        if len(data) < off + 20:
            return None
        ihl = (data[off] & 0x0F) * 4
        hdr = bytearray(data[off : off + ihl])
        if len(hdr) < 20:
            return None
        struct.pack_into("!H", hdr, 2, ihl + payload_len)
        struct.pack_into("!H", hdr, 6, int.from_bytes(hdr[6:8], "big") & 0x4000)  # keep DF
        hdr[9] = next_header
        hdr[10:12] = b"\x00\x00"
        hdr[10:12] = _ip_checksum(bytes(hdr)).to_bytes(2, "big")
        return bytes(hdr)
    # IPv6: keep the fixed header only (extension headers before ESP are dropped).
    if len(data) < off + 40:
        return None
    hdr = bytearray(data[off : off + 40])
    struct.pack_into("!H", hdr, 4, payload_len)
    hdr[6] = next_header
    return bytes(hdr)


def _ip_checksum(header: bytes) -> int:
    # RFC 791 section 3.1 / RFC 1071: one's complement of the one's complement sum of 16-bit
    # words (an odd trailing octet is padded with zero).
    if len(header) % 2:
        header += b"\x00"
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def rebuild_ike_frame(
    frame: RawFrame, raw: bytes, sk: object, inner: tuple[int, bytes]
) -> bytes | None:
    """The frame with the IKE message's SK payload replaced by its plaintext; None if not UDP."""
    sk_offset = getattr(sk, "offset", None)
    if sk_offset is None or getattr(sk, "payload_type", 0) not in (_SK_PAYLOAD, _SKF_PAYLOAD):
        return None
    try:
        version, ip_off = link_to_ip(frame.linktype, frame.data)
    except DecodeError:
        return None
    data = frame.data
    if version == 4:
        if len(data) < ip_off + 20 or data[ip_off + 9] != _IPPROTO_UDP:
            return None
        if int.from_bytes(data[ip_off + 6 : ip_off + 8], "big") & 0x3FFF:
            return None  # an IP fragment: the datagram spans frames
        ip_len = (data[ip_off] & 0x0F) * 4
    elif version == 6:
        if len(data) < ip_off + 40 or data[ip_off + 6] != _IPPROTO_UDP:
            return None
        ip_len = 40
    else:
        return None
    udp_off = ip_off + ip_len
    at = data.find(raw, udp_off + 8)
    if at < 0:
        return None
    first_inner, plain = inner
    # RFC 7296 section 3.14: the SK payload is last; whoever pointed at it (the header's Next
    # Payload at octet 16, or the previous payload's generic header) now points at the first
    # inner payload.
    ike = bytearray(raw[:sk_offset])
    pointer = 16 if sk_offset == 28 else _previous_payload(ike, sk_offset)
    if pointer is None:
        return None
    ike[pointer] = first_inner
    ike += plain
    struct.pack_into("!I", ike, 24, len(ike))  # RFC 7296 section 3.1: Length of the message
    udp_payload = data[udp_off + 8 : at] + bytes(ike)  # keeps a non-ESP marker (RFC 3948)
    udp_len = 8 + len(udp_payload)
    ip = bytearray(data[ip_off:udp_off])
    src, dst = (ip[12:16], ip[16:20]) if version == 4 else (ip[8:24], ip[24:40])
    if version == 4:
        struct.pack_into("!H", ip, 2, ip_len + udp_len)
        ip[10:12] = b"\x00\x00"
        ip[10:12] = _ip_checksum(bytes(ip)).to_bytes(2, "big")
        pseudo = bytes(src + dst) + struct.pack("!BBH", 0, _IPPROTO_UDP, udp_len)
    else:
        struct.pack_into("!H", ip, 4, udp_len)
        pseudo = bytes(src + dst) + struct.pack("!I3xB", udp_len, _IPPROTO_UDP)
    udp = bytearray(data[udp_off : udp_off + 8])
    struct.pack_into("!HH", udp, 4, udp_len, 0)
    # RFC 768 / RFC 8200 section 8.1: checksum over pseudo-header, header and data; 0 -> FFFF.
    checksum = _ip_checksum(pseudo + bytes(udp) + udp_payload) or 0xFFFF
    struct.pack_into("!H", udp, 6, checksum)
    return data[:ip_off] + bytes(ip) + bytes(udp) + udp_payload


def _previous_payload(ike: bytearray, sk_offset: int) -> int | None:
    # RFC 7296 section 3.2: walk the generic payload headers from the first payload on.
    pos = 28
    while pos + 4 <= sk_offset:
        length = int.from_bytes(ike[pos + 2 : pos + 4], "big")
        if length < 4:
            return None
        if pos + length == sk_offset:
            return pos
        pos += length
    return None


def _default_correlator(decryptor: KeyringDecryptor) -> _Feed | None:
    """The pipeline's correlator, registering SAs with ``decryptor``."""
    return Correlator(decryptor)


def write_decrypted(
    capture: str | os.PathLike[str],
    keyring: KeyRing,
    output: str | os.PathLike[str],
    *,
    extra_ports: Iterable[int] = (),
    decryptor: KeyringDecryptor | None = None,
    correlator: Callable[[KeyringDecryptor], _Feed | None] = _default_correlator,
    fast: bool = True,
) -> DecryptStats:
    """Write ``output``: ``capture`` with every decryptable ESP packet replaced (see module doc).

    ``decryptor`` lets a caller pass one that already knows the SAs; ``correlator`` builds what
    turns IKE records into SA registrations (by default the pipeline's correlator).
    Without either, a capture file takes the batch path of ``ikeview.fastdecrypt``
    (same output, byte for byte) unless ``fast`` is False or ``IKEVIEW_NO_FAST`` is set.
    """
    own = decryptor is None and correlator is _default_correlator
    done = _write_fast(capture, keyring, output, extra_ports, fast and own)
    if done is not None:
        return done
    dec = decryptor if decryptor is not None else KeyringDecryptor(keyring, keep_plaintext=True)
    return _write_records(capture, dec, correlator(dec), output, extra_ports)


def _write_records(
    capture: str | os.PathLike[str],
    dec: KeyringDecryptor,
    feed: _Feed | None,
    output: str | os.PathLike[str],
    extra_ports: Iterable[int],
) -> DecryptStats:
    """``write_decrypted`` on the record path: every frame read, dissected and written."""
    stats = DecryptStats()
    replacements: dict[int, bytes] = {}
    # open_output: a temporary file beside ``output``, renamed over it only once complete; it
    # refuses to write over the capture itself.
    with CaptureReader(capture) as reader, open_output(output, "wb", inputs=[capture]) as out:
        writer: list[PcapWriter] = []
        pending: list[RawFrame] = []
        frames_by_index: dict[int, RawFrame] = {}

        def flush() -> None:
            for frame in pending:
                if not writer:
                    writer.append(PcapWriter(out, frame.linktype))
                if frame.linktype != writer[0].linktype:
                    stats.other_linktype += 1
                    continue
                new = replacements.pop(frame.index, None)
                if new is None:
                    writer[0].write(frame.ts, frame.data, frame.orig_len)
                else:
                    writer[0].write(frame.ts, new)
                stats.written += 1
            pending.clear()

        def frames() -> Iterator[RawFrame]:
            for frame in reader:
                flush()
                frames_by_index.clear()
                frames_by_index[frame.index] = frame
                pending.append(frame)
                stats.frames += 1
                yield frame

        # With the reader, a damaged file ends with a FrameError saying where reading stopped.
        for rec in Dissector(extra_ports=extra_ports).run(frames(), reader):
            if isinstance(rec, EspPacket):
                handle_esp(rec, dec, frames_by_index, replacements, stats)
            elif isinstance(rec, FrameError):
                stats.frame_error(rec)
                if feed is not None:
                    feed.feed(rec)
            elif isinstance(rec, IkeDatagram) and feed is not None:
                feed.feed(rec)
                handle_ike(rec, dec, frames_by_index, replacements, stats)
        flush()
        if not writer:
            PcapWriter(out, _LINKTYPE_ETHERNET)
    return stats


def _write_fast(
    capture: str | os.PathLike[str],
    keyring: KeyRing,
    output: str | os.PathLike[str],
    extra_ports: Iterable[int],
    fast: bool,
) -> DecryptStats | None:
    """The batch path's result, or None when it is switched off or declines the capture."""
    if not fast_allowed(fast):
        return None
    from ikeview.fastdecrypt import write_decrypted_fast

    return write_decrypted_fast(capture, keyring, output, extra_ports=extra_ports)


def handle_esp(
    rec: EspPacket,
    dec: KeyringDecryptor,
    frames: dict[int, RawFrame],
    replacements: dict[int, bytes],
    stats: DecryptStats,
) -> None:
    """Decrypt one ESP packet; put its rebuilt frame in ``replacements`` and count it in
    ``stats`` (shared with the batch and multi-process writers)."""
    stats.esp += 1
    opened = dec.esp(rec)
    if not opened.decrypted:
        if opened.problem and opened.problem.startswith("no keys for ESP SPI"):
            stats.no_keys += 1
        else:
            stats.failed += 1
        stats.note(opened.problem)
        return
    opened = _open_nested(dec, rec, opened, stats)
    frame = frames.get(rec.flow.frame)
    new = None if frame is None else rebuild_frame(frame, rec, opened)
    if new is None:
        # Decrypted, but the frame could not be rebuilt (reassembled from IP fragments, a dummy
        # packet, an unusual link type): the original frame is kept.
        return
    replacements[rec.flow.frame] = new
    stats.replaced += 1


def handle_ike(
    rec: IkeDatagram,
    dec: KeyringDecryptor,
    frames: dict[int, RawFrame],
    replacements: dict[int, bytes],
    stats: DecryptStats,
) -> None:
    """Put the frame of one IKE message the decryptor opened, rebuilt with its plaintext, in
    ``replacements`` (UDP only)."""
    msg = rec.message
    inner = dec.take_plaintext(msg.raw)
    frame = frames.get(rec.flow.frame)
    if inner is None or frame is None or msg.sk is None or rec.flow.transport != "udp":
        return
    new = rebuild_ike_frame(frame, msg.raw, msg.sk, inner)
    if new is not None:
        replacements[rec.flow.frame] = new
        stats.ike_replaced += 1


_MAX_NESTING = 4


def _open_nested(
    dec: KeyringDecryptor, outer: EspPacket, opened: EspOpened, stats: DecryptStats
) -> EspOpened:
    """Decrypt ESP carried inside a decrypted tunnel-mode packet (ESP in ESP), while keys last.

    The result stands for the outer packet: the innermost content and its protocol.
    """
    for _ in range(_MAX_NESTING):
        ip = opened.inner
        if ip is None or opened.next_header not in (_IPPROTO_IPV4, _IPPROTO_IPV6) or len(ip) < 20:
            return opened
        version = ip[0] >> 4
        if version == 4:
            start, proto, addr = (ip[0] & 0x0F) * 4, ip[9], (ip[12:16], ip[16:20])
        elif version == 6 and len(ip) >= 40:
            start, proto, addr = 40, ip[6], (ip[8:24], ip[24:40])
        else:
            return opened
        if proto != _IPPROTO_ESP or len(ip) < start + 8:
            return opened
        data = ip[start:]
        flow = replace(
            outer.flow, ip_version=version, src=_addr(addr[0]), dst=_addr(addr[1]),
            transport="ip", sport=0, dport=0,
        )  # fmt: skip
        nested = dec.esp(esp_packet(flow, data, len(data), False))
        if not nested.decrypted or nested.inner is None or nested.next_header is None:
            stats.note(nested.problem)
            return opened
        if nested.next_header in (_IPPROTO_IPV4, _IPPROTO_IPV6):
            opened = nested
            continue
        # Transport mode inside the tunnel: the tunnel's IP header now carries the payload.
        header = _transport_header(ip, 0, version, nested.next_header, len(nested.inner))
        if header is None:
            return opened
        nh = _IPPROTO_IPV4 if version == 4 else _IPPROTO_IPV6
        return EspOpened(True, nested.integrity, nh, header + nested.inner, None)
    return opened


def _addr(raw: bytes) -> str:
    return str(ipaddress.ip_address(bytes(raw)))
