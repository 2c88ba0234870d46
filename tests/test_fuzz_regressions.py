"""Every input a fuzzer found that broke an invariant, replayed through its target (see
fuzz/harnesses.py). A file's name starts with the target: ``keys-...``, ``capture-...``,
``ikev2-...``, ``decrypt-...``. None needs atheris."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOUND = sorted((REPO / "tests" / "fuzz_regressions").iterdir())


@pytest.mark.parametrize("path", FOUND, ids=[p.name for p in FOUND])
def test_fuzz_finding_holds_the_invariant(path: Path) -> None:
    sys.path.insert(0, str(REPO))
    try:
        from fuzz.harnesses import TARGETS
    finally:
        sys.path.remove(str(REPO))
    TARGETS[path.name.split("-", 1)[0]](path.read_bytes())


def test_odd_length_key_in_a_pluto_log_names_the_line() -> None:
    """The first finding (keys target, 10-minute run): a pluto "ikev2 I ..." key line whose
    hex has an odd number of digits raised ValueError from bytes.fromhex."""
    from ikeview.keys.errors import KeysFileError
    from ikeview.keys.loader import load_text

    text = (REPO / "tests" / "fuzz_regressions" / "keys-pluto-odd-hex-key.log").read_bytes()
    with pytest.raises(KeysFileError) as err:
        load_text(text.decode("utf-8", errors="replace"), "pluto.log")
    assert "not hex (odd length" in err.value.msg and err.value.line > 0
