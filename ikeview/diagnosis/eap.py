"""IKE_AUTH with EAP that the initiator abandoned (RFC 7296 2.16, 2.21.2; RFC 3748).

An EAP client whose credentials the server refused may never see an EAP-Failure in IKE: with
EAP-MSCHAPv2 the server sends an MS-CHAPv2 Failure request (RFC 2759 section 6, Microsoft's
EAP-MSCHAPv2 drafts: OpCode 4, ``E=691`` for a wrong password), and a client that does not retry
gives up with N(AUTHENTICATION_FAILED) in an INFORMATIONAL. Without this the IKE SA looked as if
the capture had stopped mid-EAP.
"""

from __future__ import annotations

import re

from ikeview.diagnosis import evidence as ev
from ikeview.diagnosis.codes import finding
from ikeview.diagnosis.records import Finding
from ikeview.dissectors.ike_records import EapPayload
from ikeview.pipeline.model import Exchange, IkeSa, Message, eap_method_name

EAP_REQUEST, EAP_FAILURE = 1, 4
EAP_MSCHAPV2 = 26
MSCHAPV2_FAILURE = 4
"""MS-CHAPv2 OpCode of a Failure packet."""
_ERROR = re.compile(rb"E=(\d{1,10})")

_FIX = (
    "check the EAP user's credentials: the password (or certificate) on the client and the "
    "entry for that identity on the EAP server (or its RADIUS server)"
)
_FIX_CISCO = (
    "the RADIUS server's entry for the EAP identity (the AAA method list in "
    "`authentication remote eap` of the `crypto ikev2 profile`)"
)
_FIX_SWAN = "the `eap-...` secret for the identity in `secrets` (or the eap-radius server's user)"


def _eap(m: Message | None) -> list[EapPayload]:
    return [p for p in ev.payloads(m) if isinstance(p, EapPayload)]


def _mschapv2_error(p: EapPayload) -> str | None:
    """``E=691``-style error code of an MS-CHAPv2 Failure request, or None for other packets.
    Only the digits are taken from the packet (its message text is not printed)."""
    if p.code != EAP_REQUEST or p.eap_type != EAP_MSCHAPV2 or p.data[:1] != bytes([4]):
        return None
    m = _ERROR.search(bytes(p.data[4:200]))
    return f"E={m.group(1).decode()}" if m else "no error code"


def _password_text(matched: bool | None, user: str) -> str | None:
    """What the decryptor's check of the [[eap]] password against the refused response says."""
    if matched is True:
        return (
            f"the password you gave reproduces the response{user}, so the client sent it and "
            "the server holds another password for that user"
        )
    if matched is False:
        return f"the password you gave does not reproduce the response{user}: the client's differs"
    return None


def eap_abandoned(
    sa: IkeSa, ex: Exchange, resp: Message, req: Message, answer: Message | None
) -> tuple[str, list[Finding]]:
    """Verdict text and findings when the initiator answered an EAP round of IKE_AUTH (``resp``)
    with N(AUTHENTICATION_FAILED) in an INFORMATIONAL (``req``)."""
    frames = [m.frame for m in (ex.request, resp, req, answer) if m is not None]
    eaps = _eap(resp)
    refused = next((e for e in map(_mschapv2_error, eaps) if e is not None), None)
    failure = any(p.code == EAP_FAILURE for p in eaps)
    client = next((s for s in sa.auth if s.side == "initiator"), None)
    who = (client.eap_identity if client else None) or (client.identity if client else None)
    user = f" of {who}" if who else ""
    if refused is not None or failure:
        what = (
            f"an MS-CHAPv2 Failure ({refused}, frame {resp.frame})"
            if refused is not None
            else f"an EAP-Failure (frame {resp.frame})"
        )
        method = "EAP-MSCHAPv2" if refused is not None else "EAP"
        how = (
            f"it answered the EAP credentials{user} with {what}; the initiator then gave up "
            f"with AUTHENTICATION_FAILED in an INFORMATIONAL (frame {req.frame})"
        )
        text = f"the responder refused the initiator's {method} credentials (frame {resp.frame})"
        by = "responder"
        why = _password_text(client.eap_password if client else None, user)
        if why:
            how += f"; {why}"
            text += f": {why}"
    else:
        method = eap_method_name(client.eap_method if client else None)
        how = (
            f"after the IKE_AUTH response of frame {resp.frame} ({method} round) the initiator "
            f"sent AUTHENTICATION_FAILED in an INFORMATIONAL (frame {req.frame}) and stopped"
        )
        text = f"the initiator abandoned EAP authentication (frame {req.frame})"
        by = "initiator"
    other = "initiator" if by == "responder" else "responder"
    found = finding(
        "authentication-failed",
        frames=frames,
        basis="decrypted",
        explanation=f"the {by} rejected the {other}'s authentication: {how}",
        fix=_FIX,
        fix_cisco=_FIX_CISCO,
        fix_strongswan=_FIX_SWAN,
        rejected_by=by,
        eap_error=refused,
        eap_password=client.eap_password if client is not None else None,
    )
    return text, [found]


__all__ = ["eap_abandoned"]
