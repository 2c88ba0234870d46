"""Diagnosis of the failure scenarios captured between two strongSwan peers (captures/lab,
made by make.sh). Each expectation is taken from the peers' charon logs, quoted in the
docstrings, or from truth.json; keyless and keyed runs must agree on the outcome."""

from __future__ import annotations

import json

import pytest
from lab_support import LAB

from ikeview.diagnosis.records import Finding
from ikeview.keys.loader import load_keys
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.model import Analysis, IkeSa
from ikeview.report import render_text


def run(name: str, *, keys: bool) -> Analysis:
    d = LAB / name
    k = d / "keys.toml"
    return analyze(d / "capture.pcap", load_keys([k]) if keys and k.exists() else None)


def found(sa: IkeSa, code: str) -> list[Finding]:
    every = [*sa.diagnosis.findings, *(f for c in sa.child_sas for f in c.diagnosis.findings)]
    return [f for f in every if f.code == code]


FAILURES = [
    "auth-failed-initiator",
    "ts-unacceptable",
    "frag-drop",
    "esp-one-way",
    "dpd-timeout",
    "rekey-collision",
]


@pytest.mark.parametrize("name", FAILURES)
def test_keyless_and_keyed_agree(name: str) -> None:
    bare = [sa.diagnosis.outcome for sa in run(name, keys=False).ike_sas]
    keyed = [sa.diagnosis.outcome for sa in run(name, keys=True).ike_sas]
    assert bare == keyed


def test_ts_unacceptable() -> None:
    """initiator.log: 'received TS_UNACCEPTABLE notify, no CHILD_SA built'; the IKE SA stands
    and is deleted a second later ('deleting IKE_SA lab[1]')."""
    (sa,) = run("ts-unacceptable", keys=True).ike_sas
    assert sa.diagnosis.outcome == "established"
    (child,) = sa.child_sas
    assert child.diagnosis.outcome == "failed" and child.proposal is None
    (f,) = found(sa, "ts-unacceptable")
    assert f.severity == "error" and f.frames[-1] == 4 and f.get("notify") == "TS_UNACCEPTABLE"
    # Without keys only the size shows it: room for IDr + AUTH, none for SA + TS.
    (bare,) = run("ts-unacceptable", keys=False).ike_sas
    assert bare.diagnosis.outcome == "established"
    assert [f.frames for f in found(bare, "no-child-sa")] == [(3, 4)]


def test_unreachable_responder() -> None:
    """initiator.log: 'retransmit 1..3 of request with message ID 0', then 'giving up after 3
    retransmits': IKE_SA_INIT sent 4 times, never answered."""
    (sa,) = run("unreachable-responder", keys=False).ike_sas
    assert (sa.diagnosis.outcome, sa.diagnosis.basis) == ("failed", "inferred")
    (f,) = found(sa, "no-response")
    assert f.severity == "error" and f.get("count") == 4 and len(f.frames) == 4


def test_frag_drop() -> None:
    """initiator.log: IKE_AUTH 'sending packet ... (2224 bytes)' with 'fragmentation = 0',
    'retransmit 1..3 of request with message ID 1', 'giving up after 3 retransmits'."""
    for keys in (False, True):
        (sa,) = run("frag-drop", keys=keys).ike_sas
        assert (sa.diagnosis.outcome, sa.diagnosis.basis) == ("failed", "inferred")
        (f,) = found(sa, "fragmentation-suspected")
        assert f.severity == "error" and f.get("count") == 4 and f.get("length") == 2224
        assert f.fix_strongswan and "fragmentation" in f.fix_strongswan


