"""Export -> fresh hub -> apply -> export is byte-identical, and a second apply changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lakemesh import audit, meshfile
from lakemesh.errors import NotFoundError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.meshfile.conftest import export_text, fresh_hub


def test_two_exports_of_the_demo_are_byte_identical(
    demo_mesh: tuple[Hub, Actor], demo_export: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    hub, steward = demo_mesh
    folder, text = demo_export
    again = tmp_path / "again"
    with hub.read() as session:
        meshfile.write_files(meshfile.export_mesh(session, actor=steward), again)
    for relative, content in text.items():
        assert (
            (again / relative).read_bytes() == (folder / relative).read_bytes() == content.encode()
        )
    assert sorted(p.relative_to(again).as_posix() for p in again.rglob("*.yaml")) == sorted(text)


def test_the_demo_rebuilt_from_its_export_exports_byte_identical(
    demo_export: tuple[Path, dict[str, str]], fresh: HubEnv
) -> None:
    folder, text = demo_export
    files = meshfile.read_files(folder)
    result = meshfile.apply_mesh(fresh.hub, actor=fresh.admin, files=files)
    assert result.plan.problems == []
    assert result.committed  # per domain, in dependency order
    assert export_text(fresh.hub, fresh.admin) == text
    # Idempotent: the same files again change nothing.
    second = meshfile.apply_mesh(fresh.hub, actor=fresh.admin, files=files)
    assert second.plan.changes == []
    assert second.committed == []


def test_every_change_of_an_apply_is_audited_under_its_apply_id(
    demo_export: tuple[Path, dict[str, str]], fresh: HubEnv
) -> None:
    folder, _ = demo_export
    with fresh.hub.read() as session:
        before = session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalar()
    result = meshfile.apply_mesh(
        fresh.hub, actor=fresh.admin, files=meshfile.read_files(folder), atomic=True
    )
    with fresh.hub.read() as session:
        events = (
            session.execute(select(AuditEvent).where(AuditEvent.seq > (before or 0)))
            .scalars()
            .all()
        )
        assert audit.verify(session).ok
    assert len(result.committed) == 1  # atomic: one transaction
    assert len(events) > len(result.plan.changes) / 2
    assert {event.details.get("apply_id") for event in events} == {result.apply_id}
    assert {event.actor for event in events} == {fresh.admin.ref}
    assert events[-1].action == "mesh.apply"


@pytest.mark.postgres
def test_the_demo_rebuilds_on_postgresql(
    demo_export: tuple[Path, dict[str, str]], tmp_path: Path, postgres_database: str
) -> None:
    folder, text = demo_export
    env = fresh_hub(tmp_path / "pg", database_url=postgres_database)
    try:
        meshfile.apply_mesh(env.hub, actor=env.admin, files=meshfile.read_files(folder))
        assert export_text(env.hub, env.admin) == text
    finally:
        env.hub.close()


def test_an_unknown_file_kind_has_no_schema() -> None:
    with pytest.raises(NotFoundError, match=r"Mesh file kind does not exist: nope.yaml \(known: "):
        meshfile.json_schema("nope.yaml")
