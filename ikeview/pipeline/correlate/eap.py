"""Following the EAP conversation inside IKE_AUTH (RFC 7296 section 2.16, RFC 3748).

The initiator leaves AUTH out of its first IKE_AUTH request; EAP payloads then go back and forth
until the responder sends EAP-Success (or Failure), after which both sides send an AUTH computed
over the method's MSK. :class:`EapTrack` notes what the model shows (identity, method, result)
and what the MSK depends on (an EAP-MSCHAPv2 round).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ikeview.crypto import eap as eapkeys
from ikeview.dissectors.ike_records import EapPayload
from ikeview.iana.names import eap_method_name
from ikeview.pipeline.ike_seam import EapRun

EAP_SUCCESS, EAP_FAILURE = 3, 4
"""EAP Codes (RFC 3748 section 4)."""
MSCHAPV2_FAILURE = b"\x04"
"""MS-CHAPv2 OpCode of the server's Failure packet (RFC 2759 section 6)."""
_NOT_METHODS = (eapkeys.EAP_IDENTITY, 2, eapkeys.EAP_NAK)  # Identity, Notification, Nak


@dataclass(slots=True)
class EapTrack:
    """What the EAP payloads of one IKE SA's IKE_AUTH exchanges showed so far."""

    identity: bytes | None = None
    method: int | None = None
    success: bool | None = None
    challenge: bytes | None = None
    """The last EAP-MSCHAPv2 authenticator challenge."""
    mschapv2: tuple[bytes, bytes, bytes, bytes] | None = None
    password: tuple[bool | None, str] | None = None
    """The decryptor's check of an [[eap]] password against a refused MS-CHAPv2 response."""

    def see(self, p: EapPayload) -> None:
        if p.code == EAP_SUCCESS:
            self.success = True
        elif p.code == EAP_FAILURE:
            self.success = False
        elif p.eap_type == eapkeys.EAP_IDENTITY and p.code == 2:
            self.identity = bytes(p.data)
        elif p.eap_type == eapkeys.EAP_MSCHAPV2:
            self._mschapv2(p)
        if p.code == 2 and p.eap_type is not None and p.eap_type not in _NOT_METHODS:
            # The method is the one the peer answered, not every one the server offered.
            self.method = p.eap_type

    def _mschapv2(self, p: EapPayload) -> None:
        if p.code == 1 and p.data[:1] == MSCHAPV2_FAILURE:
            # The server's MS-CHAPv2 Failure request: the credentials were refused; a client
            # that does not retry ends with AUTHENTICATION_FAILED, never an EAP-Failure.
            self.success = False
        elif p.code == 1:
            self.challenge = eapkeys.mschapv2_challenge(p.data) or self.challenge
        elif p.code == 2 and self.challenge is not None:
            resp = eapkeys.mschapv2_response(p.data)
            if resp is not None:
                self.mschapv2 = (self.challenge, *resp)

    def run(self) -> EapRun:
        return EapRun(self.identity, self.method, self.success, self.mschapv2)

    @property
    def result(self) -> str | None:
        """``success``, ``failure`` or None (not finished in the capture)."""
        return None if self.success is None else ("success" if self.success else "failure")


_TYPE_NAMES = {eapkeys.EAP_IDENTITY: "identity", 2: "notification", eapkeys.EAP_NAK: "Nak"}


def eap_round(payloads: Sequence[object]) -> str | None:
    """``identity 'bob'``, ``request EAP-MSCHAPv2``, ``success`` ... for the EAP payloads of one
    message, or None when it has none (the exchange table's purpose column)."""
    parts: list[str] = []
    for p in payloads:
        if not isinstance(p, EapPayload):
            continue
        if p.code == EAP_SUCCESS:
            parts.append("EAP success")
        elif p.code == EAP_FAILURE:
            parts.append("EAP failure")
        elif p.code == 2 and p.eap_type == eapkeys.EAP_IDENTITY:
            parts.append(f"EAP identity {bytes(p.data[:64]).decode('utf-8', 'replace')!r}")
        else:
            kind = "request" if p.code == 1 else "response"
            t = p.eap_type
            name = _TYPE_NAMES.get(t, "") if t is not None else ""
            failed = t == eapkeys.EAP_MSCHAPV2 and p.code == 1 and p.data[:1] == MSCHAPV2_FAILURE
            parts.append(f"EAP {kind} {name or eap_method_name(t)}{' failure' if failed else ''}")
    return ", ".join(parts) or None
