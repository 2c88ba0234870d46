"""``load_keys(paths)``: read key files of any supported format into one KeyRing.

The format is decided from the content, never the file name, in this order: ikeview TOML,
strongSwan swanctl.conf (its ``secrets`` section: PSKs and EAP passwords), Wireshark
``ikev2_decryption_table`` / ``esp_sa`` (also what strongSwan's save-keys writes), tcpdump ``-E``
secrets, strongSwan charon log, libreswan pluto log.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ikeview.keys.errors import KeysFileError
from ikeview.keys.model import KeyRecord, KeyRing

if TYPE_CHECKING:
    from ikeview.keys.strongswan_log import Mode


@dataclass(frozen=True, slots=True)
class KeyFormat:
    """One file format: how to recognise it and how to read it."""

    name: str
    """Shown in messages, e.g. ``strongSwan charon log``."""
    detect: Callable[[str], bool]
    """True when the text is in this format."""
    load: Callable[[str, str, Mode], list[KeyRecord]]
    """Text and path (for messages) and log mode to records; raises KeysFileError."""


def _reader(module: str) -> Any:
    # The format modules are imported when a file is tried against them, not with the loader:
    # a TOML keys file then never pays for the log parsers' regular expressions (start-up).
    return importlib.import_module(f"ikeview.keys.{module}")


FORMATS: tuple[KeyFormat, ...] = (
    KeyFormat(
        "ikeview TOML",
        lambda t: bool(_reader("toml_keys").looks_like(t)),
        lambda t, p, m: _reader("toml_keys").load_toml(t, p),
    ),
    KeyFormat(
        "strongSwan swanctl.conf secrets",
        lambda t: bool(_reader("swanctl_secrets").looks_like(t)),
        lambda t, p, m: _reader("swanctl_secrets").load_swanctl_secrets(t, p),
    ),
    KeyFormat(
        "Wireshark ikev2_decryption_table/esp_sa",
        lambda t: _reader("wireshark").detect(t) is not None,
        lambda t, p, m: _reader("wireshark").load_wireshark(t, p),
    ),
    KeyFormat(
        "tcpdump -E secrets",
        lambda t: bool(_reader("tcpdump").looks_like(t)),
        lambda t, p, m: _reader("tcpdump").load_tcpdump(t, p),
    ),
    KeyFormat(
        "strongSwan charon log",
        lambda t: bool(_reader("strongswan_log").looks_like(t)),
        lambda t, p, m: _reader("strongswan_log").load_charon_log(t, p, m),
    ),
    KeyFormat(
        "libreswan pluto log",
        lambda t: bool(_reader("libreswan_log").looks_like(t)),
        lambda t, p, m: _reader("libreswan_log").load_pluto_log(t, p),
    ),
)
"""Every supported format, in detection order."""


def detect_format(text: str) -> KeyFormat | None:
    """The first format whose detector accepts the text."""
    return next((f for f in FORMATS if f.detect(text)), None)


def load_text(text: str, path: str, mode: Mode = "all") -> KeyRing:
    """Records from one file's text; ``path`` is only used in messages and SourceRefs."""
    fmt = detect_format(text)
    if fmt is None:
        if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in text.splitlines()):
            raise KeysFileError(path, 0, "is empty (no keys in it)")
        tried = ", ".join(f.name for f in FORMATS)
        raise KeysFileError(path, 0, f"unknown keys file format (tried: {tried})")
    try:
        return KeyRing.of(fmt.load(text, path, mode))
    except (ValueError, IndexError, KeyError) as exc:
        # A reader met a line it did not expect: still one message naming the file and format
        # (a fuzzer found one such line in a pluto log; the readers give line numbers first).
        raise KeysFileError(path, 0, f"cannot read it as a {fmt.name}: {exc}") from None


MAX_KEYS_FILE = 16 << 20
"""Largest keys file read (16 MiB): a charon log of hours of negotiation fits; anything larger
is a mistake (a capture given as --keys) or hostile. Reading costs about six times the size in
memory and, for TOML, a few microseconds per line (16 MiB of empty comment lines: ~20 s)."""


def _read_bounded(path: Path, name: str) -> bytes:
    """The file's bytes, refusing more than MAX_KEYS_FILE (raises KeysFileError)."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_KEYS_FILE + 1)
    except OSError as e:
        raise KeysFileError(name, 0, f"cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_KEYS_FILE:
        raise KeysFileError(
            name, 0, f"is larger than {MAX_KEYS_FILE >> 20} MiB; is it really a keys file?"
        )
    return raw


def load_keys(paths: Iterable[str | PathLike[str]], mode: Mode = "all") -> KeyRing:
    """Read every file and merge them, in the order given (raises KeysFileError).

    ``mode`` applies to logs: ``secrets`` keeps only DH secrets and PSKs, so ikeview derives
    everything else itself; ``all`` also keeps the IKE and ESP keys the log shows.
    """
    ring = KeyRing()
    for p in paths:
        name = str(p)
        raw = _read_bounded(Path(p), name)
        try:
            # utf-8-sig: a byte-order mark (Windows editors write one) is not part of the text.
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise KeysFileError(name, 0, f"not a text file (byte {e.start} is not UTF-8)") from None
        ring = ring.merge(load_text(text, name, mode))
    return ring
