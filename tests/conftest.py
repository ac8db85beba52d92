"""Shared fixtures.

Real data lives outside the project, in ``../shared/data`` beside the checkout (or where
``SOCECON_GEO_SHARED_DATA`` points). Tests that need it use the ``shared_data`` fixture:
they are skipped when it is absent, except under CI (``CI=true``), where its absence is
an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline: timing on a shared 2-core machine is not what these tests
# check (speed is measured in benchmarks/), and a deadline there only makes them flaky.
settings.register_profile("socecon_geo", deadline=None, print_blob=True)
settings.load_profile("socecon_geo")

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"


def _shared_data_dir() -> Path:
    explicit = os.environ.get("SOCECON_GEO_SHARED_DATA")
    return Path(explicit) if explicit else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real data folder; skip (or fail under CI) when it is absent."""
    path = _shared_data_dir()
    if not (path / "README.md").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the real data at {path}, but it is not there")
        pytest.skip(f"real data not found at {path}")
    return path


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Path of the small fixtures committed in ``tests/data``."""
    return TEST_DATA


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Give every test an empty download cache, so no test sees another's files."""
    monkeypatch.setenv("SOCECON_GEO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
