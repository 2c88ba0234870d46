"""The Cisco ``show crypto ikev2 sa detailed`` and ``swanctl --list-sas`` style cards.

Expected SPIs from truth.json (``esp[].spi``/``receiver``: the SPI a node receives on is its
inbound SPI) and the algorithms from its "selected proposal"."""

from __future__ import annotations

import json

from config_support import LAB

from ikeview.config.cards import ios_sa_card, swanctl_sa_lines
from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze


def _rekey_dpd():
    folder = LAB / "rekey-dpd"
    analysis = analyze(folder / "capture.pcap", load_keys([folder / "keys.toml"]))
    return analysis.ike_sas[0], json.loads((folder / "truth.json").read_text())


def test_ios_card_from_the_responder() -> None:
    sa, truth = _rekey_dpd()
    text = "\n".join(ios_sa_card(sa, "responder"))
    esp = truth["child_sas"][0]["esp"]
    inbound = next(e["spi"] for e in esp if e["receiver"] == "responder")
    outbound = next(e["spi"] for e in esp if e["receiver"] == "initiator")
    assert f"ESP spi in/out: 0x{inbound.upper()}/0x{outbound.upper()}" in text
    # IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048, PSK both ways
    assert "Encr: AES-CBC, keysize: 128, PRF: SHA256, Hash: SHA256, DH Grp:14" in text
    assert "Auth sign: PSK, Auth verify: PSK" in text
    assert "Local id: responder.lab.example" in text and "Initiator of SA : No" in text


def test_swanctl_lines_from_the_initiator() -> None:
    sa, truth = _rekey_dpd()
    lines = swanctl_sa_lines(sa, "initiator", "lab")
    assert lines[0].endswith(f"{truth['ike_sas'][0]['spi_i']}_i* {truth['ike_sas'][0]['spi_r']}_r")
    # list_sas.c prints the key size after a dash (encr-alg, "-", encr-keysize).
    assert lines[3] == "  AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"
    esp = truth["child_sas"][0]["esp"]
    inbound = next(e["spi"] for e in esp if e["receiver"] == "initiator")
    assert any(line.startswith(f"    in  {inbound},") for line in lines)


def test_swanctl_child_lines_as_list_sas_prints_them() -> None:
    """list_sas.c: ``STATE, MODE[-in-UDP], ESP:ENCR-KEYSIZE/INTEG[/DH][/ESN]`` and traffic
    selectors as ``net/len``; initiator.log selected ESP:AES_CBC_128/HMAC_SHA2_256_128/
    NO_EXT_SEQ for rekey-dpd's first child (no ESN word when ESN is off)."""
    sa, _truth = _rekey_dpd()
    lines = swanctl_sa_lines(sa, "initiator", "lab")
    assert "  child: INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-128/HMAC_SHA2_256_128" in lines
    assert "    local  198.51.100.1/32" in lines and "    remote 203.0.113.1/32" in lines
