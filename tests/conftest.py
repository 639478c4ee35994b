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


@pytest.fixture(scope="session")
def nb201_data(shared_data, tmp_path_factory) -> Path:
    """A data folder holding the ``nb201`` table built once from ``../shared/data``.

    Use with ``monkeypatch.setenv("BENCHLAB_DATA", str(nb201_data))``.
    """
    from benchmarks.nb201 import build

    folder = tmp_path_factory.mktemp("benchlab-data")
    build(shared_data, root=folder / "tables")
    return folder
