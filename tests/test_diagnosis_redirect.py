"""A gateway's REDIRECT (RFC 5685) ends the IKE SA there: the verdict says where it was sent,
read from the clear IKE_SA_INIT response, and raises no error (redirecting is normal).

scapy's test capture: frame 2 is the IKE_SA_INIT response carrying N(REDIRECT) with the FQDN
moneybin.duckburg.disney.com (tshark -V shows it as the notify's new responder gateway)."""

from __future__ import annotations

from pathlib import Path

from ikeview.pipeline.analyze import analyze


def test_redirected_sa_is_failed_there_with_the_gateway(shared_dir: Path) -> None:
    a = analyze(shared_dir / "captures/public/scapy_ikev2_notify_redirect.pcap")
    sa = a.ike_sas[0]
    d = sa.diagnosis
    assert (d.outcome, d.basis) == ("failed", "decrypted")
    assert "redirected to moneybin.duckburg.disney.com" in d.verdict and "frame 2" in d.verdict
    assert not any(f.severity == "error" for f in d.findings)
