"""Shared fixtures: where the external captures and vectors live."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from lab_support import Lab, lab_scenario

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"external test data not found at {SHARED} (../shared beside the checkout)")
    return SHARED


def load_vectors(name: str) -> dict:
    """Load one JSON vector file from ../shared/vectors by file name."""
    return json.loads((SHARED / "vectors" / name).read_text())


# ---------------------------------------------------------------- the strongSwan lab captures


@pytest.fixture(scope="session")
def lab() -> Callable[[str], Lab]:
    """``lab(name)``: a lab scenario, its truth, key ring and analyses loaded once per session.

    The records are frozen, so sharing one analysis between tests is safe.
    """
    return lab_scenario
