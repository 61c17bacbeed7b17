"""Shared test fixtures. Tests that read ../shared/data skip with a clear reason where it is absent."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("HEDGE_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))

if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test saying what is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"recorded data not available: {path} (../shared/data is absent on this machine)")
    return path


@pytest.fixture
def log_lines():
    """The project's log lines written during the test, as text (then logging goes back to stdout)."""
    from execution import logs

    buf = io.StringIO()
    logs.setup("INFO", stream=buf)
    yield buf
    logs.setup("INFO")


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture
def config_dir() -> Path:
    return PROJECT_ROOT / "config"
