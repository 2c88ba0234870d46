"""Wireshark's IPsec key tables (UAT files): ``ikev2_decryption_table`` and ``esp_sa``.

Read them as key sources, and write them so tshark/Wireshark 4.0 can decrypt with keys ikeview
derived. strongSwan's save-keys plugin writes the same two files, so its output is read here too.

File syntax (Wireshark's UAT, one record per line, ``#`` comments), as TShark 4.0.17 accepts it:

- ``ikev2_decryption_table``: ``SPIi,SPIr,SK_ei,SK_er,"<encr label>",SK_ai,SK_ar,"<integ label>"``.
  Hex is unquoted (a quoted SPI is rejected); SK_e includes the CTR/GCM/CCM salt; SK_a is empty
  with AEAD ciphers, whose integrity label must be ``NONE``.
- ``esp_sa``: ``"IPv4|IPv6","<src>","<dst>","0x<spi>","<encr label>","0x<key>","<auth label>",
  "0x<key>"``, every field quoted; addresses may be ``*``. AES-GCM must use the label with the ICV
  length and ``NULL`` authentication (the plain ``AES-GCM [RFC4106]`` that save-keys writes makes
  every packet a dissector error in 4.0).
- Labels are exact, case-sensitive strings.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ikeview.crypto.transforms import TRANSFORMS, TransformType, by_id, lookup
from ikeview.errors import IkeviewError
from ikeview.iana.names import encr_name, integ_name
from ikeview.keys.algorithms import AEAD_ENCR
from ikeview.keys.errors import KeysFileError
from ikeview.keys.hexutil import parse_hex
from ikeview.keys.model import EspKeys, IkeSaKeys, KeyRecord, KeyRing, SourceRef
from ikeview.outfile import OutputError, write_text
from ikeview.textsafe import printable


@dataclass(frozen=True, slots=True)
class Label:
    """One Wireshark algorithm label and what it means in IANA terms."""

    text: str
    """The label exactly as Wireshark spells it (without the quotes)."""
    iana: int | None
    """IANA ENCR or INTEG id; None when IANA has none (e.g. HMAC-SHA-256-96)."""
    key_bits: int | None = None
    """ENCR key size fixed by the label; None when it follows from the key length."""
    icv_unchecked: int | None = None
    """For the "ANY n-bit" integrity labels: ICV bytes skipped without checking."""


# Lengths by IANA id, read off crypto's TRANSFORMS (the one algorithm table), for the transforms
# Wireshark 4.0's tables can name.
_E, _I = TransformType.ENCR, TransformType.INTEG
# Salt/nonce octets at the end of SK_e (RFC 5282 GCM/CCM, RFC 5930 CTR in IKEv2).
_IKE_SALT = by_id(_E, "salt_len", lambda r: r.salt_len > 0 and r.ws_ikev2_label is not None)
# Salt/nonce octets at the end of an ESP key (RFC 3686, 4106, 4309, 4543); ids come from labels.
_ESP_SALT = by_id(_E, "salt_len", lambda r: r.salt_len > 0)
_ICV_OF_AEAD = by_id(_E, "icv_len", lambda r: r.aead and r.ws_ikev2_label is not None)
# INTEG key octets (HMAC keys of the hash size: RFC 2403, 2404, 4595, 4868).
_INTEG_KEY_BYTES = by_id(_I, "key_len", lambda r: r.ws_ikev2_label is not None)


def _labels(ttype: TransformType, attr: str) -> list[Label]:
    """The labels TRANSFORMS' rows carry for one Wireshark table, in table order, one per text.

    A label names its key size only where the id has several (AES-CBC-128 ...); 3DES and NULL
    have one row each and leave it open, as the ESP labels of AES do (several rows, one text).
    """
    sizes: dict[int, int] = {}
    for row in TRANSFORMS.values():
        if row.type is ttype:
            sizes[row.id] = sizes.get(row.id, 0) + 1
    out: dict[str, Label] = {}
    for row in TRANSFORMS.values():
        text = getattr(row, attr)
        if row.type is ttype and text is not None and text not in out:
            shared = sum(getattr(r, attr) == text for r in TRANSFORMS.values())
            bits = row.key_bits if sizes[row.id] > 1 and shared == 1 else None
            out[text] = Label(text, row.id, bits)
    return list(out.values())


# The labels naming an IANA algorithm come from crypto's TRANSFORMS (the one algorithm table);
# only the ones without an IANA id (and the misspellings we read) are listed here.
IKEV2_ENCR_LABELS: tuple[Label, ...] = tuple(_labels(_E, "ws_ikev2_label"))
"""Encryption labels of Wireshark 4.0's ``ikev2_decryption_table``."""

