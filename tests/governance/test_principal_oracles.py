"""Another domain's principals as grantees and group members: one that exists reads exactly as one
that does not, to a caller who may not see it (issue 9, existence oracles), on both backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from lakemesh.errors import LakemeshError
from lakemesh.governance import grants
from lakemesh.governance.grants import GrantRequest
from lakemesh.identity import principals
from lakemesh.model.permissions import parse_permissions
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.factories.governance import CUSTOMERS, Mesh, build_mesh

SAM = "user:sam@sales"  # admin of sales, which owns CUSTOMERS
TEAM = "group:team@sales"


@pytest.fixture
def mesh(env: HubEnv, tmp_path: Path) -> Mesh:
    built = build_mesh(env, tmp_path)
    with env.hub.transaction() as session:
        principals.create_principal(session, actor=env.admin, principal=TEAM)
    return built


def _answer(mesh: Mesh, name: str, act: Callable[..., object]) -> tuple[str, str]:
    """The error type and message ``act`` raises for ``name``, the name itself blanked."""
    with pytest.raises(LakemeshError) as raised, mesh.env.hub.transaction() as session:
        act(session, name)
    return raised.value.error_type, raised.value.message.replace(name, "NAME")


def _grant_as_sam(mesh: Mesh) -> Callable[..., object]:
    request = GrantRequest(permissions=parse_permissions("SELECT"), on=str(CUSTOMERS))
    sam = mesh.actor(SAM)
    return lambda session, name: grants.grant(session, actor=sam, grantee=name, request=request)


@pytest.mark.parametrize(
    ("hidden", "missing"),
    [
        ("user:mia@marketing", "user:gone@marketing"),
        ("group:analysts@marketing", "group:gone@marketing"),
    ],
)
def test_granting_to_a_hidden_principal_reads_as_a_missing_one(
    mesh: Mesh, hidden: str, missing: str
) -> None:
    act = _grant_as_sam(mesh)
    seen_hidden, seen_missing = _answer(mesh, hidden, act), _answer(mesh, missing, act)
    assert seen_hidden == seen_missing
    assert seen_hidden == (
        "access_denied",
        f"{SAM} may not grant to NAME: it is a principal of domain "
        f"{hidden.split('@')[1]} (grant to domain:{hidden.split('@')[1]}, whose admins may "
        "pass it on)",
    )
    with mesh.env.hub.read() as session:
        denials = session.execute(
            select(AuditEvent.actor, AuditEvent.resource).where(
                AuditEvent.action == "grant.create", AuditEvent.outcome == "denied"
            )
        ).all()
    assert [tuple(d) for d in denials] == [(SAM, hidden), (SAM, missing)]


def test_an_analyst_without_authority_learns_nothing_either(mesh: Mesh) -> None:
    """The name is refused before the authority check and before any lookup."""
    request = GrantRequest(permissions=parse_permissions("SELECT"), on=str(CUSTOMERS))
    mia = mesh.actor("user:mia@marketing")

    def act(session: object, name: str) -> object:
        return grants.grant(session, actor=mia, grantee=name, request=request)  # type: ignore[arg-type]

    assert _answer(mesh, "user:sam@sales", act) == _answer(mesh, "user:gone@sales", act)


def test_grants_within_reach_still_work(mesh: Mesh) -> None:
    """A domain's own principals, ``domain:X`` (a share) and, for mesh admins, anyone."""
    request = GrantRequest(permissions=parse_permissions("SELECT"), on=str(CUSTOMERS))
    sam = mesh.actor(SAM)
    with mesh.env.hub.transaction() as session:
        for grantee in (TEAM, "domain:marketing"):
            grants.grant(session, actor=sam, grantee=grantee, request=request)
        grants.grant(session, actor=mesh.env.admin, grantee="user:mia@marketing", request=request)
    # A principal one may know of that does not exist is named as such.
    assert _answer(mesh, "user:gone@sales", _grant_as_sam(mesh)) == (
        "not_found",
        "Principal does not exist: NAME",
    )


@pytest.mark.parametrize(
    ("hidden", "missing"),
    [
        ("user:mia@marketing", "user:gone@marketing"),
        ("group:analysts@marketing", "group:gone@marketing"),
    ],
)
def test_adding_a_hidden_member_reads_as_adding_a_missing_one(
    mesh: Mesh, hidden: str, missing: str
) -> None:
    sam = mesh.actor(SAM)

    def add(session: object, name: str) -> object:
        return principals.add_member(session, actor=sam, group=TEAM, member=name)  # type: ignore[arg-type]

    def remove(session: object, name: str) -> object:
        return principals.remove_member(session, actor=sam, group=TEAM, member=name)  # type: ignore[arg-type]

    assert _answer(mesh, hidden, add) == _answer(mesh, missing, add)
    assert _answer(mesh, hidden, add) == (
        "access_denied",
        f"{SAM} may not add NAME to {TEAM}: it is a principal of domain marketing",
    )
    assert _answer(mesh, hidden, remove) == _answer(mesh, missing, remove)
    assert _answer(mesh, hidden, remove) == ("not_found", f"NAME is not a member of {TEAM}")
