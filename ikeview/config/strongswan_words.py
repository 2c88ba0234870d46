"""strongSwan's proposal keywords (``aes256-sha256-prfsha256-modp2048``) and default proposals.

Facts from strongSwan 5.9.x: ``src/libstrongswan/crypto/proposal/proposal_keywords_static.txt``
(the keyword table), ``proposal.c`` ``check_proposal`` (an IKE proposal without PRF takes the PRF
matching each integrity algorithm; KE NONE is dropped from IKE proposals; ESP proposals lose any
PRF and get ``noesn`` when no ESN keyword is given) and ``proposal_create_default[_aead]``
(the defaults below). Ids are IANA's.
"""

from __future__ import annotations

from ikeview.config.proposals import ConfProposal, Encr, Protocol

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
    }
    for k in _KEY_SIZES:
        words[f"aes{k}"] = (12, k)
        words[f"aes{k}ctr"] = (13, k)
        words[f"aes{k}gmac"] = (21, k)
        words[f"camellia{k}"] = (23, k)
        words[f"camellia{k}ctr"] = (24, k)
        words[f"blowfish{k}"] = (7, k)
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
}
"""strongSwan integrity keyword to IANA INTEG id (private-range ones are left out)."""

PRF_WORDS = {
    "prfsha1": 2,
    "prfsha256": 5,
    "prfsha384": 6,
    "prfsha512": 7,
    "prfmd5": 1,
    "prfaesxcbc": 4,
    "prfaescmac": 8,
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
}
"""strongSwan key exchange keyword to IANA Transform Type 4 id."""

ESN_WORDS = {"noesn": 0, "esn": 1}
"""strongSwan ESN keyword to IANA Transform Type 5 id."""

# check_proposal: an IKE proposal with no PRF uses the PRF of each integrity algorithm.
_INTEG_PRF = {1: 1, 2: 2, 5: 4, 12: 5, 13: 6, 14: 7, 8: 8}


def parse_proposal(text: str, protocol: Protocol, line: int) -> ConfProposal:
    """One proposal string; raises ValueError naming the first unknown keyword."""
    encr: list[Encr] = []
    integ: list[int] = []
    prf: list[int] = []
    ke: list[int] = []
    esn: list[int] = []
    words = [w for w in text.strip().rstrip("!").lower().split("-") if w]
    if not words:
        raise ValueError("empty proposal")
    for word in words:
        if word in ENCR_WORDS:
            _add(encr, ENCR_WORDS[word])
        elif word in INTEG_WORDS:
            _add(integ, INTEG_WORDS[word])
        elif word in PRF_WORDS:
            _add(prf, PRF_WORDS[word])
        elif word in KE_WORDS:
            _add(ke, KE_WORDS[word])
        elif word in ESN_WORDS:
            _add(esn, ESN_WORDS[word])
        else:
            raise ValueError(f"unknown algorithm keyword {word!r}")
    if not encr and not (protocol == "esp" and integ):
        raise ValueError("no encryption algorithm")
    if protocol == "ike":
        if not prf:
            prf = [_INTEG_PRF[i] for i in integ if i in _INTEG_PRF]
        if not prf:
            raise ValueError("an IKE proposal needs a PRF (AEAD ciphers take prfsha256 etc.)")
        ke = [k for k in ke if k != 0]
        if not ke:
            raise ValueError("an IKE proposal needs a key exchange method (modp2048, ecp256...)")
        esn = []
    else:
        prf = []
        esn = esn or [0]
    return ConfProposal(
        protocol, text.strip(), line, tuple(encr), tuple(integ), tuple(prf), tuple(ke), tuple(esn)
    )


def _add(values: list, value: object) -> None:
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


def default_proposals(protocol: Protocol, line: int = 0) -> tuple[ConfProposal, ...]:
    """strongSwan 5.9.x defaults: IKE non-AEAD then AEAD (vici ``default`` keyword and unset
    ``proposals``); ESP AEAD then non-AEAD for unset ``esp_proposals`` (vici_config.c)."""
    del line
    if protocol == "ike":
        return (_IKE_DEFAULT, _IKE_DEFAULT_AEAD)
    return (_ESP_DEFAULT_AEAD, _ESP_DEFAULT)


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
    inv_integ.update({7: "sha1_160", 6: "md5_128", 8: "aescmac"})
    inv_prf = {v: k for k, v in PRF_WORDS.items()}
    inv_ke = {v: k for k, v in KE_WORDS.items() if k not in ("modpnone", "x25519", "x448")}
    words = [inv_encr.get(e, f"encr{e[0]}") for e in proposal.encr]
    words += [inv_integ.get(i, f"integ{i}") for i in proposal.integ]
    words += [inv_prf.get(p, f"prf{p}") for p in proposal.prf]
    words += [inv_ke.get(k, f"ke{k}") for k in proposal.ke if k]
    if proposal.protocol == "esp" and 1 in proposal.esn:
        words += ["esn", "noesn"] if 0 in proposal.esn else ["esn"]
    return "-".join(words)
