"""keymat.py against strongSwan 5.9.8: the SK_* and ESP keys charon logged in the lab captures.

captures/lab/*/truth.json holds g^ir, nonces, SPIs and every key charon derived (extracted from
its level-4 logs). Recomputing them from g^ir alone checks SKEYSEED, the IKE SA split, IKE SA
rekeying and Child SA KEYMAT (with and without PFS) against an independent implementation.
"""

from __future__ import annotations

import json

import pytest
from lab_support import LAB

from ikeview.crypto.keymat import derive_child_keys, derive_ike_keys, derive_rekeyed_ike_keys
from ikeview.crypto.prf import Prf, get_prf, supported_prfs

_PRF_BY_NAME = {get_prf(i).name: get_prf(i) for i in supported_prfs()}


def _truths() -> list[tuple[str, dict]]:
    return [(p.parent.name, json.loads(p.read_text())) for p in sorted(LAB.glob("*/truth.json"))]


def _prf_of(proposal: str) -> Prf:
    names = [part for part in proposal.split(":", 1)[1].split("/") if part.startswith("PRF_")]
    assert len(names) == 1, proposal
    return _PRF_BY_NAME[names[0]]


def _h(value: str | None) -> bytes:
    return bytes.fromhex(value or "")


def _spis(sa: dict) -> tuple[str, str]:
    return sa["spi_i"], sa["spi_r"]


_IKE_CASES = [
    pytest.param(truth, sa, id=f"{name}-{sa['spi_i']}")
    for name, truth in _truths()
    for sa in truth["ike_sas"]
    if sa.get("shared_secret") and sa.get("skeyseed")
]
_CHILD_CASES = [
    pytest.param(truth, child, id=f"{name}-{child['esp'][0]['spi']}")
    for name, truth in _truths()
    for child in truth["child_sas"]
    if child.get("esp")
]


def test_lab_data_present() -> None:
    assert len(_IKE_CASES) >= 12
    assert len(_CHILD_CASES) >= 10


@pytest.mark.parametrize(("truth", "sa"), _IKE_CASES)
def test_ike_sa_keys_match_strongswan(truth: dict, sa: dict) -> None:
    prf = _prf_of(sa["proposal"])
    lens = {"encr_key_len": len(_h(sa["sk_ei"])), "integ_key_len": len(_h(sa.get("sk_ai")))}
    ni, nr, g_ir = _h(sa["ni"]), _h(sa["nr"]), _h(sa["shared_secret"])
    spi_i, spi_r = _h(sa["spi_i"]), _h(sa["spi_r"])
    if sa.get("rekey_of"):
        # RFC 7296 2.18: the old SA's PRF and SK_d make SKEYSEED of the new one.
        old = next(s for s in truth["ike_sas"] if _spis(s) == _spis(sa["rekey_of"]))
        keys = derive_rekeyed_ike_keys(
            _prf_of(old["proposal"]), _h(old["sk_d"]), prf, g_ir, ni, nr, spi_i, spi_r, **lens
        )
    else:
        keys = derive_ike_keys(prf, g_ir, ni, nr, spi_i, spi_r, **lens)
    assert keys.skeyseed.hex() == sa["skeyseed"]
    for name in ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"):
        assert getattr(keys, name).hex() == (sa.get(name) or ""), name


@pytest.mark.parametrize(("truth", "child"), _CHILD_CASES)
def test_child_sa_keys_match_strongswan(truth: dict, child: dict) -> None:
    ike = next(s for s in truth["ike_sas"] if _spis(s) == (child["ike_spi_i"], child["ike_spi_r"]))
    prf = _prf_of(ike["proposal"])
    first = child["esp"][0]
    keys = derive_child_keys(
        prf,
        _h(ike["sk_d"]),
        _h(child["ni"]),
        _h(child["nr"]),
        encr_key_len=len(_h(first["encr_key"])),
        integ_key_len=len(_h(first.get("integ_key"))),
        g_ir_new=_h(child["pfs_shared_secret"]) if child.get("pfs_shared_secret") else None,
    )
    for esp in child["esp"]:
        # "i" keys protect traffic sent by the initiator of the exchange that made the SA.
        if esp["sender"] == child["exchange_initiator"]:
            encr, integ = keys.sk_ei, keys.sk_ai
        else:
            encr, integ = keys.sk_er, keys.sk_ar
        assert encr.hex() == esp["encr_key"], esp["spi"]
        assert integ.hex() == (esp.get("integ_key") or ""), esp["spi"]
