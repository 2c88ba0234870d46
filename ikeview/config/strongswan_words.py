"""strongSwan's proposal keywords (``aes256-sha256-prfsha256-modp2048``) and default proposals.

Checked against strongSwan's source at tags 5.9.8, 5.9.14, 6.0.0..6.0.6 and master (6.0.6-23):

- ``src/libstrongswan/crypto/proposal/proposal_keywords_static.txt``: the keyword table. Ids
  are IANA's; strongSwan's private-use ones (``crypter.h``, ``signer.h``, ``prf.h``,
  ``key_exchange.h``) are kept as strongSwan numbers them (``sha256_96`` = 1026, ``serpent`` =
  ENCR 1026, ``twofish`` 1027, ``camelliaxcbc`` 1030, ``prfcamelliaxcbc`` 1028, ``modpnull``
  1024): they only ever match another strongSwan. 5.9.x only: ``ntru112``..``ntru256``
  (1030-1033), ``newhope128`` (1040). 6.x only: ``mlkem512/768/1024`` (35-37), ``gost256/512``
  (33, 34) and ``ke1_`` .. ``ke7_`` before a KE keyword, an additional key exchange (RFC 9370;
  ``src/libstrongswan/crypto/key_exchange.c`` ``additional_key_exchange_parser``). Both sets
  are read: a keyword neither version knows is the error.
- ``proposal.c`` ``proposal_create_from_string`` / ``check_proposal``: words split on ``-``;
  an IKE proposal without PRF takes the PRF of each integrity algorithm (``integ_prf_map``);
  KE ``none`` is dropped from IKE proposals, which need a PRF and a KE; AEAD and classic
  ciphers cannot share a proposal, and all-AEAD proposals lose their integrity algorithms;
  ESP/AH proposals lose PRFs and get ``noesn`` when no ESN word is given; in AH proposals
  ``aes*gmac`` is the GMAC integrity algorithm and other ciphers are dropped.
- Defaults: ``proposal_create_default[_aead]`` (below) and ``vici_config.c``: unset
  ``proposals`` or ``default`` = non-AEAD then AEAD. For ESP, unset ``esp_proposals`` is AEAD
  then non-AEAD; ``esp_proposals = default`` is non-AEAD then AEAD in 5.9.x but AEAD first
  from 6.0.0. From 6.0.2 the ESP defaults also carry every supported KE method as optional
  (KE NONE last), so any PFS group the peer offers is accepted. 5.9.x is modelled (the lab's
  5.9.8); the 6.x differences are named here and in docs/config.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ikeview.config.proposals import AEAD_ENCR, ConfProposal, Encr, Protocol

_KEY_SIZES = (128, 192, 256)
# AEAD ICV spellings: the suffix in bytes or in bits, to the IANA id for AES / Camellia.
_AES_ICV = {"8": 14, "64": 14, "12": 15, "96": 15, "16": 16, "128": 16, "": 16}
_GCM_ICV = {"8": 18, "64": 18, "12": 19, "96": 19, "16": 20, "128": 20, "": 20}
_CAMELLIA_CCM = {"8": 25, "64": 25, "12": 26, "96": 26, "16": 27, "128": 27}


def _encr_words() -> dict[str, Encr]:
    words: dict[str, Encr] = {
        "null": (11, None),
        "des": (2, None),
        "3des": (3, None),
        "aes": (12, 128),
        "camellia": (23, 128),
        "blowfish": (7, 128),
        "cast128": (6, 128),
        "chacha20poly1305": (28, None),
        "chacha20poly1305compat": (28, 256),
        # strongSwan private-use ids (crypter.h): only another strongSwan knows them.
        "serpent": (1026, 128),
        "twofish": (1027, 128),
    }
    for k in _KEY_SIZES:
        words[f"aes{k}"] = (12, k)
        words[f"aes{k}ctr"] = (13, k)
        words[f"aes{k}gmac"] = (21, k)
        words[f"camellia{k}"] = (23, k)
        words[f"camellia{k}ctr"] = (24, k)
        words[f"blowfish{k}"] = (7, k)
        words[f"serpent{k}"] = (1026, k)
        words[f"twofish{k}"] = (1027, k)
        for suffix, ident in _AES_ICV.items():
            words[f"aes{k}ccm{suffix}"] = (ident, k)
        for suffix, ident in _GCM_ICV.items():
            words[f"aes{k}gcm{suffix}"] = (ident, k)
        for suffix, ident in _CAMELLIA_CCM.items():
            words[f"camellia{k}ccm{suffix}"] = (ident, k)
    return words


ENCR_WORDS = _encr_words()
"""strongSwan encryption keyword to (IANA ENCR id, key bits)."""

INTEG_WORDS = {
    "sha": 2,
    "sha1": 2,
    "sha1_160": 7,
    "sha256": 12,
    "sha2_256": 12,
    "sha384": 13,
    "sha2_384": 13,
    "sha512": 14,
    "sha2_512": 14,
    "md5": 1,
    "md5_128": 6,
    "aesxcbc": 5,
    "aescmac": 8,
    # Private-use ids (signer.h): the truncated SHA-256 of old Linux kernels, Camellia-XCBC.
    "sha256_96": 1026,
    "sha2_256_96": 1026,
    "camelliaxcbc": 1030,
}
"""strongSwan integrity keyword to INTEG id (IANA's, or strongSwan's private one)."""

PRF_WORDS = {
    "prfsha1": 2,
    "prfsha256": 5,
    "prfsha384": 6,
    "prfsha512": 7,
    "prfmd5": 1,
    "prfaesxcbc": 4,
    "prfaescmac": 8,
    "prfcamelliaxcbc": 1028,  # private-use (prf.h)
}
"""strongSwan PRF keyword to IANA PRF id."""

KE_WORDS = {
    "none": 0,
    "modpnone": 0,
    "modp768": 1,
    "modp1024": 2,
    "modp1536": 5,
    "modp2048": 14,
    "modp3072": 15,
    "modp4096": 16,
    "modp6144": 17,
    "modp8192": 18,
    "ecp256": 19,
    "ecp384": 20,
    "ecp521": 21,
    "modp1024s160": 22,
    "modp2048s224": 23,
    "modp2048s256": 24,
    "ecp192": 25,
    "ecp224": 26,
    "ecp224bp": 27,
    "ecp256bp": 28,
    "ecp384bp": 29,
    "ecp512bp": 30,
    "curve25519": 31,
    "x25519": 31,
    "curve448": 32,
    "x448": 32,
    "modpnull": 1024,  # private-use, for testing (key_exchange.h)
    # 6.x only:
    "gost256": 33,
    "gost512": 34,
    "mlkem512": 35,
    "mlkem768": 36,
    "mlkem1024": 37,
    # 5.9.x only (private-use):
    "ntru112": 1030,
    "ntru128": 1031,
    "ntru192": 1032,
    "ntru256": 1033,
    "newhope128": 1040,
}
"""strongSwan key exchange keyword to Transform Type 4 id."""

_AKE = re.compile(r"^ke([1-7])_(.+)$")
"""strongSwan 6 additional key exchange: ``ke1_mlkem768`` (slot 1 = Transform Type 6)."""

ESN_WORDS = {"noesn": 0, "esn": 1}
"""strongSwan ESN keyword to IANA Transform Type 5 id."""

# check_proposal: an IKE proposal with no PRF uses the PRF of each integrity algorithm.
_INTEG_PRF = {2: 2, 7: 2, 12: 5, 13: 6, 14: 7, 1: 1, 6: 1, 5: 4, 1030: 1028, 8: 8}
"""proposal.c ``integ_prf_map``: the PRF an integrity algorithm implies."""


@dataclass(slots=True)
class _Words:
    encr: list[Encr] = field(default_factory=list)
    integ: list[int] = field(default_factory=list)
    prf: list[int] = field(default_factory=list)
    ke: list[int] = field(default_factory=list)
    esn: list[int] = field(default_factory=list)
    ake: list[tuple[int, int]] = field(default_factory=list)

    def add(self, word: str) -> None:
        if word in ENCR_WORDS:
            _add(self.encr, ENCR_WORDS[word])
        elif word in INTEG_WORDS:
            _add(self.integ, INTEG_WORDS[word])
        elif word in PRF_WORDS:
            _add(self.prf, PRF_WORDS[word])
        elif word in KE_WORDS:
            _add(self.ke, KE_WORDS[word])
        elif word in ESN_WORDS:
            _add(self.esn, ESN_WORDS[word])
        elif (m := _AKE.match(word)) and m[2] in KE_WORDS:
            _add(self.ake, (int(m[1]), KE_WORDS[m[2]]))
        else:
            raise ValueError(f"unknown algorithm keyword {word!r}")


def parse_proposal(text: str, protocol: Protocol, line: int) -> ConfProposal:
    """One proposal string; raises ValueError naming the first unknown keyword or the rule of
    ``check_proposal`` it breaks."""
    w = _Words()
    words = [x for x in text.strip().rstrip("!").lower().split("-") if x.strip()]
    if not words:
        raise ValueError("empty proposal")
    for word in words:
        w.add(word.strip())
    if protocol == "ah":
        # AES-GMAC is read as a cipher: in AH it is the integrity algorithm; others go.
        gmac = {128: 9, 192: 10, 256: 11}
        w.integ += [gmac[k] for e, k in w.encr if e == 21 and k in gmac]
        w.encr, w.prf = [], []
        if not w.integ:
            raise ValueError("an AH proposal needs an integrity algorithm")
        return _proposal(protocol, text, line, w, esn=w.esn or [0])
    if protocol == "ike":
        # check_proposal's order: the PRF (from the integrity algorithms when none is named)
        # and the KE first, then the cipher rules, which may drop the integrity algorithms.
        if not w.prf:
            w.prf = [_INTEG_PRF[i] for i in w.integ if i in _INTEG_PRF]
        if not w.prf:
            raise ValueError("an IKE proposal needs a PRF (AEAD ciphers take prfsha256 etc.)")
        w.ke = [k for k in w.ke if k != 0]
        if not w.ke:
            raise ValueError("an IKE proposal needs a key exchange method (modp2048, ecp256...)")
    if not w.encr:
        raise ValueError("no encryption algorithm")
    aead = [e for e, _k in w.encr if e in AEAD_ENCR]
    if aead and len(aead) != len(w.encr):
        raise ValueError("classic and AEAD ciphers cannot share one proposal")
    if aead:
        w.integ = []
    elif protocol == "ike" and not w.integ:
        raise ValueError("an IKE proposal with a classic cipher needs an integrity algorithm")
    if protocol == "esp":
        return _proposal(protocol, text, line, w, prf=[], esn=w.esn or [0])
    return _proposal(protocol, text, line, w, esn=[])


def _proposal(
    protocol: Protocol,
    text: str,
    line: int,
    w: _Words,
    *,
    prf: list[int] | None = None,
    esn: list[int] | None = None,
) -> ConfProposal:
    return ConfProposal(
        protocol,
        text.strip(),
        line,
        tuple(w.encr),
        tuple(w.integ),
        tuple(w.prf if prf is None else prf),
        tuple(w.ke),
        tuple(w.esn if esn is None else esn),
        tuple(w.ake),
    )


def _add(values: list[Any], value: object) -> None:
    if value not in values:
        values.append(value)


def parse_list(text: str, protocol: Protocol, line: int) -> tuple[ConfProposal, ...]:
    """A comma-separated list (``proposals = a-b-c, d-e-f``), ``default`` expanded in place."""
    out: list[ConfProposal] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if part.lower() == "default":
            out.extend(default_proposals(protocol, line))
        else:
            out.append(parse_proposal(part, protocol, line))
    return tuple(out)


# proposal_create_default(PROTO_IKE) over the algorithms a typical build (openssl plugin) offers:
# round 1 (>= 128-bit strength) then round 2, as proposal.c orders them.
_IKE_DEFAULT = ConfProposal(
    "ike",
    "default (IKE, non-AEAD)",
    0,
    encr=(*tuple((e, k) for e in (12, 13, 23, 24) for k in _KEY_SIZES), (3, None)),
    integ=(12, 13, 14, 5, 8, 2),
    prf=(5, 6, 7, 4, 8, 2),
    ke=(19, 20, 21, 28, 29, 30, 31, 32, 15, 16, 17, 18, 14),
)
_IKE_DEFAULT_AEAD = ConfProposal(
    "ike",
    "default (IKE, AEAD)",
    0,
    encr=(
        *((e, k) for e in (20, 16) for k in _KEY_SIZES),
        (28, None),
        *((e, k) for e in (19, 18, 15, 14) for k in _KEY_SIZES),
    ),
    prf=_IKE_DEFAULT.prf,
    ke=_IKE_DEFAULT.ke,
)
_ESP_DEFAULT_AEAD = ConfProposal(
    "esp", "default (ESP, AEAD)", 0, encr=tuple((20, k) for k in _KEY_SIZES), esn=(0,)
)
_ESP_DEFAULT = ConfProposal(
    "esp",
    "default (ESP, non-AEAD)",
    0,
    encr=tuple((12, k) for k in _KEY_SIZES),
    integ=(12, 13, 14, 2, 5),
    esn=(0,),
)


_AH_DEFAULT = ConfProposal("ah", "default (AH)", 0, integ=_ESP_DEFAULT.integ, esn=(0,))


def default_proposals(protocol: Protocol, line: int = 0) -> tuple[ConfProposal, ...]:
    """The ``default`` keyword, strongSwan 5.9.x (``vici_config.c`` ``parse_proposal``):
    ``proposal_create_default`` then ``proposal_create_default_aead``, for IKE and (5.9.x only;
    6.x puts AEAD first) ESP; AH has no AEAD default. Unset ``proposals`` gives the IKE pair
    too; unset ``esp_proposals`` is :func:`unset_esp_defaults`."""
    del line
    if protocol == "ike":
        return (_IKE_DEFAULT, _IKE_DEFAULT_AEAD)
    if protocol == "ah":
        return (_AH_DEFAULT,)
    return (_ESP_DEFAULT, _ESP_DEFAULT_AEAD)


def unset_esp_defaults() -> tuple[ConfProposal, ...]:
    """What a child with no ``esp_proposals`` uses (AEAD first, vici_config.c)."""
    return (_ESP_DEFAULT_AEAD, _ESP_DEFAULT)


def proposal_words(proposal: ConfProposal) -> str:
    """A ConfProposal back in strongSwan keywords (for the swanctl writer)."""
    inv_encr = {v: k for k, v in reversed(list(ENCR_WORDS.items())) if len(k) > 3 or k == "3des"}
    inv_encr.update({(20, k): f"aes{k}gcm16" for k in _KEY_SIZES})
    inv_encr.update({(12, k): f"aes{k}" for k in _KEY_SIZES})
    inv_encr[(28, None)] = "chacha20poly1305"
    inv_integ = {2: "sha1", 12: "sha256", 13: "sha384", 14: "sha512", 1: "md5", 5: "aesxcbc"}
    inv_integ.update({7: "sha1_160", 6: "md5_128", 8: "aescmac", 1026: "sha256_96",
                      1030: "camelliaxcbc", 9: "aes128gmac", 10: "aes192gmac",
                      11: "aes256gmac"})  # fmt: skip
    inv_prf = {v: k for k, v in PRF_WORDS.items()}
    inv_ke = {v: k for k, v in KE_WORDS.items() if k not in ("modpnone", "x25519", "x448")}
    words = [inv_encr.get(e, f"encr{e[0]}") for e in proposal.encr]
    words += [inv_integ.get(i, f"integ{i}") for i in proposal.integ]
    words += [inv_prf.get(p, f"prf{p}") for p in proposal.prf]
    words += [inv_ke.get(k, f"ke{k}") for k in proposal.ke if k]
    words += [f"ke{slot}_{inv_ke.get(k, 'none')}" for slot, k in proposal.ake]
    if proposal.protocol == "esp" and 1 in proposal.esn:
        words += ["esn", "noesn"] if 0 in proposal.esn else ["esn"]
    return "-".join(words)