def test_esp_one_way() -> None:
    """truth.json: ESP only initiator -> responder (the responder drops incoming ESP-in-UDP, so
    it never answers the pings); the other SPI is silent."""
    truth = json.loads((LAB / "esp-one-way" / "truth.json").read_text())
    assert truth["scenario"] == "esp-one-way"
    (sa,) = run("esp-one-way", keys=True).ike_sas
    (child,) = sa.child_sas
    (f,) = found(sa, "esp-one-way")
    # Decrypted, the one-way packets are echo requests: they expect an answer, so an error.
    assert f.severity == "error" and f.get("direction") == "192.0.2.1 -> 192.0.2.2"
    assert "5 echo request(s)" in f.explanation
    text = render_text(run("esp-one-way", keys=True))
    silent = child.spi_initiator  # traffic towards the initiator carries its SPI
    assert f"SPI 0x{silent:08x} 192.0.2.2 > 192.0.2.1: 0 packets (silent)" in text
    # Without keys one-way ESP could be one-way traffic: a warning.
    (bare,) = run("esp-one-way", keys=False).ike_sas
    assert [g.severity for g in found(bare, "esp-one-way")] == ["warning"]


def test_dpd_timeout() -> None:
    """initiator.log: 'retransmit 1..3 of request with message ID 2' (the empty INFORMATIONAL of
    dpd_delay = 2) and 'giving up after 3 retransmits' while ESTABLISHED."""
    for keys in (False, True):
        (sa,) = run("dpd-timeout", keys=keys).ike_sas
        (f,) = found(sa, "dpd-timeout")
        assert f.severity == "error" and f.get("count") == 4
        assert sa.diagnosis.outcome == "failed"


def test_rekey_collision() -> None:
    """Both logs: 'detected CHILD_REKEY collision with CHILD_REKEY'; each peer deletes the
    redundant child SA afterwards. Handled by RFC 7296 2.8.1, so never an error."""
    for keys in (False, True):
        (sa,) = run("rekey-collision", keys=keys).ike_sas
        (f,) = found(sa, "rekey-collision")
        assert f.severity != "error" and len(f.frames) >= 2
        assert sa.diagnosis.outcome == "established"
        assert not [x for x in sa.diagnosis.findings if x.severity == "error"]


def test_initiator_rejects_the_responder() -> None:
    """auth-failed-initiator (the initiator holds a wrong copy of the PSK that authenticates
    the responder). initiator.log: 'parsed IKE_AUTH response 1 [ IDr
    AUTH SA TSi TSr ...]', 'tried 2 shared keys ... but MAC mismatched', 'generating
    INFORMATIONAL request 2 [ N(AUTH_FAILED) ]' (frame 5)."""
    (sa,) = run("auth-failed-initiator", keys=True).ike_sas
    assert (sa.diagnosis.outcome, sa.diagnosis.basis) == ("failed", "decrypted")
    (f,) = found(sa, "authentication-failed")
    assert f.get("rejected_by") == "initiator" and 5 in f.frames
    (m,) = found(sa, "psk-mismatch")
    assert m.get("identity") == "responder.lab.example"
    assert [c.diagnosis.outcome for c in sa.child_sas] == ["failed"]
    # Without keys: a full-size IKE_AUTH response (256 bytes), then an INFORMATIONAL from the
    # initiator within milliseconds and nothing more, no ESP.
    (bare,) = run("auth-failed-initiator", keys=False).ike_sas
    assert (bare.diagnosis.outcome, bare.diagnosis.basis) == ("failed", "inferred")
    (g,) = found(bare, "authentication-failed")
    assert g.get("rejected_by") == "initiator" and g.basis == "inferred"


