"""ikeview.iana.names: the one place numbers get names, in IANA's, charon's and the TUI's spelling.

Expected strings are IANA's registry names and what strongSwan's charon logs for a proposal
(``IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519``, as in the lab peers' logs).
"""

from __future__ import annotations

import pytest

from ikeview.iana import names


@pytest.mark.parametrize(
    ("ttype", "tid", "bits", "charon", "short"),
    [
        (1, 12, 128, "AES_CBC_128", "AES-CBC-128"),
        (1, 20, 256, "AES_GCM_16_256", "AES-GCM-16-256"),
        (1, 3, None, "3DES_CBC", "3DES"),
        (3, 12, None, "HMAC_SHA2_256_128", "HMAC-SHA256-128"),
        (2, 5, None, "PRF_HMAC_SHA2_256", "PRF-SHA256"),
        (4, 19, None, "ECP_256", "ECP-256"),
        (4, 31, None, "CURVE_25519", "CURVE25519"),
        (5, 0, None, "NO_EXT_SEQ", "NO-ESN"),
        (5, 1, None, "EXT_SEQ", "ESN"),
    ],
)
def test_transform_spellings(
    ttype: int, tid: int, bits: int | None, charon: str, short: str
) -> None:
    assert names.charon_transform_name(ttype, tid, bits) == charon
    assert names.transform_short(ttype, tid, bits) == short


def test_keys_file_spellings_come_from_the_registry() -> None:
    assert names.encr_name(20, 256) == "AES_GCM_16_256"
    assert names.encr_name(None, None) == "?"
    assert names.integ_name(12) == "HMAC_SHA2_256_128"
    assert names.prf_name(8) == "PRF_AES128_CMAC"
    # Numbers IANA has not assigned still get a name, never an exception.
    assert names.encr_name(999, None) == "ENCR_999"
    assert names.integ_name(999) == "INTEG_999"
    assert names.prf_name(999) == "PRF_999"


def test_other_names() -> None:
    assert names.notify_name(14) == "NO_PROPOSAL_CHOSEN"
    assert names.notify_name(40960) == "PRIVATE_USE(40960)"
    assert names.exchange_name(35) == "IKE_AUTH"
    assert names.next_header_name(59) == "no next header (dummy)"
    assert names.next_header_name(None) == "?"
    assert names.next_header_name(250) == "proto 250"
    assert names.eap_method_name(26) == "EAP-MSCHAPv2"
    assert names.eap_method_name(None) == "EAP"
    assert names.eap_method_name(99) == "EAP type 99"
