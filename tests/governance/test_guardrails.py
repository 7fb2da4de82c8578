"""Guardrails: mesh admins only; required tags, sensitive scopes, location prefixes and token
lifetime refuse the changes that break them, naming the rule (both backends)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import guardrail_checks, guardrail_rules
from lakemesh.catalog import locations
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    GuardrailViolationError,
    InvalidInputError,
    NotFoundError,
)
from lakemesh.governance import grants, guardrails, tag_assignments, tags
from lakemesh.governance.grants import GrantRequest
from lakemesh.identity import tokens
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import parse_permissions
from lakemesh.store.schema import AuditEvent, Grant
from tests.conftest import HubEnv
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    built = build_mesh(env, tmp_path)
    with env.hub.transaction() as session:
        tags.create_tag(session, actor=env.admin, key="owner", values=["sales", "marketing"])
        tag_assignments.assign_tags(
            session, actor=env.admin, resource="sales.crm", tags={"sensitivity": "internal"}
        )
        for column in ("email", "phone"):
            tag_assignments.assign_tags(
                session,
                actor=env.admin,
                resource=f"{CUSTOMERS}.{column}",
                tags={"sensitivity": "pii"},
            )
    return built


def _create(mesh: Mesh, name: str, kind: str, actor: Actor | None = None, **config: Any) -> None:
    with mesh.env.hub.transaction() as session:
        guardrails.create_guardrail(
            session, actor=actor or mesh.env.admin, name=name, kind=kind, **config
        )


def _grant(
    mesh: Mesh, grantee: str, perms: str = "SELECT", actor: str = "user:sam@sales", **target: Any
) -> Grant:
    request = GrantRequest(permissions=parse_permissions(perms), **target)
    with mesh.env.hub.transaction() as session:
        return grants.grant(session, actor=mesh.actor(actor), grantee=grantee, request=request)


def _denials(mesh: Mesh, action: str) -> list[AuditEvent]:
    with mesh.env.hub.read() as session:
        return list(
            session.execute(
                select(AuditEvent).where(
                    AuditEvent.outcome == "denied", AuditEvent.action == action
                )
            ).scalars()
        )


# -- managing guardrails -------------------------------------------------------------------------


def test_mesh_admins_create_list_update_and_delete(mesh: Mesh) -> None:
    _create(mesh, "tagged", "required-tags", keys=["sensitivity", "owner"])
    _create(mesh, "pii-only-named", "sensitive-scope", on_tags="sensitivity=pii")
    with mesh.env.hub.transaction() as session:
        guardrails.update_guardrail(session, actor=mesh.env.admin, name="tagged", keys=["owner"])
    with mesh.env.hub.read() as session:
        described = [
            (r.name, guardrail_rules.rule_text(r)) for r in guardrail_rules.list_guardrails(session)
        ]
    assert described == [
        ("pii-only-named", "sensitive-scope sensitivity=pii"),
        ("tagged", "required-tags owner"),
    ]
    with mesh.env.hub.transaction() as session:
        guardrails.delete_guardrail(session, actor=mesh.env.admin, name="tagged")
    with mesh.env.hub.read() as session:
        actions = [
            e.action
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.resource == "guardrail:tagged")
            ).scalars()
        ]
    assert actions == ["guardrail.create", "guardrail.update", "guardrail.delete"]


CHANGES: dict[str, Callable[[Session, Actor], object]] = {
    "create": lambda session, actor: guardrails.create_guardrail(
        session, actor=actor, name="mine", kind="required-tags", keys=["owner"]
    ),
    "update": lambda session, actor: guardrails.update_guardrail(
        session, actor=actor, name="tagged", keys=["owner"]
    ),
    "delete": lambda session, actor: guardrails.delete_guardrail(
        session, actor=actor, name="tagged"
    ),
}


@pytest.mark.parametrize("action", sorted(CHANGES))
def test_domain_admins_cannot_change_guardrails(mesh: Mesh, action: str) -> None:
    _create(mesh, "tagged", "required-tags", keys=["owner"])
    with (
        pytest.raises(AccessDeniedError, match="user:sam@sales is not a mesh admin"),
        mesh.env.hub.transaction() as session,
    ):
        CHANGES[action](session, mesh.sam)
    [denial] = _denials(mesh, f"guardrail.{action}")
    assert denial.actor == "user:sam@sales"


@pytest.mark.parametrize(
    ("name", "kind", "config", "error", "message"),
    [
        (
            "x",
            "no-such-kind",
            {"keys": ["owner"]},
            InvalidInputError,
            "Unknown guardrail kind: 'no-such-kind'",
        ),
        (
            "x",
            "required-tags",
            {"keys": ["colour"]},
            InvalidInputError,
            "Tag key does not exist: colour",
        ),
        (
            "x",
            "required-tags",
            {"prefixes": ["/data"]},
            InvalidInputError,
            r"A required-tags guardrail takes keys \(and nothing else; got prefixes\)",
        ),
        (
            "x",
            "sensitive-scope",
            {"on_tags": "sensitivity=secret"},
            InvalidInputError,
            "Tag value does not exist: sensitivity=secret",
        ),
        (
            "x",
            "max-token-lifetime",
            {"max_lifetime": "soon"},
            InvalidInputError,
            "Invalid duration: 'soon'",
        ),
        (
            "Bad Name",
            "required-tags",
            {"keys": ["owner"]},
            InvalidInputError,
            "Invalid guardrail name: 'Bad Name'",
        ),
    ],
)
def test_bad_guardrails_are_refused_by_name(
    mesh: Mesh,
    name: str,
    kind: str,
    config: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        _create(mesh, name, kind, **config)


def test_names_are_unique_and_unknown_names_are_named(mesh: Mesh) -> None:
    _create(mesh, "tagged", "required-tags", keys=["owner"])
    with pytest.raises(AlreadyExistsError, match="Guardrail already exists: tagged"):
        _create(mesh, "tagged", "required-tags", keys=["owner"])
    with (
        pytest.raises(NotFoundError, match="Guardrail does not exist: nope"),
        mesh.env.hub.transaction() as session,
    ):
        guardrails.delete_guardrail(session, actor=mesh.env.admin, name="nope")


# -- required tags -------------------------------------------------------------------------------


def test_share_of_an_untagged_table_is_refused_naming_the_missing_keys(mesh: Mesh) -> None:
    _create(mesh, "tagged", "required-tags", keys=["sensitivity", "owner"])
    with pytest.raises(
        GuardrailViolationError,
        match=re.escape(
            "Guardrail tagged (required-tags owner, sensitivity): table sales.crm.customers "
            "lacks tag keys owner"
        ),
    ):
        _grant(mesh, "domain:marketing", "DESCRIBE", on=str(CUSTOMERS))
    [denial] = _denials(mesh, "grant.create")
    assert (denial.actor, denial.resource) == ("user:sam@sales", "sales.crm.customers")
    assert denial.details["missing_keys"] == ["owner"]
    # Named principals are not shares; a tagged table may be shared.
    _grant(mesh, "user:mia@marketing", "DESCRIBE", actor="user:admin@governance", on=str(CUSTOMERS))
    with mesh.env.hub.transaction() as session:
        tag_assignments.assign_tags(
            session, actor=mesh.env.admin, resource=str(CUSTOMERS), tags={"owner": "sales"}
        )
    _grant(mesh, "domain:marketing", "DESCRIBE", on=str(CUSTOMERS))


def test_check_shareable_is_what_sharing_and_publishing_call(mesh: Mesh) -> None:
    _create(mesh, "tagged", "required-tags", keys=["owner"])
    with (
        pytest.raises(GuardrailViolationError, match="lacks tag keys owner"),
        mesh.env.hub.read() as session,
    ):
        guardrail_checks.check_shareable(session, "sales.crm.customers", actor=mesh.sam)
    [denial] = _denials(mesh, "share.create")
    assert denial.details["guardrail"] == "tagged"


def test_share_of_a_database_checks_every_table_in_it(mesh: Mesh) -> None:
    _create(mesh, "tagged", "required-tags", keys=["owner"])
    with pytest.raises(GuardrailViolationError, match="table sales.crm.customers lacks"):
        _grant(mesh, "domain:marketing", "DESCRIBE", on="sales.crm")


# -- sensitive scopes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grantee", "target", "refused"),
    [
        (
            "domain:marketing",
            {"on": str(CUSTOMERS)},
            "sensitive columns sales.crm.customers: email, phone",
        ),
        ("domain:marketing", {"on": f"{CUSTOMERS}.email"}, "email"),
        ("domain:marketing", {"on": "sales"}, "sales.crm.customers: email, phone"),
        ("domain:marketing", {"on_tags": "sensitivity=pii|internal"}, "email, phone"),
        ("domain:marketing", {"on_tags": "NOT sensitivity=public"}, "to domain:marketing"),
        ("domain:marketing", {"on": str(CUSTOMERS), "exclude_columns": ("email", "phone")}, None),
        ("domain:marketing", {"on_tags": "sensitivity=public|internal"}, None),
        ("group:analysts@marketing", {"on": str(CUSTOMERS)}, None),
        ("user:mia@marketing", {"on_tags": "sensitivity=pii"}, None),
    ],
)
def test_sensitive_scope_may_be_granted_to_named_principals_only(
    mesh: Mesh, grantee: str, target: dict[str, Any], refused: str | None
) -> None:
    _create(mesh, "pii-only-named", "sensitive-scope", on_tags="sensitivity=pii")
    actor = "user:admin@governance"
    if refused is None:
        _grant(mesh, grantee, actor=actor, **target)
        return
    with pytest.raises(GuardrailViolationError) as caught:
        _grant(mesh, grantee, actor=actor, **target)
    message = caught.value.message
    assert message.startswith("Guardrail pii-only-named (sensitive-scope sensitivity=pii): ")
    assert "may be granted to named principals only" in message
    assert refused in message


def test_describe_on_sensitive_columns_may_go_to_a_domain(mesh: Mesh) -> None:
    _create(mesh, "pii-only-named", "sensitive-scope", on_tags="sensitivity=pii")
    _grant(mesh, "domain:marketing", "DESCRIBE", on=str(CUSTOMERS))


# -- location prefixes and token lifetime --------------------------------------------------------


def test_location_prefixes_follow_updates(mesh: Mesh, tmp_path: Path) -> None:
    _create(mesh, "lake-only", "location-prefixes", prefixes=[str(tmp_path / "lake")])
    with (
        pytest.raises(GuardrailViolationError, match="is outside the allowed prefixes"),
        mesh.env.hub.transaction() as session,
    ):
        locations.register_location(
            session, actor=mesh.sam, uri=str(tmp_path / "elsewhere"), domain="sales"
        )
    [denial] = _denials(mesh, "location.register")
    assert denial.actor == "user:sam@sales"
    with mesh.env.hub.transaction() as session:
        # {domain} makes the prefix each domain's own, where its admins register themselves.
        guardrails.update_guardrail(
            session, actor=mesh.env.admin, name="lake-only", prefixes=[f"{tmp_path}/{{domain}}"]
        )
        locations.register_location(
            session, actor=mesh.sam, uri=str(tmp_path / "sales" / "crm"), domain="sales"
        )


@pytest.mark.parametrize(
    ("expires_in", "refused"),
    [
        (None, "asked for no expiry"),
        (timedelta(days=91), "asked for 91d"),
        (timedelta(days=31), "asked for 31d"),  # the strictest guardrail wins
        (timedelta(days=30), None),
    ],
)
def test_tokens_must_expire_within_the_maximum(
    mesh: Mesh, expires_in: timedelta | None, refused: str | None
) -> None:
    _create(mesh, "quarterly", "max-token-lifetime", max_lifetime="90d")
    _create(mesh, "monthly", "max-token-lifetime", max_lifetime="30d")
    with mesh.env.hub.transaction() as session:
        if refused is None:
            tokens.create_token(
                session, actor=mesh.sam, principal="user:sam@sales", expires_in=expires_in
            )
            return
    with (
        pytest.raises(
            GuardrailViolationError,
            match=re.escape(
                f"Guardrail monthly (max-token-lifetime 30d): tokens may live at most 30d; "
                f"{refused}"
            ),
        ),
        mesh.env.hub.transaction() as session,
    ):
        tokens.create_token(
            session, actor=mesh.sam, principal="user:sam@sales", expires_in=expires_in
        )
    [denial] = _denials(mesh, "token.create")
    assert denial.resource == "user:sam@sales"


def test_deleting_a_guardrail_lifts_it(mesh: Mesh) -> None:
    _create(mesh, "pii-only-named", "sensitive-scope", on_tags="sensitivity=pii")
    with pytest.raises(GuardrailViolationError):
        _grant(mesh, "domain:marketing", on=str(CUSTOMERS))
    with mesh.env.hub.transaction() as session:
        guardrails.delete_guardrail(session, actor=mesh.env.admin, name="pii-only-named")
    _grant(mesh, "domain:marketing", on=str(CUSTOMERS))
