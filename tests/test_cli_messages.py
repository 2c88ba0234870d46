"""What a user sees on the command line when something is wrong: one clear line, never a
traceback, and never a secret. Each case runs the real command on a real lab capture."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lab_support import lab_scenario

REPO = Path(__file__).resolve().parents[1]
PSK = lab_scenario("psk-aes256-sha256-modp2048")
CAPTURE = PSK.capture
KEYS = PSK.keys_path


def ikeview(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ikeview", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


def _keys_text() -> str:
    return KEYS.read_text()


def _report(keys: Path) -> dict:
    run = ikeview("report", "--json", CAPTURE, "--keys", keys)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    return json.loads(run.stdout)


def test_wrong_psk_says_it_matches_neither_side(tmp_path: Path) -> None:
    bad = tmp_path / "keys.toml"
    bad.write_text(re.sub(r'secret = "', 'secret = "not-', _keys_text(), count=1))
    sa = _report(bad)["ike_sas"][0]
    verdicts = sa["auth"]
    for side in ("initiator", "responder"):
        assert verdicts[side]["verified"] is False
        assert "matches no PSK" in verdicts[side]["detail"]
        assert "matches neither side" in verdicts[side]["detail"]
        # The PSK is named by where it came from, never by its value.
        assert "keys.toml:4" in verdicts[side]["detail"]
        assert "not-lab" not in verdicts[side]["detail"]
    text = ikeview("report", CAPTURE, "--keys", bad).stdout
    assert "NOT verified" in text and "not-lab" not in text


def test_wrong_dh_secret_names_the_message_and_the_key_tried(tmp_path: Path) -> None:
    bad = tmp_path / "keys.toml"
    bad.write_text(re.sub(r'shared_secret = "(..)', r'shared_secret = "00', _keys_text()))
    report = _report(bad)
    encrypted = [
        m
        for e in report["ike_sas"][0]["exchanges"]
        if e["exchange"] != "IKE_SA_INIT"
        for m in e["messages"]
    ]
    assert encrypted and all(m["integrity"] == "failed" for m in encrypted)
    assert not any(m["decrypted"] for m in encrypted)
    text = ikeview("report", CAPTURE, "--keys", bad).stdout
    assert re.search(
        r"integrity check failed for IKE_AUTH request \(message ID 1\) of IKE SA "
        r"[0-9a-f]{16}/[0-9a-f]{16}: SK_ai derived from \[\[dh\]\] \S*keys.toml:7 does not verify",
        text,
    ), text
    # The secret itself is never printed.
    secret = re.search(r'shared_secret = "([0-9a-f]+)"', bad.read_text()).group(1)
    assert secret[:16] not in text


def test_missing_keys_say_what_is_needed() -> None:
    text = ikeview("report", CAPTURE).stdout
    assert "[[dh]]" in text or "no keys" in text


def test_keys_file_typo_names_file_line_and_fix(tmp_path: Path) -> None:
    bad = tmp_path / "keys.toml"
    bad.write_text(_keys_text().replace("shared_secret =", "shared_secrt =", 1))
    run = ikeview("report", CAPTURE, "--keys", bad)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines() == [
        f"ikeview: {bad}:8: unknown field 'shared_secrt' in [[dh]] (did you mean 'shared_secret'?)"
    ]


def test_bad_hex_in_keys_file(tmp_path: Path) -> None:
    bad = tmp_path / "keys.toml"
    bad.write_text(_keys_text().replace('shared_secret = "', 'shared_secret = "zz', 1))
    run = ikeview("report", CAPTURE, "--keys", bad)
    assert run.returncode == 1
    assert re.fullmatch(rf"ikeview: {re.escape(str(bad))}:8: .*not hex.*\n", run.stderr)


def test_truncated_capture_is_read_up_to_the_damage(tmp_path: Path) -> None:
    data = CAPTURE.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) * 2 // 3])
    run = ikeview("report", "--json", cut, "--keys", KEYS)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    report = json.loads(run.stdout)
    full = _report(KEYS)
    assert 0 < report["counters"]["frames"] < full["counters"]["frames"]
    # What was read before the damage is still decrypted.
    assert report["counters"]["ike_decrypted"] >= 2
    problems = " ".join(p["text"] for p in report["problems"])
    assert "capture file damaged: file ends inside frame" in problems


def test_export_and_keys_say_where_a_damaged_capture_stopped(tmp_path: Path) -> None:
    """export and keys write data, not a report: a capture cut two thirds in gives their
    output for what was read and one stderr line in report's words; a whole one, none."""
    data = CAPTURE.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) * 2 // 3])
    report = json.loads(ikeview("report", "--json", cut, "--keys", KEYS).stdout)
    (damage,) = [p["text"] for p in report["problems"] if "capture file damaged" in p["text"]]
    for args in (["export", "--csv", "-"], ["keys", "--keys", str(KEYS)]):
        run = ikeview(args[0], cut, *args[1:])
        assert run.returncode == 0, run.stderr
        assert run.stderr.splitlines() == [f"ikeview: {cut}: {damage}"]
        whole = ikeview(args[0], CAPTURE, *args[1:])
        assert whole.returncode == 0 and whole.stderr == ""


