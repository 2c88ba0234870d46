"""tshark's reading of every IKE message in a capture, through pyshark, in a child process.

pyshark drives tshark with asyncio's subprocess support under its own SafeChildWatcher. Two
parties may reap tshark once it exits: that watcher's SIGCHLD handler and the transport's
``Popen.poll()`` when pyshark closes the pipes. If the poll wins, the watcher's waitpid finds
no child, asyncio reports exit code 255 in its place, and pyshark raises
TSharkCrashException after a complete read. CI met this once in the pytest process and once
more in a fresh interpreter, so it is a race in pyshark and asyncio, not left-over state. A
fresh interpreter per capture keeps the reference apart from earlier tests, and a run that
ends with exactly that exit code is tried again (a real tshark failure fails every try).

``read(path)`` returns ``{frame: fields}``; run as a script it prints the same as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

# The isakmp fields the tests compare, read as shown (decimal or 0x-prefixed) unless raw.
LISTS = {
    "typepayload": False,
    "notify_msgtype": False,
    "key_exchange_dh_group": False,
    "vid_string": True,
    "tf_id_encr": False,
    "tf_id_prf": False,
    "tf_id_integ": False,
    "tf_id_dh": False,
}


def _collect(path: str) -> dict[int, dict[str, Any]]:
    import pyshark

    out: dict[int, dict[str, Any]] = {}
    cap = pyshark.FileCapture(path, display_filter="isakmp", keep_packets=False)
    try:
        for pkt in cap:
            layer = pkt.isakmp
            fields: dict[str, Any] = {
                "mjver": int(layer.mjver, 0),
                "ispi": layer.ispi.replace(":", ""),
                "rspi": layer.rspi.replace(":", ""),
                "exchangetype": int(layer.exchangetype, 0),
                "messageid": int(layer.messageid, 16),
                "flags": int(layer.flags, 16),
            }
            for name, raw in LISTS.items():
                field = layer.get_field(name)
                fields[name] = (
                    [f.raw_value if raw else f.show for f in field.all_fields]
                    if field is not None
                    else []
                )
            out[int(pkt.number)] = fields
    finally:
        cap.close()
    return out


# asyncio's stand-in exit code when the child was reaped elsewhere, as pyshark words it.
REAPED_ELSEWHERE = "retcode: 255)"
TRIES = 3


def read(path: Path) -> dict[int, dict[str, Any]]:
    for _ in range(TRIES):
        run = subprocess.run(
            [sys.executable, __file__, str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if run.returncode == 0 or REAPED_ELSEWHERE not in run.stderr:
            break
    assert run.returncode == 0, f"pyshark on {path}: {run.stderr[-2000:]}"
    return {int(frame): fields for frame, fields in json.loads(run.stdout).items()}


if __name__ == "__main__":
    json.dump(_collect(sys.argv[1]), sys.stdout)
