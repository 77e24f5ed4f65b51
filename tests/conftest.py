"""Shared pytest fixtures.

Real data lives in ../shared/data (next to the repository). Tests that need it use the
``shared_data`` fixture, which skips with a clear message when the folder is absent.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("REGIO_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data; skips the calling test with a clear message when absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (tests on ../shared/data need the shared folder next to the repository)")
    return path


@pytest.fixture
def shared_data() -> Path:
    return shared_path()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for test artefacts that a person may want to look at (PNG maps, HTML reports)."""
    path = REPO / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
