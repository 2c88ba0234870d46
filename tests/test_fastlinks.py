"""The batch ESP path on Linux cooked captures (SLL and SLL2, what ``tcpdump -i any`` writes) and
with outer IPv6, against the general per-record path: the same Analysis, byte-identical report
JSON and text, and byte-identical ``decrypt -o`` files.

Real data first: the lab's ipv6-outer capture (strongSwan over IPv6) as it is. The Linux cooked
and IPv6 variants are the lab's strongSwan captures and the generated capture of
fastesp_support (loss, replays, bad ICVs, cut packets, unknown SPIs, ESP in ESP) with their link
and IP headers rewritten here: the Ethernet header replaced by an SLL / SLL2 header (RFC-less
formats, as libpcap's LINKTYPE_LINUX_SLL and LINKTYPE_LINUX_SLL2 pages lay them out), or each
plain IPv4 header replaced by an IPv6 one (RFC 8200) with the addresses mapped into
2001:db8::/96 and the keys file's addresses rewritten the same way.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from fastesp_support import write_capture

from ikeview import fastdecrypt
from ikeview.keys.loader import load_keys
from ikeview.keys.model import KeyRing
from ikeview.pcapwrite import write_decrypted
from ikeview.pipeline import fastesp
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.correlate.espbulk import EspBulk
from ikeview.pipeline.model import Analysis
from ikeview.report import render_text, to_json

REPO = Path(__file__).resolve().parent.parent
LAB = REPO / "captures" / "lab"
ESP_LABS = ["esp-loss-replay", "gcm16-ecp256", "natt", "psk-aes256-sha256-modp2048",
            "3des-sha1-modp1024", "esp-corrupt"]  # fmt: skip
V6_NET = bytes.fromhex("20010db8000000000000000000000000")[:12]

Rewrite = Callable[[bytes], tuple[bytes, int]]
"""An Ethernet frame -> (the new frame, how many octets longer it is)."""


def _sll(frame: bytes) -> tuple[bytes, int]:
    # packet type (4: sent by us), ARPHRD_ETHER, address length, address (8), protocol.
    if len(frame) < 14:
        return frame, 0
    head = struct.pack("!HHH8sH", 4, 1, 6, frame[6:12] + b"\0\0", int.from_bytes(frame[12:14]))
    return head + frame[14:], 2


def _sll2(frame: bytes) -> tuple[bytes, int]:
    # protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address.
    if len(frame) < 14:
        return frame, 0
    head = struct.pack("!HHIHBB8s", int.from_bytes(frame[12:14]), 0, 3, 1, 0, 6,
                       frame[6:12] + b"\0\0")  # fmt: skip
    return head + frame[14:], 6


def _v6_addr(v4: bytes) -> bytes:
    return V6_NET + v4


def _ipv6(frame: bytes) -> tuple[bytes, int]:
    """Ethernet + IPv4 without options or fragments -> Ethernet + IPv6 (same payload)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] != 0x45:
        return frame, 0
    total, frag, proto, src, dst = struct.unpack_from("!2xH2xH1xB2x4s4s", frame, 14)
    if frag & 0x3FFF or total < 20:
        return frame, 0
    head = struct.pack("!IHBB16s16s", 0x60000000, total - 20, proto, 64, _v6_addr(src),
                       _v6_addr(dst))  # fmt: skip
    return frame[:12] + b"\x86\xdd" + head + frame[34:], 20


def _rewrite_pcap(src: Path, dst: Path, rewrite: Rewrite, linktype: int) -> None:
    data = src.read_bytes()
    assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")  # little-endian classic pcap
    assert struct.unpack_from("<I", data, 20)[0] == 1
    out = bytearray(data[:20] + struct.pack("<I", linktype))
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from("<IIII", data, off)
        frame, grown = rewrite(data[off + 16 : off + 16 + incl])
        out += struct.pack("<IIII", sec, frac, len(frame), orig + grown) + frame
        off += 16 + incl
    out += data[off:]  # a cut last record stays cut
    dst.write_bytes(bytes(out))


def _rewrite_keys(src: Path, dst: Path, v6: bool) -> None:
    text = src.read_text()
    if v6:
        for addr in {w.strip('"') for w in text.replace("=", " ").split() if w.count(".") == 3}:
            try:
                v4 = ipaddress.IPv4Address(addr).packed
            except ValueError:
                continue
            text = text.replace(f'"{addr}"', f'"{ipaddress.IPv6Address(_v6_addr(v4))}"')
    dst.write_text(text)


VARIANTS: dict[str, tuple[Rewrite, int]] = {
    "sll": (_sll, 113),
    "sll2": (_sll2, 276),
    "ipv6": (_ipv6, 1),
}


def _variant(cap: Path, keys: Path, kind: str, tmp: Path) -> tuple[Path, Path]:
    rewrite, linktype = VARIANTS[kind]
    out_cap, out_keys = tmp / f"{kind}.pcap", tmp / f"{kind}.toml"
    _rewrite_pcap(cap, out_cap, rewrite, linktype)
    _rewrite_keys(keys, out_keys, kind == "ipv6")
    return out_cap, out_keys


