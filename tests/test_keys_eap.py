"""The ``[[eap]]`` table of the TOML keys file: an EAP identity and its password."""

from __future__ import annotations

import pytest

from ikeview.keys.describe import describe
from ikeview.keys.errors import KeysFileError
from ikeview.keys.model import EapSecret, KeyRing
from ikeview.keys.toml_keys import load_toml


def test_eap_table_is_read() -> None:
    text = '[[psk]]\nsecret = "x"\n\n[[eap]]\nidentity = "carol"\npassword = "Ar3etTnp"\n'
    ring = KeyRing.of(load_toml(text, "k.toml"))
    (eap,) = ring.eap_secrets
    assert (eap.identity, eap.password, eap.source.line) == ("carol", "Ar3etTnp", 4)
    assert "Ar3etTnp" not in repr(eap)
    assert len(ring) == 2 and ring.records()[-1] is eap
    assert ring.merge(ring).eap_secrets == (eap, eap)
    (line,) = [d for d in describe(ring) if d.startswith("eap")]
    assert "carol" in line and "Ar3etTnp" not in line


@pytest.mark.parametrize(
    "body",
    ['identity = "carol"', 'password = "x"', 'identity = ""\npassword = "x"',
     'identity = 5\npassword = "x"', 'identity = "c"\npassword = "x"\nsecret = "y"'],
)  # fmt: skip
def test_eap_table_mistakes_name_the_line(body: str) -> None:
    with pytest.raises(KeysFileError) as e:
        load_toml(f"# keys\n[[eap]]\n{body}\n", "k.toml")
    assert e.value.line >= 2


def test_eap_secret_is_a_key_record() -> None:
    rec = load_toml('[[eap]]\nidentity = "*"\npassword = ""\n', "k.toml")
    assert isinstance(rec[0], EapSecret) and rec[0].identity == "*"
