"""SKF reassembly in the decryptor keeps each message apart (RFC 7383 section 2.6).

One peer sends requests in its own Message ID space and responses in the other's, so a request
and a response from the same side can share a Message ID; their fragments must not mix. The
cipher is replaced by a stand-in returning given plaintexts: this is about the bookkeeping only
(real SKF decryption is tested on the lab captures in test_pipeline_decrypt.py).
"""

from __future__ import annotations

from types import SimpleNamespace

from ikeview.dissectors.ike_records import IkeHeader, NoncePayload

from ikeview.crypto.sk import SKF, SkResult
from ikeview.keys.model import KeyRing
from ikeview.pipeline.dec_ike import IkeCandidate, IkeSaState
from ikeview.pipeline.decrypt import KeyringDecryptor

SPIS = (bytes.fromhex("0102030405060708"), bytes.fromhex("1112131415161718"))
NONCE = 40


class _Plain:
    """Stands in for SkDecryptor: each message's raw bytes map to a fragment's plaintext."""

    def __init__(self, by_raw: dict[bytes, SkResult]) -> None:
        self.by_raw = by_raw

    def decrypt(self, raw: bytes, offset: int, ptype: int) -> SkResult:
        return self.by_raw[raw]


def _raw(flags: int, frag: int) -> bytes:
    # RFC 7296 section 3.1: SPIs, Next Payload (SKF), version 2.0, IKE_AUTH, flags, Message ID 1;
    # the fragment number only keeps the stand-in's keys apart.
    return (
        SPIS[0]
        + SPIS[1]
        + bytes([SKF, 0x20, 35, flags])
        + (1).to_bytes(4, "big")
        + bytes([0, 0, 0, frag])
    )


def _header(raw: bytes) -> IkeHeader:
    return IkeHeader(SPIS[0], SPIS[1], SKF, 2, 0, 35, raw[19], 1, len(raw))


def _nonce(data: bytes) -> bytes:
    return bytes([0, 0]) + (4 + len(data)).to_bytes(2, "big") + data


def test_request_and_response_fragments_with_one_message_id_stay_apart() -> None:
    request, response = _nonce(b"request-nonce"), _nonce(b"response-nonce")
    # I flag (0x08) on both: the initiator sends its request (mid 1 of its space) and its
    # response (R flag 0x20) to the responder's request mid 1.
    parts = [
        (_raw(0x08, 1), SkResult(request[:6], True, 0, None, NONCE, 1, 2)),
        (_raw(0x28, 1), SkResult(response[:6], True, 0, None, NONCE, 1, 2)),
        (_raw(0x08, 2), SkResult(request[6:], True, 0, None, 0, 2, 2)),
        (_raw(0x28, 2), SkResult(response[6:], True, 0, None, 0, 2, 2)),
    ]
    dec = KeyringDecryptor(KeyRing())
    state = IkeSaState(SPIS, None)
    state.candidates = [IkeCandidate(None, "test")]  # type: ignore[arg-type]
    state._sk[(0, True)] = _Plain(dict(parts))  # type: ignore[assignment]
    dec._ike[SPIS] = state
    sk = SimpleNamespace(offset=28, payload_type=SKF)
    opened = [dec.open(_header(raw), raw, sk) for raw, _ in parts]  # type: ignore[arg-type]
    assert [o.pending for o in opened] == [True, True, False, False]
    got = [o.payloads[0] for o in opened[2:]]
    assert all(isinstance(p, NoncePayload) for p in got)
    assert [p.data for p in got] == [b"request-nonce", b"response-nonce"]
    assert all(o.integrity == "ok" and o.problem is None for o in opened[2:])
