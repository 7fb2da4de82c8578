"""Tokens in the mesh files name their secret (``secret_env``) and never hold it: apply takes the
value from the caller, the hub keeps its hash, export writes the name again, and a secret not
given is named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lakemesh import meshfile
from lakemesh.errors import AuthenticationError, InvalidInputError
from lakemesh.identity.tokens import authenticate
from lakemesh.meshfile.model import (
    DomainFile,
    DomainFolder,
    MeshFile,
    MeshFiles,
    PrincipalSpec,
    TokenSpec,
    WorkgroupSpec,
)
from lakemesh.meshfile.secrets import read_secrets_file, referenced_secrets, resolve_secrets
from lakemesh.query.workgroups import create_workgroup, get_workgroup_row
from lakemesh.store.schema import ApiToken, AuditEvent
from tests.conftest import HubEnv
from tests.meshfile.conftest import fresh_hub

SECRET = "lm_etl-secret-from-the-vault-0123456789"
ROTATED = "lm_etl-secret-rotated-in-the-vault-9876543210"


def _files(*tokens: TokenSpec) -> MeshFiles:
    return MeshFiles(
        domains=[
            DomainFolder(
                domain=DomainFile(
                    name="sales",
                    producer=True,
                    principals=[PrincipalSpec(name="service:etl@sales", tokens=list(tokens))],
                )
            )
        ]
    )


def _export(env: HubEnv) -> dict[str, str]:
    with env.hub.read() as session:
        files = meshfile.export_mesh(session, actor=env.admin, domains=["sales"])
    return meshfile.render_files(files)


def _authenticates(env: HubEnv, token: str) -> str | None:
    with env.hub.read() as session:
        try:
            return authenticate(session, token).ref
        except AuthenticationError:
            return None


def test_a_token_is_made_from_the_named_secret_and_exported_by_name(env: HubEnv) -> None:
    files = _files(TokenSpec(secret_env="SALES_ETL_TOKEN", description="nightly load"))
    result = meshfile.apply_mesh(
        env.hub, actor=env.admin, files=files, secrets={"SALES_ETL_TOKEN": SECRET}
    )
    token_changes = [c for c in result.plan.changes if c.resource.kind == "token"]
    assert [c.resource.key for c in token_changes] == ["service:etl@sales|SALES_ETL_TOKEN"]
    assert token_changes[0].resource.body["secret"].startswith("sha256:")
    assert _authenticates(env, SECRET) == "service:etl@sales"

    text = _export(env)["sales/domain.yaml"]
    assert "  tokens:\n  - secret_env: SALES_ETL_TOKEN\n    description: nightly load\n" in text
    assert SECRET not in json.dumps(_export(env))
    with env.hub.read() as session:
        stored = session.execute(select(ApiToken).where(ApiToken.secret_name.is_not(None))).scalar()
        assert stored is not None
        assert SECRET[:10] not in stored.prefix  # not even the start of the secret is kept
        details = [json.dumps(e.details) for e in session.execute(select(AuditEvent)).scalars()]
    assert not any(SECRET in d for d in details)

    # The same secret again, or no secret at all (the hub's is kept): nothing to do.
    again = meshfile.plan_mesh(
        env.hub, actor=env.admin, files=files, secrets={"SALES_ETL_TOKEN": SECRET}
    )
    assert (again.changes, again.problems) == ([], [])
    assert meshfile.plan_mesh(env.hub, actor=env.admin, files=files).changes == []


def test_a_new_secret_rotates_the_token(env: HubEnv) -> None:
    files = _files(TokenSpec(secret_env="SALES_ETL_TOKEN"))
    meshfile.apply_mesh(env.hub, actor=env.admin, files=files, secrets={"SALES_ETL_TOKEN": SECRET})
    before = _export(env)
    plan = meshfile.plan_mesh(
        env.hub, actor=env.admin, files=files, secrets={"SALES_ETL_TOKEN": ROTATED}
    )
    assert [(c.action, c.resource.kind) for c in plan.changes] == [("change", "token")]
    meshfile.apply_mesh(env.hub, actor=env.admin, files=files, secrets={"SALES_ETL_TOKEN": ROTATED})
    assert _authenticates(env, SECRET) is None
    assert _authenticates(env, ROTATED) == "service:etl@sales"
    assert _export(env) == before
    # A description or expiry changes in place, without the secret.
    later = datetime(2099, 1, 1, tzinfo=UTC)
    meshfile.apply_mesh(
        env.hub,
        actor=env.admin,
        files=_files(TokenSpec(secret_env="SALES_ETL_TOKEN", description="x", expires_at=later)),
    )
    assert _authenticates(env, ROTATED) == "service:etl@sales"
    assert "    expires_at: '2099-01-01T00:00:00Z'\n" in _export(env)["sales/domain.yaml"]


def test_a_secret_not_given_is_named_and_nothing_is_applied(env: HubEnv) -> None:
    files = _files(TokenSpec(secret_env="SALES_ETL_TOKEN"))
    plan = meshfile.plan_mesh(env.hub, actor=env.admin, files=files)
    assert [p.error.message for p in plan.problems] == [
        "Secret SALES_ETL_TOKEN of a token of service:etl@sales is not given: set the "
        "environment variable SALES_ETL_TOKEN or a line SALES_ETL_TOKEN=... in the --secrets file"
    ]
    with pytest.raises(InvalidInputError, match=r"^Apply refused, nothing applied: Secret SALES_"):
        meshfile.apply_mesh(env.hub, actor=env.admin, files=files)
    assert "sales/domain.yaml" not in _export_all(env)


def _export_all(env: HubEnv) -> dict[str, str]:
    with env.hub.read() as session:
        return meshfile.render_files(meshfile.export_mesh(session, actor=env.admin))


def test_a_short_secret_is_refused(env: HubEnv) -> None:
    files = _files(TokenSpec(secret_env="SALES_ETL_TOKEN"))
    with pytest.raises(
        InvalidInputError,
        match=r"Secret SALES_ETL_TOKEN is too short for a token of service:etl@sales: at least 32",
    ):
        meshfile.apply_mesh(
            env.hub, actor=env.admin, files=files, secrets={"SALES_ETL_TOKEN": "hunter2"}
        )


def test_prune_revokes_a_token_the_files_no_longer_name(env: HubEnv) -> None:
    meshfile.apply_mesh(
        env.hub,
        actor=env.admin,
        files=_files(TokenSpec(secret_env="SALES_ETL_TOKEN")),
        secrets={"SALES_ETL_TOKEN": SECRET},
    )
    kept = meshfile.plan_mesh(env.hub, actor=env.admin, files=_files())
    assert [r.kind for r in kept.kept] == ["token"]
    meshfile.apply_mesh(env.hub, actor=env.admin, files=_files(), prune=True)
    assert _authenticates(env, SECRET) is None
    assert "tokens" not in _export(env)["sales/domain.yaml"]


def test_secrets_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("# vault export\nexport A='one two'\nB=\"x=y\"\n\nC=plain\n")
    assert read_secrets_file(path) == {"A": "one two", "B": "x=y", "C": "plain"}
    assert resolve_secrets(["A", "D", "E"], secrets_file=path, environ={"A": "env", "D": "d"}) == {
        "A": "one two",
        "D": "d",
    }
    path.write_text("A=1\nthis line holds hunter2\n")
    with pytest.raises(InvalidInputError, match=r"line 2: expected NAME=value$") as raised:
        read_secrets_file(path)
    assert "hunter2" not in str(raised.value)


SPARK_TOKEN = "spark-connect-token-from-the-vault"


def _spark_remote(env: HubEnv) -> str | None:
    with env.hub.read() as session:
        return get_workgroup_row(session, "spark_etl").spark_remote


def test_a_spark_connect_token_is_exported_by_name_and_applied_from_the_secret(
    env: HubEnv, tmp_path: Path
) -> None:
    with env.hub.transaction() as session:
        create_workgroup(
            session,
            actor=env.admin,
            name="spark_etl",
            engine="spark",
            spark_remote=f"sc://spark:15002/;user_id=etl;token={SPARK_TOKEN}",
        )
    with env.hub.read() as session:
        files = meshfile.export_mesh(session, actor=env.admin)
    text = meshfile.render_files(files)["governance/mesh.yaml"]
    assert SPARK_TOKEN not in text
    assert (
        "  spark_remote: sc://spark:15002/;user_id=etl\n"
        "  spark_token_env: SPARK_TOKEN_SPARK_ETL\n" in text
    )
    assert referenced_secrets(files) == ["SPARK_TOKEN_SPARK_ETL"]
    # Its own hub: nothing to do, with the secret or without it (the hub's token is kept).
    assert meshfile.plan_mesh(env.hub, actor=env.admin, files=files).changes == []
    secrets = {"SPARK_TOKEN_SPARK_ETL": SPARK_TOKEN}
    assert meshfile.plan_mesh(env.hub, actor=env.admin, files=files, secrets=secrets).changes == []

    # A fresh hub: refused without the secret (named), rebuilt with it.
    other = fresh_hub(tmp_path / "other", admin=env.admin.ref)
    try:
        with pytest.raises(InvalidInputError, match="Secret SPARK_TOKEN_SPARK_ETL of the Spark"):
            meshfile.apply_mesh(other.hub, actor=other.admin, files=files)
        meshfile.apply_mesh(other.hub, actor=other.admin, files=files, secrets=secrets)
        assert _spark_remote(other) == f"sc://spark:15002/;user_id=etl;token={SPARK_TOKEN}"
        with other.hub.read() as session:
            again = meshfile.render_files(meshfile.export_mesh(session, actor=other.admin))
        assert again["governance/mesh.yaml"] == text
        # A new value rotates it: a change that shows a fingerprint, never the token.
        rotated = {"SPARK_TOKEN_SPARK_ETL": "rotated-spark-connect-token"}
        plan = meshfile.plan_mesh(other.hub, actor=other.admin, files=files, secrets=rotated)
        assert [(c.action, c.resource.kind) for c in plan.changes] == [("change", "workgroup")]
        assert "rotated-spark-connect-token" not in json.dumps(plan.to_dict())
        meshfile.apply_mesh(other.hub, actor=other.admin, files=files, secrets=rotated)
        assert (
            _spark_remote(other)
            == "sc://spark:15002/;user_id=etl;token=rotated-spark-connect-token"
        )
    finally:
        other.hub.close()


def test_a_spark_connect_address_with_its_token_in_the_files_is_refused_unechoed(
    env: HubEnv,
) -> None:
    mesh = MeshFile(
        workgroups=[
            WorkgroupSpec(
                name="spark_etl", engine="spark", spark_remote=f"sc://s:1/;token={SPARK_TOKEN}"
            )
        ]
    )
    with pytest.raises(InvalidInputError, match="spark_remote holds a token") as raised:
        meshfile.plan_mesh(env.hub, actor=env.admin, files=MeshFiles(mesh=mesh))
    assert SPARK_TOKEN not in json.dumps(raised.value.to_dict())
