"""``report --card``: the SA card under each IKE SA, checked against the natt scenario's truth
(charon's logged proposal and SPIs) and its capture (UDP 4500 after the NAT)."""

from __future__ import annotations

import json
import subprocess
import sys

from lab_support import LAB


def test_card_shows_what_charon_negotiated() -> None:
    d = LAB / "natt"
    truth = json.loads((d / "truth.json").read_text())
    out = subprocess.run(
        [sys.executable, "-m", "ikeview", "report", str(d / "capture.pcap"), "--keys",
         str(d / "keys.toml"), "--card"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    card = out[out.index("  card\n") :]
    sa = truth["ike_sas"][0]
    assert f"SPIs initiator {sa['spi_i']}, responder {sa['spi_r']}" in card
    assert "encryption ENCR_AES_GCM_16, key size 256" in card  # IKE:AES_GCM_16_256/... in truth
    assert ":4500 (initiator)" in card and "UDP-encapsulated" in card
    for child in truth["child_sas"]:
        for e in child["esp"]:
            assert f"0x{e['spi']}" in card
