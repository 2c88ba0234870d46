"""Records the capture dissector yields: one per IKE datagram, ESP packet, keepalive or bad frame.

Every record is frozen; the ``Flow`` says where a message was seen (frame, time, addresses, ports).
``Record`` is the union the stream dissector (:func:`ikeview.dissectors.stream.dissect`) yields.
``RawFrame`` is what the capture reader yields before any dissection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ikeview.dissectors.errors import CAPTURE_DAMAGED, DecodeProblem

if TYPE_CHECKING:
    from ikeview.dissectors.ike_records import IkeMessage


class RawFrame(NamedTuple):
    """One captured frame as read from a pcap/pcapng file, not yet dissected.

    A NamedTuple rather than a dataclass because the reader makes one per frame on the hot path
    (a tuple is built several times faster than a frozen dataclass) and it is just as immutable.
    """

    # "index" is the name every reader and view uses for the frame number.
    index: int  # type: ignore[assignment]  # shadows tuple.index(), which nothing calls here
    """1-based frame number, counted the way tshark counts (every packet block of the file)."""
    ts: float
    """Capture time in seconds since the epoch (0.0 when the block carries no time, e.g. SPB)."""
    linktype: int
    """LINKTYPE_* number of the interface the frame was captured on (1 = Ethernet)."""
    data: bytes
    """The captured bytes (possibly fewer than ``orig_len`` when the snap length cut them)."""
    orig_len: int
    """Length of the frame on the wire."""


@dataclass(frozen=True, slots=True)
class Flow:
    """Where and when a datagram was seen."""

    frame: int
    """1-based frame number, as tshark counts; for reassembled data the frame that completed it."""
    ts: float
    """Seconds since the epoch."""
    ip_version: int
    """4 or 6."""
    src: str
    """Source IP address in text form."""
    dst: str
    """Destination IP address in text form."""
    transport: str
    """"udp", "tcp" or "ip" (ESP directly over IP protocol 50)."""
    sport: int
    """Source port; 0 when there are no ports."""
    dport: int
    """Destination port; 0 when there are no ports."""


@dataclass(frozen=True, slots=True)
class IkeDatagram:
    """One IKE message (IKEv2, or IKEv1 labelled by the IKE parser); its bytes are message.raw."""

    flow: Flow
    """Where the message was seen."""
    message: IkeMessage
    """The parsed message (``message.error`` is set when its bytes were bad)."""


@dataclass(frozen=True, slots=True)
class EspPacket:
    """One ESP packet (RFC 4303), over IP protocol 50, in UDP (RFC 3948) or in TCP (RFC 9329)."""

    flow: Flow
    """Where the packet was seen."""
    spi: int
    """Security Parameters Index."""
    seq: int
    """Sequence number (low 32 bits); 0 when the capture cut the header short (see error)."""
    length: int
    """Length of the ESP packet on the wire (SPI to ICV), from the IP/UDP/TCP framing."""
    data: bytes
    """The captured ESP bytes from the SPI on, kept for the decryptor (may be < length)."""
    udp_encap: bool
    """True when carried in UDP (or TCP) encapsulation rather than directly over IP."""
    error: DecodeProblem | None = None
    """Set when the ESP header itself was cut short by the capture; offset within the ESP bytes."""


@dataclass(frozen=True, slots=True)
class NatKeepalive:
    """A NAT-keepalive: a UDP datagram holding the single byte 0xFF (RFC 3948 section 2.3)."""

    flow: Flow
    """Where the keepalive was seen."""


@dataclass(frozen=True, slots=True)
class FrameError:
    """A frame that could not be decoded far enough to tell whether it carries IKE or ESP."""

    frame: int
    """1-based frame number (for a damaged file: the number the next frame would have had)."""
    ts: float
    """Capture time of the frame (or of the last good frame)."""
    offset: int
    """Byte offset where decoding stopped: within the frame; within the reassembled payload
    for a reassembled IP datagram; within the (uncompressed) file for a damaged file."""
    reason: str
    """Human-readable cause, e.g. "unsupported link type 105 (IEEE802_11)"."""

    @property
    def ends_damaged_file(self) -> bool:
        """Whether this is a damaged file's last word (``Dissector.finish``): where reading
        stopped, which every view says however many frame errors came before it."""
        return self.reason.startswith(CAPTURE_DAMAGED)


Record = IkeDatagram | EspPacket | NatKeepalive | FrameError
"""Everything :func:`ikeview.dissectors.stream.dissect` yields."""
