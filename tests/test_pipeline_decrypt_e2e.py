"""The decryptor behind G1's correlator: analyze() on every strongSwan lab capture.

keys.toml holds only PSKs and g^ir; every derived key (including rekeyed IKE SAs and PFS child
SAs) must equal what charon logged (truth.json), every AUTH must verify as charon saw it, and
every ESP packet must decrypt with its ICV checked. The decrypt command runs the same way.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lab_support import LAB, Lab, esp_icv_failures

from ikeview.pcapwrite import write_decrypted
from ikeview.pipeline.keyout import keys_json

SCENARIOS = sorted(p.parent.name for p in LAB.glob("*/truth.json"))
SK_NAMES = ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr")


@pytest.mark.parametrize("name", SCENARIOS)
def test_analyze_derives_what_charon_logged(name: str, lab: Callable[[str], Lab]) -> None:
    # No keys.toml where no peer derived a key (unreachable-responder): an empty key ring.
    sc = lab(name)
    truth, ring, analysis = sc.truth, sc.keyring, sc.analysis
    c = analysis.counters
    # esp-corrupt: packets altered on the path, rejected by charon (its log), cannot decrypt.
    bad = sum(esp_icv_failures(truth).values())
    assert c.ike_integrity_failed == 0 and c.esp_integrity_failed == bad
    assert c.esp_decrypted == c.esp_packets - bad
    keys = keys_json(analysis)
    got_ike = {k["spi_i"]: k for k in keys["ike_sas"]}
    for t in truth["ike_sas"]:
        k = got_ike[t["spi_i"]]
        assert k["spi_r"] == t["spi_r"] and k["verified"] is True
        for n in SK_NAMES:
            assert (k[n] or "") == (t.get(n) or ""), (t["spi_i"], n)
        if t.get("rekey_of"):
            assert k["rekey_of"] == f"{t['rekey_of']['spi_i']}/{t['rekey_of']['spi_r']}"
            assert k["origin"].startswith("derived from SK_d of IKE SA ")
    want_esp = {
        int(e["spi"], 16): (e["encr_key"], e.get("integ_key") or "")
        for ch in truth["child_sas"]
        for e in ch["esp"]
    }
    got_esp = {int(e["spi"], 16): (e["encr_key"], e["integ_key"] or "") for e in keys["esp_sas"]}
    assert got_esp == want_esp
    # AUTH: each side that sent one verifies, with the PSK charon used for that side.
    if not truth["ike_sas"]:
        return  # unreachable-responder: no IKE SA got keys, so no AUTH was ever sent
    first = truth["ike_sas"][0]
    sa = analysis.ike_sa(bytes.fromhex(first["spi_i"]))
    for side in sa.auth:
        if side.method is None:
            continue
        assert side.verified is True, side.detail
        psk = first.get("auth", {}).get(side.side, {}).get("psk")
        if psk is not None:
            (rec,) = [p for p in ring.psks if p.secret == psk.encode()]
            assert side.psk == f"{rec.label} ({rec.source})"


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize("name", ["rekey-dpd", "natt", "chacha-x25519"])
def test_decrypt_command_output_has_no_esp_left(
    name: str, tmp_path: Path, lab: Callable[[str], Lab]
) -> None:
    sc = lab(name)
    out = tmp_path / "out.pcap"
    stats = write_decrypted(sc.capture, sc.keyring, out)
    assert stats.esp > 0 and stats.replaced == stats.esp and stats.written == stats.frames
    run = subprocess.run(
        ["tshark", "-r", str(out), "-T", "fields", "-e", "esp.spi", "-e", "icmp.type"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    assert len(rows) == stats.frames
    assert not any(r[0] for r in rows) and sum(1 for r in rows if r[1]) == stats.esp


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_decrypt_command_writes_fragmented_ike_auth_whole_and_clear(
    tmp_path: Path, lab: Callable[[str], Lab]
) -> None:
    sc = lab("certs-frag")
    out = tmp_path / "out.pcap"
    stats = write_decrypted(sc.capture, sc.keyring, out)
    assert stats.ike_replaced == 4  # two reassembled IKE_AUTH messages, two INFORMATIONAL
    run = subprocess.run(
        ["tshark", "-r", str(out), "-T", "fields", "-e", "isakmp.auth.data",
         "-e", "x509sat.printableString"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    assert sum(1 for r in rows if r[0]) == 2
    names = ",".join(r[1] for r in rows)
    assert "initiator.lab.example" in names and "responder.lab.example" in names
