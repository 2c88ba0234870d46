"""Correlation edge cases on self-made records, on top of the real-capture tests.

Messages are built by hand from RFC 7296 3.1 (header) and 3.2/3.9/3.10 (generic header, Nonce,
Notify) and parsed by the real dissector, so only the flows and bytes are made up. Parametrized on
who sends the request (the correlator has one code path for both peers).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from ike_build import ike_message
from ikeview.dissectors.capture import read_capture
from ikeview.dissectors.ikev2 import parse_message
from ikeview.dissectors.records import EspPacket, Flow, FrameError, IkeDatagram, NatKeepalive

from ikeview.pcapfile import PcapWriter
from ikeview.pipeline.analyze import analyze
from ikeview.pipeline.correlate import Correlator, NullDecryptor
from ikeview.pipeline.ike_seam import Opened
from ikeview.pipeline.nat import nat_hash
from ikeview.pipeline.seam import EspOpened

I_ADDR, R_ADDR = "10.0.0.1", "10.0.0.2"
SPI_I = bytes.fromhex("1111111111111111")
SPI_R = bytes.fromhex("2222222222222222")


def notify(ntype: int, data: bytes = b"", nxt: int = 0) -> tuple[int, bytes]:
    # RFC 7296 3.10: Protocol ID, SPI Size 0, Notify Message Type, data.
    body = struct.pack("!BBH", 0, 0, ntype) + data
    return 41, body


def nonce(data: bytes) -> tuple[int, bytes]:
    return 40, data


def ike(
    exch: int,
    mid: int,
    *,
    initiator: bool,
    response: bool,
    spi_r: bytes = SPI_R,
    payloads: tuple[tuple[int, bytes], ...] = (),
) -> bytes:
    flags = (0x08 if initiator else 0) | (0x20 if response else 0)
    return ike_message(*payloads, exchange=exch, flags=flags, mid=mid, spi_i=SPI_I, spi_r=spi_r)


def dgram(frame: int, ts: float, data: bytes, *, from_i: bool) -> IkeDatagram:
    src, dst = (I_ADDR, R_ADDR) if from_i else (R_ADDR, I_ADDR)
    return IkeDatagram(Flow(frame, ts, 4, src, dst, "udp", 500, 500), parse_message(data))


def run(*records: object, decryptor: object | None = None):
    c = Correlator(decryptor or NullDecryptor(), capture="edges")
    for r in records:
        c.feed(r)
    return c.snapshot(frames=len(records))


def establish() -> list[IkeDatagram]:
    """IKE_SA_INIT request/response with nonces (no SA payload: enough for correlation)."""
    req = ike(34, 0, initiator=True, response=False, spi_r=bytes(8), payloads=(nonce(b"n" * 16),))
    resp = ike(34, 0, initiator=False, response=True, payloads=(nonce(b"m" * 16),))
    return [dgram(1, 100.0, req, from_i=True), dgram(2, 100.5, resp, from_i=False)]


@pytest.mark.parametrize("requester", ["initiator", "responder"])
def test_retransmit_and_same_id_other_bytes(requester: str) -> None:
    from_i = requester == "initiator"
    req = ike(37, 5, initiator=from_i, response=False, payloads=(notify(16384),))
    other = ike(37, 5, initiator=from_i, response=False, payloads=(notify(16385, b"\0\0\0\1"),))
    resp = ike(37, 5, initiator=not from_i, response=True)
    a = run(
        *establish(),
        dgram(3, 101.0, req, from_i=from_i),
        dgram(4, 103.0, req, from_i=from_i),  # identical bytes: a retransmission
        dgram(5, 104.0, resp, from_i=not from_i),
        dgram(6, 105.0, resp, from_i=not from_i),  # the response, retransmitted too
        dgram(7, 106.0, other, from_i=from_i),  # same ID, other bytes: not a retransmission
    )
    (sa,) = a.ike_sas
    info = [e for e in sa.exchanges if e.exchange_type == 37]
    assert [(e.requester, e.attempt) for e in info] == [(requester, 1), (requester, 2)]
    first, second = info
    assert first.request.frame == 3 and first.response.frame == 5
    assert [(m.frame, m.retransmission, m.original_frame) for m in first.copies] == [
        (4, "retransmit", 3),
        (6, "retransmit", 5),
    ]
    # RTT is measured from the first copy of the request to the first copy of the response.
    assert first.rtt == pytest.approx(3.0)
    assert first.status == "ok"
    assert second.request.retransmission == "other-bytes"
    assert second.request.original_frame == 3
    assert second.status == "unanswered"
    assert any(p.frame == 7 and "never answered" in p.text for p in a.problems)


def test_second_response_with_other_bytes_is_flagged() -> None:
    req = ike(37, 2, initiator=True, response=False)
    r1 = ike(37, 2, initiator=False, response=True)
    r2 = ike(37, 2, initiator=False, response=True, payloads=(notify(16384),))
    a = run(
        *establish(),
        dgram(3, 1.0, req, from_i=True),
        dgram(4, 2.0, r1, from_i=False),
        dgram(5, 3.0, r2, from_i=False),
    )
    ex = a.ike_sas[0].exchanges[-1]
    assert ex.response.frame == 4
    assert [(m.frame, m.retransmission) for m in ex.copies] == [(5, "other-bytes")]
    assert any(p.frame == 5 and "not a retransmission" in p.text for p in a.problems)


def test_cookie_retry_is_one_sa_two_attempts() -> None:
    cookie = b"c" * 16
    req1 = ike(34, 0, initiator=True, response=False, spi_r=bytes(8), payloads=(nonce(b"n" * 16),))
    resp1 = ike(
        34, 0, initiator=False, response=True, spi_r=bytes(8), payloads=(notify(16390, cookie),)
    )
    req2 = ike(
        34,
        0,
        initiator=True,
        response=False,
        spi_r=bytes(8),
        payloads=(notify(16390, cookie), nonce(b"n" * 16)),
    )
    resp2 = ike(34, 0, initiator=False, response=True, payloads=(nonce(b"m" * 16),))
    a = run(
        dgram(1, 0.0, req1, from_i=True),
        dgram(2, 0.1, resp1, from_i=False),
        dgram(3, 0.2, req2, from_i=True),
        dgram(4, 0.3, resp2, from_i=False),
    )
    (sa,) = a.ike_sas
    assert sa.spis == (SPI_I, SPI_R)
    assert sa.retries == ("COOKIE",)
    assert [(e.attempt, e.status) for e in sa.exchanges] == [(1, "retry"), (2, "ok")]
    assert sa.state == "authenticating"


def test_unanswered_ike_sa_init_stays_half_open() -> None:
    req = ike(34, 0, initiator=True, response=False, spi_r=bytes(8))
    a = run(dgram(1, 0.0, req, from_i=True), dgram(2, 2.0, req, from_i=True))
    (sa,) = a.ike_sas
    assert sa.state == "half-open" and sa.spi_r == bytes(8)
    (ex,) = sa.exchanges
    assert ex.status == "unanswered" and ex.copies[0].retransmission == "retransmit"


def test_error_notify_fails_exchange() -> None:
    req = ike(34, 0, initiator=True, response=False, spi_r=bytes(8))
    resp = ike(34, 0, initiator=False, response=True, spi_r=bytes(8), payloads=(notify(14),))
    a = run(dgram(1, 0.0, req, from_i=True), dgram(2, 0.1, resp, from_i=False))
    sa = a.ike_sas[0]
    assert sa.state == "failed" and sa.failure.startswith("NO_PROPOSAL_CHOSEN")
    assert sa.exchanges[0].status == "failed" and sa.exchanges[0].error == 14


def test_nat_hash_mismatch_marks_the_translated_side() -> None:
    zero = bytes(8)
    # The initiator believes it is 192.168.0.5:500, the capture shows 10.0.0.1:500.
    src_hash = nat_hash(SPI_I, zero, "192.168.0.5", 500)
    dst_hash = nat_hash(SPI_I, zero, R_ADDR, 500)
    req = ike(
        34,
        0,
        initiator=True,
        response=False,
        spi_r=zero,
        payloads=(notify(16388, src_hash), notify(16389, dst_hash), nonce(b"n" * 16)),
    )
    resp = ike(
        34,
        0,
        initiator=False,
        response=True,
        payloads=(
            notify(16388, nat_hash(SPI_I, SPI_R, R_ADDR, 500)),
            notify(16389, nat_hash(SPI_I, SPI_R, I_ADDR, 500)),
            nonce(b"m" * 16),
        ),
    )
    a = run(dgram(1, 0.0, req, from_i=True), dgram(2, 0.1, resp, from_i=False))
    nat = a.ike_sas[0].nat
    assert nat is not None
    assert nat.initiator_behind_nat is True and nat.responder_behind_nat is False


def esp(frame: int, spi: int, seq: int) -> EspPacket:
    flow = Flow(frame, float(frame), 4, I_ADDR, R_ADDR, "ip", 0, 0)
    return EspPacket(flow, spi, seq, 100, b"", False)


def test_esp_counters_gaps_replays_reordering() -> None:
    seqs = [1, 2, 4, 3, 3, 10, 9, 2000, 5]
    a = run(*(esp(i + 1, 0x1234, s) for i, s in enumerate(seqs)))
    (s,) = a.unassociated_esp
    assert (s.packets, s.bytes, s.first_seq, s.last_seq, s.max_seq) == (9, 900, 1, 5, 2000)
    assert s.replays == 1  # the second 3
    assert s.out_of_order == 3  # 3, 9, and 5 (which also fills a gap)
    # 1..2000 span, unique seen: 1,2,3,4,5,9,10,2000 -> 2000 - 8 missing.
    assert s.missing == 2000 - 8
    assert s.decrypted == 0 and s.problem == "no keys"


def test_keepalives_and_frame_errors_counted() -> None:
    flow = Flow(1, 0.0, 4, I_ADDR, R_ADDR, "udp", 4500, 4500)
    a = run(NatKeepalive(flow), FrameError(2, 0.0, 14, "bad IP header"))
    assert a.counters.keepalives == 1 and a.counters.frame_errors == 1
    assert a.problems[0].frame == 2


class Recorder(NullDecryptor):
    """Records the order of Decryptor calls; pretends to decrypt every SK payload."""

    has_keys = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    def ike_sa(self, setup):  # type: ignore[no-untyped-def]
        self.calls.append(f"ike_sa {setup.spis[0].hex()} parent={setup.parent is not None}")
        return None

    def open(self, header, raw, sk):  # type: ignore[no-untyped-def]
        self.calls.append(f"open {'I' if header.initiator else 'R'}")
        return Opened((), "ok", None)

    def esp(self, packet):  # type: ignore[no-untyped-def]
        self.calls.append(f"esp {packet.spi:x}")
        return EspOpened(True, "ok", 4, b"", None)


def test_decryptor_sees_setup_before_first_sk_and_every_esp(shared_dir) -> None:  # type: ignore[no-untyped-def]
    from ikeview.pipeline.analyze import analyze

    rec = Recorder()
    a = analyze(shared_dir / "captures/wireshark/ikev2-decrypt-aes256gcm16.pcap", decryptor=rec)
    assert rec.calls[0] == "ike_sa 0158b8fb90b7623d parent=False"
    assert rec.calls[1:] == ["open I", "open R", "open R", "open I"]
    assert a.counters.ike_decrypted == 4
    # An INFORMATIONAL with no inner payloads is a liveness check.
    assert a.ike_sas[0].exchanges[-1].purpose == "liveness check"
    rec2 = Recorder()
    run(esp(1, 0xAB, 1), esp(2, 0xAB, 2), decryptor=rec2)
    assert rec2.calls == ["esp ab", "esp ab"]


def test_truncated_and_garbage_messages_never_raise() -> None:
    """Every 5th truncation of every IKE message of a real capture, with its real keys, fed
    between the real messages: the correlator records problems, it never raises."""
    from pathlib import Path

    from ikeview.dissectors.stream import dissect

    from ikeview.keys.loader import load_keys
    from ikeview.pipeline.analyze import make_decryptor

    lab = Path(__file__).resolve().parents[1] / "captures" / "lab" / "rekey-dpd"
    c = Correlator(make_decryptor(load_keys([lab / "keys.toml"])))
    n = 0
    for rec in dissect(lab / "capture.pcap"):
        c.feed(rec)
        if isinstance(rec, IkeDatagram):
            raw = rec.message.raw
            for cut in range(0, len(raw), 5):
                c.feed(IkeDatagram(rec.flow, parse_message(raw[:cut])))
                n += 1
            c.feed(IkeDatagram(rec.flow, parse_message(raw[:28] + bytes(40))))
        elif isinstance(rec, EspPacket):
            c.feed(EspPacket(rec.flow, rec.spi, rec.seq, rec.length, rec.data[:9], True))
    a = c.snapshot(frames=n)
    assert a.counters.ike_messages > n
    assert len(a.ike_sas) >= 2


def _rec(cls, ptype: int, **fields):  # type: ignore[no-untyped-def]
    """A payload record as the dissector would give it after decryption."""
    return cls(payload_type=ptype, critical=False, offset=0, length=0, body=b"", **fields)


class Scripted(NullDecryptor):
    """Decrypts each SK message to the inner payload records scripted for its raw bytes."""

    def __init__(self, inner: dict[bytes, tuple[object, ...]]) -> None:
        self.inner = inner
        self.verified: list[str] = []

    def ike_sa(self, setup):  # type: ignore[no-untyped-def]
        return None

    def open(self, header, raw, sk):  # type: ignore[no-untyped-def]
        return Opened(self.inner[raw], "ok", None)

    def verify_auth(self, spis, claims):  # type: ignore[no-untyped-def]
        from ikeview.pipeline.ike_seam import AuthVerdict

        self.verified.extend(c.side for c in claims)
        return tuple(AuthVerdict(c.side, c.auth.method, True, "psk #1", "scripted") for c in claims)


def test_eap_rounds_establish_only_after_the_last() -> None:
    from ikeview.dissectors.ike_records import (
        AuthPayload,
        EapPayload,
        IdPayload,
        Proposal,
        SaPayload,
        Transform,
        TsPayload,
    )

    sk = (46, b"\0" * 32)  # an SK payload; its contents come from Scripted

    def auth_msg(mid: int, response: bool, *, pad: bytes = b"") -> bytes:
        return ike(
            35, mid, initiator=not response, response=response, payloads=((46, sk[1] + pad),)
        )

    sa_i = _rec(
        SaPayload,
        33,
        proposals=(Proposal(1, 3, b"\0\0\0\x11", (Transform(1, 20, 256, (), 0),), 0),),
    )
    sa_r = _rec(
        SaPayload,
        33,
        proposals=(Proposal(1, 3, b"\0\0\0\x22", (Transform(1, 20, 256, (), 0),), 0),),
    )
    ts = _rec(TsPayload, 44, which="TSi", selectors=())
    idi = _rec(IdPayload, 35, which="IDi", id_type=2, data=b"alice", text="alice")
    idr = _rec(IdPayload, 36, which="IDr", id_type=2, data=b"gw", text="gw")
    auth = _rec(AuthPayload, 39, method=2, data=b"x", signature=None)
    eap = _rec(EapPayload, 48, code=1, identifier=1, eap_type=1, data=b"")
    script = {
        auth_msg(1, False): (idi, sa_i, ts),
        auth_msg(1, True): (idr, auth, eap),
        auth_msg(2, False): (eap,),
        auth_msg(2, True): (eap,),
        auth_msg(3, False): (auth,),
        auth_msg(3, True): (auth, sa_r, ts),
    }
    dec = Scripted(script)
    records = [*establish()]
    for i, (raw, _) in enumerate(script.items()):
        records.append(dgram(3 + i, 101.0 + i, raw, from_i=not parse_message(raw).header.response))
    a = run(*records, decryptor=dec)
    (sa,) = a.ike_sas
    assert sa.state == "established"
    assert sa.established_ts == 106.0  # the third IKE_AUTH response, not the first
    (child,) = sa.child_sas
    assert (child.spi_initiator, child.spi_responder) == (0x11, 0x22)
    assert [s.identity for s in sa.auth] == ["alice", "gw"]
    assert all(s.verified for s in sa.auth)


def test_many_retransmissions_each_point_at_the_first_copy(tmp_path: Path) -> None:
    """A request and its response each sent 5,000 times (a peer retransmitting for hours, or a
    hostile capture): every copy is byte-identical to frames 1 and 2 of the lab session, so each
    is a retransmission whose original is frame 1 (request) or 2 (response). The original is
    looked up per (direction, fragment), not by scanning every earlier copy (which made this
    quadratic: a 200,000-frame burst of one session took over a minute)."""
    session = Path(__file__).resolve().parents[1] / "captures/lab/psk-aes256-sha256-modp2048"
    with read_capture(session / "capture.pcap") as reader:
        request, response = (f.data for f in list(reader)[:2])
    path = tmp_path / "many.pcap"
    with path.open("wb") as fh:
        writer = PcapWriter(fh, 1)
        for i in range(5000):
            writer.write(1_700_000_000 + i / 100, request)
            writer.write(1_700_000_000 + i / 100 + 0.001, response)
    sa = analyze(path).ike_sas[0]
    (init,) = [e for e in sa.exchanges if e.name == "IKE_SA_INIT"]
    assert (init.request.frame, init.response.frame) == (1, 2)
    assert len(init.copies) == 9998
    assert {(m.response, m.retransmission, m.original_frame) for m in init.copies} == {
        (False, "retransmit", 1),
        (True, "retransmit", 2),
    }