def test_damage_is_said_after_any_number_of_undecodable_frames(tmp_path: Path) -> None:
    """80 frames of a link type nobody decodes (147, USER0), then a record cut short: more
    frame errors than report lists and than decrypt prints, yet where reading stopped (frame
    81, at file offset 24 + 80 x 56) is said by report, decrypt and export alike."""
    import struct

    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 147)
    body = b"".join(
        struct.pack("<IIII", 1_700_000_000 + i, 0, 40, 40) + bytes(40) for i in range(80)
    )
    cap = tmp_path / "many.pcap"
    cap.write_bytes(head + body + struct.pack("<IIII", 1_700_000_100, 0, 40, 40) + bytes(10))
    where = "file ends inside frame 81 (26 bytes of its record) at file offset 4504"
    report = json.loads(ikeview("report", "--json", cap).stdout)
    assert report["counters"]["frame_errors"] == 81
    assert any(where in p["text"] for p in report["problems"])
    decrypt = ikeview("decrypt", cap, "--keys", KEYS, "-o", tmp_path / "o.pcap")
    assert decrypt.returncode == 0
    assert where in decrypt.stderr.splitlines()[-1]
    assert "81 undecodable frames" in decrypt.stderr.splitlines()[0]
    export = ikeview("export", cap, "--csv", "-")
    assert where in export.stderr


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal the report run draws a rich progress bar on stderr; piped, it does not."""
    piped = ikeview("report", CAPTURE, "--keys", KEYS)
    assert "reading" not in piped.stderr
    pid, fd = pty.fork()
    if pid == 0:  # child: stderr (and stdout) are the pty
        os.chdir(REPO)
        os.execv(
            sys.executable,
            [sys.executable, "-m", "ikeview", "report", str(CAPTURE), "--keys", str(KEYS)],
        )
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"IKE SA" in out
    # rich hides the cursor while it draws a live bar.
    assert b"\x1b[?25l" in out


@pytest.mark.parametrize("command", ["report", "export", "keys", "decrypt"])
def test_commands_on_a_missing_capture(command: str, tmp_path: Path) -> None:
    extra = {"export": ["--csv", "-"], "decrypt": ["-o", str(tmp_path / "o.pcap")]}
    args = [command, "/nonexistent.pcap", "--keys", str(KEYS), *extra.get(command, [])]
    run = ikeview(*args)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "ikeview: /nonexistent.pcap: cannot open: No such file or directory"
    ]


def test_only_the_program_freezes_before_exit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``main()`` run as the program (no arguments given) freezes what is alive before the
    process exits, sparing the exit's last garbage-collection pass; ``main(argv)`` from a
    caller that goes on (these tests) leaves its objects alone. Output and exit code as ever."""
    import gc

    from ikeview.cli import main

    before = gc.get_freeze_count()
    assert main(["summary", str(CAPTURE)]) == 0
    assert gc.get_freeze_count() == before
    one = capsys.readouterr().out
    code = (
        "import gc, sys\nfrom ikeview.cli import main\n"
        f"sys.argv = ['ikeview', 'summary', {str(CAPTURE)!r}]\n"
        "rc = main()\nprint('frozen', gc.get_freeze_count() > 0, file=sys.stderr)\nsys.exit(rc)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0 and "frozen True" in run.stderr
    assert run.stdout == one