IKEV2_INTEG_LABELS: tuple[Label, ...] = (
    *_labels(_I, "ws_ikev2_label"),
    Label("HMAC_SHA2_256_96 [draft-ietf-ipsec-ciph-sha-256-00]", None),
    *(
        Label(f"ANY {n}-bits of Authentication [No Checking]", None, icv_unchecked=n // 8)
        for n in (64, 96, 128, 160, 192, 256)
    ),
)
"""Integrity labels of Wireshark 4.0's ``ikev2_decryption_table``."""

ESP_ENCR_LABELS: tuple[Label, ...] = (
    *_labels(_E, "ws_esp_label"),
    Label("DES-CBC [RFC2405]", 2),
    Label("CAST5-CBC [RFC2144]", 6),
    Label("BLOWFISH-CBC [RFC2451]", 7),
    Label("TWOFISH-CBC", None),
    # Deprecated; strongSwan's save-keys writes it for every GCM ICV size. Read only.
    Label("AES-GCM [RFC4106]", 20),
    # save-keys before 5.9.14 misspelt 3DES this way; Wireshark rejects it, we read it.
    Label("TripleDes-CBC [RFC2451]", 3),
)
"""Encryption labels of Wireshark 4.0's ``esp_sa``."""

ESP_AUTH_LABELS: tuple[Label, ...] = (
    *_labels(_I, "ws_esp_label"),
    Label("HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]", None),
    Label("MAC-RIPEMD-160-96 [RFC2857]", None),
    *(
        Label(f"ANY {n} bit authentication [no checking]", None, icv_unchecked=n // 8)
        for n in (64, 96, 128, 192, 256)
    ),
)
"""Authentication labels of Wireshark 4.0's ``esp_sa``."""

R = TypeVar("R", IkeSaKeys, EspKeys)

_DEPRECATED_ESP_GCM = "AES-GCM [RFC4106]"
_GCM_BY_ICV = {
    icv: encr
    for encr, icv in by_id(_E, "icv_len", lambda r: r.aead and r.ws_esp_label is not None).items()
}
"""ESP AES-GCM id by ICV octets (RFC 4106: 8, 12, 16)."""


class WiresharkExportError(IkeviewError):
    """Keys that Wireshark 4.0's tables cannot express (algorithm, missing key, bad length)."""


def _by_text(labels: Iterable[Label]) -> dict[str, Label]:
    return {lab.text: lab for lab in labels}


_IKE_ENCR = _by_text(IKEV2_ENCR_LABELS)
_IKE_INTEG = _by_text(IKEV2_INTEG_LABELS)
_ESP_ENCR = _by_text(ESP_ENCR_LABELS)
_ESP_AUTH = _by_text(ESP_AUTH_LABELS)


# --- reading ------------------------------------------------------------------------------------

_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")
_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})|\\(.)")


@dataclass(frozen=True, slots=True)
class _Field:
    value: str
    quoted: bool


