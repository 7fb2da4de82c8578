"""A domain's settings in its ``domain.yaml``: ``schema_changes`` (hold or violate) and the
default ``check_schedule`` round-trip export -> apply -> export byte-identical, a hand edit plans
and applies exactly that change, and the JSON Schema of mesh files knows them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakemesh import meshfile
from lakemesh.catalog import domains
from lakemesh.errors import InvalidInputError
from lakemesh.identity.principals import get_domain_row
from tests.conftest import HubEnv
from tests.meshfile.conftest import export_text, fresh_hub


@pytest.fixture
def source(tmp_path: Path) -> Iterator[HubEnv]:
    """A hub with a producer domain whose breaking schema changes violate its contracts."""
    env = fresh_hub(tmp_path / "source")
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="shop", producer=True)
        domains.update_domain(
            session,
            actor=env.admin,
            name="shop",
            schema_changes="violate",
            check_schedule="0 6 * * 1-5",
        )
        domains.create_domain(session, actor=env.admin, name="buyers", consumer=True)
    yield env
    env.hub.close()


def test_schema_changes_round_trips_byte_identical(
    source: HubEnv, fresh: HubEnv, tmp_path: Path
) -> None:
    text = export_text(source.hub, source.admin)
    assert "schema_changes: violate\n" in text["shop/domain.yaml"]
    assert "check_schedule: 0 6 * * 1-5\n" in text["shop/domain.yaml"]
    assert "schema_changes" not in text["buyers/domain.yaml"]  # the default, hold, is left out
    assert "check_schedule" not in text["buyers/domain.yaml"]
    folder = tmp_path / "mesh"
    with source.hub.read() as session:
        meshfile.write_files(meshfile.export_mesh(session, actor=source.admin), folder)
    result = meshfile.apply_mesh(fresh.hub, actor=fresh.admin, files=meshfile.read_files(folder))
    assert result.plan.problems == []
    with fresh.hub.read() as session:
        assert get_domain_row(session, "shop").schema_changes == "violate"
        assert get_domain_row(session, "shop").check_schedule == "0 6 * * 1-5"
        assert get_domain_row(session, "buyers").schema_changes == "hold"
    assert export_text(fresh.hub, fresh.admin) == text
    again = meshfile.apply_mesh(fresh.hub, actor=fresh.admin, files=meshfile.read_files(folder))
    assert again.plan.changes == []


def test_an_edited_setting_plans_and_applies_that_change(source: HubEnv, tmp_path: Path) -> None:
    folder = tmp_path / "mesh"
    with source.hub.read() as session:
        meshfile.write_files(meshfile.export_mesh(session, actor=source.admin), folder)
    domain_file = folder / "shop" / "domain.yaml"
    domain_file.write_text(domain_file.read_text().replace("violate", "hold"))
    files = meshfile.read_files(folder)
    plan = meshfile.plan_mesh(source.hub, actor=source.admin, files=files)
    assert [(c.action, c.resource.kind, c.resource.key) for c in plan.changes] == [
        ("change", "domain", "shop")
    ]
    meshfile.apply_mesh(source.hub, actor=source.admin, files=files)
    with source.hub.read() as session:
        assert get_domain_row(session, "shop").schema_changes == "hold"
    domain_file.write_text(domain_file.read_text() + "schema_changes: ignore\n")
    with pytest.raises(InvalidInputError, match="shop/domain.yaml") as refused:
        meshfile.read_files(folder)
    assert "schema_changes" in str(refused.value)


def test_the_json_schema_of_domain_yaml_names_the_settings() -> None:
    schema = meshfile.json_schema("domain.yaml")
    assert schema["properties"]["schema_changes"]["enum"] == ["hold", "violate"]
    assert schema["properties"]["schema_changes"]["default"] == "hold"
    assert "cron" in schema["properties"]["check_schedule"]["description"]
