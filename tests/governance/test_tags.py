"""Tag keys: definition by mesh admins, allowed values, and refusing to delete what is in use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    LakemeshError,
    NotFoundError,
)
from lakemesh.governance import grants, guardrails, masks, tag_assignments, tags
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.model.permissions import Permission
from tests.factories.governance import Mesh, build_mesh


@pytest.fixture
def mesh(env: Any, tmp_path: Path) -> Mesh:
    """The factory's mesh (sales.crm.customers, key ``sensitivity``) plus the key ``owner``."""
    mesh = build_mesh(env, tmp_path)
    with env.hub.transaction() as session:
        tags.create_tag(session, actor=env.admin, key="owner", values=["sales", "marketing"])
    return mesh


def test_a_tag_key_lives_and_dies_with_its_values(mesh: Mesh) -> None:
    admin = mesh.env.admin
    with mesh.env.hub.transaction() as session:
        created = tags.create_tag(
            session,
            actor=admin,
            key="region",
            values=["us-east", "eu-west", "eu-west"],
            description="Where the data lives",
        )
        assert sorted(value.value for value in created.values) == ["eu-west", "us-east"]
        updated = tags.update_tag(
            session, actor=admin, key="region", add_values=["ap-south"], remove_values=["us-east"]
        )
        assert sorted(value.value for value in updated.values) == ["ap-south", "eu-west"]
        assert [row.key for row in tags.list_tags(session)] == ["owner", "region", "sensitivity"]
        tags.delete_tag(session, actor=admin, key="region")
        assert [row.key for row in tags.list_tags(session)] == ["owner", "sensitivity"]
        events = audit.search(session, reader=admin, resource="tag:region", limit=10)
    assert [(e.action, e.outcome) for e in reversed(events)] == [
        ("tag.create", "success"),
        ("tag.update", "success"),
        ("tag.delete", "success"),
    ]
    assert events[1].details == {"added": ["ap-south"], "removed": ["us-east"]}


def _create(**kwargs: Any) -> Callable[[Session, Mesh], Any]:
    def run(session: Session, mesh: Mesh) -> Any:
        arguments = {"key": "colour", "values": ["red"], **kwargs}
        return tags.create_tag(session, actor=mesh.env.admin, **arguments)

    return run


def _update(key: str, **kwargs: Any) -> Callable[[Session, Mesh], Any]:
    def run(session: Session, mesh: Mesh) -> Any:
        return tags.update_tag(session, actor=mesh.env.admin, key=key, **kwargs)

    return run


def _as_sam(session: Session, mesh: Mesh) -> Any:
    return tags.create_tag(session, actor=mesh.sam, key="colour", values=["red"])


@pytest.mark.parametrize(
    ("request_", "error", "message"),
    [
        (_create(key="sensitivity"), AlreadyExistsError, "Tag key already exists: sensitivity"),
        (_create(key="Colour"), InvalidInputError, "Invalid tag key: 'Colour'"),
        (_create(key="or"), InvalidInputError, "Invalid tag key: 'or' \\(AND, OR and NOT"),
        (_create(values=["-red"]), InvalidInputError, "Invalid tag value: '-red'"),
        (_create(values=["red wine"]), InvalidInputError, "Invalid tag value: 'red wine'"),
        (_create(values=[]), InvalidInputError, "Tag key colour needs at least one value"),
        (_as_sam, AccessDeniedError, "user:sam@sales is not a mesh admin"),
        (_update("colour"), NotFoundError, "Tag key does not exist: colour"),
        (
            _update("sensitivity", add_values=["pii"]),
            AlreadyExistsError,
            "Tag value already exists: sensitivity=pii",
        ),
        (
            _update("sensitivity", remove_values=["secret"]),
            NotFoundError,
            r"Tag value does not exist: sensitivity=secret \(allowed: internal, pii, public\)",
        ),
        (
            _update("owner", remove_values=["sales", "marketing"]),
            InvalidInputError,
            r"Tag key owner needs at least one value \(delete the key instead\)",
        ),
        (
            _update("owner"),
            InvalidInputError,
            "Nothing to change on tag key owner: give values to add or remove, or a description",
        ),
        (
            _update("owner", add_values=["hr"], remove_values=["hr"]),
            InvalidInputError,
            "Tag value both added and removed: owner=hr",
        ),
    ],
)
def test_tag_key_errors(
    mesh: Mesh,
    request_: Callable[[Session, Mesh], Any],
    error: type[LakemeshError],
    message: str,
) -> None:
    with pytest.raises(error, match=message), mesh.env.hub.transaction() as session:
        request_(session, mesh)