def split_uat_line(line: str) -> list[_Field]:
    """Split one UAT record into fields; quoted fields may hold commas and ``\\xNN`` escapes."""
    fields: list[_Field] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] == '"':
            j = i + 1
            buf = []
            while j < n and line[j] != '"':
                if line[j] == "\\" and j + 1 < n:
                    buf.append(line[j : j + 2] if line[j + 1] != "x" else line[j : j + 4])
                    j += len(buf[-1])
                    continue
                buf.append(line[j])
                j += 1
            if j >= n:
                raise ValueError("unterminated quoted field")
            raw = "".join(buf)
            value = _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else m[2], raw)
            fields.append(_Field(value, True))
            i = j + 1
            while i < n and line[i] in " \t":
                i += 1
            if i < n and line[i] != ",":
                # Not echoed: the rest of the line may hold keys.
                raise ValueError(f"unexpected text after quoted field {len(fields)}")
        else:
            j = line.find(",", i)
            j = n if j < 0 else j
            fields.append(_Field(line[i:j].strip(), False))
            i = j
        if i >= n:
            return fields
        i += 1  # the comma


def _records(text: str) -> Iterable[tuple[int, str]]:
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith("#"):
            yield no, s


def _try_split(line: str) -> list[_Field] | None:
    try:
        return split_uat_line(line)
    except ValueError:
        return None


def _is_ikev2_row(fields: list[_Field] | None) -> bool:
    return (
        fields is not None
        and len(fields) == 8
        and not fields[0].quoted
        and bool(_HEX16.match(fields[0].value))
        and fields[4].quoted
        and fields[7].quoted
    )


def _is_esp_row(fields: list[_Field] | None) -> bool:
    return (
        fields is not None
        and len(fields) >= 8
        and fields[0].quoted
        and fields[0].value in ("IPv4", "IPv6", "Any", "*")
        and fields[3].value.lower().startswith(("0x", "*"))
    )


def _is_ikev1_row(fields: list[_Field] | None) -> bool:
    return (
        fields is not None
        and len(fields) == 2
        and not any(f.quoted for f in fields)
        and bool(_HEX16.match(fields[0].value))
    )


def detect(text: str) -> str | None:
    """``ikev2_decryption_table``, ``esp_sa``, ``ikev1_decryption_table`` or None.

    Decided on the first record; a file of comments only is not a table.
    """
    for _, line in _records(text):
        fields = _try_split(line)
        if _is_ikev2_row(fields):
            return "ikev2_decryption_table"
        if _is_esp_row(fields):
            return "esp_sa"
        if _is_ikev1_row(fields):
            return "ikev1_decryption_table"
        return None
    return None


def _hex_field(path: str, no: int, name: str, f: _Field) -> bytes | None:
    if not f.value:
        return None
    try:
        return parse_hex(f.value)
    except ValueError as e:
        raise KeysFileError(path, no, f"{name} is {e}") from None


def read_ikev2_table(text: str, path: str) -> list[IkeSaKeys]:
    """Rows of an ``ikev2_decryption_table`` file as IkeSaKeys (raises KeysFileError)."""
    out: list[IkeSaKeys] = []
    for no, line in _records(text):
        try:
            f = split_uat_line(line)
        except ValueError as e:
            raise KeysFileError(path, no, str(e)) from None
        if len(f) != 8:
            raise KeysFileError(
                path, no, f"ikev2_decryption_table rows have 8 fields, this one has {len(f)}"
            )
        spis = []
        for idx, name in ((0, "Initiator's SPI"), (1, "Responder's SPI")):
            spi = _hex_field(path, no, name, f[idx])
            if spi is None or len(spi) != 8:
                raise KeysFileError(path, no, f"{name} must be 8 bytes (16 hex digits)")
            spis.append(spi)
        encr = _IKE_ENCR.get(f[4].value)
        if encr is None:
            raise KeysFileError(path, no, f"unknown IKEv2 encryption label {f[4].value!r}")
        integ = _IKE_INTEG.get(f[7].value)
        if integ is None:
            raise KeysFileError(path, no, f"unknown IKEv2 integrity label {f[7].value!r}")
        out.append(
            IkeSaKeys(
                spi_i=spis[0],
                spi_r=spis[1],
                sk_d=None,
                sk_ai=_hex_field(path, no, "SK_ai", f[5]),
                sk_ar=_hex_field(path, no, "SK_ar", f[6]),
                sk_ei=_hex_field(path, no, "SK_ei", f[2]),
                sk_er=_hex_field(path, no, "SK_er", f[3]),
                sk_pi=None,
                sk_pr=None,
                encr=encr.iana,
                encr_key_bits=encr.key_bits,
                integ=integ.iana,
                prf=None,
                icv_unchecked=integ.icv_unchecked,
                source=SourceRef(path, no),
            )
        )
    return out


