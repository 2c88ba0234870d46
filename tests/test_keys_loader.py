"""load_keys: format detection from content (not names), merging, errors, describe()."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lab_support import LAB

from ikeview.errors import IkeviewError
from ikeview.keys.describe import describe
from ikeview.keys.errors import KeysFileError
from ikeview.keys.loader import FORMATS, detect_format, load_keys, load_text
from ikeview.keys.model import KeyRing


def _copy(src: Path, dst_dir: Path, name: str) -> Path:
    """Copy under a misleading name: detection must not look at it."""
    dst = dst_dir / name
    shutil.copyfile(src, dst)
    return dst


def test_each_format_detected_by_content(shared_dir: Path, tmp_path: Path) -> None:
    cap = shared_dir / "captures"
    cases = {
        "ikeview TOML": LAB / "rekey-dpd" / "keys.toml",
        "Wireshark ikev2_decryption_table/esp_sa": cap / "wireshark" / "esp_sa.tmpl",
        "tcpdump -E secrets": cap / "tcpdump" / "ikev2pI2-secrets.txt",
        "strongSwan charon log": LAB / "gcm16-ecp256" / "responder.log",
        "libreswan pluto log": LAB / "interop" / "libreswan-initiator" / "initiator-pluto.log",
    }
    for i, (name, src) in enumerate(cases.items()):
        path = _copy(src, tmp_path, f"keys{i}.toml")
        fmt = detect_format(path.read_text())
        assert fmt is not None and fmt.name == name
        assert load_keys([path])


def test_load_and_merge_in_order(shared_dir: Path) -> None:
    cap = shared_dir / "captures"
    ring = load_keys(
        [
            cap / "tcpdump" / "esp-secrets.txt",
            cap / "wireshark" / "ikev2_decryption_table.tmpl",
            LAB / "rekey-dpd" / "initiator.log",
            LAB / "rekey-dpd" / "keys.toml",
        ]
    )
    assert len(ring.esp_sas) == 3 + 4
    assert len(ring.ike_sas) == 9 + 2
    assert ring.esp_sas[0].source.path.endswith("esp-secrets.txt")
    assert ring.dh_secrets[-1].source.path.endswith("keys.toml")
    secrets = load_keys([LAB / "rekey-dpd" / "initiator.log"], mode="secrets")
    assert not secrets.ike_sas and len(secrets.dh_secrets) == 3


def test_merge_is_pure() -> None:
    a = load_text('[[psk]]\nsecret = "a"\n', "a.toml")
    b = load_text('[[psk]]\nsecret = "b"\n', "b.toml")
    m = a.merge(b)
    assert [p.secret for p in m.psks] == [b"a", b"b"] and len(a) == 1 and len(m) == 2
    assert KeyRing().merge() == KeyRing() and not KeyRing()


def test_unknown_format_names_formats(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("hello\nworld\n")
    with pytest.raises(KeysFileError) as e:
        load_keys([p])
    assert e.value.msg.startswith(f"{p}: unknown keys file format (tried: ikeview TOML, ")
    for f in FORMATS:
        assert f.name in e.value.msg
    assert isinstance(e.value, IkeviewError)


def test_empty_unreadable_and_binary(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("# nothing\n\n")
    with pytest.raises(KeysFileError, match="is empty"):
        load_keys([empty])
    with pytest.raises(KeysFileError, match="cannot read"):
        load_keys([tmp_path / "missing"])
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(KeysFileError, match="not a text file"):
        load_keys([binary])


def test_describe_masks_secrets(shared_dir: Path) -> None:
    ring = load_keys([shared_dir / "captures" / "wireshark" / "ikev2_decryption_table.tmpl"]).merge(
        load_text(
            '[[psk]]\nsecret = "topsecret"\nid = "moon.example"\n\n'
            '[[dh]]\nshared_secret = "' + "ab" * 256 + '"\nspi_i = "1a2b3c4d5e6f7a8b"\n',
            "keys.toml",
        ),
        load_keys([LAB / "rekey-dpd" / "responder.log"]),
    )
    lines = describe(ring)
    assert len(lines) == len(ring)
    assert "psk #1 (keys.toml:1) 9 bytes, scope id=moon.example" in lines
    assert "dh #1 (keys.toml:5) g^ir 256 bytes for SPIi 1a2b3c4d5e6f7a8b" in lines
    assert any(ln.startswith("dh #3 (") and "for child SA 0c95ce69" in ln for ln in lines)
    assert any("0158b8fb90b7623d/13514610cea16160 keys SK_ei:36 SK_er:36" in ln for ln in lines)
    assert any(
        "SPI 24c60154 keys encr:16 integ:32 [AES_CBC_128/HMAC_SHA2_256_128]" in ln for ln in lines
    )
    text = "\n".join(lines)
    assert "topsecret" not in text and "abab" not in text
    for k in ring.ike_sas:
        assert k.sk_ei is None or k.sk_ei.hex() not in text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[pks]]\nsecret = "x"\n', "k.toml:1: unknown table 'pks' (did you mean 'psk'?)"),
        ('[psk]\nsecret = "x"\n', "k.toml:1: 'psk' must be written as [[psk]] tables"),
        ('[[psk]]\nsecret = "x\n', "k.toml:2: not valid TOML"),
    ],
)
def test_toml_mistakes_are_reported_as_toml(text: str, problem: str) -> None:
    with pytest.raises(KeysFileError) as e:
        load_text(text, "k.toml")
    assert e.value.msg.startswith(problem)
