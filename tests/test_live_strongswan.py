"""``ikeview live`` watching two real strongSwan 5.9.8 peers negotiate (captures/lab/make.sh,
scenario psk-aes256-sha256-modp2048, in fresh namespaces, output under a temporary LAB_OUT).

charon logs the DH secret g^ir only while the negotiation runs, so it cannot be handed to
``ikeview live`` beforehand. The live run is given the charon log path (and the PSK the user
configured): the log does not exist yet when the capture starts, and is read again when the
capture stops; the final report is then computed over the captured frames with only the PSK and
the DH secret from the log ("secrets" mode: every other key is derived by ikeview, none taken
from the log). Separately, ``ikeview report`` of the --write file with a keys file holding only
the logged g^ir and the PSK must give the same report.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_live_support import (
    LAB,
    REPO,
    RUN_LIVE_SCRIPT,
    frames_of,
    needs_root,
    report_json,
    tshark_frames,
    unique_tag,
    without_capture_name,
)

pytestmark = [pytest.mark.root, needs_root]

SCENARIO = "psk-aes256-sha256-modp2048"


def _dh_secrets(log: Path) -> list[str]:
    """Every ``shared Diffie Hellman secret => N bytes`` blob of a charon log, as hex."""
    out: list[str] = []
    lines = log.read_text().splitlines()
    for i, line in enumerate(lines):
        m = re.search(r"(\d+\[IKE\]) .*shared Diffie Hellman secret => (\d+) bytes", line)
        if not m:
            continue
        thread, size, hexed = m.group(1), int(m.group(2)), ""
        # The dump lines follow, prefixed by the same thread and group: "  16: AA BB ...  text".
        for dump in lines[i + 1 :]:
            d = re.search(re.escape(thread) + r" .*?\s+\d+: ((?:[0-9A-F]{2} ){1,16})", dump)
            if not d:
                break
            hexed += d.group(1).replace(" ", "")
            if len(hexed) >= 2 * size:
                break
        assert len(hexed) == 2 * size, line
        out.append(hexed.lower())
    return out


def _psk(scenario: str) -> str:
    conf = (LAB / "scenarios" / scenario / "initiator" / "swanctl.conf").read_text()
    m = re.search(r'secret\s*=\s*"([^"]+)"', conf)
    assert m
    return m.group(1)


def test_live_watches_strongswan_negotiate(tmp_path: Path) -> None:
    if not Path("/usr/lib/ipsec/charon").exists() or not shutil.which("swanctl"):
        pytest.fail("strongSwan is not installed (.ci/install installs it)")
    lab_out = tmp_path / "lab"
    script = tmp_path / "watch.py"
    script.write_text(RUN_LIVE_SCRIPT)
    psk_toml = tmp_path / "psk.toml"
    psk_toml.write_text(f'[[psk]]\nsecret = "{_psk(SCENARIO)}"\n')
    # Runs in the capture namespace on the captured interface, next to tcpdump.
    watch = (
        f"exec {shlex.quote(sys.executable)} {shlex.quote(str(script))} "
        f'"$CAP_IF" {shlex.quote(str(psk_toml))},"$SCEN_OUT/initiator.log" secrets '
        '"$SCEN_OUT/live.pcap" 60'
    )
    env = {
        **os.environ,
        "SKIP_APT": "1",
        "LAB_OUT": str(lab_out),
        "LAB_NS_PREFIX": f"ikvt-{unique_tag()}",
        "LAB_CAPTURE_CMD": watch,
        "LAB_CAPTURE_READY": "ikeview: listening on",
    }
    proc = subprocess.run(
        ["bash", str(LAB / "make.sh"), SCENARIO],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    out = lab_out / SCENARIO
    err = (out / "capture-cmd.err").read_text() if (out / "capture-cmd.err").exists() else ""
    assert proc.returncode == 0, proc.stdout + proc.stderr + err
    assert "Traceback" not in err
    assert "keys not usable yet" in err  # the log was not there when the capture started
    assert "keys read again" in err
    got = json.loads((out / "capture-cmd.out").read_text())

    c = got["counters"]
    assert c["ike_decrypted"] > 0 and c["ike_integrity_failed"] == 0
    assert c["esp_decrypted"] > 0 and c["esp_integrity_failed"] == 0
    (sa,) = got["ike_sas"]
    assert sa["established_ts"] is not None
    assert sa["auth"]["initiator"]["method"] == sa["auth"]["responder"]["method"]
    assert sa["auth"]["initiator"]["method"] == "SHARED_KEY_MIC"
    assert sa["auth"]["initiator"]["verified"] is True
    assert sa["auth"]["responder"]["verified"] is True
    (auth,) = [e for e in sa["exchanges"] if e["exchange"] == "IKE_AUTH"]
    assert auth["status"] == "ok"
    assert len(auth["messages"]) == 2
    assert all(m["decrypted"] and m["integrity"] == "ok" for m in auth["messages"])
    assert sum(ch["esp_decrypted"] for ch in sa["child_sas"]) == c["esp_decrypted"]

    # ikeview saw what tcpdump saw, frame for frame.
    assert tshark_frames(out / "live.pcap") == frames_of(out / "capture.pcap")

    # The file route with a keys file holding only the logged g^ir and the PSK: same report.
    dh = _dh_secrets(out / "initiator.log")
    assert dh
    keys = tmp_path / "dh.toml"
    keys.write_text("".join(f'[[dh]]\nshared_secret = "{h}"\n\n' for h in dh))
    # (psk.toml again, so the PSK's name in the report, its file and line, is the same)
    from_file = report_json(out / "live.pcap", psk_toml, keys)
    assert without_capture_name(from_file) == without_capture_name(got)
