"""``report --json`` of a lab scenario checked against its truth.json and charon logs.

Expected values come only from the scenario's files: truth.json (extracted from both charon
logs) and the receiving charon's own log of each ESP packet (libipsec logs "parsed ESP header
with SPI X [seq N]" for every packet it takes in), never from ikeview.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from lab_support import Lab

_ESP_IN = re.compile(r"\[ESP\] parsed ESP header with SPI ([0-9a-f]{8}) \[seq (\d+)\]")

AUTH_METHOD_IDS = {
    "pre-shared key": {2},
    # After EAP both final AUTHs are shared key MICs (RFC 7296 2.16).
    "EAP": {2},
    "RSA_EMSA_PKCS1_SHA2_256": {1, 14},
    "RSA_EMSA_PKCS1_SHA2_384": {1, 14},
    "ECDSA_WITH_SHA256_DER": {9, 14},
    "ECDSA_WITH_SHA384_DER": {10, 14},
}
"""charon's name of an AUTH method -> the IANA AUTH method numbers that can carry it."""


def report_json(sc: Lab) -> dict[str, Any]:
    """The document ``ikeview report --json CAPTURE --keys keys.toml`` prints."""
    from ikeview.report import to_json

    return to_json(sc.analysis)


def esp_received(sc: Lab) -> Counter[str]:
    """ESP packets each SPI's receiver took in, from both charon logs (by SPI, hex)."""
    out: Counter[str] = Counter()
    for node in ("initiator", "responder"):
        for m in _ESP_IN.finditer((sc.dir / f"{node}.log").read_text(errors="replace")):
            out[m.group(1)] += 1
    return out


def ike_sa(doc: dict[str, Any], spi_i: str) -> dict[str, Any]:
    (sa,) = [s for s in doc["ike_sas"] if s["spi_i"] == spi_i]
    return sa


def child_by_spis(sa: dict[str, Any], spis: set[str]) -> dict[str, Any]:
    (c,) = [c for c in sa["child_sas"] if {c["spi_initiator"], c["spi_responder"]} == spis]
    return c


def check_against_truth(sc: Lab) -> dict[str, Any]:
    """Every IKE SA and child SA of truth.json is in the report with the same SPIs, proposal,
    identities and auth methods (each AUTH verified), and every ESP SPI carries as many packets,
    all decrypted, as its receiver logged. Returns the report for further checks."""
    doc = report_json(sc)
    truth = sc.truth
    received = esp_received(sc)
    for t in truth["ike_sas"]:
        sa = ike_sa(doc, t["spi_i"])
        assert sa["spi_r"] == t["spi_r"]
        assert sa["proposal"] == t["proposal"]
        assert sa["created_by"] == t["created_by"]
        for side, info in (t.get("auth") or {}).items():
            got = sa["auth"][side]
            assert got["identity"] == info["id"], (side, got["identity"])
            assert got["method_id"] in AUTH_METHOD_IDS[info["method"]], (side, got)
            assert got["verified"] is True, got["detail"]
    for t in truth["child_sas"]:
        sa = ike_sa(doc, t["ike_spi_i"])
        c = child_by_spis(sa, {e["spi"] for e in t["esp"]})
        assert c["proposal"] == t["proposal"]
        for e in t["esp"]:
            (stats,) = [s for s in c["esp"] if s["spi"] == e["spi"]] or [{"packets": 0}]
            assert stats["packets"] == received[e["spi"]], (e["spi"], stats)
            assert stats.get("decrypted", 0) == stats["packets"]
    return doc


def codes(diagnosis: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A diagnosis' findings by code: one each, except ``deleted`` (one per Delete), of which
    the first is kept."""
    out: dict[str, dict[str, Any]] = {}
    for f in diagnosis["findings"]:
        assert f["code"] not in out or f["code"] == "deleted", [
            g["code"] for g in diagnosis["findings"]
        ]
        out.setdefault(f["code"], f)
    return out
