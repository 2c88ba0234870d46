"""``weak-algorithm``: chosen transforms that RFC 8247 (IKEv2) or RFC 8221 (ESP/AH) tell
implementations to drop (MUST NOT, SHOULD NOT) or keep only for interoperability (MUST-, MAY
on the way out). Only what was chosen is judged, never what was merely offered.
"""

from __future__ import annotations

from collections.abc import Iterator

from ikeview.diagnosis.facts import finding
from ikeview.diagnosis.records import Basis, Finding
from ikeview.dissectors import iana
from ikeview.dissectors.ike_records import Proposal

# (transform type, id) -> requirement level. RFC 8247 section 3.1 (ENCR), 3.2 (PRF), 3.3
# (INTEG), 3.4 (DH); the DH table also applies to ESP's PFS groups in CREATE_CHILD_SA.
_DES_FAMILY = {1: "MUST NOT", 2: "MUST NOT", 4: "MUST NOT", 5: "MUST NOT", 6: "MUST NOT",
               7: "MUST NOT", 8: "MUST NOT", 9: "MUST NOT"}  # fmt: skip
_DH = {1: "MUST NOT", 2: "SHOULD NOT", 5: "SHOULD NOT", 22: "SHOULD NOT", 23: "SHOULD NOT",
       24: "SHOULD NOT"}  # fmt: skip
_INTEG = {1: "MUST NOT", 3: "MUST NOT", 4: "MUST NOT", 6: "MUST NOT", 2: "MUST-",
          7: "MUST-"}  # fmt: skip

IKE_LEVELS: dict[tuple[int, int], str] = {
    **{(1, i): lvl for i, lvl in _DES_FAMILY.items()},
    (1, 3): "MAY",  # 3DES: kept for interoperability, expected to go (RFC 8247 3.1)
    (1, 11): "MUST NOT",  # ENCR_NULL in IKE
    (2, 1): "MUST NOT",  # PRF_HMAC_MD5
    (2, 2): "MUST-",  # PRF_HMAC_SHA1
    (2, 3): "MUST NOT",  # PRF_HMAC_TIGER
    **{(3, i): lvl for i, lvl in _INTEG.items()},
    **{(4, i): lvl for i, lvl in _DH.items()},
}
"""RFC 8247: IKEv2 transforms to retire."""

ESP_LEVELS: dict[tuple[int, int], str] = {
    **{(1, i): lvl for i, lvl in _DES_FAMILY.items()},
    (1, 3): "SHOULD NOT",  # 3DES (RFC 8221 5)
    **{(3, i): lvl for i, lvl in _INTEG.items()},
    **{(4, i): lvl for i, lvl in _DH.items()},
}
"""RFC 8221 section 5 (ENCR) and 6 (INTEG), plus RFC 8247's DH table for PFS."""

_WHY = {
    "MUST NOT": "must not be used",
    "SHOULD NOT": "should not be used",
    "MUST-": "is kept only for interoperability and is expected to be demoted",
    "MAY": "is kept only for interoperability and is expected to be deprecated",
}


_CISCO_IKE = (
    "crypto ikev2 proposal P / encryption aes-gcm-256 / prf sha256 / group 19 14, used by the "
    "crypto ikev2 policy."
)
_CISCO_ESP = "crypto ipsec transform-set T esp-gcm 256 (and pfs group19 if PFS is used)."
_SW_IKE = "proposals = aes256gcm16-prfsha256-ecp256 (or aes256-sha256-modp2048)."
_SW_ESP = "esp_proposals = aes256gcm16 (or aes256-sha256; add a group for PFS)."


def weak_transforms(proposal: Proposal, *, ike: bool) -> list[tuple[str, str]]:
    """(IANA name, level) of each chosen transform the RFC tables flag, in proposal order."""
    table = IKE_LEVELS if ike else ESP_LEVELS
    out: list[tuple[str, str]] = []
    for t in proposal.transforms:
        level = table.get((t.transform_type, t.transform_id))
        if level is None and not ike and t.transform_type == 3 and t.transform_id == 0:
            # AUTH_NONE without a combined-mode cipher leaves ESP unauthenticated (RFC 8221 6).
            aead = any(x.transform_type == 1 and x.transform_id in (14, 15, 16, 18, 19, 20, 28)
                       for x in proposal.transforms)  # fmt: skip
            level = None if aead else "MUST NOT"
        if level is not None:
            out.append((iana.transform_id_name(t.transform_type, t.transform_id), level))
    return out


def weak_finding(
    proposal: Proposal | None, frame: int, basis: Basis, *, ike: bool, what: str
) -> Iterator[Finding]:
    """One ``weak-algorithm`` finding for a chosen proposal with flagged transforms.

    Evidence: the responder's SA payload (clear in IKE_SA_INIT, decrypted otherwise).
    RFC 8247 section 3 (IKE), RFC 8221 sections 5-6 (ESP).
    """
    if proposal is None:
        return
    weak = weak_transforms(proposal, ike=ike)
    if not weak:
        return
    rfc = "RFC 8247" if ike else "RFC 8221"
    names = ", ".join(f"{n} ({lvl}: {_WHY[lvl]})" for n, lvl in weak)
    worst = "error" if any(lvl == "MUST NOT" for _n, lvl in weak) else "warning"
    yield finding(
        "weak-algorithm",
        [frame],
        basis,
        f"{what} chose {names} per {rfc} (frame {frame}).",
        severity=worst,
        fix_cisco=_CISCO_IKE if ike else _CISCO_ESP,
        fix_strongswan=_SW_IKE if ike else _SW_ESP,
        transforms=tuple(n for n, _l in weak),
        levels=tuple(lvl for _n, lvl in weak),
        rfc=rfc,
    )


__all__ = ["ESP_LEVELS", "IKE_LEVELS", "weak_finding", "weak_transforms"]
