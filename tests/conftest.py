"""Shared fixtures. Keep this file small: each test module owns its own helpers."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session", autouse=True)
def _session_data_dir(tmp_path_factory):
    """Tests never read or write the user's data cache: BENCHLAB_DATA is a fresh folder."""
    folder = tmp_path_factory.mktemp("benchlab-data")
    old = os.environ.get("BENCHLAB_DATA")
    os.environ["BENCHLAB_DATA"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("BENCHLAB_DATA", None)
    else:
        os.environ["BENCHLAB_DATA"] = old


@pytest.fixture(scope="session")
def built_tables(_session_data_dir) -> Path | None:
    """Every registered table built once from ``../shared/data`` into the session data
    folder; None (nothing built) when the shared data is absent."""
    if not (SHARED_DATA / "README.md").is_file():
        return None
    import benchlab
    from benchlab._tables import TABLE_BUILDERS

    benchlab.BENCHMARKS.names()  # importing the benchmarks registers their table builders
    for builder in TABLE_BUILDERS.values():
        builder.build(SHARED_DATA, root=_session_data_dir / "tables")
    return _session_data_dir


@pytest.fixture(scope="session")
def nb201_data(shared_data, built_tables) -> Path:
    """A data folder holding every table built from ``../shared/data`` (nb201 included).

    It is the session's BENCHLAB_DATA already; tests may also set it explicitly.
    """
    return built_tables