def _esp_key(path: str, no: int, name: str, f: _Field) -> bytes | None:
    v = f.value
    if not v:
        return None
    if v[:2].lower() == "0x":
        return _hex_field(path, no, name, f)
    return v.encode()  # Wireshark takes a key without 0x as ASCII text


def read_esp_sa(text: str, path: str) -> list[EspKeys]:
    """Rows of an ``esp_sa`` file as EspKeys (raises KeysFileError)."""
    out: list[EspKeys] = []
    for no, line in _records(text):
        try:
            f = split_uat_line(line)
        except ValueError as e:
            raise KeysFileError(path, no, str(e)) from None
        if len(f) < 8:
            raise KeysFileError(path, no, f"esp_sa rows have 8 fields, this one has {len(f)}")
        spi_text = f[3].value
        try:
            spi = int(spi_text, 16)
        except ValueError:
            raise KeysFileError(
                path, no, f"SPI {spi_text!r} is not a 0x... number (wildcards are not supported)"
            ) from None
        encr = _ESP_ENCR.get(f[4].value)
        if encr is None:
            raise KeysFileError(path, no, f"unknown ESP encryption label {f[4].value!r}")
        auth = _ESP_AUTH.get(f[6].value)
        if auth is None:
            raise KeysFileError(path, no, f"unknown ESP authentication label {f[6].value!r}")
        key = _esp_key(path, no, "Encryption Key", f[5])
        encr_id, integ_id, icv = encr.iana, auth.iana, auth.icv_unchecked
        if f[4].value == _DEPRECATED_ESP_GCM and icv in _GCM_BY_ICV:
            # save-keys pairs the old GCM label with "ANY n bit": that n is the GCM ICV.
            encr_id, integ_id, icv = _GCM_BY_ICV[icv], 0, None
        bits = None
        if key is not None and encr_id in (12, 13, 18, 19, 20, 21):
            bits = (len(key) - _ESP_SALT.get(encr_id, 0)) * 8
        out.append(
            EspKeys(
                spi=spi,
                encr_key=key,
                integ_key=_esp_key(path, no, "Authentication Key", f[7]),
                src=f[1].value or None,
                dst=f[2].value or None,
                encr=encr_id,
                encr_key_bits=bits,
                integ=integ_id,
                icv_unchecked=icv,
                source=SourceRef(path, no),
            )
        )
    return out


def load_wireshark(text: str, path: str) -> list[KeyRecord]:
    """Read whichever table the text is (see ``detect``)."""
    kind = detect(text)
    if kind == "ikev2_decryption_table":
        return list(read_ikev2_table(text, path))
    if kind == "esp_sa":
        return list(read_esp_sa(text, path))
    if kind == "ikev1_decryption_table":
        first = next(iter(_records(text)))[0]
        raise KeysFileError(path, first, "an IKEv1 decryption table: ikeview decrypts IKEv2 only")
    raise KeysFileError(path, 0, "not a Wireshark ikev2_decryption_table or esp_sa file")


# --- writing ------------------------------------------------------------------------------------


def _check_lengths(k: IkeSaKeys, label: str, want: int, *keys: tuple[str, bytes | None]) -> None:
    """Wireshark would misuse a key of another length: refuse it here, naming it."""
    for name, key in keys:
        have = len(key or b"")
        if have != want:
            raise WiresharkExportError(
                f"IKE SA {k.spi_i.hex()}: {name} is {have} bytes, {label} needs {want}"
            )


