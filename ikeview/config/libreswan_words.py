"""Libreswan's proposal grammar (``ike=aes256-sha2;dh19``, ``esp=aes_gcm256-null``) for IKEv2.

Facts from Libreswan's source (v5.x, checked at v5.4-59):

- names: the ``.names`` of ``lib/libswan/ike_alg_*.c`` (``aes``/``aes_cbc``, ``aes_gcm`` =
  ``aes_gcm_16``/``aes_gcm_c``, ``aes_gcm_a`` = ICV 8, ``aes_gcm_b`` = 12, ``aes_ccm*``,
  ``aesctr``, ``camellia``, ``chacha20_poly1305``, ``3des``, ``null``; PRFs ``sha1``,
  ``sha2``/``sha256``/``sha2_256``, ``sha384``, ``sha512``, ``md5``, ``aes_xcbc``; integrity the
  same plus ``sha1_96``, ``sha2_256_128``...; KE ``dh19``/``ecp_256``/``ecp256``,
  ``modp2048``/``dh14``, ``dh31``/``curve25519``, ``mlkem768``...).
- grammar (``lib/libswan/proposals.c`` ``parse_proposal``, ``parse_prf_transforms``): fields
  split by ``-`` (``;`` before the KE), alternatives by ``+``; a key length is a suffix
  (``aes256``, ``aes_gcm_16_256``) or its own field (``aes-128``). IKE is
  ``ENCR-PRF[-INTEG][-KE]``: the second field is the PRF, a third one is integrity when it
  names one that is not also a PRF, else the KE; if the second field is no PRF it is taken as
  integrity and a PRF must follow. ESP is ``ENCR[-INTEG][-KE]``, AH ``INTEG[-KE]``.
- defaults (``v2_proposals.c`` ``merge_defaults``; the lists as ``algparse -v2`` prints them
  in ``testing/pluto/algparse-01``): IKE PRF SHA2-512, SHA2-256 with the integrity of the PRF
  (none for AEAD); KE DH19, DH20, DH21, DH31, MODP4096, MODP3072, MODP2048, MODP8192. ESP
  integrity SHA2-512-256, SHA2-256-128 (none for AEAD). Unset ``ike=``: AES-GCM-16 256, 128,
  ChaCha20-Poly1305, AES-CBC 256, 128; unset ``esp=`` the same ciphers.
- key length omitted (``programs/pluto/ikev2_proposals.c``): IKE proposes the longest then the
  default (AES: 256 then 128), ESP the default then the longest (128 then 256); 3DES, NULL and
  ChaCha20-Poly1305 carry none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ikeview.config.proposals import AEAD_ENCR, ConfProposal, Encr, Protocol

# name -> (IANA ENCR id, key bits when the name fixes them, default bits, longest bits)
_ENCR: dict[str, tuple[int, int | None]] = {
    "3des": (3, None), "3des_cbc": (3, None), "null": (11, None),
    "aes": (12, 0), "aes_cbc": (12, 0), "aesctr": (13, 0), "aes_ctr": (13, 0),
    "aes_ccm_8": (14, 0), "aes_ccm_a": (14, 0), "aes_ccm_12": (15, 0), "aes_ccm_b": (15, 0),
    "aes_ccm": (16, 0), "aes_ccm_16": (16, 0), "aes_ccm_c": (16, 0),
    "aes_gcm_8": (18, 0), "aes_gcm_a": (18, 0), "aes_gcm_12": (19, 0), "aes_gcm_b": (19, 0),
    "aes_gcm": (20, 0), "aes_gcm_16": (20, 0), "aes_gcm_c": (20, 0),
    "null_auth_aes_gmac": (21, 0), "aes_gmac": (21, 0),
    "camellia": (23, 0), "camellia_cbc": (23, 0), "camellia_ctr": (24, 0),
    "chacha20_poly1305": (28, None), "chacha20poly1305": (28, None),
}  # fmt: skip
"""Libreswan cipher names; key bits None = no key length, 0 = AES/Camellia sizes."""
_PRF = {"sha": 2, "sha1": 2, "hmac_sha1": 2, "sha2": 5, "sha256": 5, "sha2_256": 5,
        "hmac_sha2_256": 5, "sha384": 6, "sha2_384": 6, "hmac_sha2_384": 6, "sha512": 7,
        "sha2_512": 7, "hmac_sha2_512": 7, "md5": 1, "hmac_md5": 1, "aes128_xcbc": 4,
        "aes_xcbc": 4}  # fmt: skip
_INTEG = {"sha": 2, "sha1": 2, "sha1_96": 2, "hmac_sha1": 2, "hmac_sha1_96": 2,
          "sha2": 12, "sha256": 12, "sha2_256": 12, "sha2_256_128": 12, "hmac_sha2_256": 12,
          "hmac_sha2_256_128": 12, "sha384": 13, "sha2_384": 13, "sha2_384_192": 13,
          "hmac_sha2_384": 13, "hmac_sha2_384_192": 13, "sha512": 14, "sha2_512": 14,
          "sha2_512_256": 14, "hmac_sha2_512": 14, "hmac_sha2_512_256": 14,
          "md5": 1, "md5_96": 1, "hmac_md5": 1, "hmac_md5_96": 1,
          "aes_xcbc": 5, "aes128_xcbc": 5, "aes_xcbc_96": 5, "aes128_xcbc_96": 5,
          "aes_cmac": 8, "aes_cmac_96": 8, "none": 0, "null": 0}  # fmt: skip
_KE = {"modp1536": 5, "dh5": 5, "modp2048": 14, "dh14": 14, "modp3072": 15, "dh15": 15,
       "modp4096": 16, "dh16": 16, "modp6144": 17, "dh17": 17, "modp8192": 18, "dh18": 18,
       "dh19": 19, "ecp_256": 19, "ecp256": 19, "dh20": 20, "ecp_384": 20, "ecp384": 20,
       "dh21": 21, "ecp_521": 21, "ecp521": 21, "dh22": 22, "dh23": 23, "dh24": 24,
       "dh31": 31, "curve25519": 31, "ml_kem_512": 35, "mlkem512": 35, "ml_kem_768": 36,
       "mlkem768": 36, "ml_kem_1024": 37, "mlkem1024": 37, "none": 0, "null": 0,
       "dh0": 0, "modp1024": 2, "dh2": 2}  # fmt: skip
_PRF_INTEG = {2: 2, 5: 12, 6: 13, 7: 14, 1: 1, 4: 5}
"""The integrity algorithm a PRF implies (``merge_defaults``)."""
_KEY_BITS = (128, 192, 256)

DEFAULT_PRF = (7, 5)
DEFAULT_KE = (19, 20, 21, 31, 16, 15, 14, 18)
DEFAULT_ESP_INTEG = (14, 12)
ESN_EITHER = (1, 0)
"""``esn=either``, the default (configs/d.ipsec.conf/conn/esn.xml): ESN then no-ESN, as
``ikev2_proposals.c`` ``add_sn_transforms`` appends them (the lab's libreswan-initiator
capture offers exactly that)."""


@dataclass(slots=True)
class _Tokens:
    """Tokens with the delimiter before each (``''`` for the first)."""

    items: list[tuple[str, str]]
    pos: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def field(self) -> list[str]:
        """One field: this token and the ``+`` alternatives after it."""
        out = [self.items[self.pos][1]]
        self.pos += 1
        while (nxt := self.peek()) is not None and nxt[0] == "+":
            out.append(nxt[1])
            self.pos += 1
        return out


def _tokens(text: str) -> _Tokens:
    items, delim = [], ""
    parts = re.split(r"([-;+])", text.strip().lower())
    for i, part in enumerate(parts):
        if i % 2:
            delim = part
        elif not part:
            raise ValueError("an empty algorithm field")
        else:
            items.append((delim, part))
    return _Tokens(items)


def _cipher(word: str, protocol: Protocol) -> list[Encr]:
    """One cipher name with its key length (suffix or none)."""
    bits: int | None = None
    name = word
    if word not in _ENCR and (m := re.fullmatch(r"(.+?)_?(\d{3})", word)):
        name, bits = m[1], int(m[2])
    if name not in _ENCR:
        raise ValueError(f"cipher {word!r} is not recognized")
    ident, sizes = _ENCR[name]
    if sizes is None:
        if bits is not None:
            raise ValueError(f"cipher {name!r} takes no key length")
        return [(ident, None)]
    if bits is not None:
        if bits not in _KEY_BITS:
            raise ValueError(f"key length {bits} is not valid for {name!r}")
        return [(ident, bits)]
    # ikev2_proposals.c: IKE longest first, ESP the default (128) first.
    return [(ident, 256), (ident, 128)] if protocol == "ike" else [(ident, 128), (ident, 256)]


def _ciphers(tokens: _Tokens, protocol: Protocol) -> list[Encr]:
    out: list[Encr] = []
    for word in tokens.field():
        out += _cipher(word, protocol)
    # aes-128: a key length in a field of its own.
    nxt = tokens.peek()
    if nxt is not None and nxt[0] == "-" and nxt[1].isdigit():
        bits = int(tokens.field()[0])
        if bits not in _KEY_BITS or any(k is None for _e, k in out):
            raise ValueError(f"key length {bits} is not valid here")
        out = list(dict.fromkeys((e, bits) for e, _k in out))
    return list(dict.fromkeys(out))


_UNSUPPORTED_KE = frozenset({"modp1024", "dh2", "dh22", "dh23", "dh24"})
"""Known to Libreswan but not built in (algparse: "is not supported")."""


def _lookup(words: list[str], table: dict[str, int], what: str) -> list[int]:
    bad = [w for w in words if w not in table]
    if bad:
        raise ValueError(f"{what} {bad[0]!r} is not recognized")
    if table is _KE and (no := [w for w in words if w in _UNSUPPORTED_KE]):
        raise ValueError(f"{what} {no[0]!r} is not supported")
    return list(dict.fromkeys(table[w] for w in words))


def _cipher_rules(encr: list[Encr], integ: list[int] | None, protocol: Protocol) -> None:
    """AEAD and classic ciphers never mix; ESP integrity is none exactly for AEAD; IKE does
    not do CCM (algparse-01)."""
    aead = [e for e, _k in encr if e in AEAD_ENCR]
    if aead and len(aead) != len(encr):
        raise ValueError("AEAD and non-AEAD encryption algorithms cannot be combined")
    if protocol == "ike" and any(e in (14, 15, 16) for e, _k in encr):
        raise ValueError("IKE encryption algorithm AES_CCM is not supported")
    if protocol == "esp" and integ is not None:
        if aead and any(integ):
            raise ValueError("an AEAD ESP cipher must have 'none' as integrity")
        if not aead and not all(integ):
            raise ValueError("a non-AEAD ESP cipher cannot have 'none' as integrity")


def _ike(tokens: _Tokens, encr: list[Encr]) -> tuple[list[int], list[int], list[int]]:
    """(prf, integ, ke) after the ciphers of an IKE proposal (parse_prf_transforms)."""
    prf: list[int] = []
    integ: list[int] = []
    nxt = tokens.peek()
    if nxt is not None and nxt[0] == "-":
        words = tokens.field()
        if all(w in _PRF for w in words):
            prf = _lookup(words, _PRF, "PRF")
            after = tokens.peek()
            if after is not None and after[0] == "-":
                save = tokens.pos
                cand = tokens.field()
                if (
                    all(w in _INTEG for w in cand)
                    and not all(w in _PRF for w in cand)
                    and (any(_INTEG[w] for w in cand))
                ):
                    integ = _lookup(cand, _INTEG, "integrity")
                else:
                    tokens.pos = save
        else:
            integ = _lookup(words, _INTEG, "PRF")  # the PRF's error if both fail
            after = tokens.peek()
            if after is not None and after[0] == "-":
                prf = _lookup(tokens.field(), _PRF, "PRF")
    ke = _ke(tokens, "IKE")
    aead = any(e in AEAD_ENCR for e, _k in encr)
    prf = prf or list(DEFAULT_PRF)
    if aead:
        integ = []
    elif not integ:
        integ = [_PRF_INTEG[p] for p in prf if p in _PRF_INTEG]
    if 0 in ke:
        raise ValueError("IKE Key Exchange algorithm 'NONE' not permitted")
    return prf, [i for i in integ if i], ke or list(DEFAULT_KE)


def _ke(tokens: _Tokens, what: str) -> list[int]:
    nxt = tokens.peek()
    if nxt is None:
        return []
    ke = _lookup(tokens.field(), _KE, f"{what} Key Exchange")
    if tokens.peek() is not None:
        raise ValueError(f"unexpected {tokens.peek()[1]!r}")  # type: ignore[index]
    return ke


_TYPED = re.compile(r"^(ke|addke[1-7])=(.+)$")
"""Libreswan 5 typed transforms after the positional ones: ``;ke=dh19``, ``;addke1=mlkem768``
(RFC 9370 additional key exchanges)."""


def parse_one(text: str, protocol: Protocol, line: int) -> ConfProposal:
    """One Libreswan proposal; ValueError says what Libreswan's parser would refuse."""
    segments = text.strip().lower().split(";")
    first_typed = next((i for i, seg in enumerate(segments) if "=" in seg), len(segments))
    prop = _positional(";".join(segments[:first_typed]), protocol, line)
    ke, ake = list(prop.ke), list(prop.ake)
    for seg in segments[first_typed:]:
        m = _TYPED.match(seg.strip())
        if m is None:
            raise ValueError(f"unexpected {seg!r}")
        algs = _lookup(m[2].split("+"), _KE, "Key Exchange")
        if m[1] == "ke":
            ke = [k for k in algs if k]
        else:
            ake += [(int(m[1][5:]), k) for k in algs]
    return ConfProposal(prop.protocol, text.strip(), line, prop.encr, prop.integ, prop.prf,
                        tuple(ke), prop.esn, tuple(ake))  # fmt: skip


