"""KeyringDecryptor on real captures: Wireshark's IKEv2/ESP test files and the strongSwan lab.

The Wireshark captures come with SK_e/SK_a only (their key table); the lab captures come with
nothing but PSKs and g^ir, so every SK_*, AUTH and ESP key below is derived and compared with
what charon logged (truth.json). The correlator is stood in for by test_pipeline_decrypt_support.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from ikeview.dissectors.ike_records import AuthPayload, CertPayload, IdPayload
from lab_support import LAB, lab_scenario
from test_pipeline_decrypt_support import Capture, child_setup, first, read

from ikeview.keys.model import DhSecret, KeyRing, Psk, SourceRef
from ikeview.keys.wireshark import read_esp_sa, read_ikev2_table
from ikeview.pipeline.decrypt import DerivedEspSa, DerivedIkeSa, KeyringDecryptor
from ikeview.pipeline.ike_seam import AuthClaim

REPO = Path(__file__).resolve().parents[1]
SK_NAMES = ("sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr")
# Lab scenarios whose IKE SA and first child SA complete (IKE_SA_INIT + IKE_AUTH).
LAB_OK = (
    "psk-aes256-sha256-modp2048",
    "gcm16-ecp256",
    "chacha-x25519",
    "3des-sha1-modp1024",
    "multi-proposal",
    "asym-psk",
    "natt",
    "certs-frag",
)


def _ws_vectors(shared: Path) -> list[dict]:
    return json.loads((shared / "vectors" / "wireshark-ikev2-decrypt-captures.json").read_text())[
        "captures"
    ]


def _ws_ring(shared: Path) -> KeyRing:
    table = shared / "captures" / "wireshark" / "ikev2_decryption_table.tmpl"
    return KeyRing.of(read_ikev2_table(table.read_text(), "ikev2_decryption_table"))


def _open_all(dec: KeyringDecryptor, cap: Capture) -> list[tuple[object, object]]:
    """Open every SK/SKF payload in capture order: [(datagram, Opened)]."""
    out = []
    for dg in cap.ike:
        m = dg.message
        if m.sk is None:
            continue
        out.append((dg, dec.open(m.header, m.raw, m.sk)))
    return out


WS_NAMES = (
    "3des-sha1_160",
    "aes128ccm12",
    "aes128ccm12-2",
    "aes192ctr",
    "aes256cbc",
    "aes256ccm16",
    "aes256gcm16",
    "aes256gcm8",
)


@pytest.mark.parametrize("name", WS_NAMES)
def test_wireshark_ikev2_captures_decrypt(shared_dir: Path, name: str) -> None:
    vec = next(c for c in _ws_vectors(shared_dir) if f"decrypt-{name}." in c["file"])
    cap = read((shared_dir / "vectors" / vec["file"]).resolve())
    dec = KeyringDecryptor(_ws_ring(shared_dir))
    for setup in cap.setups:
        assert dec.ike_sa(setup) is None
    opened = _open_all(dec, cap)
    assert opened
    auth_data = set()
    for _, o in opened:
        assert o.problem is None
        assert o.payloads is not None
        # The CTR-for-CCM row skips the ICV unchecked ("ANY 96-bits [No Checking]").
        assert o.integrity == (None if name == "aes128ccm12-2" else "ok")
        auth_data |= {p.data.hex() for p in o.payloads if isinstance(p, AuthPayload)}
    assert vec["expected_isakmp_auth_data"] in auth_data
    assert len(auth_data) == 2
    (ike,) = [k for k in dec.derived_keys() if isinstance(k, DerivedIkeSa)]
    assert ike.keys.spi_i.hex() == vec["spi_i"]
    assert ike.verified == (name != "aes128ccm12-2")


def test_wireshark_keys_give_no_sk_p_so_auth_is_unchecked(shared_dir: Path) -> None:
    cap = read(shared_dir / "captures" / "wireshark" / "ikev2-decrypt-aes256gcm16.pcap")
    dec = KeyringDecryptor(_ws_ring(shared_dir))
    dec.ike_sa(cap.setups[0])
    _dg, o = _open_all(dec, cap)[0]
    spis = cap.setups[0].spis
    (v,) = dec.verify_auth(
        spis,
        (AuthClaim("initiator", first(o.payloads, AuthPayload), first(o.payloads, IdPayload), ()),),
    )
    assert v.verified is None
    assert v.detail == (
        "cannot check the initiator's AUTH (shared key MIC) of IKE SA "
        "0158b8fb90b7623d/13514610cea16160: no SK_pi (keys from ikev2_decryption_table:10 hold "
        "SK_e/SK_a only; add a [[dh]] secret so ikeview derives it, or [[ike_sa]] sk_pi/sk_pr)"
    )


def test_wireshark_esp_capture_decrypts_with_esp_sa_keys(shared_dir: Path) -> None:
    wsdir = shared_dir / "captures" / "wireshark"
    ring = KeyRing.of(read_esp_sa((wsdir / "esp_sa.tmpl").read_text(), "esp_sa"))
    cap = read(wsdir / "esp-bug-12671.pcapng.gz")
    dec = KeyringDecryptor(ring)
    assert len(cap.esp) == 6
    for pkt in cap.esp:
        r = dec.esp(pkt)
        assert (r.decrypted, r.integrity, r.next_header, r.problem) == (True, "ok", 4, None)
        # Tunnel mode: an IPv4 packet carrying ICMP echo 10.1.1.1 <-> 10.1.0.10.
        assert r.inner[0] >> 4 == 4 and r.inner[9] == 1
        assert bytes.fromhex("08090a0b0c0d0e0f1011121314151617") in r.inner
    esp = [k for k in dec.derived_keys() if isinstance(k, DerivedEspSa)]
    assert {k.keys.spi for k in esp} == {0x070883C2, 0xC254FE64}
    assert all(k.verified and k.ike is None for k in esp)


def test_unknown_esp_spi_names_it(shared_dir: Path) -> None:
    cap = read(shared_dir / "captures" / "wireshark" / "esp-bug-12671.pcapng.gz")
    r = KeyringDecryptor(KeyRing()).esp(cap.esp[0])
    assert r.decrypted is False
    assert r.problem == f"no keys for ESP SPI 0x{cap.esp[0].spi:08x}"


# --- strongSwan lab: keys derived from PSK + g^ir only ------------------------------------------


def _lab(name: str) -> tuple[Capture, KeyRing, dict]:
    """The scenario's capture as the decryptor tests read it, its keys and truth (the keys and
    truth loaded once per session, as the ``lab`` fixture hands them out)."""
    scenario = lab_scenario(name)
    return read(scenario.capture), scenario.keyring, scenario.truth


def _run_lab(dec: KeyringDecryptor, cap: Capture) -> dict[str, object]:
    """IKE_SA_INIT -> IKE_AUTH (both AUTHs) -> first child SA; returns the AUTH verdicts."""
    for setup in cap.setups:
        assert dec.ike_sa(setup) is None
    inner: dict[bool, tuple] = {}
    claims: list[AuthClaim] = []
    for dg, o in _open_all(dec, cap):
        h = dg.message.header
        assert o.problem is None, o.problem
        if h.exchange_type == 35 and o.payloads is not None:
            inner[h.response] = o.payloads
            side = "responder" if h.response else "initiator"
            certs = tuple(p for p in o.payloads if isinstance(p, CertPayload))
            claims.append(
                AuthClaim(side, first(o.payloads, AuthPayload), first(o.payloads, IdPayload), certs)
            )
    # Both sides in one call, as the correlator asks once both AUTH payloads are in.
    answers = dec.verify_auth(cap.setups[0].spis, tuple(claims))
    verdicts = {c.side: v for c, v in zip(claims, answers, strict=True)}
    assert dec.child_sa(child_setup(cap.setups[0], inner[False], inner[True])) is None
    return verdicts


@pytest.mark.parametrize("name", LAB_OK)
def test_lab_derived_keys_equal_charon_truth(name: str) -> None:
    cap, ring, truth = _lab(name)
    dec = KeyringDecryptor(ring)
    verdicts = _run_lab(dec, cap)
    # Every AUTH verifies: PSK MIC with the PSK charon used (per side), or the certificate.
    auth = truth["ike_sas"][0]["auth"]
    for side in ("initiator", "responder"):
        v = verdicts[side]
        assert v.verified is True, v.detail
        if "psk" in auth[side]:
            (psk,) = [p for p in ring.psks if p.secret == auth[side]["psk"].encode()]
            assert v.psk == f"{psk.label} ({psk.source})"
    # Every ESP packet decrypts with its ICV/tag verified.
    assert cap.esp
    for pkt in cap.esp:
        r = dec.esp(pkt)
        assert (r.decrypted, r.integrity, r.problem) == (True, "ok", None)
        assert r.next_header in (4, 41) and r.inner
    derived = dec.derived_keys()
    (ike,) = [k for k in derived if isinstance(k, DerivedIkeSa)]
    t = truth["ike_sas"][0]
    assert ike.keys.spi_i.hex() == t["spi_i"] and ike.keys.spi_r.hex() == t["spi_r"]
    for n in SK_NAMES:
        assert (getattr(ike.keys, n) or b"").hex() == (t.get(n) or ""), n
    assert ike.verified and ike.origin.startswith("derived from [[dh]] ")
    want = {
        int(e["spi"], 16): (e["encr_key"], e.get("integ_key") or "")
        for c in truth["child_sas"]
        for e in c["esp"]
    }
    got = {
        k.keys.spi: (k.keys.encr_key.hex(), (k.keys.integ_key or b"").hex())
        for k in derived
        if isinstance(k, DerivedEspSa)
    }
    assert got == want
    assert all(k.verified for k in derived if isinstance(k, DerivedEspSa))


def test_lab_asymmetric_psks_each_side_named() -> None:
    cap, ring, _ = _lab("asym-psk")
    verdicts = _run_lab(KeyringDecryptor(ring), cap)
    assert verdicts["initiator"].psk.endswith("keys.toml:4)")
    assert verdicts["responder"].psk.endswith("keys.toml:8)")


def _spis(cap: Capture) -> str:
    spi_i, spi_r = cap.setups[0].spis
    return f"{spi_i.hex()}/{spi_r.hex()}"


def _path(name: str) -> str:
    return str(LAB / name / "keys.toml")


def test_lab_wrong_psk_matches_neither_side() -> None:
    cap, ring, _ = _lab("psk-aes256-sha256-modp2048")
    wrong = Psk(b"not-the-psk", "psk@4", None, None, SourceRef("keys.toml", 4))
    dec = KeyringDecryptor(replace(ring, psks=(wrong,)))
    verdicts = _run_lab(dec, cap)
    spis = _spis(cap)
    for side in ("initiator", "responder"):
        v = verdicts[side]
        assert (v.verified, v.psk) == (False, None)
        assert v.detail == (
            f"the {side}'s AUTH (shared key MIC) of IKE SA {spis} matches no PSK "
            "(tried psk@4 (keys.toml:4)): it matches neither side"
        )


def test_lab_one_sided_psk_says_the_sides_differ() -> None:
    cap, ring, _ = _lab("asym-psk")
    only_two = tuple(p for p in ring.psks if p.secret == b"lab-asym-psk-two")
    verdicts = _run_lab(KeyringDecryptor(replace(ring, psks=only_two)), cap)
    assert verdicts["initiator"].verified is True
    r = verdicts["responder"]
    assert r.verified is False
    assert r.detail.endswith(
        f"PSK psk@4 ({_path('asym-psk')}:4) matches the initiator's AUTH only: "
        "the two sides use different PSKs"
    )


def test_lab_wrong_dh_secret_names_the_key_that_fails() -> None:
    cap, ring, _ = _lab("psk-aes256-sha256-modp2048")
    bad = replace(ring.dh_secrets[0], shared_secret=bytes(256))
    dec = KeyringDecryptor(replace(ring, dh_secrets=(bad,)))
    assert dec.ike_sa(cap.setups[0]) is None
    (_dg, o), *_ = _open_all(dec, cap)
    assert (o.payloads, o.integrity) == (None, "failed")
    assert o.problem == (
        "integrity check failed for IKE_AUTH request (message ID 1) of IKE SA "
        f"{_spis(cap)}: SK_ai derived from [[dh]] "
        f"{_path('psk-aes256-sha256-modp2048')}:7 does not verify"
    )
    # Nothing verified, so nothing is offered as derived keys to export.
    assert all(not k.verified for k in dec.derived_keys())


def test_lab_no_keys_says_what_would_unlock() -> None:
    cap, _, _ = _lab("gcm16-ecp256")
    dec = KeyringDecryptor(KeyRing())
    spis = _spis(cap)
    hint = (
        f"no DH secret or SK_* keys for IKE SA {spis}; add a [[dh]] shared_secret (g^ir) or "
        "private_key, or [[ike_sa]] keys"
    )
    assert dec.ike_sa(cap.setups[0]) == hint
    (_dg, o), *_ = _open_all(dec, cap)
    assert (o.payloads, o.integrity) == (None, None)
    assert o.problem == f"cannot decrypt IKE_AUTH request (message ID 1) of IKE SA {spis}: {hint}"


def test_lab_unscoped_dh_secrets_are_found_by_trial() -> None:
    cap, ring, truth = _lab("gcm16-ecp256")
    real = ring.dh_secrets[0]
    decoy = DhSecret(bytes(32), None, None, False, None, SourceRef("decoy.toml", 1))
    unscoped = replace(real, spi_i=None)
    dec = KeyringDecryptor(replace(ring, dh_secrets=(decoy, unscoped)))
    _run_lab(dec, cap)
    (ike,) = [k for k in dec.derived_keys() if isinstance(k, DerivedIkeSa)]
    assert ike.origin == f"derived from [[dh]] {_path('gcm16-ecp256')}:7"
    assert ike.keys.sk_ei.hex() == truth["ike_sas"][0]["sk_ei"]


def test_lab_skf_fragments_are_held_then_reassembled() -> None:
    cap, ring, _ = _lab("certs-frag")
    dec = KeyringDecryptor(ring)
    dec.ike_sa(cap.setups[0])
    auth_msgs = [(dg, o) for dg, o in _open_all(dec, cap) if dg.message.header.exchange_type == 35]
    pending = [o for _, o in auth_msgs if o.pending]
    done = [o for _, o in auth_msgs if not o.pending]
    assert len(pending) >= 2 and len(done) == 2
    assert all(o.payloads is None and o.integrity == "ok" for o in pending)
    for o in done:
        assert o.integrity == "ok" and any(isinstance(p, CertPayload) for p in o.payloads)
