"""The ``config`` command and ``--config`` on ``report``/``export``, run as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from config_support import DATA, LAB, REPO

from ikeview.config.load import read_config

CAPTURE = LAB / "asym-psk" / "capture.pcap"
KEYS = LAB / "asym-psk" / "keys.toml"


def ikeview(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ikeview", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


def test_config_command_writes_both_sides_that_parse_back() -> None:
    run = ikeview("config", CAPTURE, "--keys", KEYS, "--swanctl")
    assert run.returncode == 0, run.stderr
    assert "the initiator (192.0.2.1)" in run.stdout and "the responder (192.0.2.2)" in run.stdout
    assert "lab-asym-psk" not in run.stdout  # placeholders unless --show-secrets
    # Each side is a different device's file: swanctl would merge same-named sections of one
    # file (settings_parser.y), so each side is read back on its own.
    for side, me in (("initiator", "192.0.2.1"), ("responder", "192.0.2.2")):
        one = ikeview("config", CAPTURE, "--keys", KEYS, "--swanctl", "--side", side)
        assert one.returncode == 0, one.stderr
        (conn,) = read_config(one.stdout, "out").connections
        assert conn.local_addrs == (me,)


def test_config_command_ios_one_side_with_secrets() -> None:
    run = ikeview("config", CAPTURE, "--keys", KEYS, "--ios", "--side", "responder",
                  "--show-secrets")  # fmt: skip
    assert run.returncode == 0, run.stderr
    # truth.json: the responder's AUTH used lab-asym-psk-one, the initiator's lab-asym-psk-two.
    assert "pre-shared-key local lab-asym-psk-one" in run.stdout
    assert "pre-shared-key remote lab-asym-psk-two" in run.stdout


def test_report_and_export_take_configs(tmp_path: Path) -> None:
    cfg = DATA / "ios" / "asym-responder.cfg"
    run = ikeview("report", CAPTURE, "--config", cfg, "--ios-release", "ios15")
    assert run.returncode == 0, run.stderr
    # Only the DH-free run: no keys, so AUTHs cannot be checked, but the report runs.
    run = ikeview("export", CAPTURE, "--config", cfg, "--csv", tmp_path / "t.csv")
    assert run.returncode == 0, run.stderr


def test_config_error_names_file_line_and_fix(tmp_path: Path) -> None:
    bad = tmp_path / "swanctl.conf"
    bad.write_text("connections {\n  lab {\n    proposals = aes256-sha256-modp9999\n  }\n}\n")
    run = ikeview("report", CAPTURE, "--config", bad)
    assert run.returncode == 1
    assert f"{bad}:3: proposals = aes256-sha256-modp9999: unknown algorithm keyword" in run.stderr
    assert "use strongSwan keywords" in run.stderr and "Traceback" not in run.stderr
    run = ikeview("report", CAPTURE, "--config", tmp_path / "missing.cfg")
    assert run.returncode == 1 and "no such file" in run.stderr


def test_unknown_ios_release_is_a_usage_error() -> None:
    run = ikeview("report", CAPTURE, "--config", DATA / "ios" / "psk-responder.cfg",
                  "--ios-release", "ios12")  # fmt: skip
    assert run.returncode == 2 and "ios15" in run.stderr


def test_ios_release_iosxe16_and_weak_note_in_report(tmp_path: Path) -> None:
    """3des-sha1-modp1024 (truth.json: IKE 3DES_CBC/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024):
    an IOS responder configured with 3des and group 2 takes it as --ios-release iosxe16; the
    default (iosxe17, IOS XE 17.11.1+) says FN72510 refuses those words, naming the line."""
    text = (DATA / "ios" / "psk-responder.cfg").read_text()
    text = text.replace(" encryption aes-cbc-256", " encryption 3des")
    text = text.replace(" integrity sha256", " integrity sha1").replace(" group 14", " group 2")
    cfg = tmp_path / "legacy.cfg"
    cfg.write_text(text)
    capture = LAB / "3des-sha1-modp1024" / "capture.pcap"
    run = ikeview("report", capture, "--config", cfg, "--ios-release", "iosxe16")
    assert run.returncode == 0, run.stderr
    assert "FN72510" not in run.stdout and "proposal ok" in run.stdout
    run = ikeview("report", capture, "--config", cfg)
    assert run.returncode == 0, run.stderr
    assert f"{cfg}:9: encryption 3des in crypto ikev2 proposal LAB-PROP" in run.stdout
    assert "FN72510" in run.stdout
