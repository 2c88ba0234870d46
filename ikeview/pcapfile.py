"""Writing classic pcap files (the reading side lives in the dissectors).

One writer serves ``ikeview decrypt`` (float times from the model) and ``ikeview live --write``
(exact kernel seconds and microseconds, flushed per frame so the file is complete whenever the
process stops).
"""

from __future__ import annotations

import struct
from typing import Protocol

# libpcap file format: global header, then a 16-byte header before each record.
_FILE_HEADER = struct.Struct("<IHHiIII")
_RECORD_HEADER = struct.Struct("<IIII")
stamped_ethernet = struct.Struct("<8sII14s").pack
"""``stamped_ethernet(stamp, n, n, link)``: a record header then an Ethernet header, the time
given as the 8 octets it packs to (seconds then microseconds, little-endian, under a second of
them), as a little-endian microsecond pcap's record header holds it. ``decrypt -o`` copies the
time and the link header from its input so (``fastdecrypt``): converting the float time back
as ``write_many`` does, and joining three parts a record rather than two, cost ~0.14 us a
record, more than a quarter of writing (bench/bench_write_floor.py)."""
Octets = bytes | bytearray
"""Part of a record: a slice of the capture being rewritten, or new bytes."""
_MAGIC_MICROSECONDS = 0xA1B2C3D4
MAGIC_BYTES = struct.pack("<I", _MAGIC_MICROSECONDS)
"""How a file this writer makes begins (a little-endian microsecond pcap)."""
_MAX_SECONDS = 0xFFFFFFFF
"""Last second a classic pcap record can hold (unsigned 32 bits)."""
WRITE_RUN = 128
"""Records joined into one buffer at most by ``write_many``: a join past glibc's mmap threshold
(128 KiB at first) is a fresh mapping each time, paid in page faults (as ``espbatch.JOIN``)."""
SNAPLEN = 262144
"""tcpdump -s 0: more than any frame (even a GRO-merged one) on Linux."""


class BinaryOut(Protocol):
    """What a PcapWriter writes to: an open binary file, or ``directout.DirectWriter``."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class PcapWriter:
    """A little-endian microsecond pcap on an open binary file."""

    def __init__(self, out: BinaryOut, linktype: int, *, flush_each: bool = False) -> None:
        self._out = out
        self.linktype = linktype
        self._flush = flush_each
        out.write(_FILE_HEADER.pack(_MAGIC_MICROSECONDS, 2, 4, 0, 0, SNAPLEN, linktype))
        if flush_each:
            out.flush()

    def write_record(self, sec: int, usec: int, data: bytes, orig_len: int | None = None) -> None:
        """One packet record at an exact time; ``orig_len`` defaults to the captured length."""
        n = len(data)
        # One write() call per record: a signal handled between Python bytecodes can then never
        # leave a record header without its data in the buffer.
        self._out.write(_RECORD_HEADER.pack(sec, usec, n, max(orig_len or n, n)) + data)
        if self._flush:
            self._out.flush()

    def write(self, ts: float, data: bytes, orig_len: int | None = None) -> None:
        """One packet record at ``ts`` seconds since the epoch (rounded to microseconds)."""
        sec, usec = divmod(max(round(ts * 1_000_000), 0), 1_000_000)
        if sec > _MAX_SECONDS:  # after 2106-02-07: the format's 32-bit seconds cannot say it
            sec, usec = _MAX_SECONDS, 999_999
        self.write_record(sec, usec, data, orig_len)

    def write_many(self, records: list[tuple[float, Octets, bytes]]) -> None:
        """``write(ts, head + data)`` for each (ts, head, data) in turn, one write() call per
        ``WRITE_RUN`` records (the batch path of ``ikeview decrypt`` writes hundreds of records
        at a time; taking the link header apart spares it a copy of every frame before the join
        copies it anyway)."""
        pack, parts = _RECORD_HEADER.pack, list[Octets]()
        add, write = parts.append, self._out.write
        for k in range(0, len(records), WRITE_RUN):
            for ts, head, data in records[k : k + WRITE_RUN]:
                # write()'s divmod(max(us, 0), ...) with the max() call as a test: ~70 ns a record.
                us = round(ts * 1_000_000)
                sec, usec = divmod(us, 1_000_000) if us > 0 else (0, 0)
                if sec > _MAX_SECONDS:
                    sec, usec = _MAX_SECONDS, 999_999
                n = len(head) + len(data)
                add(pack(sec, usec, n, n))
                add(head)
                add(data)
            write(b"".join(parts))
            parts.clear()
        if self._flush:
            self._out.flush()

    def write_made(self, parts: list[Octets]) -> None:
        """Records already made, each as its header (``stamped_ethernet``'s) then its data, up
        to ``WRITE_RUN`` records per write() call."""
        write, run = self._out.write, 2 * WRITE_RUN
        for k in range(0, len(parts), run):
            write(b"".join(parts[k : k + run]))
        if self._flush:
            self._out.flush()

    def close(self) -> None:
        """Close the underlying file."""
        self._out.close()
