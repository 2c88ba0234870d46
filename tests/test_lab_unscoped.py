"""From PSKs, EAP passwords and DH secrets given unscoped (as a user pastes them from charon's
log, not knowing which exchange each belongs to), every key of every lab scenario equals
strongSwan's logged truth and every ESP packet of a logged SA decrypts.

The keys file is built from truth.json: every PSK without peer/id, every g^ir (IKE SAs, IKE SA
rekeys and PFS child SAs alike) as a bare ``[[dh]] shared_secret``, and the scenario's own
``[[eap]]`` entries. Nothing derived is given.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from lab_support import LAB

from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.dec_records import DerivedEspSa, DerivedIkeSa

_SCENARIOS = sorted(
    str(p.parent.relative_to(LAB))
    for g in ("*/truth.json", "interop/*/truth.json")
    for p in LAB.glob(g)
)
_SK = ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr")


def _quote(text: str) -> str:
    return json.dumps(text)  # a TOML basic string is a JSON string for these values


def _unscoped_keys(name: str, truth: dict, out: Path) -> Path:
    lines = [f"[[psk]]\nsecret = {_quote(p)}\n" for p in truth.get("psks", [])]
    secrets = [sa.get("shared_secret") for sa in truth["ike_sas"]]
    secrets += [c.get("pfs_shared_secret") for c in truth["child_sas"]]
    for s in dict.fromkeys(x for x in secrets if x):
        lines.append(f'[[dh]]\nshared_secret = "{s}"\n')
    given = tomllib.loads((LAB / name / "keys.toml").read_text())
    for e in given.get("eap", []):
        lines.append(f"[[eap]]\nidentity = {_quote(e['identity'])}\n"
                     f"password = {_quote(e['password'])}\n")  # fmt: skip
    path = out / "unscoped.toml"
    path.write_text("\n".join(lines))
    return path


def _rejected_by_peer(truth: dict, spi: str) -> int:
    """ESP packets of ``spi`` a peer logged as failing decryption or its ICV check."""
    return sum(
        1
        for note in truth.get("log_notes", [])
        if "ESP decryption or ICV verification failed" in note and f"SPI {spi} " in note
    )


@pytest.mark.parametrize("name", _SCENARIOS)
def test_every_key_from_unscoped_secrets(name: str, tmp_path: Path) -> None:
    truth = json.loads((LAB / name / "truth.json").read_text())
    if not truth["ike_sas"]:
        pytest.skip("no IKE SA came up")
    keys = _unscoped_keys(name, truth, tmp_path)
    a = analyze(LAB / name / "capture.pcap", load_keys([keys]))
    ike = {(d.keys.spi_i.hex(), d.keys.spi_r.hex()): d for d in a.derived_keys
           if isinstance(d, DerivedIkeSa)}  # fmt: skip
    for sa in truth["ike_sas"]:
        if not sa.get("sk_d"):
            continue
        got = ike.get((sa["spi_i"], sa["spi_r"]))
        assert got is not None, f"no keys for IKE SA {sa['spi_i']}/{sa['spi_r']}"
        for field in _SK:
            assert (getattr(got.keys, field) or b"").hex() == (sa.get(field) or ""), field
    esp = {d.keys.spi: d for d in a.derived_keys if isinstance(d, DerivedEspSa)}
    stats = {s.spi: s for sa in a.ike_sas for c in sa.child_sas for s in c.esp}
    stats.update({s.spi: s for s in a.unassociated_esp})
    for child in truth["child_sas"]:
        for e in child["esp"]:
            spi = int(e["spi"], 16)
            got = esp.get(spi)
            assert got is not None, f"no keys for ESP SPI {e['spi']}"
            assert (got.keys.encr_key or b"").hex() == e["encr_key"], e["spi"]
            assert (got.keys.integ_key or b"").hex() == (e.get("integ_key") or ""), e["spi"]
            if spi in stats:
                # Packets the receiving peer itself rejected (esp-corrupt alters two on the
                # path) are the only ones allowed not to decrypt.
                bad = _rejected_by_peer(truth, e["spi"])
                s = stats[spi]
                assert s.decrypted == s.packets - bad, f"ESP SPI {e['spi']}: {s.problem}"
                assert s.integrity_failed == bad


def test_a_secret_that_fits_nothing_is_reported_unused(tmp_path: Path) -> None:
    """rekey-dpd: IKE SA, IKE SA rekey and a PFS child rekey, all by trial; one extra secret
    of the right length (MODP-2048) fits none of them."""
    truth = json.loads((LAB / "rekey-dpd" / "truth.json").read_text())
    keys = _unscoped_keys("rekey-dpd", truth, tmp_path)
    stray = "5a" * 256
    keys.write_text(keys.read_text() + f'\n[[dh]]\nshared_secret = "{stray}"\n')
    a = analyze(LAB / "rekey-dpd" / "capture.pcap", load_keys([keys]))
    unused = [p.text for p in a.problems if "unused" in p.text]
    stray_line = keys.read_text().splitlines().index(f'shared_secret = "{stray}"')
    assert unused == [
        f"[[dh]] {keys}:{stray_line} fits no IKE SA or PFS child SA in the capture (unused)"
    ]
