"""Live frames from a network interface, as the same RawFrame records a capture file gives.

A Linux packet socket (AF_PACKET) bound to the interface; scapy only compiles the BPF filter text
and attaches it, no scapy packet object is built per frame. Times are the kernel's receive
stamps. Everything captured can be written to a pcap at the same time, one record per write and
flushed per frame, so the file is complete and readable whenever the process stops.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ikeview.dissectors.records import RawFrame
from ikeview.errors import ExitCode, IkeviewError
from ikeview.outfile import replacing
from ikeview.pcapfile import SNAPLEN, PcapWriter

_ARPHRD_LOOPBACK = 772  # linux/if_arp.h

# ARPHRD_* (linux/if_arp.h) -> LINKTYPE_* of what a packet socket delivers on that interface.
_ARPHRD_TO_LINKTYPE = {
    1: 1,  # Ethernet
    _ARPHRD_LOOPBACK: 1,  # loopback: Linux gives it an all-zero Ethernet header
    65534: 101,  # ARPHRD_NONE (tun, e.g. strongSwan's ipsec0): raw IP
    776: 101,  # sit
    768: 101,  # ipip
    823: 101,  # ip6gre tunnel
}


class LivePermissionError(IkeviewError):
    """This process may not open a packet socket (exit code 3)."""

    exit_code = ExitCode.PERMISSION


class LiveCaptureLost(IkeviewError):
    """The interface went away (or failed) while capturing; what came before is still good."""


@dataclass(frozen=True, slots=True)
class LiveOptions:
    """What to capture and when to stop."""

    interface: str
    extra_ports: tuple[int, ...] = ()
    count: int = 0
    """Stop after this many frames (0: no limit)."""
    timeout: float = 0.0
    """Stop after this many seconds (0: no limit)."""


def bpf_filter(extra_ports: Iterable[int] = ()) -> str:
    """IKE (UDP/TCP 500, 4500 and the extra ports), ESP, and every IP fragment (IKE_AUTH with
    certificates arrives fragmented and only the first fragment carries the UDP ports)."""
    ports = sorted({500, 4500, *extra_ports})
    port_expr = " or ".join(f"port {p}" for p in ports)
    base = f"((udp or tcp) and ({port_expr})) or esp or (ip[6:2] & 0x3fff != 0) or ip6[6] == 44"
    return f"{base} or (vlan and ({base}))"


def _interface_type(name: str) -> int:
    """The ARPHRD_* type of interface ``name`` or an IkeviewError naming the problem."""
    sysdir = Path("/sys/class/net")
    if not (sysdir / name).exists():
        have = sorted(p.name for p in sysdir.iterdir()) if sysdir.is_dir() else []
        raise IkeviewError(
            f"no network interface named {name!r}"
            + (f" (this machine has: {', '.join(have)})" if have else "")
        )
    try:
        return int((sysdir / name / "type").read_text())
    except (OSError, ValueError):
        return 1


def check_interface(name: str) -> int:
    """Return the LINKTYPE of interface ``name`` or raise an IkeviewError naming the problem."""
    return _ARPHRD_TO_LINKTYPE.get(_interface_type(name), 1)


def interface_is_up(name: str) -> bool:
    """IFF_UP (linux/if.h) of the interface; a down interface captures nothing."""
    try:
        return bool(int(Path(f"/sys/class/net/{name}/flags").read_text(), 16) & 0x1)
    except (OSError, ValueError):
        return True


def _has_net_raw() -> bool | None:
    """CAP_NET_RAW (bit 13) in the effective set, or None when /proc does not say."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 13))
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_privileges(interface: str) -> None:
    # The capability, not the uid, decides: root in a container or under setpriv may lack it.
    has = _has_net_raw()
    if has or (has is None and os.geteuid() == 0):
        return
    if os.geteuid() == 0:
        raise LivePermissionError(
            f"capturing on {interface} needs CAP_NET_RAW, which this root process lacks "
            "(a container or a capability bounding set without it)"
        )
    raise LivePermissionError(
        f"capturing on {interface} needs root or CAP_NET_RAW "
        "(run with sudo, or: sudo setcap cap_net_raw+ep $(readlink -f $(which python3)))"
    )


