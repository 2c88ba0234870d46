"""The ``ikeview`` program's entry (ikeview/entry.py): Ctrl-C while the command line is still
being imported or parsed ends it as Ctrl-C during a command does, with one line and exit code
130, not a traceback. The interrupt is raised where a SIGINT 0.05 s after the start landed on a
slow machine (an import under ``ikeview.cli``; the parser), in a fresh interpreter so that
nothing is imported yet."""

from __future__ import annotations

import subprocess
import sys

import pytest

_INTERRUPT_AT_IMPORT = """
import sys

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupt())
"""

_INTERRUPT_AT_PARSE = """
import ikeview.cliparser as p

def build_parser(*a, **k):
    raise KeyboardInterrupt

p.build_parser = build_parser
import ikeview.cli
ikeview.cli.build_parser = build_parser
"""


def _run(setup: str) -> subprocess.CompletedProcess[str]:
    code = f"{setup}\nimport sys\nsys.argv = ['ikeview', 'summary', 'x.pcap']\n"
    code += "from ikeview.entry import run\nraise SystemExit(run())\n"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


@pytest.mark.parametrize("module", ["ikeview.cliparser", "argparse", "ikeview.dissectors.capture"])
def test_interrupted_while_the_command_line_is_imported(module: str) -> None:
    got = _run(_INTERRUPT_AT_IMPORT.format(module=module))
    assert (got.returncode, got.stdout, got.stderr) == (130, "", "ikeview: interrupted\n")


def test_interrupted_while_the_arguments_are_parsed() -> None:
    got = _run(_INTERRUPT_AT_PARSE)
    assert (got.returncode, got.stdout, got.stderr) == (130, "", "ikeview: interrupted\n")


def test_python_m_and_the_script_run_the_same_entry() -> None:
    """``python -m ikeview`` and the installed script both go through ``entry.run``."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"ikeview": "ikeview.entry:run"}
    assert "from ikeview.entry import run" in (root / "ikeview" / "__main__.py").read_text()
