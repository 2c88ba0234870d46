"""ikeview's own keys file: TOML with ``[[psk]]``, ``[[dh]]``, ``[[ike_sa]]``, ``[[esp]]`` tables.

Example (every field of each table)::

    [[psk]]
    secret = "text secret"          # or: hex = "0x7365..."
    peer = "192.0.2.1"              # optional scope: only IKE SAs with this peer address
    id = "moon.example"             # optional scope: only this IDi/IDr
    label = "lab psk"               # optional name in reports

    [[dh]]
    shared_secret = "hex"           # g^ir; or: private_key = "hex" (one side's DH private value)
    spi_i = "0123456789abcdef"      # optional: the IKE SA it belongs to
    child = true                    # optional: a PFS CREATE_CHILD_SA's g^ir ...
    spi = "c0ffee01"                # ... of the child SA with this ESP SPI (optional);
                                    # with child = true, spi_i / spi_r name the child SA's
                                    # ESP SPIs instead and ike_spi_i the IKE SA

    [[ike_sa]]
    spi_i = "hex16"
    spi_r = "hex16"
    sk_d = "hex"                    # any of sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr
    encr = "AES-CBC-256"            # optional: name or number, key_bits = 256 for numbers
    integ = "HMAC_SHA2_256_128"     # optional
    prf = "PRF_HMAC_SHA2_256"       # optional

    [[esp]]
    spi = "c0ffee01"                # hex text, or a number
    encr_key = "hex"
    integ_key = "hex"
    src = "192.0.2.1"               # optional
    dst = "192.0.2.2"               # optional
    encr = "AES_GCM_16_128"         # optional, as for ike_sa
    integ = "NONE"                  # optional

    [[eap]]
    identity = "carol"              # the EAP identity ("*" = any)
    password = "text"               # its password (EAP-MSCHAPv2's MSK is derived from it)

tomllib reports no line numbers for values, so records get theirs by counting table headers in
the text: the Nth ``[[dh]]`` header line belongs to the Nth ``[[dh]]`` table.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ikeview.keys.algorithms import parse_encr, parse_integ, parse_prf
from ikeview.keys.errors import KeysFileError, did_you_mean
from ikeview.keys.hexutil import parse_esp_spi, parse_hex, parse_spi8
from ikeview.keys.lengths import dh_secret_problem, esp_key_problem
from ikeview.keys.model import (
    SK_FIELDS,
    DhSecret,
    EapSecret,
    EspKeys,
    IkeSaKeys,
    KeyRecord,
    Psk,
    SourceRef,
)

TABLE_FIELDS: dict[str, tuple[str, ...]] = {
    "psk": ("secret", "hex", "peer", "id", "label"),
    "dh": ("shared_secret", "private_key", "spi_i", "child", "spi", "spi_r", "ike_spi_i"),
    "ike_sa": (
        "spi_i", "spi_r", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr",
        "encr", "key_bits", "integ", "prf",
    ),
    "esp": ("spi", "encr_key", "integ_key", "src", "dst", "encr", "key_bits", "integ"),
    "eap": ("identity", "password"),
}  # fmt: skip
"""Known fields of each table kind."""

T = TypeVar("T")

_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_\-]+)\s*\]\]")
_TOML_LINE = re.compile(r"\(at line (\d+)")


@functools.lru_cache(maxsize=1)
def _parsed(text: str) -> dict[str, Any] | tomllib.TOMLDecodeError:
    """tomllib's result for ``text``, kept for the one text being loaded: detecting the format
    and loading it then parse once (tomllib takes some microseconds per line)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return e


def looks_like(text: str) -> bool:
    """Our TOML: it parses and holds tables (arrays of tables), or it fails to parse but has a
    ``[[psk]]``-style header, so that its syntax error is reported rather than "unknown format".
    """
    doc = _parsed(text)
    if isinstance(doc, tomllib.TOMLDecodeError):
        return any(
            (m := _HEADER.match(line)) and m.group(1) in TABLE_FIELDS for line in text.splitlines()
        )
    if any(k in TABLE_FIELDS for k in doc):
        return True
    # Only unknown tables ([[pks]]): still ours, so the typo gets a suggestion.
    return bool(doc) and all(
        isinstance(v, list) and v and all(isinstance(t, dict) for t in v) for v in doc.values()
    )