# -- in use ------------------------------------------------------------------------------------


def _assign(resource: str, **assigned: str) -> Callable[[Session, Mesh], None]:
    def setup(session: Session, mesh: Mesh) -> None:
        tag_assignments.assign_tags(session, actor=mesh.env.admin, resource=resource, tags=assigned)

    return setup


def _grant(grantee: str, permission: Permission, **target: Any) -> Callable[[Session, Mesh], None]:
    def setup(session: Session, mesh: Mesh) -> None:
        request = GrantRequest(permissions=frozenset({permission}), **target)
        grants.grant(session, actor=mesh.env.admin, grantee=grantee, request=request)

    return setup


def _mask(name: str, expression: str) -> Callable[[Session, Mesh], None]:
    def setup(session: Session, mesh: Mesh) -> None:
        masks.create_mask(
            session, actor=mesh.env.admin, name=name, tag_expression=expression, function="hash"
        )

    return setup


def _guardrail(name: str, kind: str, **config: Any) -> Callable[[Session, Mesh], None]:
    def setup(session: Session, mesh: Mesh) -> None:
        guardrails.create_guardrail(session, actor=mesh.env.admin, name=name, kind=kind, **config)

    return setup


ANALYSTS = "group:analysts@marketing"


def _apply(session: Session, mesh: Mesh, change: str) -> None:
    """``delete KEY`` or ``remove KEY=VALUE``."""
    verb, target = change.split(" ")
    if verb == "delete":
        tags.delete_tag(session, actor=mesh.env.admin, key=target)
    else:
        key, value = target.split("=")
        tags.update_tag(session, actor=mesh.env.admin, key=key, remove_values=[value])


