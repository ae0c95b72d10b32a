"""Fixtures for the data-layer tests: the committed tiny layouts and the shared real data."""

from __future__ import annotations

from pathlib import Path

import pytest

from followir.paths import shared_data

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shared() -> Path:
    root = shared_data()
    if root is None:
        pytest.skip("../shared/data not available")
    return root


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def write():
    """``write(path, text) -> path``, creating parent folders."""
    return _write
