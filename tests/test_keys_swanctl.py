"""strongSwan swanctl.conf ``secrets`` as a keys file: the lab's own configs (the files charon
ran with in captures/lab/scenarios), and the mistakes a hand-edited one can hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab_support import LAB

from ikeview.keys.errors import KeysFileError
from ikeview.keys.loader import detect_format, load_keys
from ikeview.keys.model import EapSecret, Psk
from ikeview.keys.swanctl_secrets import load_swanctl_secrets
from ikeview.pipeline.analyze import analyze

CONF = LAB / "scenarios" / "eap-mschapv2" / "initiator" / "swanctl.conf"


def test_lab_swanctl_conf_is_a_keys_file() -> None:
    if not CONF.exists():
        pytest.skip("eap-mschapv2 scenario not in captures/lab yet")
    fmt = detect_format(CONF.read_text())
    assert fmt is not None and fmt.name == "strongSwan swanctl.conf secrets"
    ring = load_keys([CONF])
    (psk,) = ring.psks
    assert (psk.secret, psk.id, psk.label) == (
        b"lab-psk-eap-mschapv2-responder", "responder.lab.example", "ike-responder",
    )  # fmt: skip
    (eap,) = ring.eap_secrets
    assert (eap.identity, eap.password) == ("bob", "lab-eap-mschapv2-password")


def test_swanctl_secrets_with_the_dh_secret_verify_the_eap_scenario(tmp_path: Path) -> None:
    """The PSK and the EAP password from swanctl.conf, the g^ir from keys.toml's [[dh]]."""
    if not CONF.exists():
        pytest.skip("eap-mschapv2 scenario not in captures/lab yet")
    d = LAB / "eap-mschapv2"
    dh = "\n".join(
        ln for ln in (d / "keys.toml").read_text().split("\n\n") if ln.startswith("[[dh]]")
    )
    (tmp_path / "dh.toml").write_text(dh + "\n")
    a = analyze(d / "capture.pcap", load_keys([CONF, tmp_path / "dh.toml"]))
    ini, resp = a.ike_sas[0].auth
    assert ini.verified is True and resp.verified is True
    assert ini.eap_identity == "bob"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("secrets {\n  ike-x {\n    secret = 0xzz\n  }\n}\n", 2),
        ('secrets {\n  ike-x {\n    secret = ""\n  }\n}\n', 2),
        # Never closed: the line that opened it (strongSwan's parser says the same).
        ("secrets {\n  ike-x {\n    secret = a\n  }\n", 1),
        ("}\n", 1),
        ("secrets {\n" + "a {\n" * 40, 17),
    ],
)
def test_mistakes_name_the_line(text: str, line: int) -> None:
    with pytest.raises(KeysFileError) as e:
        load_swanctl_secrets(text, "swanctl.conf")
    assert e.value.line == line


def test_quoting_comments_hex_and_other_sections() -> None:
    text = (
        "connections { lab { local { auth = psk } } }\n"
        "secrets {\n"
        "  # a comment\n"
        "  ike-a {\n"
        '    secret = "with # hash \\" quote"  # trailing\n'
        "    id-1 = moon\n"
        "    id-2 = sun\n"
        "  }\n"
        "  ike-b {\n"
        "    secret = 0x6d6f6f6e\n"
        "  }\n"
        "  eap-c {\n"
        "    secret = pw\n"
        "  }\n"
        "  private-d {\n"
        "    file = key.pem\n"
        "  }\n"
        "}\n"
    )
    a, b, c = load_swanctl_secrets(text, "swanctl.conf")
    assert (a.secret, a.id) == (b'with # hash " quote', None)  # two ids: any
    assert (b.secret, b.id) == (b"moon", None)
    assert (c.identity, c.password) == ("*", "pw")


def test_strongswan_grammar_one_line_sections_templates_and_base64() -> None:
    # What swanctl --load-creds accepts (settings_parser.y, load_creds.c) and the old
    # line-by-line reader did not: one-line sections, a template, a 0s base64 secret
    # ("bW9vbg==" is "moon").
    text = (
        "secrets { ike-base { id = moon } ike-a : secrets.ike-base { secret = 0sbW9vbg== } }\n"
        "secrets { eap-bob { id = bob\n secret = pw } }\n"
    )
    recs = load_swanctl_secrets(text, "swanctl.conf")
    psks = [r for r in recs if isinstance(r, Psk)]
    assert [(p.secret, p.id, p.label) for p in psks] == [(b"moon", "moon", "ike-a")]
    (eap,) = [r for r in recs if not isinstance(r, Psk)]
    assert isinstance(eap, EapSecret) and (eap.identity, eap.password) == ("bob", "pw")