def _positional(text: str, protocol: Protocol, line: int) -> ConfProposal:
    tokens = _tokens(text)
    if tokens.peek() is None:
        raise ValueError("empty proposal")
    if protocol == "ah":
        ah_integ = _lookup(tokens.field(), _INTEG, "integrity")
        ah_ke = _ke(tokens, "AH")
        return ConfProposal("ah", text.strip(), line, (), tuple(i for i in ah_integ if i), (),
                            tuple(k for k in ah_ke if k), ESN_EITHER)  # fmt: skip
    encr = _ciphers(tokens, protocol)
    if protocol == "ike":
        _cipher_rules(encr, None, protocol)
        prf, ike_integ, ike_ke = _ike(tokens, encr)
        return ConfProposal("ike", text.strip(), line, tuple(encr), tuple(ike_integ),
                            tuple(prf), tuple(ike_ke))  # fmt: skip
    integ: list[int] = []
    nxt = tokens.peek()
    if nxt is not None and nxt[0] == "-" and all(w in _INTEG for w in _peek_field(tokens)):
        integ = _lookup(tokens.field(), _INTEG, "integrity")
        _cipher_rules(encr, integ, protocol)
    else:
        _cipher_rules(encr, None, protocol)
    ke = _ke(tokens, "ESP")
    aead = any(e in AEAD_ENCR for e, _k in encr)
    if aead:
        integ = []
    elif not any(integ):
        integ = [] if integ else list(DEFAULT_ESP_INTEG)
    return ConfProposal("esp", text.strip(), line, tuple(encr), tuple(i for i in integ if i),
                        (), tuple(k for k in ke if k), ESN_EITHER)  # fmt: skip


