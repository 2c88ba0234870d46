"""The strongSwan lab captures (captures/lab/) as the tests use them."""

from __future__ import annotations

from pathlib import Path

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
