"""Read config files of any supported kind (detected from content) into DeviceConfig records."""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from pathlib import Path

from ikeview.config.ios import read_ios
from ikeview.config.ipsec_conf import read_ipsec_conf
from ikeview.config.records import ConfigError, DeviceConfig
from ikeview.config.swanctl import read_swanctl
from ikeview.config.swanctl_syntax import Resolver

MAX_CONFIG_BYTES = 16 * 1024 * 1024
"""Configs larger than this are refused (a running-config is rarely over 1 MB)."""


def detect(text: str, name: str = "") -> str | None:
    """``swanctl``, ``ipsec.conf``, ``ios`` or None. A file of nothing but ``include`` lines
    (strongSwan's stock swanctl.conf, many ipsec.conf) is told by its file ``name``."""
    if re.search(r"^\s*(connections|secrets|pools|authorities)\s*\{", text, re.M):
        return "swanctl"
    if re.search(r"^conn\s+\S+", text, re.M):
        return "ipsec.conf"
    # An IOS line may follow a CLI prompt when the config was pasted from a session.
    # A config quoted in a document may be indented as a whole ("    crypto ikev2 ...").
    prompt = r"([\w.-]+(\([\w-]+\))?# ?)?"
    if re.search(
        rf"^{prompt}(crypto |interface |hostname )|^[ \t]+crypto (ikev2|ipsec) ", text, re.M
    ):
        return "ios"
    if re.search(r"^\s*include\s+\S", text, re.M):
        base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
        if "swanctl" in base:
            return "swanctl"
        if base.startswith("ipsec"):
            return "ipsec.conf"
    return None


MAX_INCLUDED_FILES = 256
"""A swanctl.conf's ``include`` statements may read at most this many files."""


def include_resolver(limit: int = MAX_CONFIG_BYTES) -> Resolver:
    """Reads what a swanctl.conf ``include PATTERN`` names, as strongSwan does: the glob
    relative to the including file's folder, matches in sorted order, regular files only.
    Bounded: at most MAX_INCLUDED_FILES files and ``limit`` bytes in all."""
    budget = {"bytes": limit, "files": MAX_INCLUDED_FILES}

    def resolve(pattern: str, including: str) -> list[tuple[str, str]]:
        base = Path(including).parent
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        out = []
        for name in sorted(glob.glob(full)):
            p = Path(name)
            try:
                if not p.is_file():
                    continue  # folders, devices, FIFOs: never read
                size = p.stat().st_size
                budget["files"] -= 1
                budget["bytes"] -= size
                if budget["files"] < 0 or budget["bytes"] < 0:
                    raise ConfigError(f"{including}: include {pattern}: more than "
                                      f"{MAX_INCLUDED_FILES} files or {limit} bytes")  # fmt: skip
                data = p.read_bytes()[: max(size, 0) + 1]
            except OSError as exc:
                raise ConfigError(f"{including}: include {pattern}: {name} cannot be read "
                                  f"({exc.strerror or exc})") from None  # fmt: skip
            out.append((name, data.decode("utf-8", errors="replace")))
        return out

    return resolve


def read_config(
    text: str, path: str, *, ios_release: str | None = None, resolver: Resolver | None = None
) -> DeviceConfig:
    """One config from text (a swanctl.conf follows ``include`` only through ``resolver``)."""
    kind = detect(text, path)
    if kind == "swanctl":
        return read_swanctl(text, path, resolver=resolver)
    if kind == "ipsec.conf":
        return read_ipsec_conf(text, path, resolver=resolver)
    if kind == "ios":
        return read_ios(text, path, ios_release)
    raise ConfigError(
        f"{path}:1: not a config ikeview reads; give a Cisco IOS running-config, a "
        f"swanctl.conf or an ipsec.conf (with ipsec.secrets beside it)"
    )


def load_configs(paths: Sequence[Path], *, ios_release: str | None = None) -> list[DeviceConfig]:
    """Read each file; ConfigError names the file and line of the first problem."""
    out = []
    for path in paths:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes; not a config")
        text = path.read_bytes().decode("utf-8", errors="replace")
        resolver = include_resolver()
        cfg = read_config(text, str(path), ios_release=ios_release, resolver=resolver)
        if cfg.kind == "ipsec.conf":
            secrets = path.with_name("ipsec.secrets")
            if secrets.is_file() and secrets.stat().st_size <= MAX_CONFIG_BYTES:
                from ikeview.config.ipsec_conf import add_secrets

                text = secrets.read_text(errors="replace")
                cfg = add_secrets(cfg, text, str(secrets), resolver=resolver)
        out.append(cfg)
    return out
