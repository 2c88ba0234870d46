"""UDP and TCP transport of IKE and ESP: which bytes are IKE, which are ESP, which keepalives.

- UDP 500 carries IKE directly (RFC 7296 section 2).
- UDP 4500 (and any extra port the user names) is RFC 3948 UDP encapsulation: a 4-byte zero
  Non-ESP Marker means IKE follows, a lone 0xFF byte is a NAT-keepalive, anything else is ESP.
- TCP (RFC 9329, formerly RFC 8229): the initiator opens the stream with "IKETCP", then both
  directions carry 2-byte length-framed messages, IKE after a Non-ESP Marker or else ESP.
  :class:`TcpStreams` puts segments back in order per direction, with bounded memory.
"""

from __future__ import annotations

import struct
from collections.abc import Hashable
from dataclasses import dataclass, field

IKE_PORT = 500
NAT_T_PORT = 4500

# RFC 3948 section 2.2: Non-ESP Marker, 4 zero octets in place of an SPI (SPI 0 is reserved).
NON_ESP_MARKER = b"\0\0\0\0"
# RFC 3948 section 2.3: NAT-Keepalive Packet, one octet 0xFF.
NAT_KEEPALIVE = b"\xff"

# RFC 768: Source Port(2) Destination Port(2) Length(2) Checksum(2)
UDP_HEADER = struct.Struct("!HHH")
UDP_HEADER_LEN = 8
# RFC 9293 section 3.1: Source Port(2) Destination Port(2) Sequence(4) Acknowledgment(4)
# Data Offset/Reserved(1) Flags(1) Window(2) Checksum(2) Urgent Pointer(2) [options]
TCP_HEADER = struct.Struct("!HHIxxxxBB")
TCP_HEADER_LEN = 20
TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04

# RFC 9329 section 3: the stream prefix "IKETCP", then frames of Length(2, counting itself)
# followed by a Non-ESP Marker and an IKE message, or by an ESP packet.
IKETCP_PREFIX = b"IKETCP"
_FRAME_LEN = struct.Struct("!H")

KIND_IKE = 1
KIND_ESP = 2
KIND_KEEPALIVE = 3


def classify_encap(payload: bytes, wire_len: int, bare_ike_ok: bool = False) -> tuple[int, int]:
    """Classify a UDP-encapsulation payload (RFC 3948); returns (kind, offset of the message).

    ``wire_len`` is the payload length on the wire (the capture may hold less). With
    ``bare_ike_ok`` (user-named extra ports) a payload without the marker that looks exactly
    like an IKE header whose length matches the datagram is taken as IKE too.
    """
    if wire_len == 1 and payload == NAT_KEEPALIVE:
        return KIND_KEEPALIVE, 0
    if len(payload) >= 4 and payload[:4] == NON_ESP_MARKER:
        return KIND_IKE, 4
    if bare_ike_ok and looks_like_ike(payload, wire_len):
        return KIND_IKE, 0
    return KIND_ESP, 0


def looks_like_ike(payload: bytes, wire_len: int) -> bool:
    """True for an RFC 7296 section 3.1 header: Version 1.0 or 2.0 at octet 17 and a Length
    field (octets 24-27) equal to the datagram's length."""
    return (
        len(payload) >= 28
        and payload[17] in (0x10, 0x20)
        and int.from_bytes(payload[24:28], "big") == wire_len
    )


_STATE_PREFIX = 0  # waiting for the first bytes to decide
_STATE_FRAMES = 1  # IKETCP confirmed: cutting length frames
_STATE_IGNORED = 2  # not IKE over TCP


@dataclass(slots=True)
class _Stream:
    """One direction of one TCP connection."""

    next_seq: int
    state: int = _STATE_PREFIX
    client: bool = False  # this direction sent the IKETCP prefix
    buf: bytearray = field(default_factory=bytearray)
    ahead: dict[int, bytes] = field(default_factory=dict)  # out-of-order segments by seq
    held: int = 0  # bytes in buf and ahead, as last counted


@dataclass(frozen=True, slots=True)
class TcpMessage:
    """One message cut out of an IKE-over-TCP stream."""

    kind: int
    """KIND_IKE or KIND_ESP."""
    data: bytes
    """IKE message (marker removed) or ESP packet (SPI first)."""


