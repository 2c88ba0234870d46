"""The same messages through pyshark, the project's reference tool (tshark underneath).

Checked per IKE message: SPIs, exchange type, message ID, flags, notify types in order,
transform IDs by type, KE group and vendor IDs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ikeview.dissectors.ike_records import KePayload, NotifyPayload, SaPayload, VendorIdPayload
from ikeview.dissectors.ikev2 import parse_message
from test_dissect_ikev2_support import ike_messages

pyshark = pytest.importorskip("pyshark")
pytestmark = [
    pytest.mark.tshark,
    pytest.mark.usefixtures("fresh_event_loop"),
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]

CAPTURES = [
    "tcpdump/ikev2four.pcap",  # COOKIE retry, CREATE_CHILD_SA, several proposals
    "tcpdump/ikev2pI2.pcap",  # 6 proposals, Vendor ID, loopback link type
    "wireshark/ikev2-decrypt-aes256gcm16.pcap",
    "wireshark/ikev2-decrypt-aes192ctr.pcap",
]
TRANSFORM_FIELDS = {1: "tf_id_encr", 2: "tf_id_prf", 3: "tf_id_integ", 4: "tf_id_dh"}


def values(layer: object, name: str, raw: bool = False) -> list[str]:
    field = layer.get_field(name)  # type: ignore[attr-defined]
    if field is None:
        return []
    return [f.raw_value if raw else f.show for f in field.all_fields]


@pytest.mark.parametrize("relative", CAPTURES)
def test_matches_pyshark(shared_dir: Path, relative: str) -> None:
    path = shared_dir / "captures" / relative
    ours = dict(ike_messages(path))
    capture = pyshark.FileCapture(str(path), display_filter="isakmp", keep_packets=False)
    try:
        seen = 0
        for packet in capture:
            layer = packet.isakmp
            msg = parse_message(ours[int(packet.number)])
            h = msg.header
            assert h is not None and msg.error is None
            assert layer.ispi.replace(":", "") == h.spi_i.hex()
            assert layer.rspi.replace(":", "") == h.spi_r.hex()
            assert int(layer.exchangetype) == h.exchange_type
            assert int(layer.messageid, 16) == h.message_id
            assert int(layer.flags, 16) == h.flags
            notifies = [p.notify_type for p in msg.payloads if isinstance(p, NotifyPayload)]
            assert [int(v) for v in values(layer, "notify_msgtype")] == notifies
            groups = [p.group for p in msg.payloads if isinstance(p, KePayload)]
            assert [int(v) for v in values(layer, "key_exchange_dh_group")] == groups
            vids = [p.data.hex() for p in msg.payloads if isinstance(p, VendorIdPayload)]
            # tshark puts a Vendor ID it has no name for in vid_string too; its raw value is hex.
            assert values(layer, "vid_string", raw=True) == vids
            for kind, field in TRANSFORM_FIELDS.items():
                ids = [
                    t.transform_id
                    for p in msg.payloads
                    if isinstance(p, SaPayload)
                    for prop in p.proposals
                    for t in prop.transforms
                    if t.transform_type == kind
                ]
                assert [int(v) for v in values(layer, field)] == ids, field
            seen += 1
        assert seen == len(ours)
    finally:
        capture.close()
