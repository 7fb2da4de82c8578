"""The NimbusCart demo mesh, backed up once; each test restores its own copy to plant changes in."""

from __future__ import annotations

import pytest

from tests.factories.demo import DemoBackup, DemoHome, backed_up_demo
from tests.factories.tokens import clear_cli_environment


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own LAKEMESH_* variables must not reach the CLI the tests run."""
    clear_cli_environment(monkeypatch)


@pytest.fixture(scope="session")
def demo_backup(demo_home: DemoHome, tmp_path_factory: pytest.TempPathFactory) -> DemoBackup:
    return backed_up_demo(demo_home, tmp_path_factory.mktemp("recovery"))
