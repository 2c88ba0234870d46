"""Seed corpora for the fuzz targets, made from every capture in captures/ and
../shared/captures/ and every keys file beside them (written into a directory per target)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = (REPO / "captures", REPO.parent / "shared" / "captures")
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz")
MAX_SEED = 64 << 10
"""Seeds are cut to 64 KiB: the fuzzer's max_len, and enough for any IKE exchange."""


def capture_files() -> list[Path]:
    out: list[Path] = []
    for root in SOURCES:
        if root.is_dir():
            out += [p for p in sorted(root.rglob("*")) if p.name.endswith(CAPTURE_SUFFIXES)]
    return out


def keys_files() -> list[Path]:
    out: list[Path] = []
    for root in SOURCES:
        if root.is_dir():
            for pattern in ("*.toml", "*secrets*.txt", "*.log"):
                out += sorted(root.rglob(pattern))
    return out


def _ike_messages() -> Iterator[bytes]:
    from ikeview.dissectors.capture import CaptureError, CaptureReader
    from ikeview.dissectors.records import IkeDatagram
    from ikeview.dissectors.stream import dissect

    for path in capture_files():
        try:
            with CaptureReader(path) as reader:
                for rec in dissect(reader):
                    if isinstance(rec, IkeDatagram):
                        yield rec.message.raw
        except CaptureError:
            continue


def seeds(target: str) -> Iterator[bytes]:
    if target == "capture":
        for p in capture_files():
            yield p.read_bytes()[:MAX_SEED]
    elif target == "keys":
        for p in keys_files():
            yield p.read_bytes()[:MAX_SEED]
    elif target == "ikev2":
        yield from _ike_messages()
    elif target == "decrypt":
        # A selector byte (the first inner payload type / ESP next header) then a body: the
        # payload chains after each IKE header, behind the Next Payload that starts them.
        for raw in _ike_messages():
            if len(raw) > 28:
                yield bytes([raw[16]]) + raw[28:]


def write_corpus(target: str, directory: Path) -> int:
    """Write the seeds of ``target`` into ``directory`` (named by content); returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    n = 0
    for data in seeds(target):
        (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
        n += 1
    return n
