"""tcpdump's ``-E`` secrets: ESP ``spi@addr algo:secret`` lines and ``ikev2 I|R`` lines.

Syntax, from tcpdump's man page (``-E``) and print-esp.c:

- ``[SPI@DST] ALGO:SECRET``: the ESP SA with this SPI (decimal or 0x hex) to this IPv4/IPv6
  destination; without ``SPI@DST`` the key applies to any ESP packet. ALGO is an OpenSSL cipher
  name with ``-cbc`` left off (``3des``, ``aes256``, ``des``, ``blowfish``, ``cast128``) plus an
  optional ``-hmac96`` suffix meaning a 12-byte ICV that tcpdump skips without checking. SECRET
  is ``0x`` hex, else ASCII. Several entries may share a line, separated by commas.
- ``ikev2 I|R 0xSPIi 0xSPIr INTEG:0xSK_a ENCR:0xSK_e``: keys for the IKE messages sent by the
  initiator (I) or the responder (R). INTEG is ``sha1`` or ``md5`` (HMAC-..-96). libreswan logs
  the same line with ``plutodebug=private``.
- ``file NAME`` reads more lines from another file; ``#`` starts a comment line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ikeview.keys.errors import KeysFileError
from ikeview.keys.hexutil import parse_hex
from ikeview.keys.model import EspKeys, IkeSaKeys, KeyRecord, SourceRef

# OpenSSL cipher name (after dropping -cbc/-hmac96) -> (IANA ENCR id, key bits or None).
TCPDUMP_CIPHERS: dict[str, tuple[int, int | None]] = {
    "des": (2, None),
    "3des": (3, None),
    "des-ede3": (3, None),
    "blowfish": (7, None),
    "bf": (7, None),
    "cast128": (6, None),
    "cast5": (6, None),
    "aes128": (12, 128),
    "aes192": (12, 192),
    "aes256": (12, 256),
    "aes-128": (12, 128),
    "aes-192": (12, 192),
    "aes-256": (12, 256),
    "aes-128-ctr": (13, 128),
    "aes-192-ctr": (13, 192),
    "aes-256-ctr": (13, 256),
    "none": (11, None),
    "null": (11, None),
}
"""Cipher names tcpdump accepts (OpenSSL's), to IANA ENCR ids."""

TCPDUMP_INTEG: dict[str, int] = {"sha1": 2, "md5": 1}
"""tcpdump's two IKEv2 integrity names: HMAC-SHA1-96 and HMAC-MD5-96."""

_ESP_ENTRY = re.compile(r"^(?:(?P<spi>\S+)@(?P<dst>\S+)\s+)?(?P<algo>[^\s:]+):(?P<secret>\S*)$")
_IKE_LINE = re.compile(
    r"^ikev2\s+(?P<role>[IR])\s+0x(?P<spi_i>[0-9A-Fa-f]+)\s+0x(?P<spi_r>[0-9A-Fa-f]+)\s+"
    r"(?P<integ>[^\s:]+):(?P<ikey>\S+)\s+(?P<encr>[^\s:]+):(?P<ekey>\S+)\s*$"
)


def looks_like(text: str) -> bool:
    """Every non-comment line is an ESP entry, an ``ikev2`` line or ``file NAME``."""
    stripped = (ln.strip() for ln in text.splitlines())
    lines = [ln for ln in stripped if ln and not ln.startswith("#")]  # as load_tcpdump skips them
    if not lines:
        return False
    for ln in lines:
        if _IKE_LINE.match(ln) or ln.startswith("file "):
            continue
        if not all(_is_esp_entry(e.strip()) for e in ln.split(",")):
            return False
    return True


def _is_esp_entry(entry: str) -> bool:
    # Without SPI@DST the entry is just "algo:secret": only a known cipher name makes it ours.
    m = _ESP_ENTRY.match(entry)
    if m is None:
        return False
    algo = m["algo"].lower().removesuffix("-hmac96").removesuffix("-cbc")
    return m["spi"] is not None or algo in TCPDUMP_CIPHERS


def _secret(path: str, no: int, text: str) -> bytes:
    if text[:2].lower() == "0x":
        try:
            return parse_hex(text)
        except ValueError as e:
            raise KeysFileError(path, no, f"secret is {e}") from None
    return text.encode()


def _cipher(path: str, no: int, algo: str) -> tuple[int, int | None, int | None]:
    """(ENCR id, key bits, unchecked ICV bytes) from ``aes256-cbc-hmac96``."""
    name = algo.lower()
    icv = None
    if name.endswith("-hmac96"):
        name, icv = name[: -len("-hmac96")], 12
    name = name.removesuffix("-cbc")
    if name not in TCPDUMP_CIPHERS:
        raise KeysFileError(path, no, f"unknown tcpdump cipher {algo!r}")
    encr, bits = TCPDUMP_CIPHERS[name]
    return encr, bits, icv


def load_tcpdump(text: str, path: str) -> list[KeyRecord]:
    """Records from a tcpdump secrets file; I and R lines of one IKE SA make one IkeSaKeys."""
    return _load(text, path, ())


def _load(text: str, path: str, including: tuple[Path, ...]) -> list[KeyRecord]:
    # ``including``: the files whose ``file`` lines led here, so an include loop is an error
    # rather than endless recursion.
    out: list[KeyRecord] = []
    ike: dict[tuple[bytes, bytes], _IkeAcc] = {}
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("file "):
            sub = Path(path).parent / line[5:].strip()
            chain = (*including, Path(path).resolve())
            if sub.resolve() in chain:
                raise KeysFileError(path, no, f"{sub} is already being read (an include loop)")
            try:
                out += _load(sub.read_text(), str(sub), chain)
            except OSError as e:
                raise KeysFileError(path, no, f"cannot read {sub}: {e.strerror}") from None
            continue
        if line.startswith("ikev2"):
            _ike_line(path, no, line, ike)
            continue
        for entry in line.split(","):
            out.append(_esp_entry(path, no, entry.strip()))
    for (spi_i, spi_r), v in ike.items():
        out.append(
            IkeSaKeys(
                spi_i=spi_i,
                spi_r=spi_r,
                sk_d=None,
                sk_ai=v.keys.get("sk_ai"),
                sk_ar=v.keys.get("sk_ar"),
                sk_ei=v.keys.get("sk_ei"),
                sk_er=v.keys.get("sk_er"),
                sk_pi=None,
                sk_pr=None,
                encr=v.encr,
                encr_key_bits=v.bits,
                integ=v.integ,
                prf=None,
                icv_unchecked=None,
                source=v.source,
            )
        )
    return out


def _esp_entry(path: str, no: int, entry: str) -> EspKeys:
    m = _ESP_ENTRY.match(entry)
    if not m:
        # The entry is not echoed: it may hold a secret.
        raise KeysFileError(path, no, "expected 'spi@address algo:secret' in each entry")
    spi = 0
    if m["spi"] is not None:
        try:
            spi = int(m["spi"], 0)
        except ValueError:
            raise KeysFileError(path, no, f"SPI {m['spi']!r} is not a number") from None
        if not 0 <= spi <= 0xFFFFFFFF:
            raise KeysFileError(path, no, f"SPI {m['spi']!r} does not fit in 32 bits")
    encr, bits, icv = _cipher(path, no, m["algo"])
    key = _secret(path, no, m["secret"])
    if encr == 12 and bits is not None and len(key) * 8 != bits:
        raise KeysFileError(path, no, f"{m['algo']} needs a {bits // 8}-byte key, not {len(key)}")
    # A default entry (no SPI@DST) is stored with SPI 0, which no real SA uses (RFC 4303 2.1).
    return EspKeys(spi, key, None, None, m["dst"], encr, bits, None, icv, SourceRef(path, no))


@dataclass(slots=True)
class _IkeAcc:
    """The I and R lines of one IKE SA, merged."""

    source: SourceRef
    encr: int | None = None
    bits: int | None = None
    integ: int | None = None
    keys: dict[str, bytes] = field(default_factory=dict)


def _ike_line(path: str, no: int, line: str, ike: dict[tuple[bytes, bytes], _IkeAcc]) -> None:
    m = _IKE_LINE.match(line)
    if not m:
        raise KeysFileError(path, no, "expected 'ikev2 I|R 0xSPIi 0xSPIr integ:0xkey encr:0xkey'")
    spis = []
    for name in ("spi_i", "spi_r"):
        if len(m[name]) != 16:
            raise KeysFileError(path, no, f"{name} must be 8 bytes (16 hex digits after 0x)")
        spis.append(bytes.fromhex(m[name]))
    integ = TCPDUMP_INTEG.get(m["integ"].lower())
    if integ is None:
        raise KeysFileError(path, no, f"unknown tcpdump integrity {m['integ']!r} (sha1 or md5)")
    encr, bits, _ = _cipher(path, no, m["encr"])
    side = "i" if m["role"] == "I" else "r"
    acc = ike.setdefault((spis[0], spis[1]), _IkeAcc(SourceRef(path, no)))
    acc.encr, acc.bits, acc.integ = encr, bits, integ
    acc.keys[f"sk_a{side}"] = _secret(path, no, m["ikey"])
    acc.keys[f"sk_e{side}"] = _secret(path, no, m["ekey"])
