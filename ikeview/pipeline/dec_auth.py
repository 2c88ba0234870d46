"""AUTH checks on the key side (RFC 7296 2.15): PSK MICs against the key ring's PSKs, NULL
authentication (RFC 7619), and signatures against the certificate the same side sent.

Both sides of an IKE SA are checked in one call, so a PSK scoped to either side's identity is
in the pool for both, and a PSK that reproduces one side's AUTH only explains the other's
failure ("the two sides use different PSKs"). No state is kept between calls except the
identities seen, which widen the PSK pool of later rounds.
"""

from __future__ import annotations

from ikeview.crypto import auth as ikeauth
from ikeview.crypto.prf import Prf, get_prf
from ikeview.iana import AuthMethod, CertEncoding
from ikeview.keys.model import EapSecret, Psk
from ikeview.pipeline.dec_eap import verify_eap_auth
from ikeview.pipeline.dec_ike import IkeSaState
from ikeview.pipeline.dec_records import spis_text
from ikeview.pipeline.ids import IkeSpis, Side, other_side
from ikeview.pipeline.ike_seam import AuthClaim, AuthVerdict, IkeSaSetup

_SIGNATURE_METHODS = frozenset(
    {
        AuthMethod.RSA_DIGITAL_SIGNATURE,
        AuthMethod.ECDSA_SHA256_P256,
        AuthMethod.ECDSA_SHA384_P384,
        AuthMethod.ECDSA_SHA512_P521,
        AuthMethod.DIGITAL_SIGNATURE,
    }
)
_CERT_ENCODINGS = frozenset({CertEncoding.X509_SIGNATURE, CertEncoding.RAW_PUBLIC_KEY})
_METHOD_NAMES: dict[int, str] = {
    AuthMethod.RSA_DIGITAL_SIGNATURE: "RSA signature",
    AuthMethod.SHARED_KEY_MIC: "shared key MIC",
    AuthMethod.DSS_DIGITAL_SIGNATURE: "DSS signature",
    AuthMethod.ECDSA_SHA256_P256: "ECDSA P-256 signature",
    AuthMethod.ECDSA_SHA384_P384: "ECDSA P-384 signature",
    AuthMethod.ECDSA_SHA512_P521: "ECDSA P-521 signature",
    AuthMethod.NULL: "NULL authentication",
    AuthMethod.DIGITAL_SIGNATURE: "digital signature",
}


def verify_claims(
    state: IkeSaState | None,
    spis: IkeSpis,
    claims: tuple[AuthClaim, ...],
    psks: tuple[Psk, ...],
    eap_secrets: tuple[EapSecret, ...] = (),
) -> tuple[AuthVerdict, ...]:
    """One verdict per claim, in order (see the module's rules); an AUTH sent after EAP is
    checked over the MSK or SK_p (dec_eap.py)."""
    if state is not None:
        state.ids.update(c.identity.text for c in claims if c.identity and c.identity.text)
    matched: dict[Side, str] = {}
    verdicts = [_verify(state, spis, c, psks, matched, eap_secrets) for c in claims]
    # A PSK failure reads differently once the other side's PSK is known.
    return tuple(
        _verify(state, spis, c, psks, matched, eap_secrets)
        if v.verified is False and c.auth.method == AuthMethod.SHARED_KEY_MIC and matched
        else v
        for c, v in zip(claims, verdicts, strict=True)
    )


