"""``ikeview config --ios|--swanctl`` output parsed back matches the capture it came from.

For every lab scenario and both sides: the written config, read by the config reader, chooses
what the capture's responder chose (responder side) or accepts it (initiator side), expects the
identities and AUTH methods seen, and with --show-secrets and only the DH secrets of keys.toml
both PSK AUTHs verify with the written keys (asym-psk included)."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_support import LAB, SCENARIOS, dh_only

from ikeview.config.check import apply_configs, config_findings
from ikeview.config.keys import config_keyring
from ikeview.config.load import read_config
from ikeview.config.writers import PLACEHOLDER, write_configs
from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze


def analysis_of(capture, keys):
    return analyze(capture, keys)


# IOS has no ChaCha20-Poly1305 and no Curve25519 in the modelled releases: the IOS writer says
# so in the snippet (tested below) and the round trip cannot hold.
IOS_CANNOT = {"chacha-x25519"}
IOS_CANNOT_OFFER = {("interop/libreswan-initiator", "initiator")}
IOS_WEAK = {"3des-sha1-modp1024"}


@pytest.mark.parametrize("side", ["initiator", "responder"])
@pytest.mark.parametrize("kind", ["ios", "swanctl"])
@pytest.mark.parametrize("scenario", [*SCENARIOS, "interop/libreswan-initiator"])
def test_written_config_matches_capture(scenario: str, kind: str, side: str) -> None:
    if kind == "ios" and scenario in IOS_CANNOT:
        pytest.skip("IOS has no ChaCha20-Poly1305 / Curve25519 transform")
    if kind == "ios" and (scenario, side) in IOS_CANNOT_OFFER:
        pytest.skip("Libreswan offered ESN and no-ESN; an IOS transform set cannot offer ESN")
    keys_file = LAB / scenario / "keys.toml"
    keys = load_keys([keys_file]) if keys_file.exists() else None
    capture = LAB / scenario / "capture.pcap"
    text = write_configs(analysis_of(capture, keys), kind=kind, sides=(side,), keyring=keys,
                         show_secrets=True)[side]  # fmt: skip
    if all(sa.chosen is None for sa in analysis_of(capture, keys).ike_sas):
        # unreachable-responder: nothing was agreed, so there is nothing to write but a note.
        assert "nothing to reproduce" in text
        return
    # 3DES/SHA-1/MODP-1024 is refused by IOS XE 17.11.1+ (FN72510): the snippet says so and
    # is for an older router; read as IOS XE 17.11+, the weak words are noted and left out.
    release = "iosxe16" if scenario in IOS_WEAK else None
    if kind == "ios" and scenario in IOS_WEAK:
        assert "! NOTE: IOS XE 17.11.1 and later refuse encryption 3des" in text
        newest = read_config(text, "newest")
        assert any(n.code == "config-weak-algorithm" for n in newest.notes)
    cfg = read_config(text, f"{scenario}-{side}", ios_release=release)
    assert cfg.kind == kind
    ring = config_keyring([cfg]).merge(dh_only(scenario))
    analysis = apply_configs(analyze(capture, ring), [cfg], side=side, keyring=ring)
    for sa in analysis.ike_sas:
        (check,) = sa.config_checks
        assert check.role == side
        if sa.chosen is not None:
            assert check.proposal.matched, check
            assert check.proposal.agrees_with_capture in (True, None)
        for a in sa.auth:
            if a.method == 2 and scenario != "auth-failed":
                assert a.verified is True, a
        for child in sa.child_sas:
            (ccheck,) = child.config_checks
            if child.error is not None:  # refused: the snippet has no child, nothing accepts it
                assert ccheck.proposal is None or not ccheck.proposal.matched
                continue
            assert ccheck.proposal.matched and ccheck.findings == (), ccheck
    errors = [f for _l, f in config_findings(analysis) if f.severity == "error"]
    # no-proposal: the written config reproduces what was agreed; the refused negotiations
    # stay refused (the IKE SA with no agreed proposal, the child refused in IKE_AUTH).
    allowed = {"config-proposal-mismatch"} if scenario == "no-proposal" else set()
    assert {f.code for f in errors} <= allowed


def test_placeholders_unless_show_secrets() -> None:
    keys = load_keys([LAB / "asym-psk" / "keys.toml"])
    analysis = analyze(LAB / "asym-psk" / "capture.pcap", keys)
    for kind in ("ios", "swanctl"):
        text = write_configs(analysis, kind=kind, sides=("responder",), keyring=keys)["responder"]
        assert PLACEHOLDER in text and "lab-asym-psk" not in text


def test_ios_writer_says_what_it_cannot_express() -> None:
    keys = load_keys([LAB / "chacha-x25519" / "keys.toml"])
    analysis = analyze(LAB / "chacha-x25519" / "capture.pcap", keys)
    text = write_configs(analysis, kind="ios", sides=("responder",), keyring=keys)["responder"]
    assert "! NOTE: IOS has no ENCR_CHACHA20_POLY1305" in text
    folder = LAB / "interop" / "libreswan-initiator"
    keys = load_keys([folder / "keys.toml"])
    analysis = analyze(folder / "capture.pcap", keys)
    text = write_configs(analysis, kind="ios", sides=("initiator",), keyring=keys)["initiator"]
    assert "way to offer EXT_SEQ (ESN) in a transform set" in text


def test_ios_writer_leaves_out_a_prf_it_cannot_name(shared_dir: Path) -> None:
    # UK NCSC's capture: the responder chose PRF_AES128_XCBC (read in frame 4 with tshark),
    # which IOS has no keyword for: no empty `prf` line, a note instead.
    analysis = analyze(shared_dir / "captures/public/ukncsc_ikev2.pcap")
    text = write_configs(analysis, kind="ios", sides=("responder",))["responder"]
    assert "! NOTE: IOS has no PRF_AES128_XCBC" in text
    assert not any(line.strip() == "prf" for line in text.splitlines())
    cfg = read_config(text, "written.cfg")
    (prop,) = cfg.policies[0].proposals
    # Read back, IOS's rule applies: no `prf` line means the integrity algorithm's PRF.
    assert prop.prf == (5,) and prop.ke == (15,)
