"""The decryptor without keys: the correlator's default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ikeview.dissectors.records import EspPacket
from ikeview.pipeline.ids import IkeSpis
from ikeview.pipeline.seam import DerivedKeys, EspOpened

if TYPE_CHECKING:
    from ikeview.dissectors.ike_records import IkeHeader, SkfPayload, SkPayload
    from ikeview.pipeline.ike_seam import (
        AuthClaim,
        AuthVerdict,
        ChildSaSetup,
        EapRun,
        IkeSaSetup,
        Opened,
    )

NO_KEYS_ESP = EspOpened(False, None, None, None, "no keys")
"""What every ESP packet gives without keys."""


class NullDecryptor:
    """A ``Decryptor`` with no keys: nothing is decrypted, nothing verified."""

    has_keys = False

    def ike_sa(self, setup: IkeSaSetup) -> str | None:
        return (
            f"IKE SA {setup.spis[0].hex()}/{setup.spis[1].hex()}: no keys given "
            "(pass --keys with a PSK and DH secret, or SK_* keys)"
        )

    def open(self, header: IkeHeader, raw: bytes, sk: SkPayload | SkfPayload) -> Opened:
        from ikeview.pipeline.ike_seam import Opened  # IKE side: loaded with the first message

        return Opened(None, None, "no keys")

    def verify_auth(self, spis: IkeSpis, claims: tuple[AuthClaim, ...]) -> tuple[AuthVerdict, ...]:
        from ikeview.pipeline.ike_seam import AuthVerdict

        return tuple(AuthVerdict(c.side, c.auth.method, None, None, "no keys") for c in claims)

    def check_eap_password(self, run: EapRun) -> tuple[bool | None, str] | None:
        return None

    def child_sa(self, setup: ChildSaSetup) -> str | None:
        return None

    def esp(self, packet: EspPacket) -> EspOpened:
        return NO_KEYS_ESP

    def derived_keys(self) -> DerivedKeys:
        return ()