class TcpStreams:
    """Per-direction in-order TCP reassembly for RFC 9329 streams, with bounded memory.

    Streams that do not start with "IKETCP" (and are not the answer direction of one that
    did) are marked ignored after their first bytes and cost nothing more. At most
    ``max_streams`` directions are tracked (oldest dropped), each holding at most
    ``max_ahead`` out-of-order segments and ``max_buffer`` bytes (unfinished frame and held
    segments together); all directions together hold at most ``max_total`` bytes, the direction
    that would pass it is given up.
    """

    def __init__(
        self,
        *,
        max_streams: int = 1024,
        max_ahead: int = 64,
        max_buffer: int = 1 << 17,
        max_total: int = 32 << 20,
    ) -> None:
        self.max_streams = max_streams
        self.max_ahead = max_ahead
        self.max_buffer = max_buffer
        self.max_total = max_total
        self._total = 0
        self.dropped = 0
        """Streams given up: evicted for room, too many gaps, or a bad frame length."""
        self._streams: dict[Hashable, _Stream] = {}

    def __len__(self) -> int:
        return len(self._streams)

    def add(
        self, key: Hashable, reverse: Hashable, seq: int, flags: int, payload: bytes
    ) -> list[TcpMessage] | None:
        """Feed one segment of direction ``key`` (``reverse`` is the other direction's key).

        Returns the messages this segment completed (maybe none yet), or None when the
        direction is not (or no longer) IKE over TCP.
        """
        streams = self._streams
        st = streams.get(key)
        if st is None:
            if not payload and not flags & TCP_SYN:
                return None
            while len(streams) >= self.max_streams:
                # Evicting a direction already found not to be IKE over TCP gives up nothing.
                old = streams.pop(next(iter(streams)))
                self._total -= old.held
                if old.state != _STATE_IGNORED:
                    self.dropped += 1
            st = streams[key] = _Stream((seq + 1) & 0xFFFFFFFF if flags & TCP_SYN else seq)
        out: list[TcpMessage] = []
        if st.state != _STATE_IGNORED and payload:
            self._segment(st, seq, payload)
            bad_frame = self._consume(st, streams.get(reverse), out)
            held = len(st.buf) + sum(len(seg) for seg in st.ahead.values())
            self._total += held - st.held
            st.held = held
            # Bounded before the prefix is seen too: a stream whose first data segment was
            # not captured would otherwise hold every later segment in ``ahead``.
            if bad_frame or (
                st.state != _STATE_IGNORED
                and (
                    held > self.max_buffer
                    or len(st.ahead) > self.max_ahead
                    or self._total > self.max_total
                )
            ):
                st.state = _STATE_IGNORED
                self.dropped += 1
        ignored = st.state == _STATE_IGNORED
        if ignored:
            st.buf.clear()
            st.ahead.clear()
            self._total -= st.held
            st.held = 0
        if flags & (TCP_FIN | TCP_RST) and streams.pop(key, None) is not None:
            self._total -= st.held
            st.held = 0
        return None if ignored and not out else out

    @staticmethod
    def _segment(st: _Stream, seq: int, payload: bytes) -> None:
        """Put the segment's bytes in order (sequence numbers wrap at 2**32)."""
        diff = (seq - st.next_seq) & 0xFFFFFFFF
        if diff and diff < 0x80000000:
            st.ahead.setdefault(seq, payload)  # a gap: hold it until the hole is filled
            return
        if diff:  # starts before next_seq: a retransmission, maybe with new bytes at the end
            skip = 0x100000000 - diff
            if skip >= len(payload):
                return
            payload = payload[skip:]
        st.buf += payload
        st.next_seq = (st.next_seq + len(payload)) & 0xFFFFFFFF
        while st.ahead:
            nxt = st.ahead.pop(st.next_seq, None)
            if nxt is None:
                # Drop held segments that are now entirely old; keep the rest for later.
                for s in [s for s in st.ahead if (s - st.next_seq) & 0xFFFFFFFF >= 0x80000000]:
                    seg = st.ahead.pop(s)
                    skip = (st.next_seq - s) & 0xFFFFFFFF
                    if skip < len(seg):
                        st.ahead[st.next_seq] = seg[skip:]
                if st.next_seq not in st.ahead:
                    return
                continue
            st.buf += nxt
            st.next_seq = (st.next_seq + len(nxt)) & 0xFFFFFFFF

    @staticmethod
    def _consume(st: _Stream, rev: _Stream | None, out: list[TcpMessage]) -> bool:
        """Cut the complete frames out of ``st.buf`` into ``out``; True when a frame length
        is impossible (the stream is then given up)."""
        buf = st.buf
        if st.state == _STATE_PREFIX:
            have = bytes(buf[:6])
            if have == IKETCP_PREFIX:
                del buf[:6]
                st.state = _STATE_FRAMES
                st.client = True
            elif IKETCP_PREFIX.startswith(have):
                return False  # the prefix may be split across segments: wait for more
            elif rev is not None and rev.client and rev.state == _STATE_FRAMES:
                st.state = _STATE_FRAMES  # the responder's direction carries no prefix
            else:
                st.state = _STATE_IGNORED  # not IKE over TCP: nothing given up
                return False
        while len(buf) >= 2:
            flen = _FRAME_LEN.unpack_from(buf)[0]
            if flen < 3:
                return True
            if len(buf) < flen:
                return False
            msg = bytes(buf[2:flen])
            del buf[:flen]
            if msg[:4] == NON_ESP_MARKER:
                out.append(TcpMessage(KIND_IKE, msg[4:]))
            else:
                out.append(TcpMessage(KIND_ESP, msg))
        return False