class _Table:
    """One ``[[kind]]`` table with the line numbers needed for errors."""

    def __init__(self, path: str, kind: str, data: dict[str, Any], lines: list[str], start: int):
        self.path = path
        self.kind = kind
        self.data = data
        self.start = start
        self._lines = lines

    def line_of(self, key: str) -> int:
        """Line of ``key = ...`` inside this table, else the header's."""
        pat = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(self.start, len(self._lines)):
            if i > self.start and _HEADER.match(self._lines[i]):
                break
            if pat.match(self._lines[i]):
                return i + 1
        return self.start + 1

    def fail(self, key: str | None, problem: str) -> KeysFileError:
        line = self.line_of(key) if key else self.start + 1
        return KeysFileError(self.path, line, f"[[{self.kind}]] {problem}")

    def ref(self) -> SourceRef:
        return SourceRef(self.path, self.start + 1)

    def text(self, key: str) -> str | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.fail(key, f"{key} must be a string, not {type(v).__name__}")
        return v

    def hex(self, key: str) -> bytes | None:
        v = self.text(key)
        if v is None:
            return None
        try:
            return parse_hex(v)
        except ValueError as e:
            raise self.fail(key, f"{key} is {e}") from None

    def convert(self, key: str, fn: Callable[[Any], T]) -> T | None:
        v = self.data.get(key)
        if v is None:
            return None
        if not isinstance(v, str | int) or isinstance(v, bool):
            raise self.fail(key, f"{key} must be a string or a number")
        try:
            return fn(v)
        except ValueError as e:
            raise self.fail(key, f"{key} {e}") from None


def load_toml(text: str, path: str) -> list[KeyRecord]:
    """Parse an ikeview TOML keys file into records (raises KeysFileError)."""
    doc = _parsed(text)
    if isinstance(doc, tomllib.TOMLDecodeError):
        e = doc
        m = _TOML_LINE.search(str(e))
        raise KeysFileError(path, int(m.group(1)) if m else 0, f"not valid TOML: {e}") from None
    lines = text.splitlines()
    records: list[KeyRecord] = []
    for table in _tables(doc, lines, path):
        unknown = [k for k in table.data if k not in TABLE_FIELDS[table.kind]]
        if unknown:
            k = unknown[0]
            hint = did_you_mean(k, TABLE_FIELDS[table.kind])
            raise KeysFileError(
                path, table.line_of(k), f"unknown field '{k}' in [[{table.kind}]]{hint}"
            )
        records.append(_BUILDERS[table.kind](table))
    return records


def _tables(doc: dict[str, Any], lines: list[str], path: str) -> Iterator[_Table]:
    headers: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        if m := _HEADER.match(line):
            headers.setdefault(m.group(1), []).append(i)
    found: list[_Table] = []
    for kind, value in doc.items():
        if kind not in TABLE_FIELDS:
            at = headers.get(kind, [None])[0]
            lineno = at + 1 if at is not None else _key_line(lines, kind)
            hint = did_you_mean(kind, TABLE_FIELDS)
            raise KeysFileError(path, lineno, f"unknown table '{kind}'{hint}")
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise KeysFileError(
                path, _key_line(lines, kind), f"'{kind}' must be written as [[{kind}]] tables"
            )
        starts = headers.get(kind, [])
        for n, data in enumerate(value):
            # Inline arrays of tables have no header lines: fall back to the key's own line.
            start = starts[n] if n < len(starts) else _key_line(lines, kind) - 1
            found.append(_Table(path, kind, data, lines, start))
    # Report in file order, whatever order the kinds came in.
    yield from sorted(found, key=lambda t: t.start)


def _key_line(lines: list[str], key: str) -> int:
    for i, line in enumerate(lines):
        if re.match(rf"^\s*\[*\s*{re.escape(key)}\b", line):
            return i + 1
    return 0


def _psk(t: _Table) -> Psk:
    secret_text = t.text("secret")
    secret_hex = t.hex("hex")
    if (secret_text is None) == (secret_hex is None):
        raise t.fail(None, "needs exactly one of 'secret' (text) or 'hex'")
    secret = secret_hex if secret_hex is not None else (secret_text or "").encode()
    if not secret:
        raise t.fail("secret" if secret_text is not None else "hex", "secret is empty")
    label = t.text("label") or f"psk@{t.start + 1}"
    return Psk(secret, label, t.text("peer"), t.text("id"), t.ref())


def _dh(t: _Table) -> DhSecret:
    record = _dh_record(t)
    # Checked last, so that a dummy "00" in a table with another mistake names that mistake.
    shared = record.shared_secret
    if shared is not None and (problem := dh_secret_problem(shared)):
        raise t.fail("shared_secret", f"shared_secret {problem}" if shared else
                     "shared_secret is empty")  # fmt: skip
    if record.private_key is not None and not record.private_key:
        raise t.fail("private_key", "private_key is empty")
    return record


