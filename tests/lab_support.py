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


def unscoped_pfs_pending(name: str, all_esp_decrypted: bool) -> None:
    """An expected failure while ikeview does not try a bare ``[[dh]] shared_secret`` (no
    ``child = true``, no SPIs) against PFS child SAs: pfs-create-child gives its
    CREATE_CHILD_SA g^ir that way, as users paste it (issue 14)."""
    if name == "pfs-create-child" and not all_esp_decrypted:
        pytest.xfail("ikeview does not try bare [[dh]] secrets on PFS child SAs yet (issue 14)")
