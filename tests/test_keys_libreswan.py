"""libreswan pluto logs: the real libreswan 4.10 initiator log of the lab (checked against the
strongSwan responder's truth.json), and a SELF-MADE excerpt for what that log cannot show (AES-GCM
salts, an ``established Child SA`` line, the responder role). The excerpt follows the real log's
line shapes; its key values are made up."""

from __future__ import annotations

import json

import pytest
from lab_support import LAB

from ikeview.keys.errors import KeysFileError
from ikeview.keys.libreswan_log import load_pluto_log, looks_like
from ikeview.keys.model import KeyRing

INTEROP = LAB / "interop"
REAL = INTEROP / "libreswan-initiator" / "initiator-pluto.log"


@pytest.mark.skipif(not REAL.exists(), reason="no libreswan lab log")
def test_real_pluto_log_matches_truth() -> None:
    truth = json.loads((REAL.parent / "truth.json").read_text())
    assert looks_like(REAL.read_text())
    ring = KeyRing.of(load_pluto_log(REAL.read_text(), str(REAL)))
    (sa,) = truth["ike_sas"]
    (ike,) = ring.ike_sas
    assert (ike.spi_i.hex(), ike.spi_r.hex()) == (sa["spi_i"], sa["spi_r"])
    for name in ("sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"):
        assert getattr(ike, name) == bytes.fromhex(sa[name]), name
    assert ike.sk_d is None  # pluto never logs it
    assert (ike.encr, ike.encr_key_bits, ike.integ) == (12, 256, 12)
    # The kernel refused the SAs (no ESP module); only the outbound one's SPI got logged.
    (esp,) = ring.esp_sas
    (want,) = [e for c in truth["child_sas"] for e in c["esp"] if int(e["spi"], 16) == esp.spi]
    assert want["sender"] == "initiator"
    assert esp.encr_key == bytes.fromhex(want["encr_key"])
    assert esp.integ_key == bytes.fromhex(want["integ_key"])
    assert (esp.encr, esp.encr_key_bits, esp.integ) == (12, 256, 12)
    assert not ring.dh_secrets and not ring.psks


SPI_I, SPI_R = "0123456789abcdef", "fedcba9876543210"
ENC_I2R = "11" * 32 + "a1a2a3a4"  # AES-GCM-16-256 child KEYMAT: key + salt, no integrity key
ENC_R2I = "22" * 32 + "b1b2b3b4"
T = "Nov 27 10:00:00.000001: "


def _dump(data: str) -> str:
    """pluto's hex dump: 16 bytes a line in groups of 4, then an ASCII column."""
    b = bytes.fromhex(data)
    out = []
    for i in range(0, len(b), 16):
        chunk = b[i : i + 16]
        groups = [" ".join(f"{x:02x}" for x in chunk[j : j + 4]) for j in range(0, len(chunk), 4)]
        text = "".join(chr(x) if 32 <= x < 127 else "." for x in chunk)
        out.append(f"{T}|   " + "  ".join(groups) + "   " + text)
    return "\n".join(out)


def _blob(name: str, data: str) -> str:
    n = len(data) // 2
    return (
        f"{T}| {name} extracting all {n} bytes of key@0x55d5c0a0\n"
        f"{T}| {name}: symkey-key@0x55d5c0a0 ({n}-bytes, EXTRACT_KEY_FROM_KEY)\n"
        f"{T}| sizeof bytes {n}\n"
        f"{T}| {name} extracted len {n + 16} bytes at 0x55d5c0b0\n"
        f"{T}| unwrapped:\n" + _dump(data + "00" * 16) + "\n"
        f"{T}|     key-offset: 0, key-size: {n}\n"
    )


SELF_MADE = (
    f'{T}"west": IKE SA proposals (connection add):\n'
    + _blob("initiator salt", "01020304")
    + _blob("responder salt", "05060708")
    + _blob("chunk_SK_pi", "c1" * 32)
    + _blob("chunk_SK_pr", "c2" * 32)
    + f'{T}"west" #1: initiator established IKE SA; authenticated peer using authby=secret\n'
    + _blob("ei", "e0" * 32)
    + f"{T}| ikev2 I 0x{SPI_I} 0x{SPI_R} none:0x aes_gcm16256:0x{'e0' * 32}\n"
    + f"{T}| ikev2 R 0x{SPI_I} 0x{SPI_R} none:0x aes_gcm16256:0x{'f0' * 32}\n"
    + _blob("initiator to responder keys", ENC_I2R)
    + _blob("responder to initiator keys:", ENC_R2I)
    + f'{T}"west" #2: initiator established Child SA using #1; IPsec tunnel [192.0.1.0/24==='
    + "192.0.2.0/24] {ESP/ESN=>0xc0000002 <0xc0000001 xfrm=AES_GCM_16_256-NONE DPD=passive}\n"
)


def test_self_made_excerpt() -> None:
    assert looks_like(SELF_MADE)
    ring = KeyRing.of(load_pluto_log(SELF_MADE, "pluto.log"))
    (ike,) = ring.ike_sas
    assert (ike.spi_i.hex(), ike.spi_r.hex()) == (SPI_I, SPI_R)
    assert (ike.encr, ike.encr_key_bits, ike.integ) == (20, 256, 0)
    assert ike.sk_ei == bytes.fromhex("e0" * 32 + "01020304")  # salt appended
    assert ike.sk_er == bytes.fromhex("f0" * 32 + "05060708")
    assert (ike.sk_pi, ike.sk_pr) == (b"\xc1" * 32, b"\xc2" * 32)
    assert ike.sk_ai is None and ike.sk_d is None
    # We initiated: our outbound SA (=>0xc0000002) carries initiator-to-responder KEYMAT.
    (out,) = ring.esp_keys_for(0xC0000002)
    (inb,) = ring.esp_keys_for(0xC0000001)
    assert out.encr_key == bytes.fromhex(ENC_I2R) and out.integ_key is None
    assert inb.encr_key == bytes.fromhex(ENC_R2I)
    assert (out.encr, out.encr_key_bits, out.integ) == (20, 256, 0)


def test_responder_role_swaps_spis() -> None:
    text = SELF_MADE.replace("initiator established Child", "responder established Child")
    ring = KeyRing.of(load_pluto_log(text, "pluto.log"))
    (inb,) = ring.esp_keys_for(0xC0000001)
    assert inb.encr_key == bytes.fromhex(ENC_I2R)


def test_cut_line_key_completed_from_dump() -> None:
    # The ikev2 line holds at most 32 bytes of a key; the "ai" dump before it has all 64.
    text = SELF_MADE.replace(f"{T}| ikev2 I", _blob("ai", "a0" * 64) + f"{T}| ikev2 I", 1).replace(
        "none:0x", "sha2_512:0x" + "a0" * 32
    )
    cbc = text.replace("aes_gcm16256", "aes256")
    with pytest.raises(KeysFileError, match="child KEYMAT is 36 bytes"):
        load_pluto_log(cbc.replace("AES_GCM_16_256-NONE", "AES_CBC_256-HMAC_SHA2_256_128"), "p")
    (ike,) = KeyRing.of(load_pluto_log(cbc.split('"west" #2')[0], "pluto.log")).ike_sas
    assert ike.sk_ai == bytes.fromhex("a0" * 64) and ike.integ == 14 and ike.encr == 12


def test_log_without_keys() -> None:
    with pytest.raises(KeysFileError, match="plutodebug"):
        load_pluto_log('"west" #1: initiating IKEv2 connection\n', "pluto.log")
    assert not looks_like("| nothing here\n")
