"""The AUTH of a side that used EAP (RFC 7296 section 2.16), checked on the key side.

After EAP succeeded, each side's AUTH is a shared-key MIC (``crypto.auth.psk_auth``) whose secret
is the MSK the method exported, or, for methods that export none (EAP-MD5, EAP-GTC), the
sender's SK_p (strongSwan's keymat_v2 ``get_psk_sig``). The MSK is derived here for
EAP-MSCHAPv2 from an ``[[eap]]`` password; other MSK methods (EAP-TLS, EAP-TTLS, EAP-PEAP)
need secrets a capture and a password do not give, and are said to be unchecked.
"""

from __future__ import annotations

from ikeview.crypto import auth as ikeauth
from ikeview.crypto import eap as eapkeys
from ikeview.crypto.prf import Prf
from ikeview.iana import AuthMethod
from ikeview.iana.names import eap_method_name
from ikeview.keys.model import EapSecret
from ikeview.pipeline.ike_seam import AuthVerdict, EapRun
from ikeview.pipeline.seam import Side

_SHARED_KEY_MIC = AuthMethod.SHARED_KEY_MIC
_NO_MSK_METHODS = frozenset({eapkeys.EAP_MD5, 6})  # MD5-Challenge, Generic Token Card


def verify_eap_auth(
    secrets: tuple[EapSecret, ...],
    side: Side,
    method: int,
    auth_side: ikeauth.AuthSide,
    prf: Prf,
    eap: EapRun,
    what: str,
) -> AuthVerdict:
    """Check an AUTH sent after EAP: over SK_p for methods without an MSK, over the
    EAP-MSCHAPv2 MSK derived from a matching ``[[eap]]`` password."""
    name = eap_method_name(eap.method)
    if method != _SHARED_KEY_MIC:
        return AuthVerdict(side, method, None, None, f"{what} after {name}: not a shared key MIC")
    octets = ikeauth.side_signed_octets(prf, auth_side)
    sk = "SK_pi" if side == "initiator" else "SK_pr"
    over_sk_p = ikeauth.psk_auth(prf, auth_side.sk_p, octets) == auth_side.auth_data
    if eap.method in _NO_MSK_METHODS or (eap.method is None and over_sk_p):
        verdict = "verified" if over_sk_p else "does not verify"
        return AuthVerdict(
            side, method, over_sk_p, None, f"{what} {verdict} over {sk} ({name} exports no MSK)"
        )
    if eap.method is None:
        return AuthVerdict(
            side, method, None, None,
            f"cannot check {what}: the EAP method was not seen and it is not keyed with {sk}",
        )  # fmt: skip
    if eap.method != eapkeys.EAP_MSCHAPV2 or eap.mschapv2 is None:
        return AuthVerdict(
            side, method, None, None, f"cannot check {what}: the MSK of {name} is not derived here"
        )
    return _verify_mschapv2(secrets, side, method, auth_side, prf, octets, eap.mschapv2, what)


def _verify_mschapv2(
    secrets: tuple[EapSecret, ...],
    side: Side,
    method: int,
    auth_side: ikeauth.AuthSide,
    prf: Prf,
    octets: bytes,
    round_: tuple[bytes, bytes, bytes, bytes],
    what: str,
) -> AuthVerdict:
    auth_challenge, peer_challenge, nt, name = round_
    user = name.decode("utf-8", "replace")
    pool = [s for s in secrets if s.identity in ("*", user)]
    if not pool:
        return AuthVerdict(
            side, method, None, None,
            f"cannot check {what}: no [[eap]] password for EAP-MSCHAPv2 user {user!r}",
        )  # fmt: skip
    for secret in pool:
        # The password is right when it reproduces the NT-Response the peer sent.
        if eapkeys.nt_response(auth_challenge, peer_challenge, name, secret.password) != nt:
            continue
        msk = eapkeys.mschapv2_msk(secret.password, nt)
        label = f"EAP-MSCHAPv2 MSK of {secret.identity!r} ({secret.source})"
        if ikeauth.psk_auth(prf, msk, octets) == auth_side.auth_data:
            return AuthVerdict(side, method, True, None, f"{what} verified with the {label}")
        return AuthVerdict(side, method, False, None, f"{what} does not match the {label}")
    tried = ", ".join(f"{s.identity!r} ({s.source})" for s in pool)
    return AuthVerdict(
        side, method, None, None,
        f"cannot check {what}: no [[eap]] password reproduces the EAP-MSCHAPv2 NT-Response of "
        f"{user!r} (tried {tried})",
    )  # fmt: skip


def check_refused_password(
    secrets: tuple[EapSecret, ...], run: EapRun
) -> tuple[bool | None, str] | None:
    """When the server refused an EAP-MSCHAPv2 response (no final AUTH follows): does an
    ``[[eap]]`` password for the user reproduce the NT-Response the peer sent? Yes means the
    client used that password and the server holds another; None when nothing can be checked."""
    if run.method != eapkeys.EAP_MSCHAPV2 or run.mschapv2 is None or run.success is not False:
        return None
    auth_challenge, peer_challenge, nt, name = run.mschapv2
    user = name.decode("utf-8", "replace")
    pool = [s for s in secrets if s.identity in ("*", user)]
    if not pool:
        return None, f"no [[eap]] password for EAP-MSCHAPv2 user {user!r} to check"
    for secret in pool:
        if eapkeys.nt_response(auth_challenge, peer_challenge, name, secret.password) == nt:
            return True, (
                f"the [[eap]] password of {secret.identity!r} ({secret.source}) reproduces "
                f"{user!r}'s MS-CHAPv2 NT-Response: the client sent that password"
            )
    tried = ", ".join(f"{s.identity!r} ({s.source})" for s in pool)
    return False, (
        f"no [[eap]] password reproduces {user!r}'s MS-CHAPv2 NT-Response (tried {tried}): the "
        "client sent another password"
    )
