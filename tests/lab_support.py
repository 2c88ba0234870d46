"""The strongSwan lab captures (captures/lab/) as the tests use them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ikeview.keys.errors import KeysFileError

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


@contextmanager
def eap_keys_pending() -> Iterator[None]:
    """An expected failure while ikeview's keys loader rejects the ``[[eap]]`` table that the
    EAP lab scenarios' keys.toml carry (issue 14: EAP identity and password); once the loader
    reads it, the test runs in full."""
    try:
        yield
    except KeysFileError as e:
        if "unknown table 'eap'" in str(e):
            pytest.xfail("ikeview's keys loader does not read [[eap]] yet (issue 14)")
        raise
