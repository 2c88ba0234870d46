"""strongSwan charon logs at IKE/CHD level 4: DH secrets, PSKs, IKE SA and child SA keys.

What charon 5.9 logs (filelog or syslog; ``ike_name = yes`` adds the ``<name|N>`` context):

    03:29:51 08[IKE] <lab|1> shared Diffie Hellman secret => 256 bytes @ 0x7f6ca4003f10
    03:29:51 08[IKE] <lab|1>    0: AA 26 5A DE EA 1D 34 1A 16 86 2D 40 3A 0B A4 5E  .&Z...4...-@:..^

A blob is a ``NAME => N bytes @ 0x...`` line followed by hex-dump lines of up to 16 bytes, each
with the same prefix (time, thread, group); lines of other threads may come between, so dumps are
joined per thread. The values used here and how they are matched to SAs:

- ``shared Diffie Hellman secret``, ``SKEYSEED``, ``Sk_d secret`` .. ``Sk_pr secret`` (IKE): one
  IKE SA key derivation (RFC 7296 section 2.14). An IKE SA rekey (CREATE_CHILD_SA) carries the
  new SA's SPIs in its SA payload: with ENC logged at level 3 or more, charon dumps the one it
  parsed (``parsing rule 7 SPI`` then an 8-byte blob), the peer's SPI of the new SA (SPIr when
  this node parsed a response, SPIi for a request), and the derivation goes to the SA later
  checked in (on any thread) with that SPI. Two crossing rekeys are both derived in the old
  SA's context and one checks the other's SA in, so this is the surest tie. Without it, a
  derivation logged in the context (``<name|N>``) of an SA that has no keys yet belongs to SA N
  (IKE_SA_INIT, also on the responder, which derives lazily when the first IKE_AUTH request
  arrives; and a rekey on its responder, logged under the new SA); any other (a rekey on its
  initiator, logged under the old SA) to the next ``checkin IKEv2 SA NAME[N] with SPIs X_i
  Y_r`` on the same thread whose SA has no keys yet and is not spoken for.
- ``DH secret``, ``encryption|integrity initiator|responder key`` (CHD): one child SA's PFS g^ir
  and keys (RFC 7296 section 2.17). They belong to the next ``CHILD_SA NAME{N} established with
  SPIs IN_i OUT_o`` on the same thread. "initiator" means the initiator of the exchange that made
  the child SA: this node was that initiator when the last message it parsed on the thread was a
  response. The initiator's keys protect traffic to the responder, i.e. the SA whose SPI the
  responder chose (its inbound SPI).
- ``secret`` (IKE): the PSK used to build or verify an AUTH payload (RFC 7296 section 2.15).
- ``selected proposal: IKE:...`` / ``ESP:...`` give the algorithms. ESP SAs get no addresses:
  behind a NAT the log's endpoints are not the ones a capture elsewhere sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from ikeview.keys.algorithms import AEAD_ENCR, parse_encr, parse_integ, parse_prf
from ikeview.keys.errors import KeysFileError
from ikeview.keys.model import DhSecret, EspKeys, IkeSaKeys, KeyRecord, Psk, SourceRef

T = TypeVar("T")

Mode = Literal["secrets", "all"]
"""``secrets``: only the inputs ikeview derives from (DH secrets, PSKs); ``all``: every key."""

_PREFIX = re.compile(
    r"^(?:.*?\s)?(?P<thread>\d{1,3})\[(?P<group>[A-Z]{3})\d?\] (?:<(?P<ctx>[^>]*)> )?(?P<msg>.*)$"
)
_BLOB = re.compile(r"^(?P<name>.+?) => (?P<n>\d+) bytes @ (?:0x)?[0-9a-fA-F]+$")
_DUMP = re.compile(r"^\s*(?P<off>\d+): (?P<hex>(?:[0-9A-F]{2} ?)+)")
_CHECKIN = re.compile(
    r"checkin IKEv2 SA .*\[(?P<uid>\d+)\] with SPIs (?P<i>[0-9a-f]{16})_i (?P<r>[0-9a-f]{16})_r"
)
_DESTROY = re.compile(r"checkin and destroy IKE_SA .*\[(?P<uid>\d+)\]")
_CHILD_UP = re.compile(
    r"CHILD_SA \S+\{\d+\} established with SPIs (?P<in>[0-9a-f]{8})_i (?P<out>[0-9a-f]{8})_o"
)
_PARSED = re.compile(r"^parsed (?P<type>[A-Z_]+) (?P<kind>request|response) \d+")
_SPI_RULE = re.compile(r"^\s*parsing rule \d+ SPI$")
_PROPOSAL = re.compile(r"^selected proposal: (?P<proto>IKE|ESP|AH):(?P<algs>\S+)")

_SK_NAMES = {
    "Sk_d secret": "sk_d", "Sk_ai secret": "sk_ai", "Sk_ar secret": "sk_ar",
    "Sk_ei secret": "sk_ei", "Sk_er secret": "sk_er", "Sk_pi secret": "sk_pi",
    "Sk_pr secret": "sk_pr",
}  # fmt: skip
_CHILD_NAMES = {
    "encryption initiator key": "encr_i", "encryption responder key": "encr_r",
    "integrity initiator key": "integ_i", "integrity responder key": "integ_r",
}  # fmt: skip
_WANTED = {"shared Diffie Hellman secret", "SKEYSEED", "DH secret", "secret", *_SK_NAMES,
           *_CHILD_NAMES}  # fmt: skip

_KEYWORDS = (
    "=>", "checkin", "established with SPIs", "parsed ", "selected proposal", "EAP method",
)  # fmt: skip
# "EAP method EAP_MD5 succeeded, no MSK established": the AUTHs after it use the MSK (or SK_p),
# logged as 'secret' like a PSK (RFC 7296 2.16).
_EAP_DONE = re.compile(r"EAP method \S+ succeeded")

MARKERS = ("shared Diffie Hellman secret =>", "Sk_ei secret =>", "encryption initiator key =>")
"""Strings of which one must appear in a charon log for it to hold keys."""


def looks_like(text: str) -> bool:
    """A charon log with at least one key blob (checked on its lines' shape, not the name)."""
    if not any(m in text for m in MARKERS) and "] secret =>" not in text:
        return False
    return any(
        (m := _PREFIX.match(line)) and _BLOB.match(m["msg"]) for line in text.splitlines()[:50000]
    )


@dataclass(frozen=True, slots=True)
class _Algs:
    encr: int | None = None
    bits: int | None = None
    integ: int | None = None
    prf: int | None = None


def _parse_proposal(algs: str) -> _Algs:
    """``AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048`` to ids (unknowns skipped)."""
    encr = bits = integ = prf = None
    for tok in algs.split("/"):
        if tok.startswith("PRF_"):
            prf = _try(parse_prf, tok)
        elif tok in ("NO_EXT_SEQ", "EXT_SEQ") or tok.startswith(("MODP_", "ECP_", "CURVE_")):
            continue
        elif encr is None and (e := _try(parse_encr, tok)) is not None:
            encr, bits = e
        elif integ is None:
            integ = _try(parse_integ, tok)
    if encr is not None and integ is None and encr in AEAD_ENCR:
        integ = 0
    return _Algs(encr, bits, integ, prf)


def _try(fn: Callable[[str], T], tok: str) -> T | None:
    try:
        return fn(tok)
    except ValueError:
        return None


@dataclass(slots=True)
class _Blob:
    name: str
    size: int
    line: int
    ctx: str | None
    data: bytearray = field(default_factory=bytearray)


@dataclass(slots=True)
class _IkeBlock:
    line: int
    ctx: str | None
    values: dict[str, bytes] = field(default_factory=dict)
    algs: _Algs = field(default_factory=_Algs)


@dataclass(slots=True)
class _ChildBlock:
    line: int
    ctx: str | None
    initiator: bool | None
    values: dict[str, bytes] = field(default_factory=dict)
    algs: _Algs = field(default_factory=_Algs)


@dataclass(slots=True)
class _Thread:
    blob: _Blob | None = None
    ike: _IkeBlock | None = None
    done_ike: list[_IkeBlock] = field(default_factory=list)
    child: _ChildBlock | None = None
    role_initiator: bool | None = None
    want_spi: bool = False
    parsing_spi: bytes | None = None
    """The 8-byte SA payload SPI of the message being parsed (an IKE SA rekey)."""
    msg_spi: bytes | None = None
    """That SPI once the message is parsed, when it was a CREATE_CHILD_SA."""
    ike_algs: _Algs | None = None
    esp_algs: _Algs | None = None


class _Parser:
    def __init__(self, path: str, mode: Mode) -> None:
        self.path = path
        self.mode = mode
        self.out: list[KeyRecord] = []
        self.reset()

    def reset(self) -> None:
        # One charon run: unique ids (the N in <name|N>) restart with the daemon.
        self.threads: dict[str, _Thread] = {}
        self.keyed: set[str] = set()
        self.spis: dict[str, tuple[bytes, bytes]] = {}
        self.ctx_ike_algs: dict[str, _Algs] = {}
        self.ctx_esp_algs: dict[str, _Algs] = {}
        self.psks: set[bytes] = set()
        self.eap_done: set[str] = set()
        """IKE SAs (the N of <name|N>) whose EAP method succeeded."""
        self.pending = 0  # blobs whose hex dump is still being read
        self.by_ctx: dict[str, _IkeBlock] = {}
        """Derivations logged in the context of an SA without keys yet: that SA's (the
        IKE_SA_INIT derivations, and a rekey's on its responder)."""
        self.by_spi: list[tuple[bool, bytes, _IkeBlock]] = []
        """Rekey derivations waiting for the checkin of their new SA: (this node initiated the
        rekey, the new SA's SPI the peer chose, the derivation)."""

    def ref(self, line: int) -> SourceRef:
        return SourceRef(self.path, line)

    def feed(self, no: int, line: str) -> None:
        if "Starting IKE charon daemon" in line:
            self.finish()
            self.reset()
            return
        # Most of a level-4 log is message encoding noise: skip it before any regex runs.
        spi_rule = line.endswith(" SPI") and "parsing rule" in line
        if not self.pending and not spi_rule and not any(k in line for k in _KEYWORDS):
            return
        m = _PREFIX.match(line)
        if not m:
            return
        th = self.threads.setdefault(m["thread"], _Thread())
        msg: str = m["msg"]
        ctx = m["ctx"].rsplit("|", 1)[-1] if m["ctx"] else None
        if th.blob is not None:
            if d := _DUMP.match(msg):
                need = th.blob.size - len(th.blob.data)
                th.blob.data += bytes.fromhex(d["hex"])[: min(16, need)]
                if len(th.blob.data) >= th.blob.size:
                    blob, th.blob = th.blob, None
                    self.pending -= 1
                    self.on_blob(th, blob)
                return
            th.blob = None  # truncated dump: charon never does this, a cut log might
            self.pending -= 1
        want_spi, th.want_spi = th.want_spi, False
        if b := _BLOB.match(msg):
            name = b["name"].strip()
            if want_spi and not name and b["n"] == "8":
                name = "spi"
            if name in _WANTED or name == "spi":
                blob = _Blob(name, int(b["n"]), no, ctx)
                if blob.size == 0:
                    self.on_blob(th, blob)
                else:
                    th.blob = blob
                    self.pending += 1
            return
        if _SPI_RULE.match(msg):
            th.want_spi = True
            return
        self.on_text(th, no, msg, ctx)

    def on_text(self, th: _Thread, no: int, msg: str, ctx: str | None) -> None:
        if ctx is not None and _EAP_DONE.search(msg):
            self.eap_done.add(ctx)
        elif m := _CHECKIN.search(msg):
            uid, spi_i, spi_r = m["uid"], bytes.fromhex(m["i"]), bytes.fromhex(m["r"])
            if any(spi_r) or uid not in self.spis:
                self.spis[uid] = (spi_i, spi_r)
            if any(spi_r) and uid not in self.keyed and self.match_spi(uid, spi_i, spi_r):
                pass
            elif any(spi_r) and uid not in self.keyed and uid in self.by_ctx:
                self.keyed.add(uid)
                self.emit_ike(self.by_ctx.pop(uid), spi_i, spi_r)
            elif any(spi_r) and th.done_ike and uid not in self.keyed:
                self.keyed.add(uid)
                self.spis[uid] = (spi_i, spi_r)
                self.emit_ike(th.done_ike.pop(0), spi_i, spi_r)
            th.ike_algs = th.esp_algs = None  # the job ends with the checkin
        elif m := _DESTROY.search(msg):
            # A failed SA is destroyed without a final checkin: use the SPIs seen before.
            self.flush(th, m["uid"])
            th.ike_algs = th.esp_algs = None
        elif m := _CHILD_UP.search(msg):
            if th.child is not None:
                self.emit_child(th.child, int(m["in"], 16), int(m["out"], 16))
                th.child = None
        elif m := _PARSED.match(msg):
            th.role_initiator = m["kind"] == "response"
            th.msg_spi = th.parsing_spi if m["type"] == "CREATE_CHILD_SA" else None
            th.parsing_spi = None
        elif m := _PROPOSAL.match(msg):
            algs = _parse_proposal(m["algs"])
            if m["proto"] == "IKE":
                th.ike_algs = algs
                if ctx is not None:
                    self.ctx_ike_algs[ctx] = algs
            else:
                th.esp_algs = algs
                if ctx is not None:
                    self.ctx_esp_algs[ctx] = algs

    def match_spi(self, uid: str, spi_i: bytes, spi_r: bytes) -> bool:
        """Give the rekey derivation that parsed one of these SPIs to the SA ``uid``."""
        for entry in self.by_spi:
            initiated, spi, blk = entry
            if spi == (spi_r if initiated else spi_i):
                self.by_spi.remove(entry)
                self.keyed.add(uid)
                self.spis[uid] = (spi_i, spi_r)
                self.emit_ike(blk, spi_i, spi_r)
                return True
        return False

    def flush(self, th: _Thread, uid: str | None) -> None:
        """Give pending derivations to the SA ``uid`` when its SPIs are known."""
        spis = self.spis.get(uid or "")
        pending = uid is not None and uid in self.by_ctx and uid not in self.keyed
        if pending and uid is not None and spis and any(spis[1]):
            self.keyed.add(uid)
            self.emit_ike(self.by_ctx.pop(uid), *spis)
            return
        if th.done_ike and uid is not None and uid not in self.keyed and spis and any(spis[1]):
            self.keyed.add(uid)
            self.emit_ike(th.done_ike.pop(0), *spis)

    def finish(self) -> None:
        """End of log: derivations never checked in go to their context's SA, if known."""
        for _initiated, _spi, blk in self.by_spi:
            # The SA never checked in with its SPIs (the log was cut): keep the DH secret.
            if (g := blk.values.get("shared Diffie Hellman secret")) is not None:
                self.out.append(DhSecret(g, None, None, False, None, self.ref(blk.line)))
        self.by_spi = []
        for uid in list(self.by_ctx):
            self.flush(_Thread(), uid)
        for blk in self.by_ctx.values():
            if (g := blk.values.get("shared Diffie Hellman secret")) is not None:
                self.out.append(DhSecret(g, None, None, False, None, self.ref(blk.line)))
        self.by_ctx = {}
        for th in self.threads.values():
            while th.done_ike:
                before = len(th.done_ike)
                self.flush(th, th.done_ike[0].ctx)
                if len(th.done_ike) == before:
                    # No SA to pin it to: the DH secret is still worth trying on every SA.
                    blk = th.done_ike.pop(0)
                    if (g := blk.values.get("shared Diffie Hellman secret")) is not None:
                        self.out.append(DhSecret(g, None, None, False, None, self.ref(blk.line)))

    def on_blob(self, th: _Thread, blob: _Blob) -> None:
        value = bytes(blob.data[: blob.size])
        name = blob.name
        if name == "spi":
            th.parsing_spi = value
        elif name == "secret":
            if blob.ctx is not None and blob.ctx in self.eap_done:
                return  # the MSK or SK_p an AUTH after EAP is made with, not a PSK
            if value and value not in self.psks:
                self.psks.add(value)
                label = f"psk from charon log line {blob.line}"
                self.out.append(Psk(value, label, None, None, self.ref(blob.line)))
        elif name in ("shared Diffie Hellman secret", "SKEYSEED") or name in _SK_NAMES:
            if th.ike is None or name == "shared Diffie Hellman secret":
                algs = th.ike_algs or self.ctx_ike_algs.get(blob.ctx or "", _Algs())
                th.ike = _IkeBlock(blob.line, blob.ctx, algs=algs)
            th.ike.values[_SK_NAMES.get(name, name)] = value
            if name == "Sk_pr secret":
                if th.msg_spi is not None and th.role_initiator is not None:
                    self.by_spi.append((th.role_initiator, th.msg_spi, th.ike))
                elif (
                    blob.ctx is not None
                    and blob.ctx not in self.keyed
                    and (blob.ctx not in self.by_ctx)
                ):
                    self.by_ctx[blob.ctx] = th.ike
                else:
                    th.done_ike.append(th.ike)
                th.ike = None
        elif name == "DH secret" or name in _CHILD_NAMES:
            if th.child is None or name == "DH secret":
                algs = th.esp_algs or self.ctx_esp_algs.get(blob.ctx or "", _Algs())
                th.child = _ChildBlock(blob.line, blob.ctx, th.role_initiator, algs=algs)
            th.child.values[_CHILD_NAMES.get(name, name)] = value

    def emit_ike(self, blk: _IkeBlock, spi_i: bytes, spi_r: bytes) -> None:
        v = blk.values
        if (g := v.get("shared Diffie Hellman secret")) is not None:
            self.out.append(DhSecret(g, None, spi_i, False, None, self.ref(blk.line)))
        if self.mode == "all" and "sk_ei" in v:
            a = blk.algs
            self.out.append(
                IkeSaKeys(
                    spi_i,
                    spi_r,
                    v.get("sk_d"),
                    v.get("sk_ai"),
                    v.get("sk_ar"),
                    v.get("sk_ei"),
                    v.get("sk_er"),
                    v.get("sk_pi"),
                    v.get("sk_pr"),
                    a.encr,
                    a.bits,
                    a.integ,
                    a.prf,
                    None,
                    self.ref(blk.line),
                )
            )

    def emit_child(self, blk: _ChildBlock, spi_in: int, spi_out: int) -> None:
        v = blk.values
        ike_spi_i = self.spis.get(blk.ctx or "", (None, None))[0]
        if (g := v.get("DH secret")) is not None:
            self.out.append(DhSecret(g, None, ike_spi_i, True, spi_in, self.ref(blk.line)))
        if self.mode != "all" or blk.initiator is None or "encr_i" not in v:
            return
        # The exchange initiator's keys protect initiator->responder traffic: that is our
        # outbound SA if we initiated the exchange, our inbound SA otherwise.
        to_resp, to_init = (spi_out, spi_in) if blk.initiator else (spi_in, spi_out)
        a = blk.algs
        # No addresses: the log's view of the endpoints (behind a NAT, after a MOBIKE update)
        # need not be the capture's, and the SPI alone finds the SA.
        for spi, side in ((to_resp, "i"), (to_init, "r")):
            self.out.append(
                EspKeys(
                    spi,
                    v.get(f"encr_{side}"),
                    v.get(f"integ_{side}"),
                    None,
                    None,
                    a.encr,
                    a.bits,
                    a.integ,
                    None,
                    self.ref(blk.line),
                )
            )


def load_charon_log(text: str, path: str, mode: Mode = "all") -> list[KeyRecord]:
    """Key records from a charon log; ``mode="secrets"`` keeps only DH secrets and PSKs."""
    if mode not in ("secrets", "all"):
        raise ValueError(f"mode must be 'secrets' or 'all', not {mode!r}")
    p = _Parser(path, mode)
    for no, line in enumerate(text.splitlines(), 1):
        p.feed(no, line)
    p.finish()
    if not p.out:
        raise KeysFileError(
            path, 0, "a strongSwan charon log without keys: log with ike = 4 and chd = 4"
        )
    return p.out
