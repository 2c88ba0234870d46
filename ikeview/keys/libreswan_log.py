"""libreswan pluto logs with ``plutodebug="base crypt private"``: IKE SA and child SA keys.

Only derived keys can be had: pluto never logs g^ir, SKEYSEED or SK_d (notes/strongswan-lab.md).
Debug lines start with ``| `` (after a timestamp with ``logtime``). Hex dumps are lines of
groups of four bytes, possibly followed by an ASCII column after three spaces. Lines used:

- ``NAME extracting all N bytes of key@0x...`` then, a few lines on, ``unwrapped:`` and the
  dump: the first N bytes are NAME's value. Names used: ``chunk_SK_pi`` / ``chunk_SK_pr``,
  ``initiator salt`` / ``responder salt`` (AES-GCM/CTR/CCM; appended to SK_e), ``ai``, ``ar``,
  ``ei``, ``er`` (dumped just before the lines below) and ``initiator to responder keys`` /
  ``responder to initiator keys`` (child KEYMAT, RFC 7296 section 2.17).
- ``ikev2 I|R 0xSPIi 0xSPIr INTEG:0xSK_a ENCR:0xSK_e`` (the tcpdump ``-E`` syntax): SK_a and SK_e
  for messages the initiator (I) or responder (R) sends, SK_e without the salt. The line cuts
  keys at 32 bytes, so the ``ai``.. dumps before it win when longer.
- ``ESP enckey:`` and ``ESP authkey:`` dumps before each kernel SA is added, and the SA's SPI in
  ``Add SA esp.SPI@DST`` (logged when the kernel refuses it, as in the lab) or in
  ``established Child SA ... {ESP..=>0xOUT <0xIN xfrm=ENCR-INTEG ...}``: which KEYMAT half
  belongs to which SPI. Where only one SA's SPI is logged, only that SA is returned.

Checked against a real libreswan 4.10 initiator log (captures/lab/interop/libreswan-initiator);
the ``established Child SA`` form follows libreswan's source and is tested on a self-made excerpt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ikeview.keys.algorithms import AEAD_ENCR, parse_encr, parse_integ
from ikeview.keys.errors import KeysFileError
from ikeview.keys.model import EspKeys, IkeSaKeys, KeyRecord, SourceRef
from ikeview.keys.tcpdump import TCPDUMP_CIPHERS, TCPDUMP_INTEG

T = TypeVar("T")

_DEBUG = re.compile(r"^(?:[^|]*?: )?\| ?(?P<msg>.*)$")
_IKE_LINE = re.compile(
    r"^ikev2 (?P<role>[IR]) 0x(?P<spi_i>[0-9a-fA-F]{16}) 0x(?P<spi_r>[0-9a-fA-F]{16}) "
    r"(?P<integ>[^\s:]+):0x(?P<ikey>[0-9a-fA-F]*) (?P<encr>[^\s:]+):0x(?P<ekey>[0-9a-fA-F]*)\s*$"
)
_EXTRACT = re.compile(r"^(?P<name>.+?):? extracting all (?P<n>\d+) bytes of key@")
_UNWRAPPED = re.compile(r"^unwrapped:\s*(?P<rest>.*)$")
_LABEL_DUMP = re.compile(r"^(?P<name>ESP enckey|ESP authkey):\s*$")
_HEXBYTE = re.compile(r"^[0-9a-fA-F]{2}$")
_ADD_SA = re.compile(r"Add SA esp\.(?P<spi>[0-9a-fA-F]{1,8})@")
_CHILD_UP = re.compile(
    r"(?P<role>initiator|responder) established Child SA.*\{ESP\S*=>0x(?P<out>[0-9a-fA-F]{8}) "
    r"<0x(?P<in>[0-9a-fA-F]{8}) xfrm=(?P<xfrm>\S+)"
)
_IKE_UP = re.compile(r"(?P<role>initiator|responder) established IKE SA")
_CHILD_PROPOSAL = re.compile(r"^\"[^\"]*\":\s+1:ESP=(?P<xfrm>\S+)")

_SALT = {13: 4, 14: 3, 15: 3, 16: 3, 18: 4, 19: 4, 20: 4, 21: 4, 28: 4}
_INTEG_KEY = {0: 0, 1: 16, 2: 20, 5: 16, 8: 16, 12: 32, 13: 48, 14: 64}
_ENCR_FIXED = {2: 8, 3: 24, 11: 0, 28: 32}


def looks_like(text: str) -> bool:
    """A pluto debug log holding keys."""
    for line in text.splitlines():
        m = _DEBUG.match(line) if "| " in line else None
        if m and (_IKE_LINE.match(m["msg"]) or _EXTRACT.match(m["msg"])):
            return True
    return False


def _hex_row(msg: str) -> bytes | None:
    """The bytes of one dump line, or None when the line is not a dump line."""
    body = re.split(r"\s{3,}", msg.strip(), maxsplit=1)[0]
    tokens = body.split()
    if not tokens or not all(_HEXBYTE.match(t) for t in tokens) or len(tokens) > 16:
        return None
    return bytes.fromhex("".join(tokens))


def _name(table: Mapping[str, T], fn: Callable[[str], T], name: str) -> T | None:
    """A tcpdump-style name from ``table``, else any spelling ``fn`` (algorithms.py) knows."""
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
    size: int | None
    line: int
    data: bytearray | None = None


@dataclass(slots=True)
class _State:
    path: str
    ikes: dict[tuple[bytes, bytes], _Ike] = field(default_factory=dict)
    blobs: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    sa_keys: list[tuple[bytes, bytes | None]] = field(default_factory=list)
    out: list[KeyRecord] = field(default_factory=list)
    role: str | None = None
    proposal: str | None = None

    def ref(self, line: int) -> SourceRef:
        return SourceRef(self.path, line)


def load_pluto_log(text: str, path: str) -> list[KeyRecord]:
    """IKE and ESP keys from a pluto debug log (raises KeysFileError when none are there)."""
    st = _State(path)
    dump: _Dump | None = None
    for no, line in enumerate(text.splitlines(), 1):
        dbg = _DEBUG.match(line) if "|" in line else None
        msg = dbg["msg"] if dbg else None
        if dump is not None and msg is not None:
            if dump.data is None:
                if u := _UNWRAPPED.match(msg.strip()):
                    dump.data = bytearray(_hex_row(u["rest"]) or b"")
                continue
            row = _hex_row(msg)
            if row is not None and (dump.size is None or len(dump.data) < dump.size):
                dump.data += row
                continue
            _finish(st, dump)
            dump = None
        elif dump is not None:
            _finish(st, dump)
            dump = None
        if msg is not None:
            if m := _IKE_LINE.match(msg):
                _ike_line(st, no, m)
            elif m := _EXTRACT.match(msg):
                dump = _Dump(m["name"].strip().removeprefix("chunk_"), int(m["n"]), no)
            elif m := _LABEL_DUMP.match(msg.strip()):
                dump = _Dump(m["name"], None, no, bytearray())
            continue
        if m := _CHILD_PROPOSAL.match(line.split(": ", 1)[-1]):
            st.proposal = m["xfrm"]
        elif m := _IKE_UP.search(line):
            st.role = m["role"]
        elif m := _ADD_SA.search(line):
            _add_sa(st, no, m)
        elif m := _CHILD_UP.search(line):
            st.out += _child_up(st, no, m)
    if dump is not None:
        _finish(st, dump)
    ike_records = [_ike_record(acc, *key) for key, acc in st.ikes.items()]
    out = [*ike_records, *st.out]
    if not out:
        raise KeysFileError(
            path, 0, 'a pluto log without keys: use plutodebug="base crypt private"'
        )
    return out


def _finish(st: _State, dump: _Dump) -> None:
    data = bytes(dump.data or b"")
    if dump.size is not None:
        if len(data) < dump.size:
            return  # cut short: not a key
        data = data[: dump.size]
    if dump.name == "ESP authkey" and st.sa_keys and st.sa_keys[-1][1] is None:
        st.sa_keys[-1] = (st.sa_keys[-1][0], data)
    elif dump.name == "ESP enckey":
        st.sa_keys.append((data, None))
    else:
        st.blobs[dump.name] = (data, dump.line)


def _ike_line(st: _State, no: int, m: re.Match[str]) -> None:
    key = (bytes.fromhex(m["spi_i"]), bytes.fromhex(m["spi_r"]))
    acc = st.ikes.setdefault(key, _Ike(st.ref(no)))
    encr = _name(TCPDUMP_CIPHERS, parse_encr, m["encr"].removesuffix("-cbc"))
    if encr is None:
        raise KeysFileError(st.path, no, f"unknown encryption algorithm {m['encr']!r}")
    acc.encr, acc.bits = encr
    acc.integ = _name(TCPDUMP_INTEG, parse_integ, m["integ"])
    side = "i" if m["role"] == "I" else "r"
    for kind, text in (("a", m["ikey"]), ("e", m["ekey"])):
        if len(text) % 2:
            raise KeysFileError(
                st.path, no, f"SK_{kind}{side} is not hex (odd length, {len(text)} digits)"
            )
        value = bytes.fromhex(text)
        dumped = st.blobs.pop(f"{kind}{side}", (b"", 0))[0]
        if len(dumped) > len(value) and dumped.startswith(value):
            value = dumped
        acc.keys[f"sk_{kind}{side}"] = value
    # SK_p and the salts were dumped when the keys were derived, before these lines.
    for name, slot in (("SK_pi", "sk_pi"), ("SK_pr", "sk_pr")):
        if name in st.blobs:
            acc.keys[slot] = st.blobs.pop(name)[0]
    salt = "initiator salt" if side == "i" else "responder salt"
    if salt in st.blobs:
        acc.keys[salt] = st.blobs.pop(salt)[0]


def _ike_record(acc: _Ike, spi_i: bytes, spi_r: bytes) -> IkeSaKeys:
    k = acc.keys
    sk_ei = k["sk_ei"] + k.get("initiator salt", b"") if "sk_ei" in k else None
    sk_er = k["sk_er"] + k.get("responder salt", b"") if "sk_er" in k else None
    aead = acc.encr in AEAD_ENCR
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
        integ=0 if aead else acc.integ,
        prf=None,
        icv_unchecked=None,
        source=acc.source,
    )


def _algorithms(xfrm: str | None) -> tuple[int | None, int | None, int | None]:
    """``AES_CBC_256-HMAC_SHA2_256_128[-NONE..]`` (pluto's xfrm / ESP= text) to ids."""
    if not xfrm:
        return None, None, None
    enc_name, _, rest = xfrm.partition("-")
    try:
        encr, bits = parse_encr(enc_name)
    except ValueError:
        return None, None, None
    if encr in AEAD_ENCR:
        return encr, bits, 0
    try:
        return encr, bits, parse_integ(rest.split("-")[0] or "NONE")
    except ValueError:
        return encr, bits, None


def _halves(st: _State, enc_len: int) -> dict[str, tuple[bytes, bytes | None, int]] | None:
    i2r = st.blobs.get("initiator to responder keys")
    r2i = st.blobs.get("responder to initiator keys")
    if i2r is None or r2i is None:
        return None
    return {
        "i": (i2r[0][:enc_len], i2r[0][enc_len:] or None, i2r[1]),
        "r": (r2i[0][:enc_len], r2i[0][enc_len:] or None, r2i[1]),
    }


def _add_sa(st: _State, no: int, m: re.Match[str]) -> None:
    """A kernel SA add for which pluto just dumped the ESP keys: pair the keys with its SPI."""
    if not st.sa_keys:
        return
    enc, auth = st.sa_keys.pop()
    halves = _halves(st, len(enc))
    if halves is None:
        return
    # Which KEYMAT half these keys are tells the direction; the dump is exact, no algorithm
    # table needed.
    side = next((s for s, (e, a, _) in halves.items() if e == enc and a == auth), None)
    if side is None:
        return
    encr, bits, integ = _algorithms(st.proposal)
    e, a, line = halves[side]
    st.out.append(
        EspKeys(int(m["spi"], 16), e, a, None, None, encr, bits, integ, None, st.ref(line))
    )


def _child_up(st: _State, no: int, m: re.Match[str]) -> list[KeyRecord]:
    encr, bits, integ = _algorithms(m["xfrm"])
    if encr is None or integ is None:
        raise KeysFileError(st.path, no, f"Child SA xfrm {m['xfrm']!r}: unknown algorithm")
    elen = _ENCR_FIXED.get(encr, (bits or 0) // 8) + _SALT.get(encr, 0)
    ilen = _INTEG_KEY.get(integ)
    halves = _halves(st, elen)
    st.sa_keys.clear()
    if halves is None:
        return []
    klen = len(halves["i"][0]) + len(halves["i"][1] or b"")
    if ilen is None or klen != elen + ilen:
        raise KeysFileError(
            st.path,
            halves["i"][2],
            f"child KEYMAT is {klen} bytes, {m['xfrm']} needs {elen}+{ilen}",
        )
    st.blobs.pop("initiator to responder keys")
    st.blobs.pop("responder to initiator keys")
    out_spi, in_spi = int(m["out"], 16), int(m["in"], 16)
    to_resp, to_init = (out_spi, in_spi) if m["role"] == "initiator" else (in_spi, out_spi)
    return [
        EspKeys(spi, e, a, None, None, encr, bits, integ, None, st.ref(line))
        for spi, (e, a, line) in ((to_resp, halves["i"]), (to_init, halves["r"]))
    ]
