"""IANA IKEv2 registries: every number has a name, and the names agree with tshark 4.0's tables.

Wireshark's value tables come from ``tshark -G values`` (what tshark prints for each field).
Where Wireshark 4.0 and IANA disagree, IANA wins and the difference is listed here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from functools import cache

import pytest

from ikeview import iana
from ikeview.iana import (
    AuthMethod,
    ExchangeType,
    NotifyType,
    PayloadType,
    TransformType,
)

UNNAMED = re.compile(r"^[A-Z_]+\(\d+\)$")


@pytest.mark.parametrize("key", sorted(iana.REGISTRIES))
def test_every_number_has_a_name(key: str) -> None:
    registry = iana.REGISTRIES[key]
    for value in range(65536):
        name = registry.name(value)
        assert isinstance(name, str) and name
        if value in registry:
            assert name == registry.enum(value).name
        else:
            assert UNNAMED.match(name), (value, name)
            if value <= registry.maximum:
                assert not name.startswith("UNKNOWN"), (key, value)


@pytest.mark.parametrize("key", sorted(iana.REGISTRIES))
def test_odd_inputs_never_raise(key: str) -> None:
    registry = iana.REGISTRIES[key]
    for value in (-1, 65536, 2**40):
        assert registry.name(value) == f"UNKNOWN({value})"


def test_values_from_the_rfcs() -> None:
    assert NotifyType.NO_PROPOSAL_CHOSEN == 14
    assert NotifyType.INVALID_KE_PAYLOAD == 17
    assert NotifyType.AUTHENTICATION_FAILED == 24
    assert NotifyType.TS_UNACCEPTABLE == 38
    assert NotifyType.STATE_NOT_FOUND == 47  # RFC 9370
    assert NotifyType.INITIAL_CONTACT == 16384
    assert NotifyType.IKEV2_FRAGMENTATION_SUPPORTED == 16430  # RFC 7383
    assert NotifyType.INTERMEDIATE_EXCHANGE_SUPPORTED == 16438  # RFC 9242
    assert NotifyType.ADDITIONAL_KEY_EXCHANGE == 16441  # RFC 9370
    assert NotifyType.SUPPORTED_AUTH_METHODS == 16443  # RFC 9593
    assert ExchangeType.IKE_SESSION_RESUME == 38
    assert ExchangeType.IKE_INTERMEDIATE == 43
    assert ExchangeType.IKE_FOLLOWUP_KE == 44
    assert PayloadType.SKF == 53
    assert [TransformType(t).name for t in range(6, 13)] == [f"ADDKE{i}" for i in range(1, 8)]
    assert TransformType.DH is TransformType.KE
    assert (AuthMethod.GSPM, AuthMethod.NULL, AuthMethod.DIGITAL_SIGNATURE) == (12, 13, 14)
    assert iana.NOTIFY_TYPES.name(40960) == "PRIVATE_USE(40960)"
    assert iana.NOTIFY_TYPES.name(8192) == "PRIVATE_USE_ERROR(8192)"
    assert iana.NOTIFY_TYPES.name(20) == "RESERVED(20)"
    assert iana.EXCHANGE_TYPES.name(0) == "RESERVED(0)"
    assert iana.PAYLOAD_TYPES.name(128) == "PRIVATE_USE(128)"
    assert iana.ENCR.name(1024) == "PRIVATE_USE(1024)"
    assert iana.transform_id_name(1, 20) == "ENCR_AES_GCM_16"
    assert iana.transform_id_name(6, 31) == "CURVE25519"  # ADDKE1 uses the KE registry
    assert iana.transform_id_name(99, 5) == "ID(5)"


# ---------------------------------------------------------------- against tshark's tables


@cache
def wireshark_tables() -> dict[str, list[list[tuple[int, int, str]]]]:
    """Field -> its value tables (IKEv1 first, then IKEv2 where tshark has both)."""
    out = subprocess.run(
        ["tshark", "-G", "values"], capture_output=True, text=True, check=True
    ).stdout
    tables: dict[str, list[list[tuple[int, int, str]]]] = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) < 4 or not cols[1].startswith("isakmp."):
            continue
        if cols[0] == "V":
            low = high = int(cols[2])
            text = cols[3]
        elif cols[0] == "R" and len(cols) >= 5:
            low, high, text = int(cols[2]), int(cols[3]), cols[4]
        else:
            continue
        field_tables = tables.setdefault(cols[1], [])
        if not field_tables or (low == 0 and field_tables[-1]):  # a table restarts at 0
            field_tables.append([])
        field_tables[-1].append((low, high, text.strip()))
    return tables


def singles(field: str, which: int = -1) -> dict[int, str]:
    return {lo: text for lo, hi, text in wireshark_tables()[field][which] if lo == hi}


def needs_tshark(test: Callable[[], None]) -> Callable[[], None]:
    """Marked ``tshark`` (run with ``-m tshark``, left out with ``-m "not tshark"``); skipped
    where tshark is not installed."""
    marked = pytest.mark.tshark(test)
    return pytest.mark.skipif(shutil.which("tshark") is None, reason="no tshark")(marked)


@needs_tshark
def test_notify_types_match_wireshark() -> None:
    theirs = singles("isakmp.notify.msgtype")  # the IKEv2 table
    differences = {
        # Wireshark 4.0 repeats CHILD_SA_NOT_FOUND at 46; IANA: AUTHORIZATION_FAILED (G-IKEv2).
        46: ("CHILD_SA_NOT_FOUND", "AUTHORIZATION_FAILED"),
    }
    checked = 0
    for value, text in theirs.items():
        ours = iana.NOTIFY_TYPES.name(value)
        if value in differences:
            assert (text, ours) == differences[value]
        elif text == "RESERVED":
            assert ours == f"RESERVED({value})"
        else:
            assert ours == text, value
            checked += 1
    assert checked >= 60
    # Everything Wireshark 4.0 names, we name; we also know the newer ones it lacks.
    assert max(theirs) == 16431
    assert {16432, 16438, 16441, 16443} <= set(NotifyType)


@needs_tshark
def test_exchange_types_match_wireshark() -> None:
    theirs = {v: t for v, t in singles("isakmp.exchangetype").items() if v >= 34}
    assert theirs == {v: iana.EXCHANGE_TYPES.name(v) for v in theirs}
    # IKE_INTERMEDIATE / IKE_FOLLOWUP_KE are newer than Wireshark 4.0's table.
    assert 43 not in theirs and iana.EXCHANGE_TYPES.name(43) == "IKE_INTERMEDIATE"


@needs_tshark
def test_transform_id_names_match_wireshark() -> None:
    prf = singles("isakmp.tf.id.prf")
    # Wireshark calls PRF 4 "PRF_AES128_CBC"; IANA (RFC 4434) calls it PRF_AES128_XCBC.
    prf[4] = "PRF_AES128_XCBC"
    # Wireshark 4.0 misspells PRF 8 as "PRF_AES128_CMAC6".
    assert prf.pop(8) == "PRF_AES128_CMAC6" and iana.PRF.name(8) == "PRF_AES128_CMAC"
    assert {v: iana.PRF.name(v) for v in prf if v} == {v: t for v, t in prf.items() if v}
    integ = singles("isakmp.tf.id.integ")
    assert {v: iana.INTEG.name(v) for v in integ} == integ
    encr = singles("isakmp.tf.id.encr")
    assert {
        v
        for v, t in encr.items()
        if t not in ("RESERVED", "UNASSIGNED") and not t.startswith("Reserved")
    } == {v for v in encr if v in iana.ENCR}
    transform_types = wireshark_tables()["isakmp.tf.type"][-1]
    for lo, hi, _ in transform_types:
        if lo == hi and lo:
            assert lo in iana.TRANSFORM_TYPES


@needs_tshark
def test_dh_groups_match_wireshark() -> None:
    theirs = singles("isakmp.tf.id.dh")
    # Groups 3, 4 and 6-13 are IKEv1 (EC2N) groups that Wireshark shares; IANA's IKEv2
    # registry has them RESERVED (3-4) or unassigned (6-13).
    ikev1_only = {3, 4, *range(6, 14)}
    assert set(theirs) - ikev1_only - {0} == {v for v in iana.DhGroup if 0 < v <= 34}
    assert iana.DH_GROUPS.name(31) == "CURVE25519" and iana.DH_GROUPS.name(3) == "RESERVED(3)"


@needs_tshark
def test_other_registries_match_wireshark() -> None:
    def assigned(field: str, skip: set[str]) -> set[int]:
        table = wireshark_tables()[field][-1]
        return {lo for lo, hi, text in table if lo == hi and text not in skip}

    reserved = {"RESERVED", "RESERVED TO IANA", "Reserved", "Unassigned"}
    assert assigned("isakmp.auth.method", reserved) == set(iana.AuthMethod)
    # Wireshark's IKEv2 ID table calls 12 "KEY_LIST" (IANA: ID_FC_NAME) and lacks ID_NULL 13.
    assert assigned("isakmp.id.type", reserved) == set(iana.IdType) - {13}
    assert iana.ID_TYPES.name(12) == "ID_FC_NAME"
    assert assigned("isakmp.cert.encoding", reserved | {"*undefined by any document*"}) == (
        set(iana.CertEncoding) - {15}  # RFC 7670 Raw Public Key is newer than Wireshark 4.0
    )
    assert assigned("isakmp.ts.type", reserved) == {7, 8, 9}
    assert assigned("isakmp.cfg.type", reserved) == set(iana.CfgType)
    cfg = {lo: t for lo, hi, t in wireshark_tables()["isakmp.cfg.attr.type"][-1] if lo == hi}
    # RFC 7296 3.15.1 made 5 (INTERNAL_ADDRESS_EXPIRY) and 11 (INTERNAL_IP6_NBNS) RESERVED.
    for value, text in cfg.items():
        if value in (0, 5, 9, 11):
            assert iana.CFG_ATTRIBUTES.name(value) == f"RESERVED({value})"
        else:
            assert iana.CFG_ATTRIBUTES.name(value) == text
    protocols = singles("isakmp.notify.protoid")
    assert {v: iana.PROTOCOL_IDS.name(v) for v in protocols if v} == {
        v: t for v, t in protocols.items() if v
    }
    hashes = {
        lo
        for lo, hi, t in wireshark_tables()["isakmp.notify.data.signature_hash_algorithms"][-1]
        if lo == hi and lo
    }
    assert hashes == {1, 2, 3, 4, 5}
