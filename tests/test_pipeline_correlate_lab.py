"""Every strongSwan lab capture against its truth.json (charon's own logs, extract_truth.py).

For each scenario in captures/lab/*/truth.json, analyzed with its keys.toml: the IKE SAs (SPIs,
chosen proposal, rekey links), each side's AUTH method and verdict, the child SAs (ESP SPIs per
direction, proposal) with every ESP packet tied to one and decrypted, and every IKE message in
truth present in some exchange.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lab_support import LAB, Lab, esp_icv_failures

from ikeview.pipeline.model import proposal_text

SCENARIOS = sorted(p.parent.name for p in LAB.glob("*/truth.json"))

# charon's names for auth methods as truth.json records them -> IANA auth method numbers.
AUTH_METHODS = {
    "pre-shared key": {2},
    "RSA_EMSA_PKCS1_SHA2_256": {1, 14},
    "RSA_EMSA_PKCS1_SHA2_384": {1, 14},
    # After EAP the AUTH payload is a shared key MIC over the MSK or SK_p (RFC 7296 2.16).
    "EAP": {2},
    "ECDSA_WITH_SHA256_DER": {9, 14},
    "ECDSA_WITH_SHA384_DER": {10, 14},
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_lab_scenario_matches_truth(name: str, lab: Callable[[str], Lab]) -> None:
    truth = lab(name).truth
    # No keys.toml where no peer derived a key (unreachable-responder): analyzed without keys.
    a = lab(name).analysis
    # esp-corrupt: packets altered on the path, rejected by charon (its log), cannot decrypt.
    icv_failures = esp_icv_failures(truth)
    by_spis = {(sa.spi_i.hex(), sa.spi_r.hex()): sa for sa in a.ike_sas}
    for t in truth["ike_sas"]:
        sa = by_spis[(t["spi_i"], t["spi_r"])]
        assert sa.chosen is not None and proposal_text(sa.chosen) == t["proposal"]
        if t.get("rekey_of"):
            assert sa.rekey_of is not None
            assert (sa.rekey_of[0].hex(), sa.rekey_of[1].hex()) == (
                t["rekey_of"]["spi_i"],
                t["rekey_of"]["spi_r"],
            )
        for side, info in (t.get("auth") or {}).items():
            got = next(s for s in sa.auth if s.side == side)
            assert got.identity == info["id"]
            assert got.method in AUTH_METHODS[info["method"]]
            assert got.verified is True, got.detail
    # Truth lists the child SAs strongSwan installed; refused ones stay in the model too.
    children = [c for sa in a.ike_sas for c in sa.child_sas if c.error is None]
    assert len(children) == len(truth["child_sas"])
    # Paired by SPIs: truth lists children in log order, which is not always capture order
    # (rekey-collision: the two crossing CREATE_CHILD_SA exchanges).
    by_spis = {frozenset((c.spi_initiator, c.spi_responder)): c for c in children}
    for t in truth["child_sas"]:
        c = by_spis[frozenset(int(e["spi"], 16) for e in t["esp"])]
        spis = {e["sender"]: int(e["spi"], 16) for e in t["esp"]}
        # The SPI a side chose is the one the *other* side sends with.
        first = t["exchange_initiator"]
        other = "responder" if first == "initiator" else "initiator"
        assert (c.spi_initiator, c.spi_responder) == (spis[other], spis[first])
        assert proposal_text(c.proposal) == t["proposal"]
        bad = sum(icv_failures.get(spi, 0) for spi in (c.spi_initiator, c.spi_responder))
        assert c.esp_decrypted == c.esp_packets - bad
    assert a.unassociated_esp == ()
    assert a.counters.esp_decrypted == a.counters.esp_packets - sum(icv_failures.values())
    assert a.counters.esp_integrity_failed == sum(icv_failures.values())
    assert a.counters.ike_integrity_failed == 0
    seen = {
        (m.spi_i.hex(), m.exchange_name, m.message_id, m.response)
        for sa in a.ike_sas
        for m in sa.messages
    }
    for m in truth["ike_messages"]:
        assert (m["spi_i"], m["exchange"], m["message_id"], m["response"]) in seen
    # Every encrypted message decrypted with a good ICV (SKF fragments: the last one opens).
    for sa in a.ike_sas:
        for m in sa.messages:
            if m.payload_types[-1:] in ((46,), (53,)):
                assert m.integrity == "ok", (m.frame, m.problem)
