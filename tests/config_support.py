"""Helpers for the config tests: lab captures analysed with configs, the lab's own swanctl.conf
with its address placeholders filled in as captures/lab/make.sh fills them."""

from __future__ import annotations

import functools
from pathlib import Path

from lab_support import LAB

from ikeview.config.check import apply_configs
from ikeview.config.keys import config_keyring
from ikeview.config.load import read_config
from ikeview.config.records import DeviceConfig
from ikeview.keys.loader import load_keys
from ikeview.keys.model import KeyRing
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.model import Analysis

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data" / "configs"

SCENARIOS = (
    "3des-sha1-modp1024",
    "asym-psk",
    "auth-failed",
    "certs-frag",
    "chacha-x25519",
    "dpd-timeout",
    "esp-one-way",
    "frag-drop",
    "gcm16-ecp256",
    "invalid-ke",
    "multi-proposal",
    "natt",
    "no-proposal",
    "psk-aes256-sha256-modp2048",
    "rekey-collision",
    "rekey-dpd",
    "ts-unacceptable",
    "unreachable-responder",
)
"""Every captures/lab scenario with both peers' swanctl.conf."""


def lab_addresses(scenario: str) -> dict[str, str]:
    """make.sh's I_ADDR / R_ADDR for a scenario."""
    if scenario == "ipv6-outer":  # topology direct6
        return {"@I_ADDR@": "2001:db8::1", "@R_ADDR@": "2001:db8::2"}
    if scenario in ("natt", "frag-drop", "esp-corrupt"):  # topology_nat / topology_router
        return {"@I_ADDR@": "192.0.2.10", "@R_ADDR@": "192.0.2.130"}
    return {"@I_ADDR@": "192.0.2.1", "@R_ADDR@": "192.0.2.2"}


def lab_swanctl(scenario: str, node: str) -> DeviceConfig:
    """The swanctl.conf the lab ran that node with."""
    path = LAB / "scenarios" / scenario / node / "swanctl.conf"
    text = path.read_text()
    for placeholder, addr in lab_addresses(scenario).items():
        text = text.replace(placeholder, addr)
    return read_config(text, str(path.relative_to(REPO)))


def data_config(name: str, **kw) -> DeviceConfig:
    """A hand-written config from tests/data/configs."""
    path = DATA / name
    return read_config(path.read_text(), name, **kw)


@functools.cache
def dh_only(scenario: str) -> KeyRing:
    """keys.toml without its PSKs: only the DH secrets (the config must supply the PSK)."""
    path = LAB / scenario / "keys.toml"
    # unreachable-responder has no keys at all (no IKE SA was ever set up).
    return KeyRing(dh_secrets=load_keys([path]).dh_secrets) if path.exists() else KeyRing()


def checked(scenario: str, *configs: DeviceConfig, side: str | None = None) -> Analysis:
    """The capture analysed with only the DH secrets and the configs' PSKs, then checked."""
    ring = config_keyring(configs).merge(dh_only(scenario))
    analysis = analyze(LAB / scenario / "capture.pcap", ring)
    return apply_configs(analysis, configs, side=side, keyring=ring)


def codes(analysis: Analysis) -> list[str]:
    """Every config finding code, IKE SAs then child SAs."""
    from ikeview.config.check import config_findings

    return [f.code for _label, f in config_findings(analysis)]
