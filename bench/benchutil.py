"""What every benchmark does before it times anything."""

from __future__ import annotations

import compileall
import importlib.util
import shutil
import sys
from pathlib import Path


def compile_ikeview() -> None:
    """ikeview's bytecode compiled, as pip does when it installs the package. Where
    PYTHONDONTWRITEBYTECODE is set (this machine's sessions) a module changed since its .pyc was
    written is compiled from source on every import (5-20 ms each, ~0.1 s for all of them),
    which no installed copy pays. Only changed modules are compiled; nothing is imported."""
    for pkg in ("ikeview", "ikeview.dissectors", "ikeview.tui"):
        spec = importlib.util.find_spec(pkg)
        for where in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(where, quiet=1)


def ikeview_command() -> str:
    """The ``ikeview`` console script: on PATH, or beside this interpreter (a venv not
    activated)."""
    return shutil.which("ikeview") or str(Path(sys.executable).parent / "ikeview")


def tshark_esp_command(capture: Path) -> list[str]:
    """tshark reading ``capture`` with ESP decryption and the ICV check on (its esp_sa table
    comes from the WIRESHARK_CONFIG_DIR the caller sets), one line per frame: whether the
    ICV verified, and the frame's protocols."""
    cmd = ["tshark", "-r", str(capture), "-o", "esp.enable_encryption_decode:TRUE"]
    cmd += ["-o", "esp.enable_authentication_check:TRUE", "-T", "fields"]
    return [*cmd, "-e", "esp.icv_good", "-e", "frame.protocols"]
