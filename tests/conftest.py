"""Shared pytest fixtures.

Real data lives in ../shared/data (next to the repository; ``$REGIO_SHARED_DATA`` overrides it).
Tests that need it call :func:`shared_path` (or use the ``shared_data`` fixture): it skips with a
clear message when the folder is absent, and FAILS instead when the environment variable ``CI``
is set, so a CI run can never pass by skipping the real-data tests.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("REGIO_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data; skips the calling test with a clear message when absent (fails when ``CI`` is set)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = (f"real data not available: {path} is absent (tests on ../shared/data need the shared folder "
                   "next to the repository, or REGIO_SHARED_DATA pointing at it)")
        if os.environ.get("CI", "").strip():
            pytest.fail(f"{message}; CI is set, so this is a failure, not a skip", pytrace=False)
        pytest.skip(message)
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
