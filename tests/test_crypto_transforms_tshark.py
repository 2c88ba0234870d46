"""The Wireshark labels carried by the registry rows are accepted by tshark 4.0, with key
lengths that match (tshark checks SK_e/SK_a lengths per label when the table loads)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ikeview.crypto.transforms import TRANSFORMS, TransformType, lookup

pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]
ENCR, INTEG = TransformType.ENCR, TransformType.INTEG


def _run_tshark(shared_dir: Path, options: list[str]) -> subprocess.CompletedProcess:
    capture = shared_dir / "captures/wireshark/ikev2-decrypt-aes256gcm8.pcap"
    args = ["tshark", "-n", "-r", str(capture), "-c", "1"]
    for opt in options:
        args += ["-o", opt]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_ikev2_labels_and_key_lengths(shared_dir: Path) -> None:
    none = lookup(INTEG, 0)
    cbc = lookup(ENCR, 12, 128)
    rows = []
    for spec in TRANSFORMS.values():
        if spec.ws_ikev2_label is None:
            continue
        if spec.type is ENCR:
            encr, integ = spec, (none if spec.aead else lookup(INTEG, 12))
        elif spec.type is INTEG:
            encr, integ = cbc, spec
        else:
            continue
        if encr.id == 11 and integ.id == 0:
            continue  # Wireshark's own NULL/NONE row form: empty keys (covered by the .tmpl)
        sk_e = ("ab" * encr.keymat_len) or ""
        sk_a = "cd" * integ.key_len
        spi = f"{len(rows) + 1:016x}"
        rows.append(
            f'uat:ikev2_decryption_table:{spi},{spi},{sk_e},{sk_e},"{encr.ws_ikev2_label}",'
            f'{sk_a},{sk_a},"{integ.ws_ikev2_label}"'
        )
    assert len(rows) >= 25
    result = _run_tshark(shared_dir, rows)
    assert result.returncode == 0, result.stderr
    assert "Invalid" not in result.stderr


def test_esp_labels(shared_dir: Path) -> None:
    rows = []
    for spec in TRANSFORMS.values():
        if spec.ws_esp_label is None or spec.type not in (ENCR, INTEG):
            continue
        if spec.type is ENCR:
            auth = "NULL" if spec.aead else "HMAC-SHA-256-128 [RFC4868]"
            enc, enc_key, auth_key = spec.ws_esp_label, "ab" * spec.keymat_len, "cd" * 32
        else:
            enc, enc_key = "AES-CBC [RFC3602]", "ab" * 16
            auth, auth_key = spec.ws_esp_label, "cd" * spec.key_len
        rows.append(
            f'uat:esp_sa:"IPv4","*","*","0x{len(rows) + 1:08x}","{enc}","0x{enc_key}",'
            f'"{auth}","0x{auth_key}"'
        )
    result = _run_tshark(shared_dir, rows)
    assert result.returncode == 0, result.stderr
    assert "Invalid" not in result.stderr
