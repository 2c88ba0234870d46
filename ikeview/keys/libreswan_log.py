"""libreswan pluto logs with ``plutodebug="base crypt private"``: IKE SA and child SA keys.

Only derived keys can be had: pluto never logs g^ir, SKEYSEED or SK_d (notes/strongswan-lab.md).
Lines used (debug lines start with ``| ``, possibly after a timestamp):

- ``ikev2 I|R 0xSPIi 0xSPIr INTEG:0xSK_a ENCR:0xSK_e`` (the tcpdump ``-E`` syntax): SK_a and SK_e
  for messages sent by the initiator (I) or responder (R); SK_e without the salt. pluto cuts
  each key at 32 bytes there, so the ``ai``/``ar``/``ei``/``er`` dumps before it are preferred.
- ``NAME extracting all N bytes of key@0x...`` then, a few lines on, ``unwrapped:`` and hex-dump
  lines (groups of 4 bytes): the first N bytes are the value of NAME. Names used here:
  ``initiator salt`` / ``responder salt`` (appended to SK_e for AES-GCM/CTR/CCM),
  ``SK_pi`` / ``SK_pr``, ``initiator to responder keys`` / ``responder to initiator keys``
  (child KEYMAT, encryption key then integrity key, RFC 7296 section 2.17).
- ``initiator|responder established Child SA ... {ESP[/..]=>0xOUT <0xIN xfrm=ENCR-INTEG ...}``:
  the SPIs and algorithms of the child SA whose KEYMAT was dumped last.

No real pluto log was available when this was written: the tests use a self-made excerpt
following libreswan 4.x source, so the exact spacing of real logs may differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ikeview.keys.algorithms import AEAD_ENCR, parse_encr, parse_integ
from ikeview.keys.errors import KeysFileError
from ikeview.keys.model import EspKeys, IkeSaKeys, KeyRecord, SourceRef
from ikeview.keys.tcpdump import TCPDUMP_CIPHERS, TCPDUMP_INTEG

_DEBUG = re.compile(r"^(?:.*?: )?\| ?(?P<msg>.*)$")
_IKE_LINE = re.compile(
    r"^ikev2 (?P<role>[IR]) 0x(?P<spi_i>[0-9a-fA-F]{16}) 0x(?P<spi_r>[0-9a-fA-F]{16}) "
    r"(?P<integ>[^\s:]+):0x(?P<ikey>[0-9a-fA-F]*) (?P<encr>[^\s:]+):0x(?P<ekey>[0-9a-fA-F]*)\s*$"
)
_EXTRACT = re.compile(r"^(?P<name>.+?):? extracting all (?P<n>\d+) bytes of key@")
_UNWRAPPED = re.compile(r"unwrapped:?(?P<hex>(?:\s+[0-9a-fA-F]{2})*)\s*$")
_HEXLINE = re.compile(r"^(?:\s*[0-9a-fA-F]{2})+\s*$")
_CHILD_UP = re.compile(
    r"(?P<role>initiator|responder) established Child SA.*\{ESP\S*=>0x(?P<out>[0-9a-fA-F]{8}) "
    r"<0x(?P<in>[0-9a-fA-F]{8}) xfrm=(?P<xfrm>\S+)"
)

MARKERS = ("ikev2 I 0x", "ikev2 R 0x", "initiator to responder keys")
"""Strings of which one must appear in a pluto log for it to hold keys."""

_SALT = {13: 4, 14: 3, 15: 3, 16: 3, 18: 4, 19: 4, 20: 4, 21: 4, 28: 4}
_INTEG_KEY = {0: 0, 1: 16, 2: 20, 5: 16, 8: 16, 12: 32, 13: 48, 14: 64}
_ENCR_FIXED = {2: 8, 3: 24, 11: 0, 28: 32}


def looks_like(text: str) -> bool:
    """A pluto debug log holding keys."""
    return any(
        (m := _DEBUG.match(line)) and (_IKE_LINE.match(m["msg"]) or _EXTRACT.match(m["msg"]))
        for line in text.splitlines()
        if "| " in line
    )


def _name(table: dict, fn, name: str):  # type: ignore[no-untyped-def]
    if name.lower() in table:
        return table[name.lower()]
    try:
        return fn(name)
    except ValueError:
        return None


@dataclass(slots=True)
class _Ike:
    source: SourceRef
    encr: int | None = None
    bits: int | None = None
    integ: int | None = None
    keys: dict[str, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class _Dump:
    name: str
    size: int
    line: int
    data: bytearray | None = None


def load_pluto_log(text: str, path: str) -> list[KeyRecord]:
    """IKE and ESP keys from a pluto debug log (raises KeysFileError when none are there)."""
    ikes: dict[tuple[bytes, bytes], _Ike] = {}
    order: list[tuple[bytes, bytes]] = []
    last_ike: tuple[bytes, bytes] | None = None
    blobs: dict[str, tuple[bytes, int]] = {}
    out: list[KeyRecord] = []
    dump: _Dump | None = None
    for no, line in enumerate(text.splitlines(), 1):
        dbg = _DEBUG.match(line) if "|" in line else None
        msg = dbg["msg"] if dbg else line
        if dump is not None and dbg:
            if dump.data is None:
                if u := _UNWRAPPED.search(msg):
                    dump.data = bytearray(bytes.fromhex(u["hex"].replace(" ", "")))
            elif _HEXLINE.match(msg):
                dump.data += bytes.fromhex("".join(msg.split()))
            if dump.data is not None and len(dump.data) >= dump.size:
                blobs[dump.name] = (bytes(dump.data[: dump.size]), dump.line)
                if last_ike is not None and dump.name in ("SK_pi", "SK_pr"):
                    ikes[last_ike].keys[dump.name.lower()] = blobs[dump.name][0]
                if last_ike is not None and dump.name in ("initiator salt", "responder salt"):
                    ikes[last_ike].keys[dump.name] = blobs[dump.name][0]
                dump = None
            continue
        if dbg and (m := _IKE_LINE.match(msg)):
            key = (bytes.fromhex(m["spi_i"]), bytes.fromhex(m["spi_r"]))
            if key not in ikes:
                ikes[key] = _Ike(SourceRef(path, no))
                order.append(key)
            last_ike = key
            acc = ikes[key]
            encr = _name(TCPDUMP_CIPHERS, parse_encr, m["encr"].removesuffix("-cbc"))
            if encr is None:
                raise KeysFileError(path, no, f"unknown encryption algorithm {m['encr']!r}")
            acc.encr, acc.bits = encr
            acc.integ = _name(TCPDUMP_INTEG, parse_integ, m["integ"])
            side = "i" if m["role"] == "I" else "r"
            for kind, text in (("a", m["ikey"]), ("e", m["ekey"])):
                value = bytes.fromhex(text)
                # The line is cut at 32 bytes (SK_a of SHA2-512 is 64); the "ai"/"ei"..
                # dump just before it has the whole key.
                dumped = blobs.get(f"{kind}{side}", (b"", 0))[0]
                if len(dumped) > len(value) and dumped.startswith(value):
                    value = dumped
                acc.keys[f"sk_{kind}{side}"] = value
        elif dbg and (m := _EXTRACT.match(msg)):
            dump = _Dump(m["name"].strip(), int(m["n"]), no)
        elif m := _CHILD_UP.search(line):
            out += _child(path, no, m, blobs)
    for key in order:
        out.insert(0, _ike_record(ikes[key], *key))
    if not out:
        raise KeysFileError(
            path, 0, 'a pluto log without keys: use plutodebug="base crypt private"'
        )
    return out


def _ike_record(acc: _Ike, spi_i: bytes, spi_r: bytes) -> IkeSaKeys:
    k = acc.keys
    # The ikev2 line shows SK_e without the salt; the salt dumps (GCM/CTR/CCM) complete it.
    sk_ei = k.get("sk_ei", b"") + k.get("initiator salt", b"") if "sk_ei" in k else None
    sk_er = k.get("sk_er", b"") + k.get("responder salt", b"") if "sk_er" in k else None
    aead = acc.encr in AEAD_ENCR
    integ = 0 if aead else acc.integ
    return IkeSaKeys(
        spi_i=spi_i,
        spi_r=spi_r,
        sk_d=None,
        sk_ai=None if aead else k.get("sk_ai") or None,
        sk_ar=None if aead else k.get("sk_ar") or None,
        sk_ei=sk_ei,
        sk_er=sk_er,
        sk_pi=k.get("sk_pi"),
        sk_pr=k.get("sk_pr"),
        encr=acc.encr,
        encr_key_bits=acc.bits,
        integ=integ,
        prf=None,
        icv_unchecked=None,
        source=acc.source,
    )


def _child(path: str, no: int, m: re.Match[str], blobs: dict[str, tuple[bytes, int]]) -> list:
    i2r = blobs.pop("initiator to responder keys", None)
    r2i = blobs.pop("responder to initiator keys", None)
    if i2r is None or r2i is None:
        return []
    enc_name, _, integ_name = m["xfrm"].partition("-")
    try:
        encr, bits = parse_encr(enc_name)
        integ = 0 if encr in AEAD_ENCR else parse_integ(integ_name or "NONE")
    except ValueError as e:
        raise KeysFileError(path, no, f"Child SA xfrm {m['xfrm']!r}: {e}") from None
    elen = _ENCR_FIXED.get(encr, (bits or 0) // 8) + _SALT.get(encr, 0)
    ilen = _INTEG_KEY.get(integ)
    if ilen is None or len(i2r[0]) != elen + ilen:
        raise KeysFileError(
            path, i2r[1], f"child KEYMAT is {len(i2r[0])} bytes, {m['xfrm']} needs {elen}+{ilen}"
        )
    out_spi, in_spi = int(m["out"], 16), int(m["in"], 16)
    to_resp, to_init = (out_spi, in_spi) if m["role"] == "initiator" else (in_spi, out_spi)
    return [
        EspKeys(
            spi,
            keymat[:elen],
            keymat[elen:] or None,
            None,
            None,
            encr,
            bits,
            integ,
            None,
            SourceRef(path, line),
        )
        for spi, (keymat, line) in ((to_resp, i2r), (to_init, r2i))
    ]