def _ike_encr_label(k: IkeSaKeys) -> str:
    if k.encr == 11:
        return "NULL [RFC2410]"
    if k.encr is None or k.sk_ei is None or k.sk_er is None:
        raise WiresharkExportError(f"IKE SA {k.spi_i.hex()}: needs SK_ei, SK_er and the cipher")
    bits = k.encr_key_bits
    if bits is None and k.encr in (12, 13, *_ICV_OF_AEAD):
        bits = (len(k.sk_ei) - _IKE_SALT.get(k.encr, 0)) * 8
    for lab in IKEV2_ENCR_LABELS:
        if lab.iana == k.encr and lab.key_bits == bits:
            want = lookup(_E, k.encr, lab.key_bits).keymat_len  # key + salt (RFC 5282, 5930)
            _check_lengths(k, lab.text, want, ("SK_ei", k.sk_ei), ("SK_er", k.sk_er))
            return lab.text
    raise WiresharkExportError(
        f"IKE SA {k.spi_i.hex()}: Wireshark cannot decrypt {encr_name(k.encr, bits)} in IKEv2"
    )


def _ike_integ_label(k: IkeSaKeys) -> str:
    if k.encr in AEAD_ENCR:
        return "NONE [RFC4306]"
    if k.integ is None and k.icv_unchecked is not None:
        return f"ANY {k.icv_unchecked * 8}-bits of Authentication [No Checking]"
    for lab in IKEV2_INTEG_LABELS:
        if lab.iana is not None and lab.iana == k.integ:
            _check_lengths(
                k, lab.text, _INTEG_KEY_BYTES[lab.iana], ("SK_ai", k.sk_ai), ("SK_ar", k.sk_ar)
            )
            return lab.text
    raise WiresharkExportError(
        f"IKE SA {k.spi_i.hex()}: Wireshark cannot check {integ_name(k.integ)} in IKEv2"
    )


def ikev2_row(k: IkeSaKeys) -> str:
    """One ``ikev2_decryption_table`` record (raises WiresharkExportError)."""
    encr = _ike_encr_label(k)
    integ = _ike_integ_label(k)
    aead_or_none = integ == "NONE [RFC4306]" or integ.startswith("ANY ")
    sk_ai = "" if aead_or_none else (k.sk_ai or b"").hex()
    sk_ar = "" if aead_or_none else (k.sk_ar or b"").hex()
    sk_ei, sk_er = (k.sk_ei or b"").hex(), (k.sk_er or b"").hex()
    return f'{k.spi_i.hex()},{k.spi_r.hex()},{sk_ei},{sk_er},"{encr}",{sk_ai},{sk_ar},"{integ}"'


def _esp_labels(e: EspKeys) -> tuple[str, str]:
    if e.encr is None or (e.encr != 11 and e.encr_key is None):
        raise WiresharkExportError(f"ESP SA {e.spi:08x}: needs the cipher and its key")
    if e.encr in _GCM_BY_ICV.values():
        return f"AES-GCM with {_ICV_OF_AEAD[e.encr]} octet ICV [RFC4106]", "NULL"
    encr = next(
        (lab.text for lab in ESP_ENCR_LABELS if lab.iana == e.encr and lab.text != "NULL"),
        "NULL" if e.encr == 11 else None,
    )
    if encr is None:
        raise WiresharkExportError(
            f"ESP SA {e.spi:08x}: Wireshark cannot decrypt {encr_name(e.encr, None)} in ESP"
        )
    if e.integ is None and e.icv_unchecked is not None:
        return encr, f"ANY {e.icv_unchecked * 8} bit authentication [no checking]"
    auth = next((lab.text for lab in ESP_AUTH_LABELS if lab.iana == e.integ), None)
    if auth is None:
        raise WiresharkExportError(
            f"ESP SA {e.spi:08x}: Wireshark cannot check {integ_name(e.integ)} in ESP"
        )
    return encr, auth


def _ip_version(*addrs: str | None) -> str:
    for a in addrs:
        if a and a != "*":
            try:
                return "IPv6" if ipaddress.ip_address(a).version == 6 else "IPv4"
            except ValueError:
                return "IPv6" if ":" in a else "IPv4"
    return "IPv4"


