"""README's promises that can be checked mechanically."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    ")]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, second = _commands()
    ci = [
        line
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert ci == [second]


def test_first_command_opens_a_bundled_capture_with_its_keys() -> None:
    first, _ = _commands()
    files = re.findall(r"captures/\S+", first)
    assert files and all((REPO / f).is_file() for f in files)
