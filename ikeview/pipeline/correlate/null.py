"""The decryptor without keys: the correlator's default."""

from __future__ import annotations

from ikeview.dissectors.ike_records import AuthPayload
from ikeview.dissectors.records import EspPacket
from ikeview.pipeline.seam import (
    AuthVerdict,
    ChildSaSetup,
    EapRun,
    EspOpened,
    IkeSaSetup,
    IkeSpis,
    Opened,
    Side,
)


class NullDecryptor:
    """A ``Decryptor`` with no keys: nothing is decrypted, nothing verified."""

    def ike_sa(self, setup: IkeSaSetup) -> str | None:
        return (
            f"IKE SA {setup.spis[0].hex()}/{setup.spis[1].hex()}: no keys given "
            "(pass --keys with a PSK and DH secret, or SK_* keys)"
        )

    def open(self, spis: IkeSpis, raw: bytes, sk: object, *, from_initiator: bool) -> Opened:
        return Opened(None, None, "no keys")

    def verify_auth(
        self,
        spis: IkeSpis,
        side: Side,
        auth: object,
        id_payload: object,
        certs: tuple[object, ...],
        eap: EapRun | None = None,
    ) -> AuthVerdict:
        method = auth.method if isinstance(auth, AuthPayload) else 0
        return AuthVerdict(side, method, None, None, "no keys")

    def child_sa(self, setup: ChildSaSetup) -> str | None:
        return None

    def esp(self, packet: EspPacket) -> EspOpened:
        return EspOpened(False, None, None, None, "no keys")