_ETH_P_ALL = 0x0003  # every protocol (linux/if_ether.h); the BPF filter narrows it down
_SO_TIMESTAMPNS = 35  # also SCM_TIMESTAMPNS (asm-generic/socket.h)
_SO_RCVBUFFORCE = 33  # asm-generic/socket.h: like SO_RCVBUF, past rmem_max (CAP_NET_ADMIN)
_SOL_PACKET = 263  # linux/socket.h
_PACKET_STATISTICS = 6  # linux/if_packet.h: struct tpacket_stats {tp_packets, tp_drops}
_TPACKET_STATS = struct.Struct("=II")
RCVBUF = 256 << 20
"""Receive buffer asked for (the kernel doubles it for its bookkeeping and charges only what
is queued): a burst of 200,000 IKE/ESP frames at line rate waits there while Python catches
up. Without CAP_NET_ADMIN the kernel caps it at net.core.rmem_max."""
_DRAIN = 512
"""Frames read per wake-up before looking at the clock and the stop flag again."""


@dataclass(slots=True)
class LiveCounters:
    """What the kernel says about a live capture, as tcpdump prints it at the end.

    Mutable on purpose: a running tally the capture loop fills in (the kernel resets its own
    counters on each read, so they are summed here).
    """

    received: int = 0
    """Frames that matched the filter (tp_packets: the dropped ones included)."""
    dropped: int = 0
    """Frames the kernel dropped because the socket buffer was full (tp_drops)."""
    rcvbuf: int = 0
    """Socket receive buffer the kernel granted, in bytes."""
    taken: int = 0
    """Frames read from the socket (what ``received`` counts, less drops, once read)."""

    @property
    def unread(self) -> int:
        """Frames the kernel had queued when the capture stopped (--count, --timeout, Ctrl-C),
        never read: counted by the kernel as received, neither dropped nor kept."""
        return max(0, self.received - self.dropped - self.taken)

    def text(self) -> str:
        """tcpdump's wording: "N packets received by filter, D packets dropped by kernel"."""
        return f"{self.received} packets received by filter, {self.dropped} dropped by kernel"

    def read(self, sock: socket.socket) -> None:
        """Add the kernel's counters since the last read (PACKET_STATISTICS resets them)."""
        try:
            raw = sock.getsockopt(_SOL_PACKET, _PACKET_STATISTICS, _TPACKET_STATS.size)
        except OSError:
            return
        packets, drops = _TPACKET_STATS.unpack(raw)
        self.received += packets
        self.dropped += drops


_US = 1e-6  # the same scale the pcap reader applies, so a live frame and its saved copy agree


def _kernel_time(ancdata: list[tuple[int, int, bytes]]) -> tuple[int, int]:
    """(seconds, microseconds) of the kernel receive time stamp (struct timespec).

    Cut to microseconds because that is what the pcap file keeps: the report of a live run and
    the report of its --write file then carry the very same times.
    """
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("=qq", data[:16])
            return sec, nsec // 1000
    now = time.time_ns() // 1000
    return now // 1_000_000, now % 1_000_000


def _open_socket(options: LiveOptions) -> socket.socket:
    """A Linux packet socket on the interface with the BPF filter attached in the kernel."""
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
    except PermissionError:
        raise LivePermissionError(
            f"capturing on {options.interface} needs root or CAP_NET_RAW"
        ) from None
    try:
        _grow_buffer(sock)
        sock.bind((options.interface, _ETH_P_ALL))
        # Kernel receive timestamps (ns): the RTTs we report must not include our own latency.
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        _attach_filter(sock, bpf_filter(options.extra_ports), options.interface)
    except OSError as exc:
        sock.close()
        raise IkeviewError(f"cannot capture on {options.interface}: {exc}") from None
    except BaseException:
        sock.close()
        raise
    return sock


def _grow_buffer(sock: socket.socket) -> None:
    """Ask for RCVBUF bytes: forced when allowed, else as much as rmem_max lets us have."""
    for option in (_SO_RCVBUFFORCE, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, option, RCVBUF)
            return
        except OSError:
            continue


