"""ESP rules, per child SA (with keys) or per IKE SA's ESP seen without keys: one direction
silent, sequence gaps, replays, ICV failures. Sequence numbers are in the clear (RFC 4303 2.2),
so all but the ICV rule work without keys.
"""

from __future__ import annotations

from collections.abc import Iterable

from ikeview.diagnosis.facts import finding
from ikeview.diagnosis.records import Basis, Finding
from ikeview.pipeline.model import ChildSa, EspSpiStats

ONE_WAY_MIN = 3
"""Packets the busy direction must carry before the silent one counts as silent."""


def _spi(s: EspSpiStats) -> str:
    return f"0x{s.spi:08x} ({s.src} > {s.dst})"


def one_way_child(child: ChildSa) -> list[Finding]:
    """``esp-one-way``: one of the child SA's two SPIs carries packets, the other none.
    Evidence: per-SPI counters. RFC 4303 3.4 (each direction its own SA), RFC 7296 2.9."""
    by_spi = {s.spi: s for s in child.esp}
    toward_r = by_spi.get(child.spi_responder)
    toward_i = by_spi.get(child.spi_initiator)
    busy = [s for s in (toward_r, toward_i) if s is not None and s.packets > 0]
    if len(busy) != 1 or busy[0].packets < ONE_WAY_MIN:
        return []
    active = busy[0]
    silent_spi = child.spi_initiator if active is toward_r else child.spi_responder
    silent_from = child.initiator if active is toward_i else child.responder
    return [finding(
        "esp-one-way", [child.created_frame], "decrypted",
        f"ESP flows one way only: SPI {_spi(active)} carried {active.packets} packets, while "
        f"SPI 0x{silent_spi:08x} (from {silent_from}) carried none.",
        direction=f"{active.src} > {active.dst}", silent_spi=f"{silent_spi:08x}",
        silent_from=silent_from, packets=active.packets,
    )]  # fmt: skip


def one_way_inferred(stats: Iterable[EspSpiStats], peers: set[str], frame: int) -> list[Finding]:
    """``esp-one-way`` without keys: the ESP attributed to an IKE SA runs in one direction
    between its peers and never the other."""
    ways: dict[tuple[str, str], int] = {}
    for s in stats:
        if {s.src, s.dst} == peers:
            ways[(s.src, s.dst)] = ways.get((s.src, s.dst), 0) + s.packets
    live = {k: v for k, v in ways.items() if v}
    if len(live) != 1:
        return []
    (src, dst), n = next(iter(live.items()))
    if n < ONE_WAY_MIN:
        return []
    return [finding(
        "esp-one-way", [frame], "inferred",
        f"ESP flows one way only: {n} packets {src} > {dst}, none {dst} > {src}.",
        direction=f"{src} > {dst}", silent_from=dst, packets=n,
    )]  # fmt: skip


def counters(stats: Iterable[EspSpiStats], frame: int, basis: Basis) -> list[Finding]:
    """``esp-loss`` (sequence gaps, RFC 4303 3.3.3), ``esp-replay`` (repeated sequence
    numbers, 3.4.3), ``esp-integrity-failure`` (ICV, 3.4.4). Evidence: per-SPI counters."""
    out: list[Finding] = []
    for s in stats:
        if s.missing:
            out.append(finding(
                "esp-loss", [frame], "inferred",
                f"SPI {_spi(s)}: {s.missing} of {s.max_seq - s.first_seq + 1} sequence numbers "
                f"never seen ({s.packets} packets captured).",
                spi=f"{s.spi:08x}", direction=f"{s.src} > {s.dst}", count=s.missing,
            ))  # fmt: skip
        if s.replays:
            out.append(finding(
                "esp-replay", [frame], "inferred",
                f"SPI {_spi(s)}: {s.replays} packets repeated a sequence number already seen.",
                spi=f"{s.spi:08x}", direction=f"{s.src} > {s.dst}", count=s.replays,
            ))  # fmt: skip
        if s.integrity_failed:
            every = s.decrypted == 0 and s.integrity_failed == s.packets
            out.append(finding(
                "esp-integrity-failure", [frame], "decrypted",
                f"SPI {_spi(s)}: {s.integrity_failed} of {s.packets} packets failed the ICV"
                + (": every one, so the keys given are not this SA's." if every else
                   " while others passed: something on the path altered them."),
                severity="warning" if every else "error",
                spi=f"{s.spi:08x}", direction=f"{s.src} > {s.dst}", count=s.integrity_failed,
                keys_wrong=every,
            ))  # fmt: skip
    return out


__all__ = ["counters", "one_way_child", "one_way_inferred"]
