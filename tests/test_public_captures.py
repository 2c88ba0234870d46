"""Other projects' captures (../shared/captures/public, no keys) analysed end to end.

Every expected value below was read from the packets with tshark 4.0 (``tshark -r F -T fields
-e frame.number -e isakmp.ispi -e isakmp.rspi -e isakmp.exchangetype -e isakmp.messageid
-e isakmp.notify.msgtype -e esp.spi -e esp.sequence ...`` and ``-V`` for single frames), and the
frame numbers are cited beside them; none was taken from ikeview's output.
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path

import pytest
from ikeview.dissectors.ike_records import NotifyPayload
from ikeview.dissectors.notify_data import NotifyRedirect

from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.model import Analysis, EspSpiStats, Exchange

IKE_SA_INIT, IKE_AUTH, INFORMATIONAL = 34, 35, 37


def _load(shared_dir: Path, name: str) -> Analysis:
    return analyze(shared_dir / "captures" / "public" / name)


def _frames(ex: Exchange) -> tuple[int | None, int | None]:
    return (
        ex.request.frame if ex.request else None,
        ex.response.frame if ex.response else None,
    )


def _esp(stats: tuple[EspSpiStats, ...]) -> dict[int, tuple[str, str, int, int, int, int]]:
    return {s.spi: (s.src, s.dst, s.packets, s.bytes, s.first_seq, s.last_seq) for s in stats}


def _notifies(msg: object) -> dict[int, NotifyPayload]:
    return {p.notify_type: p for p in msg.payloads if isinstance(p, NotifyPayload)}


# ---------------------------------------------------------------- scapy NAT-T, three rounds

# (SPIi, SPIr, ENCR id, first frame); frames 1/19/37 IKE_SA_INIT requests, 2/20/38 responses.
_NAT_T_SAS = [
    ("89922c915f35570e", "98d56d32e2a04742", 20, 1),  # AES-GCM-16 (ENCR 20), key 256
    ("99feb3adea1ee8f8", "85a3428fbdd9e1df", 13, 19),  # AES-CTR (ENCR 13), key 256
    ("5a64e0edca3a3614", "7c9ebe2a8e9ff7b8", 12, 37),  # AES-CBC (ENCR 12), key 256
]


def test_scapy_nat_t_three_ike_sas(shared_dir: Path) -> None:
    a = _load(shared_dir, "scapy_ikev2_nat_t.pcapng")
    assert a.counters.frames == 54
    assert a.counters.ike_messages == 30  # 54 frames - 24 ESP
    assert a.counters.esp_packets == 24
    assert [(s.spi_i.hex(), s.spi_r.hex()) for s in a.ike_sas] == [
        (i, r) for i, r, _, _ in _NAT_T_SAS
    ]
    for sa, (_, _, encr, first) in zip(a.ike_sas, _NAT_T_SAS, strict=True):
        assert (sa.initiator, sa.responder) == ("192.168.245.131", "172.16.15.92")
        assert sa.chosen is not None
        assert [t.transform_id for t in sa.chosen.transforms if t.transform_type == 1] == [encr]
        assert sa.dh_group == 19  # ECP_256 in the KE payloads of frames 1/2 (and 19/20, 37/38)
        # Per round: IKE_SA_INIT (f, f+1), IKE_AUTH (f+2, f+3) over UDP 4500, 4+4 ESP, then
        # INFORMATIONAL mid 2 from the initiator (f+12, f+13), mid 0 from the responder
        # (f+14 request, flags 0x00; f+15 response, flags 0x28), mid 3 (f+16, f+17).
        shape = [(e.exchange_type, e.message_id, e.requester, _frames(e)) for e in sa.exchanges]
        f = first
        assert shape == [
            (IKE_SA_INIT, 0, "initiator", (f, f + 1)),
            (IKE_AUTH, 1, "initiator", (f + 2, f + 3)),
            (INFORMATIONAL, 2, "initiator", (f + 12, f + 13)),
            (INFORMATIONAL, 0, "responder", (f + 14, f + 15)),
            (INFORMATIONAL, 3, "initiator", (f + 16, f + 17)),
        ]
        assert all(e.status == "ok" for e in sa.exchanges)
        # No keys: IKE_AUTH is encrypted, so no AUTH is verified and nothing decrypts.
        assert all(side.verified is None for side in sa.auth)
    assert a.counters.ike_decrypted == 0 and a.counters.esp_decrypted == 0


def test_scapy_nat_t_esp_spis(shared_dir: Path) -> None:
    """ESP in UDP 4500: 4 packets per SPI, seq 1..4; ESP length = udp.length - 8."""
    a = _load(shared_dir, "scapy_ikev2_nat_t.pcapng")
    i, r = "192.168.245.131", "172.16.15.92"
    # Frames 5-12: udp.length 128 (120-byte ESP); 23-30 likewise; 41-48: udp.length 144.
    assert _esp(a.unassociated_esp) == {
        0xAC0FAF03: (i, r, 4, 480, 1, 4),
        0xC1A9656B: (r, i, 4, 480, 1, 4),
        0x958A753B: (i, r, 4, 480, 1, 4),
        0x78BD5377: (r, i, 4, 480, 1, 4),
        0xB6B5F296: (i, r, 4, 544, 1, 4),
        0xC1D717E8: (r, i, 4, 544, 1, 4),
    }
    assert all(s.udp_encap and s.missing == 0 and s.decrypted == 0 for s in a.unassociated_esp)


# ---------------------------------------------------------------- scapy REDIRECT (RFC 5685)


def test_scapy_redirect_notify(shared_dir: Path) -> None:
    a = _load(shared_dir, "scapy_ikev2_notify_redirect.pcap")
    first, second = a.ike_sas
    # Frame 1: 10.5.2.60 -> 10.5.2.52 IKE_SA_INIT with REDIRECT_SUPPORTED (16406).
    # Frame 2: the response, SPIr still zero, carries only REDIRECT (16407): gateway identity
    # type 3 (FQDN) "moneybin.duckburg.disney.com", and Ni of frame 1 as its nonce data.
    assert (first.spi_i.hex(), first.spi_r.hex()) == ("88694881497528ad", "0" * 16)
    (init,) = first.exchanges
    assert _frames(init) == (1, 2)
    assert 16406 in _notifies(init.request)
    redirect = _notifies(init.response)[16407].decoded
    assert isinstance(redirect, NotifyRedirect)
    assert (redirect.gw_ident_type, redirect.gateway) == (3, "moneybin.duckburg.disney.com")
    assert redirect.nonce.hex() == (
        "4bf3ea6cd0c6afe702c567fe7db3ff973424bb5e9de6af123a41975a6ffb266e9c5b4c915795132b"
    )
    # Redirected: this SA goes no further (no IKE_AUTH may follow a REDIRECT).
    assert first.state == "failed"
    assert first.failure is not None and "moneybin.duckburg.disney.com" in first.failure
    assert init.status == "retry" and init.retry == 16407
    # Frame 3: a new IKE_SA_INIT to 10.5.2.53 with REDIRECTED_FROM (16408) naming 10.5.2.52
    # (type 1, IPv4); frame 4 answers NO_PROPOSAL_CHOSEN (14).
    assert (second.spi_i.hex(), second.spi_r.hex()) == ("1c88ee0b7793d52e", "63cc9c1919de33e7")
    assert (second.initiator, second.responder) == ("10.5.2.60", "10.5.2.53")
    (init2,) = second.exchanges
    assert _frames(init2) == (3, 4)
    came_from = _notifies(init2.request)[16408].decoded
    assert isinstance(came_from, NotifyRedirect)
    assert (came_from.gw_ident_type, came_from.gateway) == (1, "10.5.2.52")
    assert init2.status == "failed" and init2.error == 14
    assert second.state == "failed"
    assert any("10.5.2.52" in r for r in second.retries)


# ---------------------------------------------------------------- ukncsc: INVALID_KE, fragments


def _nat_hash(spi_i: str, spi_r: str, addr: str, port: int) -> bytes:
    """RFC 7296 2.23: SHA-1(SPIi | SPIr | IP | port)."""
    return hashlib.sha1(
        bytes.fromhex(spi_i + spi_r) + ipaddress.ip_address(addr).packed + port.to_bytes(2)
    ).digest()


def test_ukncsc_invalid_ke_then_fragments(shared_dir: Path) -> None:
    a = _load(shared_dir, "ukncsc_ikev2.pcap")
    (sa,) = a.ike_sas
    assert (sa.spi_i.hex(), sa.spi_r.hex()) == ("46fd10006d11e258", "14633b5928660a90")
    assert (sa.initiator, sa.responder) == ("172.16.158.1", "172.16.158.142")
    init1, init2, auth = sa.exchanges
    # Frame 1: KE group 19; frame 2: INVALID_KE_PAYLOAD (17) asking for group 15 (MODP_3072).
    assert _frames(init1) == (1, 2)
    assert (init1.status, init1.retry) == ("retry", 17)
    # Frame 3: same SPIi, message ID 0, KE group 15: the retry (other bytes, not a
    # retransmission); frame 4 answers with SPIr 14633b5928660a90.
    assert _frames(init2) == (3, 4)
    assert init2.status == "ok" and init2.attempt == 2
    assert init2.request.retransmission == "other-bytes"  # same mid, not a retransmission
    assert sa.retries and "INVALID_KE_PAYLOAD" in sa.retries[0] and "MODP_3072" in sa.retries[0]
    # Frame 4's SA: ENCR_AES_CBC (12) 128, PRF_AES128_XCBC (4), AUTH_HMAC_SHA2_256_128 (12),
    # group 15.
    assert sa.chosen is not None
    got = {(t.transform_type, t.transform_id, t.key_length) for t in sa.chosen.transforms}
    assert got == {(1, 12, 128), (2, 4, None), (3, 12, None), (4, 15, None)}
    assert sa.dh_group == 15
    # Frames 5 and 6: IKE_AUTH mid 1 as SKF fragments 1/2 and 2/2 to port 4500; frame 7 the
    # (unfragmented, SK) response. Both fragments belong to the one exchange.
    assert auth.exchange_type == IKE_AUTH and auth.message_id == 1
    assert _frames(auth) == (5, 7)
    assert auth.request.fragment == (1, 2)
    assert [(c.frame, c.fragment) for c in auth.copies] == [(6, (2, 2))]
    # Frame 7 is 80 bytes: header 28 + SK header 4 + IV 16 + ICV 16 leaves one 16-byte block,
    # and its SK payload's Next Payload is Notify (41): no room for IDr and AUTH, so the
    # responder refused IKE_AUTH with a notify; the SA did not come up.
    assert sa.state == "failed" and sa.failure is not None and "frame 7" in sa.failure
    # NAT detection: frame 3's NAT_DETECTION_SOURCE_IP (16388) does not hash 172.16.158.1:500
    # (the initiator is behind a NAT); its DESTINATION_IP (16389) hashes 172.16.158.142:500.
    n3 = _notifies(init2.request)
    assert n3[16388].data != _nat_hash("46fd10006d11e258", "0" * 16, "172.16.158.1", 500)
    assert n3[16389].data == _nat_hash("46fd10006d11e258", "0" * 16, "172.16.158.142", 500)
    assert sa.nat is not None
    assert (sa.nat.initiator_behind_nat, sa.nat.responder_behind_nat) == (True, False)
    assert a.counters.ike_decrypted == 0


# ---------------------------------------------------------------- Zeek: IKEv1 and ESP/AH


@pytest.mark.parametrize(
    ("name", "messages"),
    [
        # Main mode: frames 1-6 exchange type 2 (Identity Protection), 7-9 type 32 (Quick Mode).
        ("zeek_ipsec-ikev1-isakmp-main-mode.pcap", 9),
        # Aggressive mode: frames 1-3 exchange type 4, 4-6 Quick Mode.
        ("zeek_ipsec-ikev1-isakmp-aggressive-mode.pcap", 6),
    ],
)
def test_zeek_ikev1_labelled_not_analysed(shared_dir: Path, name: str, messages: int) -> None:
    a = _load(shared_dir, name)
    assert a.ike_sas == ()
    assert a.counters.ikev1_messages == messages == a.counters.ike_messages
    assert any("IKEv1" in p.text and "not analyzed" in p.text for p in a.problems)


def test_zeek_ipsec_ikev1_then_esp(shared_dir: Path) -> None:
    a = _load(shared_dir, "zeek_ipsec.cap")
    # Frames 1-11 ISAKMP (IKEv1: main mode, an informational with notify 14, quick mode).
    assert a.ike_sas == () and a.counters.ikev1_messages == 11
    # Frames 12-27: ESP, SPI 0x1c0d7b38 9 packets seq 1..9, 0x0879355b 7 packets seq 1..7;
    # ESP lengths (ip.len - 20) sum to 1620 and 1068.
    assert a.counters.esp_packets == 16
    s, d = "192.168.140.205", "192.168.140.200"
    assert _esp(a.unassociated_esp) == {
        0x1C0D7B38: (s, d, 9, 1620, 1, 9),
        0x0879355B: (d, s, 7, 1068, 1, 7),
    }


def test_zeek_esp_under_ah(shared_dir: Path) -> None:
    """Each frame is IP / AH (24 bytes, SPI 0x8179b705 or 0xba8bd060) / ESP."""
    a = _load(shared_dir, "zeek_IPsec_ESP-AH_tunnel_mode.cap")
    assert a.ike_sas == () and a.counters.ike_messages == 0
    assert a.counters.esp_packets == 10
    # ip.len 180 - 20 (IP) - 24 (AH) = 136 bytes of ESP per frame, 5 frames per SPI.
    assert _esp(a.unassociated_esp) == {
        0x48DAC2E4: ("10.0.0.1", "10.0.0.2", 5, 680, 1, 5),
        0xFB5128A6: ("10.0.0.2", "10.0.0.1", 5, 680, 1, 5),
    }


# ---------------------------------------------------------------- REDIRECT of an established SA


def test_lab_redirect_of_an_established_sa() -> None:
    """captures/lab/redirect (strongSwan 5.9.8, `swanctl --redirect --gateway 192.0.2.4`): its
    README and logs: INFORMATIONAL N(REDIR) from the responder (its message ID 0, frame 9),
    answered in frame 11; a new IKE SA to 192.0.2.4 with N(REDIR_FROM) 192.0.2.2 in its
    IKE_SA_INIT (frames 10, 12); the old SA deleted (frames 15, 16)."""
    from ikeview.keys.loader import load_keys

    d = Path(__file__).resolve().parents[1] / "captures" / "lab" / "redirect"
    if not (d / "truth.json").exists():
        pytest.skip("lab scenario redirect not in captures/lab yet")
    a = analyze(d / "capture.pcap", load_keys([d / "keys.toml"]))
    old, new = a.ike_sas
    by_frames = {_frames(e): e for e in old.exchanges}
    redirect = by_frames[(9, 11)]
    assert (redirect.exchange_type, redirect.requester, redirect.message_id) == (
        INFORMATIONAL, "responder", 0,
    )  # fmt: skip
    assert redirect.purpose == "redirect to 192.0.2.4"
    assert old.deleted_ts is not None and by_frames[(15, 16)].purpose == "delete IKE SA"
    assert (new.initiator, new.responder) == ("192.0.2.1", "192.0.2.4")
    assert _frames(new.exchanges[0]) == (10, 12)
    came_from = _notifies(new.exchanges[0].request)[16408].decoded
    assert isinstance(came_from, NotifyRedirect) and came_from.gateway == "192.0.2.2"
    assert new.retries == ("REDIRECT from 192.0.2.2",)
    assert all(side.verified for sa in (old, new) for side in sa.auth)
