"""What every benchmark does before it times anything."""

from __future__ import annotations

import compileall
import importlib.util


def compile_ikeview() -> None:
    """ikeview's bytecode compiled, as pip does when it installs the package. Where
    PYTHONDONTWRITEBYTECODE is set (this machine's sessions) a module changed since its .pyc was
    written is compiled from source on every import (5-20 ms each, ~0.1 s for all of them),
    which no installed copy pays. Only changed modules are compiled; nothing is imported."""
    for pkg in ("ikeview", "ikeview.dissectors", "ikeview.tui"):
        spec = importlib.util.find_spec(pkg)
        for where in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(where, quiet=1)
