"""The sharing mesh (:mod:`tests.factories.sharing`) on each store backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.sharing import SharingMesh, build_sharing_mesh


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> SharingMesh:
    return build_sharing_mesh(env, Lake(tmp_path / "lake"))
