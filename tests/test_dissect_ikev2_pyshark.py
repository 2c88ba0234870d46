"""The same messages through pyshark, the project's reference tool (tshark underneath).

Checked per IKE message: SPIs, exchange type, message ID, flags, notify types in order,
transform IDs by type, KE group and vendor IDs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyshark_ike
import pytest
from ikeview.dissectors.ike_records import KePayload, NotifyPayload, SaPayload, VendorIdPayload
from ikeview.dissectors.ikev2 import parse_message
from test_dissect_ikev2_support import ike_messages

pytest.importorskip("pyshark")
pytestmark = [
    pytest.mark.tshark,
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]

CAPTURES = [
    "tcpdump/ikev2four.pcap",  # COOKIE retry, CREATE_CHILD_SA, several proposals
    "tcpdump/ikev2pI2.pcap",  # 6 proposals, Vendor ID, loopback link type
    "wireshark/ikev2-decrypt-aes256gcm16.pcap",
    "wireshark/ikev2-decrypt-aes192ctr.pcap",
]
TRANSFORM_FIELDS = {1: "tf_id_encr", 2: "tf_id_prf", 3: "tf_id_integ", 4: "tf_id_dh"}


@pytest.mark.parametrize("relative", CAPTURES)
def test_matches_pyshark(shared_dir: Path, relative: str) -> None:
    path = shared_dir / "captures" / relative
    ours = dict(ike_messages(path))
    theirs = pyshark_ike.read(path)
    assert sorted(theirs) == sorted(ours)
    for frame, layer in theirs.items():
        msg = parse_message(ours[frame])
        h = msg.header
        assert h is not None and msg.error is None
        assert layer["ispi"] == h.spi_i.hex()
        assert layer["rspi"] == h.spi_r.hex()
        assert layer["exchangetype"] == h.exchange_type
        assert layer["messageid"] == h.message_id
        assert layer["flags"] == h.flags
        notifies = [p.notify_type for p in msg.payloads if isinstance(p, NotifyPayload)]
        assert [int(v) for v in layer["notify_msgtype"]] == notifies
        groups = [p.group for p in msg.payloads if isinstance(p, KePayload)]
        assert [int(v) for v in layer["key_exchange_dh_group"]] == groups
        vids = [p.data.hex() for p in msg.payloads if isinstance(p, VendorIdPayload)]
        # tshark puts a Vendor ID it has no name for in vid_string too; its raw value is hex.
        assert layer["vid_string"] == vids
        for kind, field in TRANSFORM_FIELDS.items():
            ids = [
                t.transform_id
                for p in msg.payloads
                if isinstance(p, SaPayload)
                for prop in p.proposals
                for t in prop.transforms
                if t.transform_type == kind
            ]
            assert [int(v) for v in layer[field]] == ids, field
