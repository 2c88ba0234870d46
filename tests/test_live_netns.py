"""``ikeview live`` on a real interface: lab captures replayed across a veth pair between two
network namespaces give the same report as ``ikeview report`` of the file (times aside), and
the --write file holds exactly the frames sent, readable by tshark, also after SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_live_support import (
    LAB,
    frames_so_far,
    needs_root,
    replay,
    report_json,
    start_live,
    start_run_live,
    timeless,
    tshark_frames,
    veth_namespaces,
    without_capture_name,
)

pytestmark = [pytest.mark.root, needs_root]

# One plain PSK exchange, one with CHILD_SA/IKE_SA rekeys and DPD, one with certificates and
# IKE fragments (RFC 7383: 7 + 4 SKF messages).
SCENARIOS = ["psk-aes256-sha256-modp2048", "rekey-dpd", "certs-frag"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_live_report_equals_file_report(scenario: str, tmp_path: Path) -> None:
    capture = LAB / scenario / "capture.pcap"
    keys = LAB / scenario / "keys.toml"
    written = tmp_path / "live.pcap"
    with veth_namespaces(tmp_path) as net:
        live = start_live(
            net, "live", "--json", "--timeout", "25", "--keys", str(keys), "--write", str(written)
        )
        live.wait_listening()
        sent = replay(net, capture)
        time.sleep(0.3)  # the last frame through the veth and into the socket
        assert live.stop() == 0, live.stderr.read_text()
        got = live.report()
        assert got["capture"] == f"live:{net.if_a}"

    expected = report_json(capture, keys)
    assert got["counters"]["frames"] == sent
    # The kernel's own tally (PACKET_STATISTICS), as tcpdump prints it: nothing dropped.
    kernel = got.pop("live_capture")
    assert kernel["dropped_by_kernel"] == 0 and kernel["received_by_filter"] >= sent
    # Everything that does not depend on when the frames were seen is equal.
    assert timeless(got) == timeless(expected)
    # The frames written are the frames sent, byte for byte and in order.
    assert tshark_frames(written) == tshark_frames(capture)
    # And the live report is exactly the report of its own --write file, times included
    # (live times are cut to the microseconds the pcap keeps).
    assert without_capture_name(got) == without_capture_name(report_json(written, keys))
    assert got["counters"]["ike_decrypted"] > 0


def test_live_sigterm_mid_capture_leaves_a_complete_file(tmp_path: Path) -> None:
    capture = LAB / "rekey-dpd" / "capture.pcap"
    written = tmp_path / "cut.pcap"
    with veth_namespaces(tmp_path) as net:
        live = start_live(net, "live", "--json", "--write", str(written))
        live.wait_listening()
        sender = replay(net, capture, gap=0.1, wait=False)  # 32 frames over ~3.2 s
        # Stop once a few frames are in the file, whatever the machine's load.
        end = time.monotonic() + 20
        while time.monotonic() < end and len(frames_so_far(written)) < 3:
            time.sleep(0.05)
        assert live.stop(signal.SIGTERM) == 0, live.stderr.read_text()
        sender.wait(timeout=20)
        got = live.report()
    frames = tshark_frames(written)
    # Stopped in the middle: some frames, not all, each one whole and in order.
    assert 0 < len(frames) < 32
    assert frames == tshark_frames(capture)[: len(frames)]
    assert got["counters"]["frames"] == len(frames)
    assert f"wrote {len(frames)} frames" in live.stderr.read_text()


def test_live_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    capture = LAB / "psk-aes256-sha256-modp2048" / "capture.pcap"
    written = tmp_path / "int.pcap"
    with veth_namespaces(tmp_path) as net:
        live = start_live(net, "live", "--write", str(written))
        live.wait_listening()
        replay(net, capture)
        time.sleep(0.3)
        assert live.stop(signal.SIGINT) == 0, live.stderr.read_text()
        text = live.stdout.read_text()
    assert len(tshark_frames(written)) == 12
    # Messages as they came (one line each), then the text report.
    assert text.count("IKE_SA_INIT") >= 2
    assert "Traceback" not in live.stderr.read_text()


def test_live_count_and_timeout(tmp_path: Path) -> None:
    capture = LAB / "psk-aes256-sha256-modp2048" / "capture.pcap"
    with veth_namespaces(tmp_path) as net:
        live = start_live(net, "count", "--json", "--count", "5", "--timeout", "20")
        live.wait_listening()
        replay(net, capture)
        assert live.proc.wait(timeout=20) == 0, live.stderr.read_text()
        assert live.report()["counters"]["frames"] == 5

        t0 = time.monotonic()
        idle = start_live(net, "idle", "--json", "--timeout", "1")
        idle.wait_listening()
        assert idle.proc.wait(timeout=20) == 0, idle.stderr.read_text()
        assert time.monotonic() - t0 < 15
        assert idle.report()["counters"]["frames"] == 0


def test_live_keys_file_read_again_at_stop(tmp_path: Path) -> None:
    # The keys file does not exist when the capture starts (as a charon log that is only
    # written while the tunnel negotiates); it appears before the stop and the final report
    # is computed with it, over the frames already captured.
    scenario = LAB / "psk-aes256-sha256-modp2048"
    keys = tmp_path / "later.toml"
    written = tmp_path / "live.pcap"
    with veth_namespaces(tmp_path) as net:
        live = start_run_live(net, "later", keys, written)
        live.wait_listening()
        assert "keys not usable yet" in live.stderr.read_text()
        replay(net, scenario / "capture.pcap")
        keys.write_text((scenario / "keys.toml").read_text())
        time.sleep(0.3)
        assert live.stop() == 0, live.stderr.read_text()
        got = live.report()
    assert "keys read again" in live.stderr.read_text()
    assert got["counters"]["ike_decrypted"] > 0
    assert without_capture_name(got) == without_capture_name(report_json(written, keys))


def test_live_interface_gone_still_reports(tmp_path: Path) -> None:
    capture = LAB / "psk-aes256-sha256-modp2048" / "capture.pcap"
    written = tmp_path / "gone.pcap"
    with veth_namespaces(tmp_path) as net:
        live = start_live(net, "gone", "--json", "--timeout", "20", "--write", str(written))
        live.wait_listening()
        replay(net, capture)
        time.sleep(0.3)
        subprocess.run(["ip", "-n", net.a, "link", "del", net.if_a], check=True)
        rc = live.proc.wait(timeout=20)
        got = live.report()
    err = live.stderr.read_text()
    assert rc == 1, err
    assert "Traceback" not in err
    assert f"capture on {net.if_a} stopped" in err
    assert got["counters"]["frames"] == 12
    assert len(tshark_frames(written)) == 12