def _dh_record(t: _Table) -> DhSecret:
    shared = t.hex("shared_secret")
    private = t.hex("private_key")
    if (shared is None) == (private is None):
        raise t.fail(None, "needs exactly one of 'shared_secret' or 'private_key'")
    child = t.data.get("child", False)
    if not isinstance(child, bool):
        raise t.fail("child", "child must be true or false")
    if not child:
        for key in ("spi", "spi_r", "ike_spi_i"):
            if key in t.data:
                raise t.fail(key, f"{key} is only for a child SA's g^ir: add child = true")
        return DhSecret(shared, private, t.convert("spi_i", parse_spi8), False, None, t.ref())
    # A child SA is named by either of its ESP SPIs (spi, or spi_i / spi_r as the exchange
    # initiator / responder chose them); its IKE SA by ike_spi_i.
    spis = [t.convert(k, parse_esp_spi) for k in ("spi", "spi_i", "spi_r")]
    child_spi = next((v for v in spis if v is not None), None)
    return DhSecret(shared, private, t.convert("ike_spi_i", parse_spi8), True, child_spi, t.ref())


def _algorithms(t: _Table) -> tuple[int | None, int | None, int | None]:
    encr = t.convert("encr", parse_encr)
    bits = t.data.get("key_bits")
    if bits is not None and (not isinstance(bits, int) or isinstance(bits, bool) or bits <= 0):
        raise t.fail("key_bits", "key_bits must be a positive number")
    if encr is None:
        if bits is not None:
            raise t.fail("key_bits", "key_bits without encr")
        return None, None, t.convert("integ", parse_integ)
    encr_id, named_bits = encr
    if bits is not None and named_bits is not None and bits != named_bits:
        raise t.fail("key_bits", f"key_bits = {bits} contradicts encr ({named_bits} bits)")
    return encr_id, named_bits or bits, t.convert("integ", parse_integ)


def _ike_sa(t: _Table) -> IkeSaKeys:
    for key in ("spi_i", "spi_r"):
        if key not in t.data:
            raise t.fail(None, f"missing required field '{key}'")
    spi_i = t.convert("spi_i", parse_spi8)
    spi_r = t.convert("spi_r", parse_spi8)
    sks = {k: t.hex(k) for k in SK_FIELDS}
    if all(v is None for v in sks.values()):
        raise t.fail(None, "gives no keys: add any of " + ", ".join(SK_FIELDS))
    encr, bits, integ = _algorithms(t)
    prf = t.convert("prf", parse_prf)
    assert spi_i is not None and spi_r is not None
    return IkeSaKeys(
        spi_i, spi_r, sks["sk_d"], sks["sk_ai"], sks["sk_ar"], sks["sk_ei"], sks["sk_er"],
        sks["sk_pi"], sks["sk_pr"], encr, bits, integ, prf, None, t.ref(),
    )  # fmt: skip


def _esp(t: _Table) -> EspKeys:
    if "spi" not in t.data:
        raise t.fail(None, "missing required field 'spi'")
    spi = t.convert("spi", parse_esp_spi)
    encr_key = t.hex("encr_key")
    integ_key = t.hex("integ_key")
    if encr_key is None and integ_key is None:
        raise t.fail(None, "gives no keys: add encr_key and/or integ_key")
    encr, bits, integ = _algorithms(t)
    _check_esp_key(t, "encr_key", encr_key, 1, encr, bits)
    _check_esp_key(t, "integ_key", integ_key, 3, integ, None)
    assert spi is not None
    return EspKeys(
        spi, encr_key, integ_key, t.text("src"), t.text("dst"), encr, bits, integ, None, t.ref()
    )


def _check_esp_key(
    t: _Table, key: str, value: bytes | None, ttype: int, alg: int | None, bits: int | None
) -> None:
    """A key of the wrong length for the algorithm named beside it: say so here, where it is
    written, rather than let the capture's packets fail later as "no keys"."""
    if value is None:
        return
    if not value:
        raise t.fail(key, f"{key} is empty")
    if problem := esp_key_problem(value, ttype, alg, bits):
        raise t.fail(key, f"{key} {problem}")


def _eap(t: _Table) -> EapSecret:
    identity, password = t.text("identity"), t.text("password")
    if not identity:
        raise t.fail("identity" if identity is not None else None, "needs an 'identity'")
    if password is None:
        raise t.fail(None, "needs a 'password'")
    return EapSecret(identity, password, t.ref())


_BUILDERS: dict[str, Callable[[_Table], KeyRecord]] = {
    "psk": _psk,
    "dh": _dh,
    "ike_sa": _ike_sa,
    "esp": _esp,
    "eap": _eap,
}
