"""A crafted Delete payload must cost memory by the bytes that carry it (issue: hostile input 1).

SPI Size 0 with Num of SPIs 65535, 8,000 times in one 65 KB datagram, made `report` and `summary`
take gigabytes. The bound: the record holds only SPIs that occupy bytes.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from ikeview.dissectors.ike_records import DeletePayload
from ikeview.dissectors.ikev2 import MAX_ITEMS, parse_message

N_DELETES = 8000


def _crafted_message() -> bytes:
    payloads = b"".join(
        struct.pack("!BBHBBH", 42 if i < N_DELETES - 1 else 0, 0, 8, 1, 0, 65535)
        for i in range(N_DELETES)
    )
    header = b"\x11" * 8 + b"\x22" * 8 + struct.pack("!BBBBII", 42, 0x20, 37, 0x08, 0, 28)
    return header[:-4] + struct.pack("!I", 28 + len(payloads)) + payloads


def _pcap(message: bytes, copies: int) -> bytes:
    udp = struct.pack("!HHHH", 500, 500, 8 + len(message), 0) + message
    ip = (
        struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, b"\n\0\0\1", b"\n\0\0\2"
        )
        + udp
    )
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)  # raw IPv4
    record = struct.pack("<IIII", 1, 0, len(ip), len(ip)) + ip
    return head + record * copies


def test_zero_size_spis_hold_no_entries() -> None:
    msg = parse_message(_crafted_message())
    deletes = [p for p in msg.payloads if isinstance(p, DeletePayload)]
    # The chain itself is bounded too (MAX_ITEMS records per message): the rest is marked.
    assert len(deletes) == min(N_DELETES, MAX_ITEMS)
    assert msg.error is not None and f"more than {MAX_ITEMS}" in msg.error.reason
    assert all(d.spis == () and d.spi_size == 0 for d in deletes)


def test_commands_stay_small_on_crafted_deletes(tmp_path: Path) -> None:
    capture = tmp_path / "deletes.pcap"
    capture.write_bytes(_pcap(_crafted_message(), 3))
    for command in ("summary", "report"):
        # A fresh parent per command, so RUSAGE_CHILDREN's peak is this command's alone.
        probe = (
            "import resource, subprocess, sys\n"
            f"r = subprocess.run([sys.executable, '-m', 'ikeview', '{command}', sys.argv[1]],"
            " capture_output=True)\n"
            "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe, str(capture)], capture_output=True, text=True, timeout=60
        )
        code, peak_kb = map(int, done.stdout.split())
        assert code == 0, done.stderr
        assert peak_kb < 300 * 1024, (command, peak_kb)
