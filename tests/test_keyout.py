"""keys output: JSON of derived keys, and Wireshark tables that tshark 4.0 decrypts with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from lab_support import Lab
from test_pipeline_decrypt_support import read, run_capture

from ikeview.pipeline.decrypt import KeyringDecryptor
from ikeview.pipeline.keyout import keys_json, write_wireshark_tables


def _derive(sc: Lab) -> tuple[KeyringDecryptor, dict, Path]:
    dec = KeyringDecryptor(sc.keyring)
    cap = read(sc.capture)
    run_capture(dec, cap)
    for pkt in cap.esp:
        dec.esp(pkt)
    return dec, sc.truth, sc.capture


def test_keys_json_holds_every_derived_key(lab: Callable[[str], Lab]) -> None:
    dec, truth, _ = _derive(lab("psk-aes256-sha256-modp2048"))
    out = keys_json(dec)
    json.dumps(out)  # serialisable as is
    (ike,) = out["ike_sas"]
    t = truth["ike_sas"][0]
    for name in ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"):
        assert ike[name] == t[name]
    assert (ike["encr"], ike["encr_key_bits"], ike["integ"], ike["prf"]) == (
        "ENCR_AES_CBC",
        256,
        "AUTH_HMAC_SHA2_256_128",
        "PRF_HMAC_SHA2_256",
    )
    assert ike["verified"] is True and ike["origin"].startswith("derived from [[dh]]")
    want = {f"0x{e['spi']}": e for c in truth["child_sas"] for e in c["esp"]}
    assert {e["spi"] for e in out["esp_sas"]} == set(want)
    for e in out["esp_sas"]:
        assert (e["encr_key"], e["integ_key"]) == (
            want[e["spi"]]["encr_key"],
            want[e["spi"]]["integ_key"],
        )
        assert e["ike_sa"] == f"{t['spi_i']}/{t['spi_r']}" and e["esn"] is False
        assert e["src"] and e["dst"]


def test_keys_json_accepts_an_analysis_carrying_the_records(lab: Callable[[str], Lab]) -> None:
    dec, _, _ = _derive(lab("gcm16-ecp256"))

    class Analysis:
        derived_keys = dec.derived_keys()

    assert keys_json(Analysis()) == keys_json(dec)


def test_chacha_sa_is_skipped_with_a_comment(tmp_path: Path, lab: Callable[[str], Lab]) -> None:
    dec, _, _ = _derive(lab("chacha-x25519"))
    paths = write_wireshark_tables(dec, tmp_path)
    assert [p.name for p in paths] == ["ikev2_decryption_table", "esp_sa", "preferences"]
    ike = (tmp_path / "ikev2_decryption_table").read_text()
    assert "# skipped: derived from [[dh]]" in ike
    assert "Wireshark cannot decrypt" in ike


def _tshark(config: Path, capture: Path, *fields: str) -> list[list[str]]:
    env = {**os.environ, "WIRESHARK_CONFIG_DIR": str(config), "HOME": str(config)}
    cmd = ["tshark", "-r", str(capture), "-o", "esp.enable_encryption_decode:TRUE"]
    cmd += ["-T", "fields", *(a for f in fields for a in ("-e", f))]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=True)
    return [line.split("\t") for line in run.stdout.splitlines()]


@pytest.mark.tshark
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
@pytest.mark.parametrize(
    "name", ["psk-aes256-sha256-modp2048", "gcm16-ecp256", "3des-sha1-modp1024"]
)
def test_tshark_decrypts_with_the_written_tables(
    tmp_path: Path, name: str, lab: Callable[[str], Lab]
) -> None:
    dec, _, capture = _derive(lab(name))
    write_wireshark_tables(dec, tmp_path)
    rows = _tshark(tmp_path, capture, "isakmp.auth.data", "esp.spi", "esp.icv_good", "icmp.type")
    auth = {r[0] for r in rows if r[0]}
    assert len(auth) == 2  # both IKE_AUTH messages decrypted, AUTH data visible
    esp = [r for r in rows if r[1]]
    assert esp and all(r[2] == "1" and r[3] in ("0", "8") for r in esp)