def test_ike_auth_answered_after_retransmissions() -> None:
    """auth-retransmit (made for this test with make.sh: the responder drops IKE on UDP 4500 for
    1.8 s). initiator.log: 'retransmit 1 of request with message ID 1' (+1 s), 'retransmit 2'
    (+2.5 s), then 'parsed IKE_AUTH response 1 [ IDr AUTH SA TSi TSr ...]'."""
    for keys in (False, True):
        (sa,) = run("auth-retransmit", keys=keys).ike_sas
        assert sa.diagnosis.outcome == "established"
        (f,) = found(sa, "retransmission")
        assert f.severity == "warning" and f.get("count") == 2 and f.get("exchange") == "IKE_AUTH"
        schedule = f.get("schedule")
        assert isinstance(schedule, tuple) and schedule[1] == pytest.approx(1.0, abs=0.05)
        assert schedule[2] == pytest.approx(2.5, abs=0.05)
        rtt = f.get("true_rtt")
        assert isinstance(rtt, float) and rtt < 0.1  # the first copy's RTT is 2.5 s
    text = render_text(run("auth-retransmit", keys=False))
    assert "sent 3 times, answered" in text


def test_frag_drop_verdict_names_the_cause() -> None:
    (sa,) = run("frag-drop", keys=False).ike_sas
    assert "path dropping IP fragments" in sa.diagnosis.verdict


def test_esp_loss_and_replay() -> None:
    """esp-loss-replay (made for this test with make.sh): the initiator's nftables drops every
    third ESP packet it sends ('counter packets 2 ... drop'; 'ping: 6 packets transmitted, 4
    received'), the responder's sends each ESP packet twice ('dup to 192.0.2.1'). Sequence
    numbers are clear, so keys change nothing."""
    for keys in (False, True):
        (sa,) = run("esp-loss-replay", keys=keys).ike_sas
        assert sa.diagnosis.outcome == "established"
        (loss,) = found(sa, "esp-loss")
        assert loss.get("count") == 2 and loss.severity == "warning"
        (rep,) = found(sa, "esp-replay")
        assert rep.get("count") == 4 and rep.severity == "warning"
        assert loss.get("spi") != rep.get("spi")


def test_internal_address_failure() -> None:
    """no-virtual-ip (made for this test with make.sh: the initiator asks for a virtual IP, the
    responder has no pool). initiator.log: 'parsed IKE_AUTH response 1 [ IDr AUTH ...
    N(INT_ADDR_FAIL) ]', 'received INTERNAL_ADDRESS_FAILURE notify, no CHILD_SA built',
    'failed to establish CHILD_SA, keeping IKE_SA'."""
    (sa,) = run("no-virtual-ip", keys=True).ike_sas
    assert sa.diagnosis.outcome == "established"
    (child,) = sa.child_sas
    assert child.diagnosis.outcome == "failed"
    (f,) = found(sa, "internal-address-failure")
    assert f.severity == "error" and f.frames == (3, 4)
    assert f.fix_strongswan and "pools" in f.fix_strongswan


def test_half_open_answers_lost() -> None:
    """half-open (made for this test with make.sh: the initiator's namespace drops incoming
    IKE). initiator.log: 'retransmit 1 of request with message ID 0', 'retransmit 2 ...',
    'giving up after 2 retransmits'; the capture on the responder's side holds each answer.
    The repeated IKE_SA_INIT (frames 3, 5, SPIr zero) belongs to the same IKE SA."""
    a = run("half-open", keys=False)
    (sa,) = a.ike_sas
    assert (sa.diagnosis.outcome, sa.diagnosis.basis) == ("failed", "inferred")
    (f,) = found(sa, "half-open")
    assert f.severity == "error" and f.get("lost_answers") == 3
    (r,) = found(sa, "retransmission")
    assert r.get("count") == 2 and "did not reach" in r.explanation


def test_rekey_refused_with_temporary_failure() -> None:
    """rekey-temporary-failure (made for this test with make.sh: the responder deletes the child
    SA, its Delete is dropped before the initiator, which then rekeys the child). responder.log:
    'unable to rekey, we are deleting the CHILD_SA'; initiator.log: 'parsed CREATE_CHILD_SA
    response 2 [ N(TEMP_FAIL) ]'. The initiator stays alive (it answers nothing from the
    responder but keeps sending), so the unanswered Delete is no dead peer."""
    (sa,) = run("rekey-temporary-failure", keys=True).ike_sas
    assert sa.diagnosis.outcome == "established"
    (f,) = found(sa, "temporary-failure")
    assert f.frames == (11, 12) and f.severity == "warning"
    assert not found(sa, "dpd-timeout")
    (r,) = found(sa, "retransmission")
    assert r.frames == (9, 10, 13) and "alive" in r.explanation
    (bare,) = run("rekey-temporary-failure", keys=False).ike_sas
    assert [f.frames for f in found(bare, "no-child-sa")] == [(11, 12)]