def esp_sa_row(e: EspKeys) -> str:
    """One ``esp_sa`` record (raises WiresharkExportError)."""
    encr, auth = _esp_labels(e)
    ekey = f"0x{e.encr_key.hex()}" if e.encr_key else ""
    akey = f"0x{e.integ_key.hex()}" if e.integ_key and auth != "NULL" else ""
    fields = (
        _ip_version(e.src, e.dst), e.src or "*", e.dst or "*", f"0x{e.spi:08x}",
        encr, ekey, auth, akey,
    )  # fmt: skip
    return ",".join(f'"{v}"' for v in fields)


_HEADER = "# Written by ikeview. Wireshark UAT file: one record per line.\n"


def write_ikev2_table(rows: Iterable[IkeSaKeys]) -> str:
    """The text of an ``ikev2_decryption_table`` file (raises WiresharkExportError)."""
    return _HEADER + "".join(ikev2_row(k) + "\n" for k in rows)


def write_esp_sa(rows: Iterable[EspKeys]) -> str:
    """The text of an ``esp_sa`` file (raises WiresharkExportError)."""
    return _HEADER + "".join(esp_sa_row(e) + "\n" for e in rows)


ESP_PREFERENCES = (
    "# Written by ikeview: ESP decryption is off by default in Wireshark.\n"
    "esp.enable_encryption_decode: TRUE\n"
    "esp.enable_authentication_check: TRUE\n"
)
"""A Wireshark ``preferences`` file that turns on ESP decryption and ICV checks."""


def wireshark_files(keyring: KeyRing) -> tuple[dict[str, str], list[str]]:
    """The texts of ``ikev2_decryption_table``, ``esp_sa`` and ``preferences`` by file name,
    and the records Wireshark cannot express (each named with the reason)."""
    skipped: list[str] = []
    files = {
        "ikev2_decryption_table": _table_of(keyring.ike_sas, ikev2_row, skipped),
        "esp_sa": _table_of(keyring.esp_sas, esp_sa_row, skipped),
        "preferences": ESP_PREFERENCES,
    }
    return files, skipped


def save_wireshark_config(
    directory: Path, keyring: KeyRing, *, inputs: Iterable[Path] = ()
) -> list[str]:
    """Write ``ikev2_decryption_table``, ``esp_sa`` and ``preferences`` into ``directory``.

    Use it as ``WIRESHARK_CONFIG_DIR``. Records Wireshark cannot express are left out; the
    returned list says which and why (empty when everything was written). The files hold keys:
    they are written 0600, never through a link, never over one of ``inputs``.
    """
    files, skipped = wireshark_files(keyring)
    write_config_files(directory, files, inputs=inputs)
    return skipped


def write_config_files(
    directory: Path, files: dict[str, str], *, inputs: Iterable[Path] = ()
) -> list[Path]:
    """Write each named text into ``directory`` (made if missing) as key material (0600)."""
    directory = Path(directory)
    if directory.is_symlink() and not directory.is_dir():
        raise OutputError(f"{printable(str(directory))} is a link to nothing; give a directory")
    if directory.exists() and not directory.is_dir():
        raise OutputError(
            f"{printable(str(directory))} exists and is not a directory; --wireshark needs a "
            "directory to put the Wireshark tables in"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot make the directory {printable(str(directory))}: {exc.strerror}"
        ) from None
    written = []
    sources = list(inputs)
    for name, text in files.items():
        write_text(directory / name, text, inputs=sources, secret=True)
        written.append(directory / name)
    return written


def _table_of(records: Iterable[R], row: Callable[[R], str], skipped: list[str]) -> str:
    """A UAT file of the records ``row`` can express; each other one is named in ``skipped``."""
    lines: list[str] = []
    for rec in records:
        try:
            lines.append(row(rec) + "\n")
        except WiresharkExportError as e:
            skipped.append(f"{rec.source}: {e.msg}")
    return _HEADER + "".join(lines)
