"""Malformed real IKE messages from tcpdump's test suite: the error and where it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from ikeview.dissectors.ikev2 import parse_message
from test_dissect_ikev2_support import ike_messages


@pytest.fixture(scope="module")
def tcpdump_dir(shared_dir: Path) -> Path:
    return shared_dir / "captures" / "tcpdump"


def only_message(path: Path) -> bytes:
    messages = ike_messages(path)
    assert len(messages) == 1
    return messages[0][1]


def test_id_short_fails_at_the_id_payload(tcpdump_dir: Path) -> None:
    """IDi declares Payload Length 5: less than its 4-byte generic + 4-byte ID header."""
    msg = parse_message(only_message(tcpdump_dir / "ikev2-id-short.pcap"))
    assert msg.version == 2 and msg.header is not None
    assert msg.header.exchange_type == 35 and msg.header.next_payload == 35
    assert msg.payloads == ()
    assert msg.error is not None
    assert msg.error.offset == 28  # the IDi generic header, right after the IKE header
    assert "ID" in msg.error.reason


def test_id_normal_keeps_the_one_byte_ipv4_id(tcpdump_dir: Path) -> None:
    """Payload Length 9 leaves 1 byte of ID_IPV4_ADDR data.

    Known difference: tshark 4.0 prints 222.173.190.239, reading 3 bytes past the payload.
    We stay inside the payload and show the one byte as hex; no chain error.
    """
    msg = parse_message(only_message(tcpdump_dir / "ikev2-id-normal.pcap"))
    assert msg.error is None
    (idi,) = msg.payloads
    assert idi.which == "IDi" and idi.id_type == 1
    assert idi.data == b"\xde" and idi.text == "de"


def test_segfault_capture_fails_at_second_proposal(tcpdump_dir: Path) -> None:
    """Fuzzed IKE_SA_INIT: proposal 2 claims 43690 bytes (0xaaaa); Wireshark: Malformed."""
    msg = parse_message(only_message(tcpdump_dir / "ikev2pI2-segfault.pcapng"))
    assert msg.header is not None and msg.header.exchange_type == 34
    assert msg.error is not None
    # SA generic header at 28, body at 32, proposal 1 is 40 bytes -> proposal 2 at 72.
    assert msg.error.offset == 72
    assert "43690" in msg.error.reason
    assert msg.payloads == ()  # the SA itself failed, nothing before it


def test_isakmp_no_none_np_runs_off_the_end(tcpdump_dir: Path) -> None:
    """IKEv1 Informational whose last Notification still announces another payload (11)."""
    msg = parse_message(only_message(tcpdump_dir / "isakmp-no-none-np.pcapng"))
    assert msg.version == 1 and msg.header is not None and msg.header.major == 1
    assert msg.header.exchange_type == 5
    assert [p.payload_type for p in msg.payloads] == [11, 11]
    assert [p.offset for p in msg.payloads] == [28, 56]
    assert msg.error is not None
    assert msg.error.offset == 84 == msg.header.length
    assert "11" in msg.error.reason


def test_short_input_has_no_header() -> None:
    msg = parse_message(b"\x01" * 27)
    assert msg.header is None and msg.error is not None and msg.error.offset == 0
    assert msg.version == 0 and msg.payloads == ()
