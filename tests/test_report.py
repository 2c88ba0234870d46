"""The report views: plain text per IKE SA, and the JSON documented in docs/report-json.md."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from lab_support import Lab

from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.model import Analysis
from ikeview.report import JSON_VERSION, render_text, to_json

DOC = Path(__file__).resolve().parents[1] / "docs" / "report-json.md"


@pytest.fixture(scope="module")
def rekey_dpd(lab: Callable[[str], Lab]) -> Analysis:
    return lab("rekey-dpd").analysis


def test_text_tells_the_story(rekey_dpd) -> None:
    text = render_text(rekey_dpd)
    assert "IKE SA 0b565aa031f61c1d/9d5faab1250b9467  ESTABLISHED IKE_AUTH completed" in text
    assert "  state rekeyed" in text
    assert "rekeyed into b1d85a29af8d00a3/504a80c4f73cb26b" in text
    assert "proposal IKE:AES_CBC_128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048" in text
    assert "auth initiator initiator.lab.example: SHARED_KEY_MIC verified with PSK" in text
    assert re.search(r"17,18 +\+2\.690456s +CREATE_CHILD_SA +4 +initiator +ok .*rekey IKE SA", text)
    assert "liveness check" in text
    assert "ESP SPIs 0xce8aaa23 (in at 192.0.2.1) / 0x24c60154 (in at 192.0.2.2)  tunnel" in text
    assert "10 packets, 10 decrypted" in text
    # No secrets unless asked.
    assert "60e2945d8a422f351d07fe55d7f91f9e583d1c0a772ee929f2de520bd2267160" not in text
    secret = render_text(rekey_dpd, show_secrets=True)
    assert "SK_D 60e2945d8a422f351d07fe55d7f91f9e583d1c0a772ee929f2de520bd2267160" in secret


def test_text_without_keys(shared_dir: Path) -> None:
    text = render_text(analyze(shared_dir / "captures/tcpdump/ikev2four.pcap"))
    assert "established (inferred: exchanges encrypted, no keys)" in text
    assert "IKE_SA_INIT retried after: COOKIE" in text
    assert "frame 3: same message ID as frame 1 with other bytes (not a retransmission)" in text
    assert "unanswered" in text and "problems" in text


def test_text_failure(lab: Callable[[str], Lab]) -> None:
    text = render_text(lab("auth-failed").analysis)
    assert "failed: AUTHENTICATION_FAILED in IKE_AUTH response (frame 4)" in text


def test_json_fields(rekey_dpd) -> None:
    doc = to_json(rekey_dpd)
    json.dumps(doc)  # plain JSON types only
    assert doc["version"] == JSON_VERSION and doc["complete"] is True
    assert "keys" not in doc
    old, new = doc["ike_sas"]
    assert old["state"] == "rekeyed" and old["rekeyed_into"] == "b1d85a29af8d00a3/504a80c4f73cb26b"
    assert new["rekey_of"] == "0b565aa031f61c1d/9d5faab1250b9467"
    for side in ("initiator", "responder"):
        auth = old["auth"][side]
        assert auth["method"] == "SHARED_KEY_MIC" and auth["verified"] is True
        assert auth["psk"].startswith("psk@4")
    msgs = [m for sa in doc["ike_sas"] for e in sa["exchanges"] for m in e["messages"]]
    assert len(msgs) == 18
    assert all(m["decrypted"] is (m["payloads"][-1:] == ["SK"]) for m in msgs)
    assert {m["integrity"] for m in msgs} == {None, "ok"}
    kids = old["child_sas"] + new["child_sas"]  # the PFS child moved with the IKE SA rekey
    assert [(c["esp_packets"], c["esp_decrypted"]) for c in kids] == [(4, 4), (10, 10)]
    assert kids[1]["rekey_of"] == "ce8aaa23"
    assert to_json(rekey_dpd, show_secrets=True)["keys"]["ike_sas"][0]["sk_d"].startswith("60e2")


def test_json_without_keys(shared_dir: Path) -> None:
    doc = to_json(analyze(shared_dir / "captures/wireshark/ikev2-decrypt-aes256gcm16.pcap"))
    (sa,) = doc["ike_sas"]
    assert sa["auth"] == {"initiator": None, "responder": None}
    msgs = [m for e in sa["exchanges"] for m in e["messages"]]
    assert all(m["decrypted"] is False and m["integrity"] is None for m in msgs)
    assert sa["exchanges"][-1]["requester"] == "responder"


def _documented_keys() -> set[str]:
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", DOC.read_text(), re.MULTILINE))


def _keys_of(value: object, into: set[str]) -> set[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            into.add(k)
            _keys_of(v, into)
    elif isinstance(value, list):
        for v in value:
            _keys_of(v, into)
    return into


def test_every_json_field_is_documented(rekey_dpd) -> None:
    used = _keys_of(to_json(rekey_dpd, show_secrets=False), set())
    missing = used - _documented_keys()
    assert not missing, f"fields missing from docs/report-json.md: {sorted(missing)}"


def test_text_unconfirmed_established_is_not_claimed(shared_dir: Path) -> None:
    # Four frames: IKE_SA_INIT and IKE_AUTH, nothing after (read with tshark: frames 3/4 are
    # the IKE_AUTH pair). Without keys, a 224-byte answer is big enough for success but
    # nothing confirms it, so the report must not say "established" next to an UNKNOWN verdict.
    text = render_text(analyze(shared_dir / "captures/wireshark/ikev2-decrypt-aes256cbc.pcapng"))
    assert "UNKNOWN" in text
    assert "state IKE_AUTH answered, established not confirmed" in text
    assert "; established +" not in text
    assert "IKE_AUTH answered +1.005962s" in text
