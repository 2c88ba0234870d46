"""Live frames from a network interface, as the same RawFrame records a capture file gives.

scapy opens the socket and compiles the BPF filter; frames are taken with ``recv_raw`` so no scapy
packet object is built per frame. Everything captured can be written to a pcap at the same time,
flushed per frame, so the file is complete and readable whenever the process stops.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ikeview.dissectors.records import RawFrame
from ikeview.errors import ExitCode, IkeviewError

# ARPHRD_* (linux/if_arp.h) -> LINKTYPE_* of what a packet socket delivers on that interface.
_ARPHRD_TO_LINKTYPE = {
    1: 1,  # Ethernet
    772: 1,  # loopback: Linux gives it an all-zero Ethernet header
    65534: 101,  # ARPHRD_NONE (tun, e.g. strongSwan's ipsec0): raw IP
    776: 101,  # sit
    768: 101,  # ipip
    823: 101,  # ip6gre tunnel
}


class LivePermissionError(IkeviewError):
    exit_code = ExitCode.PERMISSION


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


def check_interface(name: str) -> int:
    """Return the LINKTYPE of interface ``name`` or raise an IkeviewError naming the problem."""
    sysdir = Path("/sys/class/net")
    if not (sysdir / name).exists():
        have = sorted(p.name for p in sysdir.iterdir()) if sysdir.is_dir() else []
        raise IkeviewError(
            f"no network interface named {name!r}"
            + (f" (this machine has: {', '.join(have)})" if have else "")
        )
    try:
        arphrd = int((sysdir / name / "type").read_text())
    except (OSError, ValueError):
        arphrd = 1
    return _ARPHRD_TO_LINKTYPE.get(arphrd, 1)


def _check_privileges(interface: str) -> None:
    if os.geteuid() == 0:
        return
    # CAP_NET_RAW is bit 13 of the effective capability set.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:") and int(line.split()[1], 16) & (1 << 13):
                return
    except OSError:
        pass
    raise LivePermissionError(
        f"capturing on {interface} needs root or CAP_NET_RAW "
        "(run with sudo, or: sudo setcap cap_net_raw+ep $(readlink -f $(which python3)))"
    )


class PcapWriter:
    """A classic little-endian microsecond pcap, flushed after each frame."""

    def __init__(self, path: Path, linktype: int) -> None:
        self._f: BinaryIO = path.open("wb")
        self._f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        self._f.flush()

    def write(self, frame: RawFrame) -> None:
        sec = int(frame.ts)
        usec = round((frame.ts - sec) * 1_000_000)
        if usec == 1_000_000:
            sec, usec = sec + 1, 0
        self._f.write(struct.pack("<IIII", sec, usec, len(frame.data), frame.orig_len))
        self._f.write(frame.data)
        self._f.flush()

    def close(self) -> None:
        self._f.close()


_SO_TIMESTAMPNS = 35  # also SCM_TIMESTAMPNS (asm-generic/socket.h)


def _kernel_time(ancdata: list[tuple[int, int, bytes]]) -> float:
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("=qq", data[:16])
            return sec + nsec / 1e9
    return time.time()


def _open_socket(options: LiveOptions) -> socket.socket:
    """A Linux packet socket on the interface with the BPF filter attached in the kernel."""
    # scapy compiles the filter text into BPF (through libpcap or tcpdump) and attaches it.
    from scapy.arch.linux import attach_filter

    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    except PermissionError:
        raise LivePermissionError(
            f"capturing on {options.interface} needs root or CAP_NET_RAW"
        ) from None
    try:
        sock.bind((options.interface, 0x0003))
        # Kernel receive timestamps (ns): the RTTs we report must not include our own latency.
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        attach_filter(sock, bpf_filter(options.extra_ports), options.interface)
    except OSError as exc:
        sock.close()
        raise IkeviewError(f"cannot capture on {options.interface}: {exc}") from None
    return sock


def live_frames(
    options: LiveOptions, write: Path | None = None, on_ready: Callable[[], None] | None = None
) -> Iterator[RawFrame]:
    """Yield frames from the interface until count/timeout is reached or the consumer stops.

    The socket and the optional pcap writer are closed in ``finally``, so a KeyboardInterrupt or
    a SIGTERM turned into SystemExit leaves a complete file behind.
    """
    linktype = check_interface(options.interface)
    _check_privileges(options.interface)
    sock = _open_socket(options)
    loopback = Path(f"/sys/class/net/{options.interface}/type").read_text().strip() == "772"
    writer = PcapWriter(write, linktype) if write else None
    deadline = time.monotonic() + options.timeout if options.timeout else None
    if on_ready:
        on_ready()
    index = 0
    try:
        while True:
            wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
            ready, _, _ = select.select([sock], [], [], wait)
            if ready:
                data, anc, _flags, addr = sock.recvmsg(262144, 64)
                # On loopback every packet shows twice (sent, then received); libpcap drops the
                # outgoing copy there, and so do we, so a live run matches tcpdump's file.
                if data and not (loopback and addr[2] == socket.PACKET_OUTGOING):
                    ts = _kernel_time(anc)
                    index += 1
                    frame = RawFrame(index, ts, linktype, data, len(data))
                    if writer:
                        writer.write(frame)
                    yield frame
                    if options.count and index >= options.count:
                        return
            if deadline is not None and time.monotonic() >= deadline:
                return
    finally:
        sock.close()
        if writer:
            writer.close()
