"""tcpdump's ESP/IKEv2 test captures with tcpdump's own secrets files (``-E`` syntax).

These keys come without an integrity key ("-hmac96": the ICV is skipped unchecked), one capture
nests ESP inside ESP, one carries ESP in UDP, and ikev2pI2's ICV does not match its SK_ai (the
capture itself is wrong): its payloads must still be shown, flagged as not authenticated.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ikeview.dissectors.ike_records import AuthPayload, IdPayload
from test_pipeline_decrypt_support import read

from ikeview.keys.loader import load_keys
from ikeview.keys.model import KeyRing
from ikeview.keys.wireshark import read_esp_sa
from ikeview.pcapwrite import write_decrypted
from ikeview.pipeline.decrypt import KeyringDecryptor


def _tcpdump_dir(shared: Path) -> Path:
    return shared / "captures" / "tcpdump"


@pytest.mark.parametrize(
    ("capture", "table"),
    [
        ("02-sunrise-sunset-esp.pcap", "esp_sa.02-sunrise-sunset-esp"),
        ("08-sunrise-sunset-aes.pcap", "esp_sa.08-sunrise-sunset-aes"),
        ("08-sunrise-sunset-esp2.pcap", "esp_sa.08-sunrise-sunset-esp2"),
        ("espudp1.pcap", "esp_sa.espudp1"),
    ],
)
def test_esp_captures_decrypt_with_unchecked_icv(
    shared_dir: Path, capture: str, table: str
) -> None:
    d = _tcpdump_dir(shared_dir)
    ring = KeyRing.of(read_esp_sa((d / "wireshark_uat" / table).read_text(), table))
    cap = read(d / capture)
    dec = KeyringDecryptor(ring)
    assert len(cap.esp) == 8
    for pkt in cap.esp:
        r = dec.esp(pkt)
        assert (r.decrypted, r.integrity, r.next_header, r.problem) == (True, None, 4, None)
        assert r.inner[0] == 0x45


def test_aes_capture_with_tcpdump_secrets_file(shared_dir: Path) -> None:
    d = _tcpdump_dir(shared_dir)
    dec = KeyringDecryptor(load_keys([d / "esp-secrets.txt"]))
    opened = [dec.esp(p) for p in read(d / "08-sunrise-sunset-aes.pcap").esp]
    assert all(o.decrypted and o.integrity is None for o in opened)
    # ICMP echo from 192.0.2.1 to 192.0.1.1 inside the tunnel.
    assert {(o.inner[12:16], o.inner[16:20]) for o in opened} == {
        (bytes([192, 0, 2, 1]), bytes([192, 0, 1, 1]))
    }


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
def test_nested_esp_is_decrypted_through_both_layers(shared_dir: Path, tmp_path: Path) -> None:
    d = _tcpdump_dir(shared_dir)
    out = tmp_path / "out.pcap"
    stats = write_decrypted(
        d / "08-sunrise-sunset-esp2.pcap", load_keys([d / "esp-secrets.txt"]), out
    )
    assert (stats.esp, stats.replaced) == (8, 8)
    lines = subprocess.run(
        ["tcpdump", "-nr", str(out)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(lines) == 8
    assert all("192.0.2.1 > 192.0.1.1: ICMP echo request" in line for line in lines)


def test_ike_message_with_a_wrong_icv_is_shown_but_flagged(shared_dir: Path) -> None:
    d = _tcpdump_dir(shared_dir)
    secrets = d / "ikev2pI2-secrets.txt"
    dec = KeyringDecryptor(load_keys([secrets]))
    (dg,) = [x for x in read(d / "ikev2pI2.pcap").ike if x.message.sk is not None]
    h = dg.message.header
    o = dec.open(h, dg.message.raw, dg.message.sk)
    assert o.integrity == "failed"
    assert o.problem == (
        "integrity check failed for IKE_AUTH request (message ID 0) of IKE SA "
        f"0001020304050607/c02e7a3031a03188: SK_ai from {secrets}:1 does not verify; "
        "the payloads decrypted cleanly with SK_e but are not authenticated"
    )
    idi = next(p for p in o.payloads if isinstance(p, IdPayload))
    auth = next(p for p in o.payloads if isinstance(p, AuthPayload))
    assert (idi.text, auth.method) == ("west", 1)