def _verify(
    state: IkeSaState | None,
    spis: IkeSpis,
    claim: AuthClaim,
    psks: tuple[Psk, ...],
    matched: dict[Side, str],
    eap_secrets: tuple[EapSecret, ...] = (),
) -> AuthVerdict:
    """Check one side's AUTH: PSK MIC with every candidate PSK, or the CERT's signature."""
    side, method = claim.side, int(claim.auth.method)
    mname = _METHOD_NAMES.get(method, f"method {method}")
    what = f"the {side}'s AUTH ({mname}) of IKE SA {spis_text(spis)}"
    cand = state.chosen() if state is not None else None
    setup = state.setup if state is not None else None
    if setup is None or setup.init_request is None or setup.init_response is None:
        return AuthVerdict(side, method, None, None, f"cannot check {what}: no IKE_SA_INIT")
    if cand is None or state is None:
        return AuthVerdict(side, method, None, None, f"cannot check {what}: no SK_p* keys")
    sk_p = cand.keys.sk_pi if side == "initiator" else cand.keys.sk_pr
    prf_id = cand.keys.prf or setup.algorithms.prf
    if sk_p is None or prf_id is None:
        name = "SK_pi" if side == "initiator" else "SK_pr"
        return AuthVerdict(
            side, method, None, None,
            f"cannot check {what}: no {name} (keys {cand.origin} hold SK_e/SK_a only; "
            f"add a [[dh]] secret so ikeview derives it, or [[ike_sa]] sk_pi/sk_pr)",
        )  # fmt: skip
    prf = get_prf(prf_id)
    initiator = side == "initiator"
    auth_side = ikeauth.AuthSide(
        real_message=setup.init_request if initiator else setup.init_response,
        peer_nonce=setup.nr if initiator else setup.ni,
        id_body=bytes(claim.identity.body) if claim.identity is not None else b"",
        sk_p=sk_p,
        auth_data=bytes(claim.auth.data),
    )
    if claim.eap is not None:
        return verify_eap_auth(eap_secrets, side, method, auth_side, prf, claim.eap, what)
    if method == AuthMethod.SHARED_KEY_MIC:
        pool = [p for p in psks if _psk_in_scope(p, setup, state.ids)]
        return _verify_psk(side, pool, auth_side, prf, what, matched)
    if method == AuthMethod.NULL:
        v = ikeauth.verify_null_auth(prf, auth_side)
        return AuthVerdict(side, method, v.verified, None, f"{what}: {v.reason}")
    if method in _SIGNATURE_METHODS:
        cert = next((c for c in claim.certs if c.encoding in _CERT_ENCODINGS), None)
        if cert is None:
            return AuthVerdict(
                side, method, None, None, f"cannot check {what}: no certificate was sent"
            )
        v = ikeauth.verify_side_signature(prf, method, auth_side, bytes(cert.data))
        algo = f" ({v.algorithm})" if v.algorithm else ""
        return AuthVerdict(side, method, v.verified, None, f"{what}{algo}: {v.reason}")
    return AuthVerdict(side, method, None, None, f"{what}: this method is not checked")


def _verify_psk(
    side: Side,
    pool: list[Psk],
    auth_side: ikeauth.AuthSide,
    prf: Prf,
    what: str,
    matched: dict[Side, str],
) -> AuthVerdict:
    method = int(AuthMethod.SHARED_KEY_MIC)
    if not pool:
        return AuthVerdict(
            side, method, None, None, f"cannot check {what}: no PSK for it; add a [[psk]]"
        )
    octets = ikeauth.side_signed_octets(prf, auth_side)
    for psk in pool:
        if ikeauth.psk_auth(prf, psk.secret, octets) == auth_side.auth_data:
            label = f"{psk.label} ({psk.source})"
            matched[side] = label
            return AuthVerdict(side, method, True, label, f"{what} verified with PSK {label}")
    other = other_side(side)
    tried = ", ".join(f"{p.label} ({p.source})" for p in pool)
    if other in matched:
        detail = (
            f"{what} matches no PSK (tried {tried}); PSK {matched[other]} matches "
            f"the {other}'s AUTH only: the two sides use different PSKs"
        )
    else:
        detail = f"{what} matches no PSK (tried {tried}): it matches neither side"
    return AuthVerdict(side, method, False, None, detail)


def _psk_in_scope(psk: Psk, setup: IkeSaSetup, ids: set[str]) -> bool:
    if psk.peer is not None and psk.peer not in (setup.initiator, setup.responder):
        return False
    return psk.id is None or psk.id in ids
