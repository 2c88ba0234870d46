"""A proposal in the words of the two configurations a fix names: a strongSwan proposal string
(``aes256-sha256-modp2048``) and Cisco IOS IKEv2 proposal / transform-set keywords.

Keywords are those of strongSwan's proposal keyword table and Cisco's command references; a
transform without a keyword falls back to its IANA name, so the text is never empty.
"""

from __future__ import annotations

from ikeview import iana
from ikeview.dissectors.ike_records import Proposal, Transform

_SW_ENCR = {3: "3des", 11: "null", 28: "chacha20poly1305"}
_SW_AES = {12: "", 13: "ctr", 14: "ccm8", 15: "ccm12", 16: "ccm16", 18: "gcm8", 19: "gcm12",
           20: "gcm16", 21: "gmac"}  # fmt: skip
_SW_INTEG = {1: "md5", 2: "sha1", 5: "aesxcbc", 7: "sha1_160", 8: "aescmac", 12: "sha256",
             13: "sha384", 14: "sha512"}  # fmt: skip
_SW_PRF = {1: "prfmd5", 2: "prfsha1", 4: "prfaesxcbc", 5: "prfsha256", 6: "prfsha384",
           7: "prfsha512", 8: "prfaescmac"}  # fmt: skip
_SW_DH = {1: "modp768", 2: "modp1024", 5: "modp1536", 14: "modp2048", 15: "modp3072",
          16: "modp4096", 17: "modp6144", 18: "modp8192", 19: "ecp256", 20: "ecp384",
          21: "ecp521", 22: "modp1024s160", 23: "modp2048s224", 24: "modp2048s256",
          25: "ecp192", 26: "ecp224", 27: "ecp224bp", 28: "ecp256bp", 29: "ecp384bp",
          30: "ecp512bp", 31: "curve25519", 32: "curve448"}  # fmt: skip

_IOS_ENCR_AES = {12: "aes-cbc", 20: "aes-gcm", 19: "aes-gcm"}
_IOS_INTEG = {1: "md5", 2: "sha1", 12: "sha256", 13: "sha384", 14: "sha512"}
_IOS_PRF = {1: "md5", 2: "sha1", 5: "sha256", 6: "sha384", 7: "sha512"}
_IOS_ESP_ENCR = {3: "esp-3des", 11: "esp-null"}
_IOS_ESP_AES = {12: "esp-aes", 20: "esp-gcm", 21: "esp-gmac"}
_IOS_ESP_INTEG = {1: "esp-md5-hmac", 2: "esp-sha-hmac", 12: "esp-sha256-hmac",
                  13: "esp-sha384-hmac", 14: "esp-sha512-hmac"}  # fmt: skip


def _of(p: Proposal, ttype: int) -> list[Transform]:
    return [t for t in p.transforms if t.transform_type == ttype]


def _iana(t: Transform) -> str:
    return iana.transform_id_name(t.transform_type, t.transform_id)


def _sw_encr(t: Transform) -> str:
    if t.transform_id in _SW_AES:
        return f"aes{t.key_length or 128}{_SW_AES[t.transform_id]}"
    return _SW_ENCR.get(t.transform_id, _iana(t).lower())


def strongswan(p: Proposal) -> str:
    """The proposal as a strongSwan proposal string, transforms in strongSwan's order."""
    words = [_sw_encr(t) for t in _of(p, 1)]
    words += [_SW_INTEG.get(t.transform_id, _iana(t).lower()) for t in _of(p, 3)
              if t.transform_id != 0]  # fmt: skip
    words += [_SW_PRF.get(t.transform_id, _iana(t).lower()) for t in _of(p, 2)]
    words += [_SW_DH.get(t.transform_id, _iana(t).lower()) for t in _of(p, 4)]
    if p.protocol_id != 1:
        words += ["esn" if t.transform_id else "noesn" for t in _of(p, 5)][:1]
    return "-".join(dict.fromkeys(words))


def dh_strongswan(group: int) -> str:
    """A DH group as a strongSwan keyword."""
    return _SW_DH.get(group, f"group{group}")


def _ios_encr(t: Transform) -> str:
    if t.transform_id in _IOS_ENCR_AES:
        return f"{_IOS_ENCR_AES[t.transform_id]}-{t.key_length or 128}"
    return "3des" if t.transform_id == 3 else _iana(t)


def cisco(p: Proposal) -> str:
    """IOS lines for the proposal: ``crypto ikev2 proposal`` for IKE, a transform set for ESP."""
    if p.protocol_id == 1:
        parts = ["encryption " + " ".join(dict.fromkeys(_ios_encr(t) for t in _of(p, 1)))]
        integ = [_IOS_INTEG.get(t.transform_id, _iana(t)) for t in _of(p, 3) if t.transform_id]
        if integ:
            parts.append("integrity " + " ".join(dict.fromkeys(integ)))
        prf = [_IOS_PRF.get(t.transform_id, _iana(t)) for t in _of(p, 2)]
        if prf:
            parts.append("prf " + " ".join(dict.fromkeys(prf)))
        groups = [str(t.transform_id) for t in _of(p, 4)]
        if groups:
            parts.append("group " + " ".join(dict.fromkeys(groups)))
        return "crypto ikev2 proposal P / " + " / ".join(parts)
    words: list[str] = []
    for t in _of(p, 1)[:1]:
        if t.transform_id in _IOS_ESP_AES:
            words.append(f"{_IOS_ESP_AES[t.transform_id]} {t.key_length or 128}")
        else:
            words.append(_IOS_ESP_ENCR.get(t.transform_id, _iana(t)))
    words += [_IOS_ESP_INTEG.get(t.transform_id, _iana(t)) for t in _of(p, 3)[:1]
              if t.transform_id]  # fmt: skip
    return "crypto ipsec transform-set T " + " ".join(words)


def first_group(p: Proposal, group: int) -> Proposal:
    """The proposal with ``group`` moved to the front of its DH transforms (the one a KE uses)."""
    rest = [t for t in p.transforms if t.transform_type != 4]
    groups = sorted((t for t in p.transforms if t.transform_type == 4),
                    key=lambda t: t.transform_id != group)  # fmt: skip
    return Proposal(p.number, p.protocol_id, p.spi, (*rest, *groups), p.offset)


def offer_words(
    offered: tuple[Proposal, ...], cisco_fix: str | None, swan_fix: str | None
) -> tuple[str, str]:
    """The standing fixes with the offer spelled in each configuration's words, so it can be
    compared with the other peer's configuration line by line."""
    sw = "; ".join(f"`{strongswan(p)}`" for p in offered[:4])
    ios = "; ".join(f"`{cisco(p)}`" for p in offered[:4])
    return (
        f"{cisco_fix or 'compare with the offer'}; the offer in IOS terms: {ios}",
        f"{swan_fix or 'compare with the offer'}; the offer in swanctl terms: {sw}",
    )


__all__ = ["cisco", "dh_strongswan", "first_group", "offer_words", "strongswan"]