def _report(a: Analysis) -> tuple[str, str, str]:
    return (
        json.dumps(to_json(a), indent=2),
        json.dumps(to_json(a, show_secrets=True), indent=2),
        render_text(a, show_secrets=True),
    )


def _same_analysis(cap: Path, ring: KeyRing | None) -> Analysis:
    ref = analyze(cap, ring, fast=False)
    fast = analyze(cap, ring, fast=True)
    assert fast == ref
    assert _report(fast) == _report(ref)
    return ref


def _batched(cap: Path, ring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many ESP packets the batch path decrypted in batches (not vacuous equality)."""
    seen: list[int] = []
    original = EspBulk.opened

    def spy(self: EspBulk, c, items, outcomes, deferred, **kw) -> None:  # type: ignore[no-untyped-def]
        seen.append(len(items))
        original(self, c, items, outcomes, deferred, **kw)

    with monkeypatch.context() as m:
        m.setattr(EspBulk, "opened", spy)
        assert fastesp.analyze_fast(cap, ring) is not None
    return sum(seen)


def _same_decrypt(cap: Path, ring: KeyRing, tmp: Path) -> None:
    ref, fast = tmp / "ref.pcap", tmp / "fast.pcap"
    ref_stats = write_decrypted(cap, ring, ref, fast=False)
    assert fastdecrypt.write_decrypted_fast(cap, ring, fast) is not None
    assert ref_stats == write_decrypted(cap, ring, fast, fast=True)
    assert fast.read_bytes() == ref.read_bytes()


def test_lab_ipv6_outer_takes_the_batch_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """strongSwan over IPv6 as captured: equal on both paths, and its ESP is batched."""
    cap = LAB / "ipv6-outer" / "capture.pcap"
    ring = load_keys([cap.parent / "keys.toml"])
    a = _same_analysis(cap, ring)
    assert a.counters.esp_decrypted > 0
    # The first packet of each SA pins its keys on the general path; the rest are batched.
    assert _batched(cap, ring, monkeypatch) >= a.counters.esp_decrypted - 2
    _same_decrypt(cap, ring, tmp_path)


@pytest.mark.parametrize("kind", sorted(VARIANTS))
@pytest.mark.parametrize("name", ESP_LABS)
def test_lab_variants(
    name: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = LAB / name
    cap, keys = _variant(base / "capture.pcap", base / "keys.toml", kind, tmp_path)
    ring = load_keys([keys])
    a = _same_analysis(cap, ring)
    assert _same_analysis(cap, None) is not None
    _same_decrypt(cap, ring, tmp_path)
    if a.counters.esp_decrypted:
        assert _batched(cap, ring, monkeypatch) > 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("fastlinks")
    write_capture(d / "g.pcap", d / "keys.toml", packets=2000)
    return d / "g.pcap", d / "keys.toml"


@pytest.mark.parametrize("kind", sorted(VARIANTS))
def test_generated_variants(
    generated: tuple[Path, Path], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap, keys = _variant(*generated, kind, tmp_path)
    ring = load_keys([keys])
    a = _same_analysis(cap, ring)
    # The rewritten capture still has every case: decrypted, failed ICVs, no keys, ESP in ESP.
    c = a.counters
    assert c.esp_decrypted > 500 and c.esp_integrity_failed > 5
    assert _batched(cap, ring, monkeypatch) > 500
    _same_decrypt(cap, ring, tmp_path)
    assert analyze(cap, ring, extra_ports=(4501,)) == analyze(
        cap, ring, extra_ports=(4501,), fast=False
    )


@pytest.mark.skipif(not shutil.which("editcap"), reason="editcap (Wireshark) not installed")
@pytest.mark.parametrize("kind", ["sll", "sll2"])
def test_generated_pcapng_through_the_reader(
    generated: tuple[Path, Path], kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap, keys = _variant(*generated, kind, tmp_path)
    ng = tmp_path / f"{kind}.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(cap), str(ng)], check=True)
    ring = load_keys([keys])
    _same_analysis(ng, ring)
    assert _batched(ng, ring, monkeypatch) > 500
    _same_decrypt(ng, ring, tmp_path)


@pytest.mark.parametrize("kind", sorted(VARIANTS))
def test_damaged_variants(generated: tuple[Path, Path], kind: str, tmp_path: Path) -> None:
    """Random octets flipped in the rewritten captures (link headers, IPv6 lengths and next
    headers, UDP ports, SPIs), whole or cut: the batch path still ends as the general one."""
    import random

    cap, keys = _variant(*generated, kind, tmp_path)
    ring = load_keys([keys])
    whole = cap.read_bytes()
    rng = random.Random(8200)
    for n in range(6):
        damaged = bytearray(whole if n % 2 else whole[:150_000])
        for _ in range(2 + 3 * n):
            damaged[rng.randrange(24, len(damaged))] = rng.randrange(256)
        path = tmp_path / f"d{n}.pcap"
        path.write_bytes(bytes(damaged))
        try:
            ref = analyze(path, ring, fast=False)
        except Exception as exc:  # the reader's verdict: the batch path must say the same
            with pytest.raises(type(exc)):
                analyze(path, ring, fast=True)
            continue
        fast = analyze(path, ring, fast=True)
        assert fast == ref
        assert _report(fast) == _report(ref)
