"""The quality suites' shop (:mod:`tests.factories.quality`), on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.quality import Shop, build_shop


@pytest.fixture
def shop(sqlite_env: HubEnv, tmp_path: Path) -> Shop:
    return build_shop(sqlite_env, Lake(tmp_path / "lake"))
