"""tcpdump -E secrets files: the shared ones from tcpdump's test suite, and malformed lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from ikeview.keys.errors import KeysFileError
from ikeview.keys.model import KeyRing
from ikeview.keys.tcpdump import load_tcpdump, looks_like
from ikeview.keys.wireshark import read_ikev2_table


def _load(path: Path) -> KeyRing:
    return KeyRing.of(load_tcpdump(path.read_text(), str(path)))


def test_esp_secrets(shared_dir: Path) -> None:
    path = shared_dir / "captures" / "tcpdump" / "esp-secrets.txt"
    assert looks_like(path.read_text())
    ring = _load(path)
    assert not ring.ike_sas
    a, b, c = ring.esp_sas
    assert (a.spi, a.dst, a.src, a.encr, a.icv_unchecked, a.source.line) == (
        0x12345678, "192.1.2.45", None, 3, 12, 3,
    )  # fmt: skip
    assert a.encr_key == bytes.fromhex("43434545464649494a4a4c4c4f4f51515252545457575840")
    assert (b.spi, b.dst) == (0xABCDABCD, "192.0.1.1")
    assert (c.spi, c.encr, c.encr_key_bits) == (0xD1234567, 12, 256)


def test_ikev2_secrets_match_wireshark_table(shared_dir: Path) -> None:
    td = shared_dir / "captures" / "tcpdump"
    (ike,) = _load(td / "ikev2pI2-secrets.txt").ike_sas
    (ws,) = read_ikev2_table((td / "wireshark_uat" / "ikev2_decryption_table").read_text(), "w")
    for name in ("spi_i", "spi_r", "sk_ei", "sk_er", "sk_ai", "sk_ar", "encr", "encr_key_bits"):
        assert getattr(ike, name) == getattr(ws, name), name
    assert ike.integ == ws.integ == 2
    assert ike.source.line == 1


def test_default_entry_and_ascii_secret_and_commas() -> None:
    ring = KeyRing.of(
        load_tcpdump("0x10@10.0.0.1 3des-cbc:sekret, 0x20@::1 aes128-cbc:0x" + "00" * 16, "e")
    )
    a, b = ring.esp_sas
    assert a.encr_key == b"sekret" and b.dst == "::1" and b.encr_key_bits == 128
    (d,) = load_tcpdump("des-cbc:0x0011223344556677", "e")
    assert d.spi == 0 and d.dst is None  # type: ignore[union-attr]


def test_file_include(tmp_path: Path) -> None:
    (tmp_path / "more.txt").write_text("0x30@10.0.0.3 3des-cbc:0x" + "11" * 24 + "\n")
    main = tmp_path / "main.txt"
    main.write_text("file more.txt\n")
    (e,) = load_tcpdump(main.read_text(), str(main))
    assert e.spi == 0x30 and e.source.path.endswith("more.txt")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0x10@1.2.3.4 rot13-cbc:0x00", "e:1: unknown tcpdump cipher 'rot13-cbc'"),
        ("0x10@1.2.3.4 3des-cbc:0x0g", "e:1: secret is not hex ('g' at position 2)"),
        ("zz@1.2.3.4 3des-cbc:0x00", "e:1: SPI 'zz' is not a number"),
        ("#\n0x1@1.2.3.4 aes256-cbc:0x00", "e:2: aes256-cbc needs a 32-byte key, not 1"),
        ("ikev2 X 0x00 0x00 sha1:0x00 aes128:0x00", "e:1: expected 'ikev2 I|R 0xSPIi"),
        ("ikev2 I 0x0001 0x0000000000000001 sha1:0x00 aes128:0x00", "e:1: spi_i must be 8 bytes"),
        (
            "ikev2 I 0x0000000000000001 0x0000000000000001 sha9:0x00 aes128:0x00",
            "e:1: unknown tcpdump integrity",
        ),
    ],
)
def test_errors(text: str, problem: str) -> None:
    with pytest.raises(KeysFileError) as e:
        load_tcpdump(text, "e")
    assert e.value.msg.startswith(problem)


def test_detection() -> None:
    assert not looks_like("[[psk]]\nsecret = 'x'\n")
    assert not looks_like("# only comments\n")
    assert looks_like("ikev2 R 0x0001020304050607 0xc02e7a3031a03188 sha1:0x00 aes128:0x00\n")


def test_bad_entry_message_does_not_show_the_secret(tmp_path: Path) -> None:
    # An included file is read without format detection, so a malformed entry reaches the loader.
    (tmp_path / "more.txt").write_text("0x30@10.0.0.3 3des-cbc:0x" + "ab" * 24 + " extra\n")
    main = tmp_path / "main.txt"
    main.write_text("file more.txt\n")
    with pytest.raises(KeysFileError) as e:
        load_tcpdump(main.read_text(), str(main))
    assert "expected 'spi@address algo:secret'" in e.value.msg
    assert "abab" not in e.value.msg


def test_file_include_loop_is_an_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("file b.txt\n")
    b.write_text("# comment\nfile a.txt\n")
    with pytest.raises(KeysFileError) as e:
        load_tcpdump(a.read_text(), str(a))
    assert e.value.msg == f"{b}:2: {a} is already being read (an include loop)"
    a.write_text("file a.txt\n")
    with pytest.raises(KeysFileError, match="include loop"):
        load_tcpdump(a.read_text(), str(a))


def test_indented_comment_is_still_tcpdump() -> None:
    text = "  # lab keys\n0x10@10.0.0.1 3des-cbc:0x" + "11" * 24 + "\n"
    assert looks_like(text)
    assert len(load_tcpdump(text, "e")) == 1
