"""dissect() on whole captures: the IKE and ESP frames found must be exactly tshark's, on every
real capture we have; damaged files end in a FrameError, never an exception."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from ikeview.dissectors.capture import CaptureError
from ikeview.dissectors.records import EspPacket, FrameError, IkeDatagram, NatKeepalive
from ikeview.dissectors.stream import DissectStats, dissect
from truncation_support import every_truncation

REPO = Path(__file__).resolve().parents[1]
SHARED_CAPTURES = REPO.parent / "shared" / "captures"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz")


def _captures() -> list[Path]:
    found = []
    for root in (SHARED_CAPTURES, REPO / "captures"):
        if root.is_dir():
            found += [p for p in sorted(root.rglob("*")) if p.name.endswith(CAPTURE_SUFFIXES)]
    return found


def _tshark_frames(path: Path) -> tuple[list[int], list[int]]:
    """Frame numbers tshark decodes as ISAKMP and as ESP (one run: -Y "isakmp || esp")."""
    fields = ["-T", "fields", "-e", "frame.number", "-e", "frame.protocols"]
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "isakmp || esp", *fields],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    ike, esp = [], []
    for line in out.splitlines():
        number, protocols = line.split("\t")
        layers = protocols.split(":")
        if "isakmp" in layers:
            ike.append(int(number))
        if "esp" in layers:
            esp.append(int(number))
    return ike, esp


def test_shared_captures_are_present(shared_dir: Path) -> None:
    names = {p.name for p in _captures()}
    assert {"isakmp4500.pcap", "esp_truncated.pcap", "ikev2-decrypt-aes256gcm16.pcap"} <= names


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("path", _captures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_ike_and_esp_frames_as_tshark(path: Path) -> None:
    stats = DissectStats()
    records = list(dissect(path, stats=stats))
    ike = [r.flow.frame for r in records if isinstance(r, IkeDatagram)]
    esp = [r.flow.frame for r in records if isinstance(r, EspPacket)]
    assert (ike, esp) == _tshark_frames(path)
    assert stats.ike == len(ike)
    assert stats.esp == len(esp)
    assert not stats.truncated
    for r in records:
        if isinstance(r, IkeDatagram):
            assert r.flow.transport == "udp"
            assert r.message.raw


def test_isakmp4500_markers_keepalives_and_esp(shared_dir: Path) -> None:
    """tcpdump's isakmp4500: Main Mode on 500, then 4500 with the Non-ESP Marker, ESP-in-UDP
    SPI 0xf4dc0ae5 and four NAT-keepalives (tshark: frames 18, 23, 28, 34)."""
    stats = DissectStats()
    records = list(dissect(shared_dir / "captures/tcpdump/isakmp4500.pcap", stats=stats))
    keep = [r.flow.frame for r in records if isinstance(r, NatKeepalive)]
    assert keep == [18, 23, 28, 34]
    esp = [r for r in records if isinstance(r, EspPacket)]
    assert {r.spi for r in esp} == {0xF4DC0AE5}
    assert all(r.udp_encap and r.flow.dport == 4500 for r in esp)
    ike4500 = [r for r in records if isinstance(r, IkeDatagram) and r.flow.dport == 4500]
    assert ike4500  # the marker was removed: the IKE header starts the message
    assert all(r.message.raw[:4] != b"\0\0\0\0" for r in ike4500)
    assert stats.skipped == {"not IP": 8}  # the ARP frames


def test_esp_over_ip_fields(shared_dir: Path) -> None:
    records = list(dissect(shared_dir / "captures/wireshark/esp-bug-12671.pcapng.gz"))
    # tshark -T fields -e esp.spi -e esp.sequence
    want = [(0xC254FE64, 1), (0x070883C2, 1), (0xC254FE64, 2)]
    want += [(0x070883C2, 2), (0xC254FE64, 3), (0x070883C2, 3)]
    assert [(r.spi, r.seq) for r in records if isinstance(r, EspPacket)] == want
    r = records[0]
    assert isinstance(r, EspPacket)
    assert r.flow.transport == "ip" and not r.udp_encap
    assert r.length == len(r.data)
    assert struct.unpack("!II", r.data[:8]) == (r.spi, r.seq)


def test_esp_truncated_gives_record_with_error(shared_dir: Path) -> None:
    """tcpdump's esp_truncated: a 46-byte snap of a first IP fragment; tshark shows ESP with
    SPI 0xc0f7d4c3 and "ESP truncated"; we give the EspPacket with its error set."""
    (r,) = list(dissect(shared_dir / "captures/tcpdump/esp_truncated.pcap"))
    assert isinstance(r, EspPacket)
    assert r.spi == 0xC0F7D4C3
    assert r.error is not None and "cut short" in r.error.reason
    assert len(r.data) == 4 and r.length > len(r.data)


@pytest.mark.parametrize(
    "name", ["ikev2-decrypt-aes256gcm8.pcap", "ikev2-decrypt-aes256ccm16.pcapng"]
)
def test_truncated_at_every_offset_never_raises(shared_dir: Path, name: str) -> None:
    """Every prefix of a real capture (held in memory by truncation_support, not in files)."""
    src = shared_dir / "captures/wireshark" / name
    whole = src.read_bytes()
    full = [r for r in dissect(src) if isinstance(r, IkeDatagram)]
    cuts = 0
    for cut, p in every_truncation(whole):
        cuts += 1
        try:
            records = list(dissect(p))
        except CaptureError:
            assert cut < 28
            continue
        ike = [r for r in records if isinstance(r, IkeDatagram)]
        assert [r.message.raw for r in ike] == [r.message.raw for r in full[: len(ike)]]
        errors = [r for r in records if isinstance(r, FrameError)]
        assert len(errors) <= 1
        if errors:
            assert records[-1] is errors[0]
            assert errors[0].frame == len(ike) + 1
            assert "damaged" in errors[0].reason
    assert cuts == len(whole)


def test_stats_count_everything(shared_dir: Path) -> None:
    stats = DissectStats()
    n = sum(1 for _ in dissect(shared_dir / "captures/tcpdump/isakmp4500.pcap", stats=stats))
    assert stats.frames == 35
    assert stats.ike + stats.esp + stats.keepalives + stats.errors == n
    assert stats.ike + stats.esp + stats.keepalives + sum(stats.skipped.values()) == 35
    assert stats.capture is not None and stats.capture.format == "pcap"


def test_unknown_file_raises_before_iteration(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("not a capture")
    with pytest.raises(CaptureError, match=r"notes\.txt"):
        dissect(p)


@pytest.mark.parametrize(
    ("name", "frame", "words"),
    [
        ("ikev2-id-short.pcap", 1, "ID"),
        ("ikev2pI2-segfault.pcapng", 1, "proposal length"),
        ("isakmp-no-none-np.pcapng", 1, "Next Payload"),
    ],
)
def test_tcpdump_malformed_cases_give_records_with_errors(
    shared_dir: Path, name: str, frame: int, words: str
) -> None:
    """The malformed captures of tcpdump's test suite (see its README) become IKE records whose
    ``message.error`` says what is wrong; nothing raises."""
    records = list(dissect(shared_dir / "captures/tcpdump" / name))
    (rec,) = [r for r in records if isinstance(r, IkeDatagram) and r.flow.frame == frame]
    assert rec.message.error is not None
    assert words in rec.message.error.reason


def test_fast_builders_match_the_dataclasses() -> None:
    """stream.py builds Flow/EspPacket through slot setters on its fast path; if a field is
    added to either record, these builders must learn it too."""
    from dataclasses import fields

    from ikeview.dissectors import stream
    from ikeview.dissectors.records import Flow

    assert [f.name for f in fields(Flow)] == list(Flow.__slots__)
    assert [f.name for f in fields(EspPacket)] == list(EspPacket.__slots__)
    args = (3, 1.5, 4, "192.0.2.1", "192.0.2.2", "udp", 4500, 4500)
    assert stream._new_flow(*args) == Flow(*args)
    flow = Flow(*args)
    assert stream._new_esp(flow, 1, 2, 3, b"xy", True, None) == EspPacket(
        flow, 1, 2, 3, b"xy", True
    )


def test_fast_path_equals_general_path(shared_dir: Path) -> None:
    """The inline fast path and the general parsers agree record for record: extra ports turn
    the UDP fast path off, and ESP over IP is compared against a raw-IP copy of the frames."""
    from ikeview.dissectors.capture import CaptureReader
    from ikeview.dissectors.records import RawFrame

    for name in ("tcpdump/isakmp4500.pcap", "wireshark/esp-bug-12671.pcapng.gz"):
        path = shared_dir / "captures" / name
        fast = list(dissect(path))
        general = list(dissect(path, extra_ports=[65000]))
        assert fast == general
        raw = [
            RawFrame(f.index, f.ts, 101, f.data[14:], f.orig_len - 14)
            for f in CaptureReader(path)
            if f.data[12:14] == b"\x08\x00"
        ]
        assert [r for r in fast if not isinstance(r, FrameError)] == list(dissect(raw))


def _pcapng_block(btype: int, body: bytes, endian: str = "<") -> bytes:
    body += b"\0" * (-len(body) % 4)
    return (
        struct.pack(endian + "II", btype, len(body) + 12)
        + body
        + struct.pack(endian + "I", len(body) + 12)
    )


@pytest.mark.parametrize(("endian", "nano"), [("<", False), (">", False), ("<", True), (">", True)])
def test_dissect_pcap_variants_end_to_end(
    shared_dir: Path, tmp_path: Path, endian: str, nano: bool
) -> None:
    """Frames of a real capture rewritten as big-endian and/or nanosecond pcap dissect the
    same, with the same times."""
    from ikeview.dissectors.capture import CaptureReader

    src = shared_dir / "captures/tcpdump/isakmp4500.pcap"
    frames = list(CaptureReader(src))
    out = [
        struct.pack(endian + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    ]
    for f in frames:
        sec = int(f.ts)
        frac = round((f.ts - sec) * (1e9 if nano else 1e6))
        out.append(struct.pack(endian + "IIII", sec, frac, len(f.data), f.orig_len) + f.data)
    p = tmp_path / "variant.pcap"
    p.write_bytes(b"".join(out))
    assert list(dissect(p)) == list(dissect(src))


def test_dissect_pcapng_two_interfaces(shared_dir: Path, tmp_path: Path) -> None:
    """One pcapng, two interfaces: Ethernet (microseconds) and raw IP (if_tsresol 2^-20);
    the same IKE message on each is found, with the right times."""
    recs = list(dissect(shared_dir / "captures/wireshark/ikev2-decrypt-aes256gcm16.pcap"))
    from ikeview.dissectors.capture import CaptureReader

    eth = next(
        iter(CaptureReader(shared_dir / "captures/wireshark/ikev2-decrypt-aes256gcm16.pcap"))
    )
    shb = _pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb0 = _pcapng_block(1, struct.pack("<HHI", 1, 0, 0))
    opt = struct.pack("<HH", 9, 1) + bytes([0x80 | 20]) + b"\0\0\0" + struct.pack("<HH", 0, 0)
    idb1 = _pcapng_block(1, struct.pack("<HHI", 101, 0, 0) + opt)

    def epb(iface: int, raw_ts: int, data: bytes) -> bytes:
        head = struct.pack("<IIIII", iface, raw_ts >> 32, raw_ts & 0xFFFFFFFF, len(data), len(data))
        return _pcapng_block(6, head + data)

    body = shb + idb0 + idb1 + epb(0, 5_000_000, eth.data) + epb(1, 3 << 20, eth.data[14:])
    p = tmp_path / "two.pcapng"
    p.write_bytes(body)
    got = list(dissect(p))
    assert [type(r) for r in got] == [IkeDatagram, IkeDatagram]
    assert got[0].message.raw == got[1].message.raw == recs[0].message.raw  # type: ignore[union-attr]
    assert (got[0].flow.ts, got[1].flow.ts) == (5.0, 3.0)  # type: ignore[union-attr]


def test_without_ike_parsing_the_same_other_records() -> None:
    """``Dissector(ike=False)`` (a later range of ``--jobs`` without keys) on every shared and
    lab capture: every record but the IKE ones, the same; the same reassembly state at the
    end; the IKE parser never imported."""
    import subprocess
    import sys

    caps = _captures()
    code = f"""
import sys
from ikeview.dissectors.capture import CaptureError, CaptureReader
from ikeview.dissectors.records import IkeDatagram
from ikeview.dissectors.stream import Dissector

def records(name, ike):
    d = Dissector(ike=ike)
    reader = CaptureReader(name)
    return [r for r in d.run(reader, reader) if type(r) is not IkeDatagram], d.idle()

names = []
for name in {[str(c) for c in caps]!r}:
    try:
        CaptureReader(name)
    except CaptureError:
        continue
    names.append(name)
without = [records(name, False) for name in names]
assert "ikeview.dissectors.ikev2" not in sys.modules
for name, got in zip(names, without):
    assert got == records(name, True), name
print(len(names))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout) >= 40
