"""The ``keys`` command's output: every derived SK_* and ESP key, as JSON or Wireshark tables.

The records come from ``KeyringDecryptor.derived_keys()``; an analysis passes them on as its
``derived_keys`` (attribute or method), or its ``decryptor``. Wireshark 4.0 gets
``ikev2_decryption_table``, ``esp_sa`` and a ``preferences`` file turning on ESP decryption,
written by ``ikeview.keys.wireshark`` (labels as tshark 4.0.17 accepts them); SAs Wireshark
cannot express (ChaCha20-Poly1305, AES-GMAC, ...) are left out and named in a comment line.
This output holds secrets by design: the user asked for the keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ikeview.crypto.transforms import TransformType, UnsupportedTransform, lookup
from ikeview.keys.model import KeyRing
from ikeview.keys.wireshark import wireshark_files, write_config_files
from ikeview.pipeline.dec_records import DerivedEspSa, DerivedIkeSa, spis_text

Derived = DerivedIkeSa | DerivedEspSa

_SK_NAMES = ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr")


def derived_records(source: object) -> tuple[Derived, ...]:
    """The derived-key records of an analysis, a decryptor or an iterable of records."""
    # An Analysis holds a tuple, KeyringDecryptor a method of the same name.
    keys = getattr(source, "derived_keys", None)
    if keys is not None:
        return tuple(keys() if callable(keys) else keys)
    decryptor = getattr(source, "decryptor", None)
    if decryptor is not None:
        return derived_records(decryptor)
    if isinstance(source, Iterable):
        return tuple(r for r in source if isinstance(r, DerivedIkeSa | DerivedEspSa))
    raise TypeError(f"no derived keys in a {type(source).__name__}")


def _name(ttype: TransformType, tid: int | None, bits: int | None = None) -> str | None:
    if tid is None:
        return None
    try:
        return lookup(ttype, tid, bits).name
    except UnsupportedTransform:
        return f"{ttype.name} {tid}"


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def ike_json(rec: DerivedIkeSa) -> dict[str, Any]:
    """One IKE SA's keys as a JSON object (hex strings, IANA names and ids)."""
    k = rec.keys
    out: dict[str, Any] = {
        "spi_i": k.spi_i.hex(),
        "spi_r": k.spi_r.hex(),
        "initiator": rec.initiator,
        "responder": rec.responder,
        "rekey_of": spis_text(rec.parent) if rec.parent else None,
        "encr": _name(TransformType.ENCR, k.encr, k.encr_key_bits),
        "encr_id": k.encr,
        "encr_key_bits": k.encr_key_bits,
        "integ": _name(TransformType.INTEG, k.integ),
        "integ_id": k.integ,
        "prf": _name(TransformType.PRF, k.prf),
        "prf_id": k.prf,
    }
    out.update({n: _hex(getattr(k, n)) for n in _SK_NAMES})
    out["origin"] = rec.origin
    out["verified"] = rec.verified
    return out


def esp_json(rec: DerivedEspSa) -> dict[str, Any]:
    """One ESP SA's keys as a JSON object."""
    k = rec.keys
    return {
        "spi": f"0x{k.spi:08x}",
        "src": k.src,
        "dst": k.dst,
        "ike_sa": spis_text(rec.ike) if rec.ike else None,
        "encr": _name(TransformType.ENCR, k.encr, k.encr_key_bits),
        "encr_id": k.encr,
        "encr_key_bits": k.encr_key_bits,
        "integ": _name(TransformType.INTEG, k.integ),
        "integ_id": k.integ,
        "esn": rec.esn,
        "encr_key": _hex(k.encr_key),
        "integ_key": _hex(k.integ_key),
        "origin": rec.origin,
        "verified": rec.verified,
    }


def keys_json(source: object) -> dict[str, Any]:
    """``{"ike_sas": [...], "esp_sas": [...]}`` with every derived key, for ``ikeview keys``."""
    records = derived_records(source)
    return {
        "ike_sas": [ike_json(r) for r in records if isinstance(r, DerivedIkeSa)],
        "esp_sas": [esp_json(r) for r in records if isinstance(r, DerivedEspSa)],
    }


def keyring_of(records: Iterable[Derived]) -> KeyRing:
    """The derived keys as a key ring (what Wireshark's tables are written from)."""
    recs = tuple(records)
    return KeyRing(
        ike_sas=tuple(r.keys for r in recs if isinstance(r, DerivedIkeSa)),
        esp_sas=tuple(r.keys for r in recs if isinstance(r, DerivedEspSa)),
    )


def write_wireshark_tables(
    source: object, directory: Path, *, inputs: Iterable[Path] = ()
) -> list[Path]:
    """Write ``ikev2_decryption_table``, ``esp_sa`` and ``preferences`` into ``directory``.

    Use the directory as ``WIRESHARK_CONFIG_DIR``. Returns the files written. Keys Wireshark 4.0
    cannot use are left out with a ``# skipped:`` comment saying which and why. The files hold
    keys: created 0600, never through a link, never over one of ``inputs`` (see outfile).
    """
    files, skipped = wireshark_files(keyring_of(derived_records(source)))
    for note in skipped:
        name = "esp_sa" if note.startswith("ESP") or "ESP SA" in note else "ikev2_decryption_table"
        files[name] += f"# skipped: {note}\n"
    return write_config_files(Path(directory), files, inputs=inputs)
