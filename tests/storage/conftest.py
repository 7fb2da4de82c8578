"""Fixtures for storage tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories.lake import Lake


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """An empty folder to write data files into."""
    return Lake(tmp_path / "lake")
