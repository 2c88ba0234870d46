"""The strongSwan lab captures (captures/lab/) as the tests use them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ikeview.keys.model import KeyRing
    from ikeview.pipeline.model import Analysis

LAB = Path(__file__).resolve().parents[1] / "captures" / "lab"

TSHARK_ESP_SCENARIOS = (
    "psk-aes256-sha256-modp2048",
    "gcm16-ecp256",
    "3des-sha1-modp1024",
    "multi-proposal",
    "asym-psk",
    "rekey-dpd",
    "natt",
)
"""Scenarios with ESP that tshark 4.0 can decrypt too (it has no ChaCha20-Poly1305, so
chacha-x25519 is left out wherever tshark is the reference)."""


@dataclass(frozen=True)
class Lab:
    """One scenario of captures/lab/: its files, and what the tests derive from them, each made
    once per session (the ``lab`` fixture of conftest.py hands these out)."""

    name: str
    dir: Path

    @property
    def capture(self) -> Path:
        return self.dir / "capture.pcap"

    @property
    def keys_path(self) -> Path:
        """keys.toml (absent where no peer derived a key, e.g. unreachable-responder)."""
        return self.dir / "keys.toml"

    @cached_property
    def truth(self) -> dict[str, Any]:
        """truth.json: charon's own logs, extracted by captures/lab/extract_truth.py."""
        return json.loads((self.dir / "truth.json").read_text())

    @cached_property
    def keyring(self) -> KeyRing:
        """The keys.toml as loaded (an empty ring when there is none)."""
        from ikeview.keys.loader import load_keys

        return load_keys([p for p in [self.keys_path] if p.exists()])

    @cached_property
    def analysis(self) -> Analysis:
        """The capture analyzed with its keys."""
        from ikeview.pipeline.analyze import analyze

        return analyze(self.capture, self.keyring)

    @cached_property
    def analysis_without_keys(self) -> Analysis:
        from ikeview.pipeline.analyze import analyze

        return analyze(self.capture)


@cache
def lab_scenario(name: str) -> Lab:
    """The scenario ``name`` of captures/lab/, one object per session."""
    path = LAB / name
    if not (path / "truth.json").is_file():
        pytest.fail(f"no lab scenario {name!r} in {LAB}")
    return Lab(name, path)


def esp_icv_failures(truth: dict) -> dict[int, int]:
    """ESP packets the receiving charon rejected, by SPI, from truth.json's log notes
    ("ESP decryption or ICV verification failed (SPI ... [seq N])"): esp-corrupt alters some on
    the path on purpose, so no key can decrypt them."""
    out: dict[int, int] = {}
    for note in truth["log_notes"]:
        if "ICV verification failed (SPI " in note:
            spi = int(note.split("(SPI ", 1)[1].split()[0], 16)
            out[spi] = out.get(spi, 0) + 1
    return out