def test_peer_restarted() -> None:
    """responder-restart (made for this test with make.sh: the responder's charon is killed and
    restarted without SAs, then the initiator rekeys its child SA). responder.log, for each
    copy: 'checkout IKEv2 SA by message with SPIs b8ac6f070e00ea0c_i 4ca95813f31a6428_r',
    'IKE_SA checkout not successful'; initiator.log: 'retransmit 1/2 of request with message
    ID 2', 'giving up after 2 retransmits'."""
    for keys in (False, True):
        (sa,) = run("responder-restart", keys=keys).ike_sas
        assert sa.diagnosis.outcome == "failed"
        (f,) = found(sa, "no-response")
        assert f.get("exchange") == "CREATE_CHILD_SA" and f.get("count") == 3
        assert f.frames == (9, 10, 11)


def test_esp_altered_on_the_path() -> None:
    """esp-corrupt (lab): a router alters every third ESP packet towards the responder;
    responder.log: 'parsed ESP header with SPI 3e7e2e15 [seq 3]' / '[seq 6]', each followed by
    'ESP decryption or ICV verification failed'. Two of six fail while the rest pass with the
    same keys: the path, not the keys (an error)."""
    (sa,) = run("esp-corrupt", keys=True).ike_sas
    (f,) = found(sa, "esp-integrity-failure")
    assert f.get("spi") == "3e7e2e15" and f.get("count") == 2
    assert f.severity == "error" and f.get("keys_wrong") is False


def test_cookie_challenge_from_strongswan() -> None:
    """cookie (lab): the second IKE_SA_INIT (frame 2) is answered with only N(COOKIE) (frame 3)
    and sent again with it (frame 4); initiator.log 'received COOKIE notify'."""
    sas = run("cookie", keys=False).ike_sas
    cookies = [f for sa in sas for f in found(sa, "cookie-challenge")]
    assert len(cookies) == 1 and cookies[0].frames[:2] == (2, 3)
    assert all(sa.diagnosis.outcome == "established" for sa in sas)


def test_childless_is_no_refusal() -> None:
    """childless (lab, RFC 6023, 'childless = force'): IKE_AUTH carries no SA/TS (frames 3-4,
    the response 160 bytes, like a refused child's), the responder's IKE_SA_INIT announces
    N(CHDLESS_SUP) and the child comes in a CREATE_CHILD_SA right after (frames 5-6). Without
    keys that is read as a childless IKE SA, not a refused child."""
    for keys in (False, True):
        (sa,) = run("childless", keys=keys).ike_sas
        assert sa.diagnosis.outcome == "established"
        assert not found(sa, "no-child-sa")
        assert not [f for f in sa.diagnosis.findings if f.severity != "info"]
    # The refused-child captures with the same 160-byte response keep their warning.
    for name in ("ts-unacceptable", "no-virtual-ip"):
        (sa,) = run(name, keys=False).ike_sas
        assert found(sa, "no-child-sa"), name


def test_redirect_is_no_failure() -> None:
    """redirect (lab, RFC 5685): the responder redirects an established IKE SA; the initiator
    opens a second one to 192.0.2.4 and deletes the first. Nothing failed."""
    for keys in (False, True):
        sas = run("redirect", keys=keys).ike_sas
        assert len(sas) == 2
        for sa in sas:
            assert sa.diagnosis.outcome == "established"
            assert not [f for f in sa.diagnosis.findings if f.severity == "error"]
