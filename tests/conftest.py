"""Shared fixtures. Keep this file small: each test module owns its own helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

# ../shared/data relative to the project root (the folder holding pyproject.toml).
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; skips the test when the folder is absent."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
