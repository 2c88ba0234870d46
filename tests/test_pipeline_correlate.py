"""Correlation on real captures: SAs grouped, exchanges paired, retries/failures/rekeys as they are.

Wireshark and tcpdump captures (../shared/captures) run without keys; the strongSwan lab captures
(captures/lab, ground truth in each truth.json) run with their keys.toml through the real
KeyringDecryptor. Timings asserted here are differences of the pcap time stamps, read with tshark
(`tshark -r F -T fields -e frame.time_epoch`) when the tests were written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from lab_support import Lab

from ikeview.pipeline.analyze import analyze, iter_analysis
from ikeview.pipeline.correlate import NullDecryptor
from ikeview.pipeline.model import Analysis, IkeSa, proposal_text

LabFixture = Callable[[str], Lab]


def _sa(a: Analysis, spi_i_hex: str) -> IkeSa:
    sa = a.ike_sa(bytes.fromhex(spi_i_hex))
    assert sa is not None, [s.label for s in a.ike_sas]
    return sa


# ---------------------------------------------------------------- without keys


def test_ikev2four_cookie_retry_and_overlapping_exchanges(shared_dir: Path) -> None:
    a = analyze(shared_dir / "captures/tcpdump/ikev2four.pcap")
    assert a.counters.ike_messages == 21
    sa = _sa(a, "a88875a8198992a6")
    assert sa.spi_r.hex() == "71be8358efae7663"
    assert sa.initiator == "192.168.1.2" and sa.responder == "192.168.1.1"
    assert sa.retries == ("COOKIE",)
    init = [e for e in sa.exchanges if e.name == "IKE_SA_INIT"]
    assert [(e.attempt, e.status, e.request.frame, e.response.frame) for e in init] == [
        (1, "retry", 1, 2),
        (2, "ok", 3, 4),
    ]
    # Same message ID 0, other bytes (it now carries the COOKIE): not a retransmission.
    assert init[1].request.retransmission == "other-bytes"
    assert init[1].request.original_frame == 1
    assert proposal_text(sa.chosen) == "IKE:AES_CBC_128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024"
    assert len(sa.offered) >= 1 and sa.dh_group == 2
    # Two requests in flight: 7 and 8 are answered by 9 and 10, matched by message ID.
    ccs = {e.message_id: e for e in sa.exchanges if e.name == "CREATE_CHILD_SA"}
    assert sorted(ccs) == [2, 3, 4, 5, 6, 7, 8]
    assert (ccs[2].request.frame, ccs[2].response.frame) == (7, 9)
    assert (ccs[3].request.frame, ccs[3].response.frame) == (8, 10)
    assert ccs[2].rtt == pytest.approx(0.047270 - 0.041605, abs=2e-6)
    assert all(e.status == "ok" and e.requester == "initiator" for e in ccs.values())
    # No keys: IKE_AUTH answered but encrypted, so "established" is inferred.
    assert sa.state == "established" and sa.state_inferred
    assert sa.time_to_establish == pytest.approx(0.033862, abs=2e-6)
    # Frame 21 belongs to an SA whose birth (a rekey) is encrypted: seen mid-life, unanswered.
    other = _sa(a, "1d9be9451d4f97a8")
    assert other.created_by is None
    assert [e.status for e in other.exchanges] == ["unanswered"]
    assert any("never answered" in p.text and p.frame == 21 for p in a.problems)
    assert any("possibly a rekey of a88875a8198992a6" in p.text for p in a.problems)


def test_ikev2four_nat_detection_recomputed(shared_dir: Path) -> None:
    sa = _sa(analyze(shared_dir / "captures/tcpdump/ikev2four.pcap"), "a88875a8198992a6")
    assert sa.nat is not None
    # The libreswan test responder's hashes do not match the addresses in this capture.
    assert sa.nat.responder_behind_nat is True
    assert not sa.nat.udp_encapsulation


@pytest.mark.parametrize(
    ("name", "spi_i", "frames", "responder_delete"),
    [
        ("ikev2-decrypt-aes256gcm16.pcap", "0158b8fb90b7623d", 6, True),
        ("ikev2-decrypt-aes256gcm8.pcap", "5d48bfeeb7d574da", 6, True),
        ("ikev2-decrypt-aes192ctr.pcap", "81f24c0acd8fa55c", 6, False),
        ("ikev2-decrypt-aes256cbc.pcapng", "191ccd371a7a1f7b", 4, None),
    ],
)
def test_wireshark_captures_pair_exchanges(
    shared_dir: Path, name: str, spi_i: str, frames: int, responder_delete: bool | None
) -> None:
    a = analyze(shared_dir / "captures/wireshark" / name)
    assert len(a.ike_sas) == 1
    sa = _sa(a, spi_i)
    assert sa.created_by == 34
    names = [(e.name, e.message_id, e.status) for e in sa.exchanges]
    assert names[:2] == [("IKE_SA_INIT", 0, "ok"), ("IKE_AUTH", 1, "ok")]
    assert sum(len(e.messages) for e in sa.exchanges) == frames
    if responder_delete is not None:
        last = sa.exchanges[-1]
        assert last.name == "INFORMATIONAL" and last.status == "ok"
        # RFC 7296 2.2: the responder's own requests start at message ID 0.
        assert last.requester == ("responder" if responder_delete else "initiator")
        assert last.message_id == (0 if responder_delete else 2)
    for e in sa.exchanges:
        assert e.rtt is not None and e.rtt > 0
    assert sa.nat is not None
    assert sa.nat.initiator_behind_nat is False and sa.nat.responder_behind_nat is False
    msgs = sa.messages
    assert all(not m.decrypted and m.integrity is None for m in msgs)


def test_no_keys_esp_is_unassociated(lab: LabFixture) -> None:
    a, truth = lab("rekey-dpd").analysis_without_keys, lab("rekey-dpd").truth
    spis = {int(e["spi"], 16) for c in truth["child_sas"] for e in c["esp"]}
    assert {s.spi for s in a.unassociated_esp} == spis
    assert all(not sa.child_sas for sa in a.ike_sas)
    assert a.counters.esp_decrypted == 0
    assert any("not tied to any child SA" in p.text for p in a.problems)


# ---------------------------------------------------------------- lab captures with keys


def test_rekey_dpd_follows_rekeys_and_deletes(lab: LabFixture) -> None:
    a, truth = lab("rekey-dpd").analysis, lab("rekey-dpd").truth
    old_t, new_t = truth["ike_sas"]
    old = _sa(a, old_t["spi_i"])
    new = _sa(a, new_t["spi_i"])
    assert old.spi_r.hex() == old_t["spi_r"] and new.spi_r.hex() == new_t["spi_r"]
    assert old.rekeyed_into == new.spis and new.rekey_of == old.spis
    assert old.state == "rekeyed" and new.created_by == 36
    assert proposal_text(old.chosen) == old_t["proposal"]
    purposes = [e.purpose for e in old.exchanges]
    assert purposes == [
        None,
        None,
        "rekey child SA",
        "delete child SA",
        "rekey IKE SA",
        "delete IKE SA",
    ]
    # The new SA: two DPDs from the responder (message IDs 0 and 1), then the initiator's
    # delete with its own message ID 0.
    assert [(e.requester, e.message_id, e.purpose) for e in new.exchanges] == [
        ("responder", 0, "liveness check"),
        ("responder", 1, "liveness check"),
        ("initiator", 0, "delete IKE SA"),
    ]
    assert new.state == "deleted" and new.deleted_ts is not None
    # Child SAs: SPIs, PFS rekey link, ESP counts, everything decrypted. The PFS child
    # outlived the IKE SA rekey and moved to the new IKE SA (RFC 7296 1.3.2).
    kids = old.child_sas + new.child_sas
    assert (len(old.child_sas), len(new.child_sas)) == (1, 1)
    for kid, t in zip(kids, truth["child_sas"], strict=True):
        by_sender = {e["sender"]: int(e["spi"], 16) for e in t["esp"]}
        assert kid.spi_initiator == by_sender["responder"]
        assert kid.spi_responder == by_sender["initiator"]
        assert proposal_text(kid.proposal) == t["proposal"]
        assert kid.esp_packets == kid.esp_decrypted > 0
    assert kids[1].rekey_of in (kids[0].spi_initiator, kids[0].spi_responder)
    assert kids[0].rekeyed_by == (kids[1].spi_initiator, kids[1].spi_responder)
    assert kids[0].deleted_ts is not None
    assert a.unassociated_esp == ()
    assert a.counters.esp_packets == a.counters.esp_decrypted == 14
    for side in old.auth:
        assert side.verified is True and side.method == 2 and side.psk
    assert [s.identity for s in old.auth] == [
        old_t["auth"]["initiator"]["id"],
        old_t["auth"]["responder"]["id"],
    ]
    assert all(m.decrypted and m.integrity == "ok" for m in new.messages)


def test_invalid_ke_retry_keeps_spii(lab: LabFixture) -> None:
    a = lab("invalid-ke").analysis
    assert len(a.ike_sas) == 1
    sa = a.ike_sas[0]
    assert sa.retries == ("INVALID_KE_PAYLOAD(group ECP_256)",)
    init = [e for e in sa.exchanges if e.name == "IKE_SA_INIT"]
    assert [(e.attempt, e.status, e.retry) for e in init] == [(1, "retry", 17), (2, "ok", None)]
    assert sa.dh_group == 19
    assert sa.state == "deleted"
    assert [s.verified for s in sa.auth] == [True, True]


def test_auth_failed(lab: LabFixture) -> None:
    a = lab("auth-failed").analysis
    sa = a.ike_sas[0]
    assert sa.state == "failed" and not sa.state_inferred
    assert sa.failure is not None and sa.failure.startswith("AUTHENTICATION_FAILED")
    auth = next(e for e in sa.exchanges if e.name == "IKE_AUTH")
    assert auth.status == "failed" and auth.error == 24
    assert not sa.child_sas
    assert any(p.severity == "error" and "AUTHENTICATION_FAILED" in p.text for p in a.problems)


def test_no_proposal_chosen_in_ike_auth_and_ike_sa_init(lab: LabFixture) -> None:
    a = lab("no-proposal").analysis
    first, second = a.ike_sas
    # The child proposal was refused in IKE_AUTH: the IKE SA stands, and the refused child SA
    # stays in the model with what was offered (RFC 7296 1.2), set up by nothing.
    auth = next(e for e in first.exchanges if e.name == "IKE_AUTH")
    assert auth.status == "failed" and auth.error == 14
    assert first.established_ts is not None
    (refused,) = first.child_sas
    assert refused.error == 14 and refused.proposal is None and not refused.esp
    assert refused.diagnosis.outcome == "failed" and refused.offered
    # The IKE proposal was refused in IKE_SA_INIT: SPIr stays zero.
    assert second.state == "failed" and second.spi_r == bytes(8)
    assert second.failure.startswith("NO_PROPOSAL_CHOSEN in IKE_SA_INIT")


def test_fragmented_ike_auth(lab: LabFixture) -> None:
    a = lab("certs-frag").analysis
    sa = a.ike_sas[0]
    auth = next(e for e in sa.exchanges if e.name == "IKE_AUTH")
    frags = [m.fragment for m in auth.messages]
    assert frags == [(i, 7) for i in range(1, 8)] + [(i, 4) for i in range(1, 5)]
    # Fragments share the message ID and differ: not retransmissions.
    assert all(m.retransmission is None for m in auth.messages)
    assert sum(m.decrypted for m in auth.messages) == 2
    assert [s.method for s in sa.auth] == [14, 14]
    assert all(s.verified for s in sa.auth)
    assert sa.child_sas and sa.child_sas[0].esp_decrypted == 6


def test_iter_analysis_yields_partial_then_complete(lab: LabFixture) -> None:
    steps = list(iter_analysis(lab("rekey-dpd").capture, every=5))
    assert len(steps) >= 3
    assert [s.analysis.complete for s in steps] == [False] * (len(steps) - 1) + [True]
    assert steps[-1].bytes_done == steps[-1].bytes_total > 0
    counts = [s.analysis.counters.ike_messages for s in steps]
    assert counts == sorted(counts) and counts[-1] == 18


def test_progress_callback(lab: LabFixture) -> None:
    calls: list[tuple[int, int]] = []
    analyze(lab("rekey-dpd").capture, progress=lambda d, t: calls.append((d, t)))
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 0


def test_explicit_null_decryptor_equals_no_keys(lab: LabFixture) -> None:
    path = lab("natt").capture
    assert analyze(path, decryptor=NullDecryptor()) == analyze(path)


def test_asymmetric_psks_each_side_its_own(lab: LabFixture) -> None:
    """asym-psk: each side authenticates with its own PSK (strongSwan lab, two [[psk]])."""
    a, truth = lab("asym-psk").analysis, lab("asym-psk").truth
    (sa,) = a.ike_sas
    ini, resp = sa.auth
    assert ini.verified is True and resp.verified is True
    assert ini.psk != resp.psk
    assert len(truth["psks"]) == 2


def test_auth_checked_after_both_auth_payloads(lab: LabFixture) -> None:
    """The decryptor is asked about both AUTH payloads only once the IKE_AUTH response is in."""
    from ikeview.pipeline.analyze import make_decryptor

    sc = lab("psk-aes256-sha256-modp2048")
    real = make_decryptor(sc.keyring)
    calls: list[str] = []

    class Spy:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            attr = getattr(real, name)
            if name in ("open", "verify_auth"):

                def wrapped(*args, **kw):  # type: ignore[no-untyped-def]
                    sides = "+".join(c.side for c in args[1]) if name == "verify_auth" else ""
                    calls.append(name if name == "open" else f"verify {sides}")
                    return attr(*args, **kw)

                return wrapped
            return attr

    a = analyze(sc.capture, decryptor=Spy())  # type: ignore[arg-type]
    assert calls[:3] == ["open", "open", "verify initiator+responder"]
    assert [s.verified for s in a.ike_sas[0].auth] == [True, True]
