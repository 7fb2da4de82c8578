"""Reading mesh files: YAML 1.2 booleans (an unquoted ``on:`` is a key) and errors naming the
file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakemesh import meshfile
from lakemesh.errors import InvalidInputError


def test_an_unquoted_on_is_the_grant_target(tmp_path: Path) -> None:
    folder = tmp_path / "sales"
    folder.mkdir()
    (folder / "domain.yaml").write_text("name: sales\nproducer: true\n")
    (folder / "access.yaml").write_text(
        "grants:\n- to: user:emma@sales\n  on: sales.crm.orders\n  permissions: [SELECT]\n"
    )
    files = meshfile.read_files(folder)
    assert files.domains[0].access.grants[0].on == "sales.crm.orders"
    assert files.domains[0].domain.producer is True


def test_a_folder_named_after_another_domain_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mesh" / "sales"
    folder.mkdir(parents=True)
    (folder / "domain.yaml").write_text("name: marketing\n")
    with pytest.raises(InvalidInputError, match="holds domain 'marketing': a domain's folder is"):
        meshfile.read_files(tmp_path / "mesh")


def test_an_unknown_field_is_named_with_its_file(tmp_path: Path) -> None:
    folder = tmp_path / "sales"
    folder.mkdir()
    (folder / "domain.yaml").write_text("name: sales\n")
    (folder / "catalog.yaml").write_text("databases:\n- name: crm\n  tabels: []\n")
    with pytest.raises(InvalidInputError, match=r"catalog.yaml: databases.0.tabels: Extra inputs"):
        meshfile.read_files(folder)
