"""The ENCR (+INTEG) pair of one SA direction, keyed once: shared by SK payloads and ESP."""

from __future__ import annotations

from ikeview.crypto.ciphers import EncrCipher, make_cipher
from ikeview.crypto.integ import Integ, make_integ
from ikeview.crypto.transforms import TransformSpec, is_aead


def key_suite(
    encr: TransformSpec,
    encr_key: bytes,
    integ: TransformSpec | None,
    integ_key: bytes | None,
) -> tuple[EncrCipher, Integ | None, int]:
    """(cipher, keyed INTEG or None, ICV octets at the end of each payload/packet).

    ``integ_key=None`` with a keyed INTEG spec means the ICV is there but cannot be checked:
    the octets are still counted, the INTEG comes back None.
    """
    cipher = make_cipher(encr, encr_key)
    if is_aead(encr):
        # RFC 4303 section 3.2 (ESP) and RFC 5282 section 8 (IKEv2): a combined-mode cipher is
        # negotiated without an INTEG transform (or with NONE); its tag is the ICV.
        if integ is not None and integ.id != 0:
            raise ValueError(f"{encr.short_name} is combined mode and takes no {integ.name}")
        return cipher, None, encr.icv_len
    keyed = None if integ is None or integ_key is None else make_integ(integ, integ_key)
    return cipher, keyed, integ.icv_len if integ else 0