def _peek_field(tokens: _Tokens) -> list[str]:
    save = tokens.pos
    words = tokens.field()
    tokens.pos = save
    return words


def parse_libreswan(text: str, protocol: Protocol, line: int) -> tuple[ConfProposal, ...]:
    """A comma-separated Libreswan list."""
    parts = text.split(",")
    if not text.strip() or any(not p.strip() for p in parts):
        raise ValueError("an empty proposal")
    out: list[ConfProposal] = []
    for p in parts:
        one = parse_one(p, protocol, line)
        # Libreswan drops a proposal equal to an earlier one.
        if not any(_same(one, o) for o in out):
            out.append(one)
    if protocol == "esp":
        # v2_proposals.c (pfs=yes): all or none name the KE, and at most one KE group.
        named = [bool(re.search(r"[-;]", p.strip()) and _names_ke(p)) for p in parts]
        if any(named) and not all(named):
            raise ValueError("either all or no ESP proposals should specify Key Exchange")
        if len({k for o in out for k in o.ke}) > 1:
            raise ValueError("more than one ESP Key Exchange group needs CREATE_CHILD_SA "
                             "INVALID_KE, which Libreswan does not implement")  # fmt: skip
    return tuple(out)


def _names_ke(text: str) -> bool:
    """Whether an ESP proposal ends in a KE field (``;dh19``, ``-modp2048``, ``;none``)."""
    last = re.split(r"[-;]", text.strip().lower())[-1].split("+")[0]
    return (last in _KE and last != "null") or text.strip().lower().endswith(";null")


def _same(a: ConfProposal, b: ConfProposal) -> bool:
    return (a.encr, a.integ, a.prf, a.ke) == (b.encr, b.integ, b.prf, b.ke)


def reswan_defaults(protocol: Protocol) -> tuple[ConfProposal, ...]:
    """What an unset ``ike=`` / ``esp=`` proposes (algparse-01 ``'ike'`` / ``'esp'``)."""
    ciphers = ("aes_gcm256", "aes_gcm128", "chacha20_poly1305", "aes256", "aes128")
    if protocol == "ah":
        return (ConfProposal("ah", "default (Libreswan AH)", 0, integ=DEFAULT_ESP_INTEG,
                             esn=ESN_EITHER),)  # fmt: skip
    out = []
    for c in ciphers:
        p = parse_one(c, protocol, 0)
        out.append(ConfProposal(p.protocol, f"default (Libreswan {c})", 0, p.encr, p.integ,
                                p.prf, p.ke, p.esn))  # fmt: skip
    return tuple(out)