def _attach_filter(sock: socket.socket, text: str, interface: str) -> None:
    """scapy compiles the filter text into BPF (through libpcap or tcpdump) and attaches it."""
    import logging

    # scapy's import logs routing warnings (e.g. "No IPv4 address found") to stderr, which
    # would break "one line on stderr" for the user; only errors are worth showing.
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.arch.linux import attach_filter
    from scapy.error import Scapy_Exception

    try:
        attach_filter(sock, text, interface)
    except Scapy_Exception as exc:
        raise IkeviewError(f"cannot compile the capture filter for {interface}: {exc}") from None


def live_frames(
    options: LiveOptions,
    write: Path | None = None,
    on_ready: Callable[[], None] | None = None,
    stop: Callable[[], bool] | None = None,
    counters: LiveCounters | None = None,
    on_drops: Callable[[LiveCounters], None] | None = None,
) -> Iterator[RawFrame]:
    """Yield frames from the interface until count/timeout is reached, ``stop()`` turns true, or
    the consumer stops.

    ``stop`` is polled between frames and at least every 0.2 s, so a signal handler that only
    sets a flag ends the capture at a frame boundary: the pcap file is then never cut inside a
    record. The socket and the writer are also closed in ``finally`` for any other way out.
    ``write`` is filled through a temporary file beside it that takes its name when the capture
    ends, however it ends (see ikeview.outfile). ``counters`` gets the kernel's received and
    dropped counts (read every second); ``on_drops`` is called when the dropped count grew.
    Raises LiveCaptureLost if the interface fails while capturing.
    """
    arphrd = _interface_type(options.interface)
    linktype = _ARPHRD_TO_LINKTYPE.get(arphrd, 1)
    _check_privileges(options.interface)
    sock = _open_socket(options)
    tally = counters if counters is not None else LiveCounters()
    tally.rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    with contextlib.ExitStack() as stack:
        stack.callback(sock.close)
        writer = None
        if write:
            tmp = stack.enter_context(replacing(write, keep_partial=True))
            writer = PcapWriter(tmp.open("wb"), linktype, flush_each=True)
            stack.callback(writer.close)
        stack.callback(tally.read, sock)  # runs first: the socket is still open then
        if on_ready:
            on_ready()
        watch = _DropWatch(sock, tally, on_drops)
        yield from _capture(
            sock, options, arphrd == _ARPHRD_LOOPBACK, linktype, writer, stop, watch
        )


@dataclass(slots=True)
class _DropWatch:
    """Reads the kernel's counters once a second and says when drops grew."""

    sock: socket.socket
    tally: LiveCounters
    on_drops: Callable[[LiveCounters], None] | None
    next_read: float = 0.0

    def tick(self) -> None:
        now = time.monotonic()
        if now < self.next_read:
            return
        self.next_read = now + 1.0
        before = self.tally.dropped
        self.tally.read(self.sock)
        if self.tally.dropped > before and self.on_drops is not None:
            self.on_drops(self.tally)


def _capture(
    sock: socket.socket,
    options: LiveOptions,
    loopback: bool,
    linktype: int,
    writer: PcapWriter | None,
    stop: Callable[[], bool] | None,
    watch: _DropWatch,
) -> Iterator[RawFrame]:
    deadline = time.monotonic() + options.timeout if options.timeout else None
    index = 0
    tally = watch.tally
    while not (stop and stop()):
        watch.tick()
        wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
        ready, _, _ = select.select([sock], [], [], wait)
        # Drain what is queued (up to _DRAIN frames) per wake-up: one select per frame would
        # halve the rate at which a burst leaves the kernel buffer.
        for _ in range(_DRAIN if ready else 0):
            try:
                data, anc, _flags, addr = sock.recvmsg(SNAPLEN, 64, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError as exc:
                raise LiveCaptureLost(
                    f"capture on {options.interface} stopped: {exc.strerror or exc}"
                ) from None
            tally.taken += 1
            # On loopback every packet shows twice (sent, then received); libpcap drops the
            # outgoing copy there, and so do we, so a live run matches tcpdump's file.
            if data and not (loopback and addr[2] == socket.PACKET_OUTGOING):
                sec, usec = _kernel_time(anc)
                index += 1
                frame = RawFrame(index, sec + usec * _US, linktype, data, len(data))
                if writer:
                    writer.write_record(sec, usec, data, len(data))
                yield frame
                if options.count and index >= options.count:
                    return
            if stop and stop():
                return
        if deadline is not None and time.monotonic() >= deadline:
            return