@pytest.mark.parametrize(
    ("setup", "change", "message", "uses"),
    [
        (
            [_assign("sales.crm.customers.email", sensitivity="pii")],
            "delete sensitivity",
            r"Tag key sensitivity is still in use: column sales.crm.customers.email "
            r"\(sensitivity=pii\)$",
            [{"kind": "column", "name": "sales.crm.customers.email", "tag": "sensitivity=pii"}],
        ),
        (
            [_assign("sales.crm", owner="sales"), _assign("sales.crm.customers", owner="sales")],
            "delete owner",
            r"Tag key owner is still in use: database sales.crm \(owner=sales\); "
            r"table sales.crm.customers \(owner=sales\)$",
            [
                {"kind": "database", "name": "sales.crm", "tag": "owner=sales"},
                {"kind": "table", "name": "sales.crm.customers", "tag": "owner=sales"},
            ],
        ),
        (
            [_grant(ANALYSTS, Permission.SELECT, on_tags="sensitivity=public|internal")],
            "delete sensitivity",
            r"Tag key sensitivity is still in use: grant #\d+ SELECT to "
            r"group:analysts@marketing \(sensitivity=internal\|public\)$",
            None,
        ),
        (
            [_grant("user:sam@sales", Permission.ASSOCIATE, tag_values="sensitivity=pii")],
            "delete sensitivity",
            r"Tag key sensitivity is still in use: grant #\d+ ASSOCIATE to user:sam@sales "
            r"\(sensitivity=pii\)$",
            None,
        ),
        (
            [_mask("hide_pii", "sensitivity=pii AND NOT owner=marketing")],
            "delete owner",
            r"Tag key owner is still in use: mask hide_pii "
            r"\(sensitivity=pii AND NOT owner=marketing\)$",
            [
                {
                    "kind": "mask",
                    "name": "hide_pii",
                    "tag": "sensitivity=pii AND NOT owner=marketing",
                }
            ],
        ),
        (
            [
                _mask("hide_pii", "sensitivity=pii"),
                _assign("sales.crm.customers.phone", sensitivity="pii"),
            ],
            "remove sensitivity=pii",
            r"Tag value sensitivity=pii is still in use: column sales.crm.customers.phone "
            r"\(sensitivity=pii\); mask hide_pii \(sensitivity=pii\)$",
            None,
        ),
        (
            [_grant("user:sam@sales", Permission.ASSOCIATE, tag_values="sensitivity=pii|public")],
            "remove sensitivity=public",
            r"Tag value sensitivity=public is still in use: grant #\d+ ASSOCIATE to "
            r"user:sam@sales \(sensitivity=pii\|public\)$",
            None,
        ),
        (
            [_guardrail("tagged", "required-tags", keys=["owner", "sensitivity"])],
            "delete owner",
            r"Tag key owner is still in use: guardrail tagged "
            r"\(required-tags owner, sensitivity\)$",
            [{"kind": "guardrail", "name": "tagged", "tag": "required-tags owner, sensitivity"}],
        ),
        (
            [_guardrail("pii_named", "sensitive-scope", on_tags="sensitivity=pii")],
            "remove sensitivity=pii",
            r"Tag value sensitivity=pii is still in use: guardrail pii_named "
            r"\(sensitive-scope sensitivity=pii\)$",
            None,
        ),
    ],
)
def test_deleting_a_tag_in_use_is_refused_with_its_uses(
    mesh: Mesh,
    setup: list[Callable[[Session, Mesh], None]],
    change: str,
    message: str,
    uses: list[dict[str, str]] | None,
) -> None:
    with mesh.env.hub.transaction() as session:
        for step in setup:
            step(session, mesh)
    with (
        pytest.raises(ConflictError, match=message) as raised,
        mesh.env.hub.transaction() as session,
    ):
        _apply(session, mesh, change)
    if uses is not None:
        assert raised.value.details["uses"] == uses


@pytest.mark.parametrize(
    ("setup", "change"),
    [
        ([_assign("sales.crm.customers.email", sensitivity="pii")], "remove sensitivity=public"),
        ([_mask("hide_pii", "sensitivity=pii")], "remove sensitivity=internal"),
        (
            [_grant("user:sam@sales", Permission.ASSOCIATE, tag_values="sensitivity")],
            "remove sensitivity=pii",
        ),
        ([_assign("sales.crm.customers.email", sensitivity="pii")], "delete owner"),
        ([_guardrail("tagged", "required-tags", keys=["owner"])], "remove owner=marketing"),
        ([_guardrail("pii", "sensitive-scope", on_tags="sensitivity=pii")], "delete owner"),
    ],
)
def test_values_and_keys_nothing_uses_can_go(
    mesh: Mesh, setup: list[Callable[[Session, Mesh], None]], change: str
) -> None:
    with mesh.env.hub.transaction() as session:
        for step in setup:
            step(session, mesh)
    verb, target = change.split(" ")
    with mesh.env.hub.transaction() as session:
        _apply(session, mesh, change)
        remaining = {
            row.key: sorted(v.value for v in row.values) for row in tags.list_tags(session)
        }
    key = target.split("=")[0]
    if verb == "delete":
        assert key not in remaining
    else:
        assert target.split("=")[1] not in remaining[key]


def test_long_lists_of_uses_are_cut_in_the_message_but_not_in_the_details(mesh: Mesh) -> None:
    admin = mesh.env.admin
    with mesh.env.hub.transaction() as session:
        for column in ("customer_id", "name", "email", "phone", "region"):
            tag_assignments.assign_tags(
                session,
                actor=admin,
                resource=f"sales.crm.customers.{column}",
                tags={"owner": "sales"},
            )
        for number in range(7):
            _mask(f"mask_{number}", "owner=sales")(session, mesh)
    with (
        pytest.raises(ConflictError, match="; and 2 more$") as raised,
        mesh.env.hub.transaction() as session,
    ):
        tags.delete_tag(session, actor=admin, key="owner")
    assert len(raised.value.details["uses"]) == 12
