"""Shared fixtures: where the external captures and vectors live."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
