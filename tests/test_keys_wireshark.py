"""Wireshark UAT tables: read the shared tables, write them back byte-identically, and check
that tshark 4.0 decrypts with files we wrote."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ikeview.keys.errors import KeysFileError
from ikeview.keys.model import EspKeys, IkeSaKeys, KeyRing, SourceRef
from ikeview.keys.wireshark import (
    ESP_AUTH_LABELS,
    ESP_ENCR_LABELS,
    IKEV2_ENCR_LABELS,
    IKEV2_INTEG_LABELS,
    WiresharkExportError,
    detect,
    esp_sa_row,
    ikev2_row,
    load_wireshark,
    read_esp_sa,
    read_ikev2_table,
    save_wireshark_config,
    split_uat_line,
    write_esp_sa,
    write_ikev2_table,
)


def _rows(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


TABLES = [
    "wireshark/ikev2_decryption_table.tmpl",
    "wireshark/esp_sa.tmpl",
    "wireshark/profile/ikev2_decryption_table",
    "wireshark/profile/esp_sa",
    "tcpdump/wireshark_uat/ikev2_decryption_table",
    "tcpdump/wireshark_uat/esp_sa.02-sunrise-sunset-esp",
    "tcpdump/wireshark_uat/esp_sa.08-sunrise-sunset-aes",
    "tcpdump/wireshark_uat/esp_sa.08-sunrise-sunset-esp2",
    "tcpdump/wireshark_uat/esp_sa.espudp1",
]


def test_ikev2_table_values(shared_dir: Path) -> None:
    path = shared_dir / "captures" / "wireshark" / "ikev2_decryption_table.tmpl"
    rows = read_ikev2_table(path.read_text(), str(path))
    assert len(rows) == 9
    by_spi = {r.spi_i.hex(): r for r in rows}
    # Values from captures/wireshark/README.md.
    ccm = by_spi["ea684d21597afd36"]
    assert (ccm.encr, ccm.encr_key_bits, ccm.integ, len(ccm.sk_ei or b"")) == (15, 128, 0, 19)
    ctr = by_spi["a2926ae833c6f138"]
    assert (ctr.encr, ctr.integ, ctr.icv_unchecked) == (13, None, 12)
    sha = by_spi["81f24c0acd8fa55c"]
    assert (sha.encr, sha.encr_key_bits, sha.integ, len(sha.sk_ai or b"")) == (13, 192, 14, 64)
    des = by_spi["19ab98963486359f"]
    assert (des.encr, des.integ, des.spi_r.hex()) == (3, 7, "78f13157ccd3b3d8")
    assert by_spi["1234567890123456"].sk_ei is None
    assert ccm.source.line == 4


def test_esp_sa_values(shared_dir: Path) -> None:
    path = shared_dir / "captures" / "wireshark" / "esp_sa.tmpl"
    a, b = read_esp_sa(path.read_text(), str(path))
    assert (a.spi, a.src, a.dst, a.encr, a.encr_key_bits, a.integ) == (
        0x070883C2, "192.168.0.1", "192.168.0.100", 12, 128, 2,
    )  # fmt: skip
    assert a.encr_key == bytes.fromhex("5de1a4c2c72662c9fda7a7c78cd25623")
    assert b.integ_key == bytes.fromhex("3e00d517c1220d4b7d2950fcc02edd4b6023d278")


def test_tcpdump_uat_files(shared_dir: Path) -> None:
    uat = shared_dir / "captures" / "tcpdump" / "wireshark_uat"
    (aes,) = read_esp_sa((uat / "esp_sa.08-sunrise-sunset-aes").read_text(), "x")
    assert (aes.spi, aes.src, aes.encr, aes.encr_key_bits, aes.integ, aes.icv_unchecked) == (
        0xD1234567, "*", 12, 256, None, 12,
    )  # fmt: skip
    assert aes.integ_key is None
    outer, inner = read_esp_sa((uat / "esp_sa.08-sunrise-sunset-esp2").read_text(), "x")
    assert (outer.spi, inner.spi, inner.dst, inner.encr) == (0x12345678, 0xABCDABCD, "192.0.1.1", 3)


@pytest.mark.parametrize("name", TABLES)
def test_round_trip_is_byte_identical(shared_dir: Path, name: str) -> None:
    p = shared_dir / "captures" / name
    text = p.read_text()
    records = load_wireshark(text, str(p))
    if detect(text) == "ikev2_decryption_table":
        written = write_ikev2_table(r for r in records if isinstance(r, IkeSaKeys))
    else:
        written = write_esp_sa(r for r in records if isinstance(r, EspKeys))
    assert _rows(written) == _rows(text)
    assert written.startswith("#")


def test_detect() -> None:
    assert detect("# only a comment\n") is None
    assert detect('0123456789abcdef,0123456789abcdef,,,"NULL [RFC2410]",,,"NONE [RFC4306]"') == (
        "ikev2_decryption_table"
    )
    assert detect("fafaeb49382a763c,735be0cb") == "ikev1_decryption_table"
    assert detect("0x1@1.2.3.4 3des-cbc:0x00") is None


def test_ikev1_table_is_refused(shared_dir: Path) -> None:
    path = shared_dir / "captures" / "wireshark" / "ikev1_decryption_table.tmpl"
    with pytest.raises(KeysFileError, match="IKEv1 decryption table"):
        load_wireshark(path.read_text(), "ikev1")


def test_split_uat_line_escapes_and_errors() -> None:
    fields = split_uat_line(r'"a\x2cb","c\x22d",ef')
    assert [(f.value, f.quoted) for f in fields] == [("a,b", True), ('c"d', True), ("ef", False)]
    with pytest.raises(ValueError):
        split_uat_line('"open')


def test_read_errors_name_the_line() -> None:
    good = '0123456789abcdef,0123456789abcdef,00,00,"NULL [RFC2410]",,,"NONE [RFC4306]"'
    with pytest.raises(KeysFileError) as e:
        read_ikev2_table("# c\n" + good + "\n" + good.replace("NULL", "NUL"), "t")
    assert e.value.msg == "t:3: unknown IKEv2 encryption label 'NUL [RFC2410]'"
    with pytest.raises(KeysFileError, match=r"t:1: SK_ei is not hex \(odd length"):
        read_ikev2_table(good.replace(",00,00,", ",0,00,", 1), "t")
    with pytest.raises(KeysFileError, match="t:1: Initiator's SPI must be 8 bytes"):
        read_ikev2_table(good.replace("0123456789abcdef", "0123", 1), "t")
    with pytest.raises(KeysFileError, match="t:1: esp_sa rows have 8 fields"):
        read_esp_sa('"IPv4","*","*","0x1","NULL"', "t")
    with pytest.raises(KeysFileError, match="wildcards"):
        read_esp_sa('"IPv4","*","*","*","NULL","","NULL",""', "t")


def test_save_keys_gcm_label_is_understood() -> None:
    # strongSwan's save-keys writes the deprecated label with "ANY n bit" as the GCM ICV size.
    row = '"IPv4","192.0.2.1","192.0.2.2","0x11223344","AES-GCM [RFC4106]","0x' + "00" * 20
    row += '","ANY 128 bit authentication [no checking]",""'
    (e,) = read_esp_sa(row, "esp_sa")
    assert (e.encr, e.encr_key_bits, e.integ, e.icv_unchecked) == (20, 128, 0, None)
    # Written back in the only form tshark 4.0 accepts.
    assert '"AES-GCM with 16 octet ICV [RFC4106]"' in esp_sa_row(e)
    assert esp_sa_row(e).endswith('"NULL",""')
    # Old save-keys spelt 3DES with the wrong case; read it, write the label tshark accepts.
    old = '"IPv4","*","*","0x1","TripleDes-CBC [RFC2451]","0x' + "11" * 24 + '","NULL",""'
    (d,) = read_esp_sa(old, "esp_sa")
    assert d.encr == 3 and '"TripleDES-CBC [RFC2451]"' in esp_sa_row(d)


def _ike(**kw: object) -> IkeSaKeys:
    base = IkeSaKeys(
        spi_i=b"\x01" * 8, spi_r=b"\x02" * 8, sk_d=None, sk_ai=b"a" * 32, sk_ar=b"b" * 32,
        sk_ei=b"e" * 32, sk_er=b"f" * 32, sk_pi=None, sk_pr=None, encr=12, encr_key_bits=256,
        integ=12, prf=5, icv_unchecked=None, source=SourceRef("x", 1),
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def test_write_ikev2_rules() -> None:
    assert ikev2_row(_ike()).endswith(
        '"AES-CBC-256 [RFC3602]",' + "61" * 32 + "," + "62" * 32 + ',"HMAC_SHA2_256_128 [RFC4868]"'
    )
    # Key size inferred from SK_e when only the id is known; AEAD gets NONE and empty SK_a.
    gcm = _ike(encr=20, encr_key_bits=None, sk_ei=b"e" * 20, sk_er=b"f" * 20, integ=0)
    assert '"AES-GCM-128 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"' in ikev2_row(gcm)
    with pytest.raises(WiresharkExportError, match="CHACHA20_POLY1305"):
        ikev2_row(_ike(encr=28, encr_key_bits=None, integ=0))
    with pytest.raises(WiresharkExportError, match="SK_ei is 31 bytes"):
        ikev2_row(_ike(sk_ei=b"e" * 31))
    with pytest.raises(WiresharkExportError, match="AES_XCBC_96"):
        ikev2_row(_ike(integ=5))


def _esp(**kw: object) -> EspKeys:
    base = EspKeys(
        spi=0xC0FFEE01, encr_key=b"k" * 16, integ_key=b"i" * 20, src="2001:db8::1",
        dst="2001:db8::2", encr=12, encr_key_bits=128, integ=2, icv_unchecked=None,
        source=SourceRef("x", 1),
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


def test_write_esp_rules() -> None:
    row = esp_sa_row(_esp())
    assert row.startswith('"IPv6","2001:db8::1","2001:db8::2","0xc0ffee01","AES-CBC [RFC3602]"')
    assert esp_sa_row(_esp(src=None, dst=None)).startswith('"IPv4","*","*"')
    with pytest.raises(WiresharkExportError, match="AES_CCM_16"):
        esp_sa_row(_esp(encr=16))
    with pytest.raises(WiresharkExportError, match="AES_XCBC_96"):
        esp_sa_row(_esp(integ=5))


def test_label_tables_are_unique() -> None:
    for labels in (IKEV2_ENCR_LABELS, IKEV2_INTEG_LABELS, ESP_ENCR_LABELS, ESP_AUTH_LABELS):
        texts = [lab.text for lab in labels]
        assert len(texts) == len(set(texts))
    assert len(IKEV2_ENCR_LABELS) == 2 + 3 + 3 + 9 + 9


def test_save_wireshark_config_skips_with_reason(tmp_path: Path) -> None:
    ring = KeyRing(ike_sas=(_ike(), _ike(encr=28, encr_key_bits=None, integ=0)), esp_sas=(_esp(),))
    skipped = save_wireshark_config(tmp_path, ring)
    assert len(skipped) == 1 and skipped[0].startswith("x:1: IKE SA 0101010101010101")
    assert len(_rows((tmp_path / "ikev2_decryption_table").read_text())) == 1
    assert "esp.enable_encryption_decode: TRUE" in (tmp_path / "preferences").read_text()


# --- tshark accepts what we write ---------------------------------------------------------------

TSHARK = shutil.which("tshark")


def _tshark(cfg: Path, capture: Path, *fields: str) -> str:
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=str(cfg))
    cmd = [TSHARK or "tshark", "-r", str(capture), "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


@pytest.mark.tshark
@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
def test_tshark_decrypts_with_written_tables(shared_dir: Path, tmp_path: Path) -> None:
    ws = shared_dir / "captures" / "wireshark"
    ike = read_ikev2_table((ws / "ikev2_decryption_table.tmpl").read_text(), "t")
    esp = read_esp_sa((ws / "esp_sa.tmpl").read_text(), "e")
    # Pass the records through our own writer only (no copy of the original files).
    ring = KeyRing(ike_sas=tuple(ike), esp_sas=tuple(esp))
    assert save_wireshark_config(tmp_path, ring) == []
    out = _tshark(tmp_path, ws / "ikev2-decrypt-aes256gcm16.pcap", "isakmp.auth.data")
    assert "9ab71f14ab553cad873a1aa70b99df155dee77cdcf3694b3b7527acbb9712ded" in out
    out = _tshark(tmp_path, ws / "ikev2-decrypt-aes192ctr.pcap", "isakmp.auth.data")
    assert "3ec23dcf9348485638407c754547aeb3085290082c49f583fdbae59263a20b4a" in out
    out = _tshark(tmp_path, ws / "esp-bug-12671.pcapng.gz", "esp.icv_good")
    assert out.split() == ["1"] * 6  # every ICV checked and correct


@pytest.mark.tshark
@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
def test_tshark_decrypts_tcpdump_keys_we_wrote(shared_dir: Path, tmp_path: Path) -> None:
    """tcpdump secrets -> our records -> our esp_sa -> tshark decrypts all 8 ICMP echoes."""
    from ikeview.keys.tcpdump import load_tcpdump

    td = shared_dir / "captures" / "tcpdump"
    records = load_tcpdump((td / "esp-secrets.txt").read_text(), "esp-secrets.txt")
    aes = [r for r in records if isinstance(r, EspKeys) and r.spi == 0xD1234567]
    assert save_wireshark_config(tmp_path, KeyRing(esp_sas=tuple(aes))) == []
    out = _tshark(tmp_path, td / "08-sunrise-sunset-aes.pcap", "icmp.type")
    assert out.split() == ["8"] * 8


# --- property: whatever we write, we read back the same ------------------------------------------

_IKE_SUITES = [(lab.iana, lab.key_bits) for lab in IKEV2_ENCR_LABELS if lab.iana not in (None, 11)]
_IKE_INTEGS = [lab.iana for lab in IKEV2_INTEG_LABELS if lab.iana not in (None, 0)]
_SALT = {13: 4, 14: 3, 15: 3, 16: 3, 18: 4, 19: 4, 20: 4}
_AKEY = {1: 16, 2: 20, 6: 16, 7: 20, 12: 32, 13: 48, 14: 64}


@given(
    suite=st.sampled_from(_IKE_SUITES),
    integ=st.sampled_from(_IKE_INTEGS),
    spis=st.tuples(st.binary(min_size=8, max_size=8), st.binary(min_size=8, max_size=8)),
    seed=st.binary(min_size=1, max_size=1),
)
def test_ikev2_write_read_property(
    suite: tuple[int, int | None], integ: int, spis: tuple[bytes, bytes], seed: bytes
) -> None:
    encr, bits = suite
    aead = encr in (14, 15, 16, 18, 19, 20)
    elen = 24 if encr == 3 else (bits or 0) // 8 + _SALT.get(encr, 0)
    alen = 0 if aead else _AKEY[integ]
    k = _ike(
        spi_i=spis[0], spi_r=spis[1], sk_ei=seed * elen, sk_er=seed[::-1] * elen,
        sk_ai=(seed * alen) or None, sk_ar=(seed * alen) or None, encr=encr,
        encr_key_bits=bits, integ=0 if aead else integ, prf=None, sk_d=None,
    )  # fmt: skip
    (back,) = read_ikev2_table(write_ikev2_table([k]), "t")
    assert replace(back, source=k.source) == k


@given(
    suite=st.sampled_from([(3, None, 24), (12, 128, 16), (12, 256, 32), (13, 128, 20),
                           (18, 128, 20), (19, 192, 28), (20, 256, 36)]),
    integ=st.sampled_from([1, 2, 12, 13, 14]),
    spi=st.integers(0, 2**32 - 1),
    v6=st.booleans(),
)  # fmt: skip
def test_esp_write_read_property(
    suite: tuple[int, int | None, int], integ: int, spi: int, v6: bool
) -> None:
    encr, bits, klen = suite
    aead = encr in (18, 19, 20)
    e = _esp(
        spi=spi, encr=encr, encr_key_bits=bits, encr_key=b"\x5a" * klen,
        integ=0 if aead else integ, integ_key=None if aead else b"\x33" * _AKEY[integ],
        src="2001:db8::1" if v6 else "192.0.2.1", dst="2001:db8::2" if v6 else "192.0.2.2",
    )  # fmt: skip
    (back,) = read_esp_sa(write_esp_sa([e]), "t")
    assert replace(back, source=e.source) == e


def test_split_error_does_not_show_the_keys() -> None:
    good = '"IPv4","*","*","0x00000100","AES-CBC [RFC3602]","0x' + "11" * 16 + '","NULL",""'
    bad = '"IPv4","*","*","0x00000101","AES-CBC [RFC3602]"x,"0x' + "ab" * 16 + '","NULL",""'
    with pytest.raises(KeysFileError) as e:
        read_esp_sa(good + "\n" + bad, "t")
    assert e.value.msg == "t:2: unexpected text after quoted field 5"
