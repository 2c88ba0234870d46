"""Transforms the algorithm-requirement RFCs tell implementations to stop using.

RFC 8247 (IKEv2, sections 3.1-3.4) and RFC 8221 (ESP and AH, sections 5-6). Only the entries
below MUST or below SHOULD+ that mean "move away" are listed: MUST NOT, SHOULD NOT and MUST-
(still required today, expected to be demoted). Anything not listed raises nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from ikeview import iana
from ikeview.dissectors.ike_records import Proposal

T = iana.TransformType
E = iana.EncrId
P = iana.PrfId
INTEG = iana.IntegId
G = iana.DhGroup

_DES_FAMILY = {E.ENCR_DES_IV64, E.ENCR_DES, E.ENCR_DES_IV32}
_OLD_CIPHERS = {E.ENCR_RC5, E.ENCR_IDEA, E.ENCR_CAST, E.ENCR_BLOWFISH, E.ENCR_3IDEA}

# (transform type, id) -> requirement level, for IKE SAs (RFC 8247).
IKE: dict[tuple[int, int], str] = {
    **{(T.ENCR, int(e)): "MUST NOT" for e in _DES_FAMILY | _OLD_CIPHERS},
    (T.ENCR, E.ENCR_NULL): "MUST NOT",
    (T.ENCR, E.ENCR_3DES): "MAY (legacy; RFC 8247 expects it to be deprecated)",
    (T.PRF, P.PRF_HMAC_MD5): "MUST NOT",
    (T.PRF, P.PRF_HMAC_SHA1): "MUST-",
    (T.INTEG, INTEG.AUTH_HMAC_MD5_96): "MUST NOT",
    (T.INTEG, INTEG.AUTH_DES_MAC): "MUST NOT",
    (T.INTEG, INTEG.AUTH_KPDK_MD5): "MUST NOT",
    (T.INTEG, INTEG.AUTH_HMAC_SHA1_96): "MUST-",
    (T.DH, G.MODP_768): "MUST NOT",
    (T.DH, G.MODP_1024): "SHOULD NOT",
    (T.DH, G.MODP_1536): "SHOULD NOT",
    (T.DH, 22): "SHOULD NOT",
    (T.DH, 23): "SHOULD NOT",
    (T.DH, 24): "SHOULD NOT",
}

# The same for ESP (RFC 8221); a DH group here is the PFS group of the child SA, judged by
# RFC 8247's table as RFC 8221 defers to it.
ESP: dict[tuple[int, int], str] = {
    **{(T.ENCR, int(e)): "MUST NOT" for e in _DES_FAMILY | _OLD_CIPHERS},
    (T.ENCR, E.ENCR_3DES): "SHOULD NOT",
    (T.INTEG, INTEG.AUTH_HMAC_MD5_96): "MUST NOT",
    (T.INTEG, INTEG.AUTH_DES_MAC): "MUST NOT",
    (T.INTEG, INTEG.AUTH_KPDK_MD5): "MUST NOT",
    (T.INTEG, INTEG.AUTH_HMAC_SHA1_96): "MUST-",
    **{k: v for k, v in IKE.items() if k[0] == T.DH},
}

REPLACEMENT: dict[int, str] = {
    T.ENCR: "AES-GCM-16 or AES-CBC with 128 or 256-bit keys (or ChaCha20-Poly1305)",
    T.PRF: "PRF_HMAC_SHA2_256 or stronger",
    T.INTEG: "HMAC-SHA2-256-128 or stronger (or an AEAD cipher)",
    T.DH: "group 14 (MODP-2048), 19 (ECP-256) or 31 (Curve25519)",
}


def weak_transforms(proposal: Proposal, *, esp: bool) -> Iterator[tuple[int, str, str]]:
    """(transform type, IANA name, requirement level) of each listed transform in a proposal."""
    table = ESP if esp else IKE
    for t in proposal.transforms:
        level = table.get((t.transform_type, t.transform_id))
        if level is not None:
            name = iana.transform_id_name(t.transform_type, t.transform_id)
            yield t.transform_type, name, level


__all__ = ["ESP", "IKE", "REPLACEMENT", "weak_transforms"]
