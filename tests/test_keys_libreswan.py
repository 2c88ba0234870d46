"""libreswan pluto logs. No real pluto log exists yet (captures/lab has strongSwan only), so
these tests run on SELF-MADE excerpts typed to follow libreswan 4.x's debug output as its source
prints it (``ikev2 I|R`` lines, ``extracting all N bytes`` + ``unwrapped:`` dumps,
``established Child SA`` lines). Key values are made up."""

from __future__ import annotations

import pytest

from ikeview.keys.errors import KeysFileError
from ikeview.keys.libreswan_log import load_pluto_log, looks_like
from ikeview.keys.model import KeyRing

SPI_I, SPI_R = "0123456789abcdef", "fedcba9876543210"
ENC_I2R = "11" * 32 + "a1a2a3a4"  # AES-GCM-16-256 child KEYMAT: key + salt, no integrity key
ENC_R2I = "22" * 32 + "b1b2b3b4"


def _dump(data: str) -> str:
    """libreswan's hex dump body: 16 bytes a line, groups of 4."""
    b = bytes.fromhex(data)
    out = []
    for i in range(0, len(b), 16):
        chunk = b[i : i + 16]
        groups = [" ".join(f"{x:02x}" for x in chunk[j : j + 4]) for j in range(0, len(chunk), 4)]
        out.append("| " + "  ".join(groups))
    return "\n".join(out)


SELF_MADE = f"""\
Nov 27 10:00:00.000001: "west" #1: initiating IKEv2 connection
| ai extracting all 32 bytes of key@0x55d5c0a0
| ai extracted len 32 bytes at 0x55d5c0b0
| unwrapped:
{_dump("a0" * 32)}
| ikev2 I 0x{SPI_I} 0x{SPI_R} none:0x aes_gcm16256:0x{"e0" * 32}
| ikev2 R 0x{SPI_I} 0x{SPI_R} none:0x aes_gcm16256:0x{"f0" * 32}
| initiator salt extracting all 4 bytes of key@0x55d5c0c0
| initiator salt: symkey-key@0x55d5c0c0
| initiator salt extracted len 16 bytes at 0x55d5c0d0
| unwrapped:
| 01 02 03 04  00 00 00 00  00 00 00 00  00 00 00 00
| responder salt extracting all 4 bytes of key@0x55d5c0e0
| responder salt extracted len 16 bytes at 0x55d5c0f0
| unwrapped:
| 05 06 07 08  00 00 00 00  00 00 00 00  00 00 00 00
| SK_pi extracting all 32 bytes of key@0x55d5c100
| unwrapped:
{_dump("c1" * 32)}
| initiator to responder keys extracting all 36 bytes of key@0x55d5c200
| initiator to responder keys extracted len 48 bytes at 0x55d5c210
| unwrapped:
{_dump(ENC_I2R + "00" * 12)}
| responder to initiator keys: extracting all 36 bytes of key@0x55d5c300
| unwrapped:
{_dump(ENC_R2I + "00" * 12)}
"west" #2: initiator established Child SA using #1; IPsec tunnel [192.0.1.0/24===192.0.2.0/24] \
{{ESP/ESN=>0xc0000002 <0xc0000001 xfrm=AES_GCM_16_256-NONE DPD=passive}}
"""


def test_self_made_excerpt() -> None:
    assert looks_like(SELF_MADE)
    ring = KeyRing.of(load_pluto_log(SELF_MADE, "pluto.log"))
    (ike,) = ring.ike_sas
    assert (ike.spi_i.hex(), ike.spi_r.hex()) == (SPI_I, SPI_R)
    assert (ike.encr, ike.encr_key_bits, ike.integ) == (20, 256, 0)
    assert ike.sk_ei == bytes.fromhex("e0" * 32 + "01020304")  # salt appended
    assert ike.sk_er == bytes.fromhex("f0" * 32 + "05060708")
    assert ike.sk_pi == bytes.fromhex("c1" * 32) and ike.sk_pr is None and ike.sk_d is None
    assert ike.source.line == 7
    # We initiated: our outbound SA (=>0xc0000002) carries initiator-to-responder KEYMAT.
    (out,) = ring.esp_keys_for(0xC0000002)
    (inb,) = ring.esp_keys_for(0xC0000001)
    assert out.encr_key == bytes.fromhex(ENC_I2R) and out.integ_key is None
    assert inb.encr_key == bytes.fromhex(ENC_R2I)
    assert (out.encr, out.encr_key_bits, out.integ) == (20, 256, 0)


def test_responder_role_swaps_spis() -> None:
    text = SELF_MADE.replace("initiator established", "responder established")
    ring = KeyRing.of(load_pluto_log(text, "pluto.log"))
    (inb,) = ring.esp_keys_for(0xC0000001)
    assert inb.encr_key == bytes.fromhex(ENC_I2R)


def test_cut_line_key_completed_from_dump() -> None:
    # The ikev2 line holds at most 32 bytes of SK_a; an "ai" dump of 64 bytes wins.
    text = SELF_MADE.replace(_dump("a0" * 32), _dump("a0" * 64)).replace(
        "ai extracting all 32", "ai extracting all 64"
    )
    text = text.replace("none:0x", "sha2_512:0x" + "a0" * 32)
    cbc = text.replace("aes_gcm16256", "aes256").replace(
        "xfrm=AES_GCM_16_256-NONE", "xfrm=AES_CBC_256-HMAC_SHA2_256_128"
    )
    with pytest.raises(KeysFileError, match="child KEYMAT is 36 bytes"):
        load_pluto_log(cbc, "pluto.log")
    (ike,) = KeyRing.of(load_pluto_log(cbc.split('"west" #2')[0], "pluto.log")).ike_sas
    assert ike.sk_ai == bytes.fromhex("a0" * 64) and ike.integ == 14 and ike.encr == 12


def test_log_without_keys() -> None:
    with pytest.raises(KeysFileError, match="plutodebug"):
        load_pluto_log('"west" #1: initiating IKEv2 connection\n', "pluto.log")
    assert not looks_like("| nothing here\n")
