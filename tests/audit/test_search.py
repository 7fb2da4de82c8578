"""Who may search which audit events, on both store backends."""

from __future__ import annotations

import pytest

from lakemesh import audit
from lakemesh.catalog import domains
from lakemesh.errors import InvalidInputError
from lakemesh.identity import principals
from lakemesh.identity.actors import load_actor
from lakemesh.model.actions import Action
from tests.conftest import HubEnv


def test_a_domain_admin_sees_its_domain_and_nothing_of_look_alike_names(env: HubEnv) -> None:
    """``_`` is a LIKE wildcard: the admin of ``s_les`` must not see events of ``sales``."""
    with env.hub.transaction() as session:
        for name in ("s_les", "sales", "s_les2"):
            domains.create_domain(session, actor=env.admin, name=name, admins=[f"user:a@{name}"])
        principals.create_principal(session, actor=env.admin, principal="user:mia@sales")
        principals.create_principal(session, actor=env.admin, principal="user:mia@s_les")
    with env.hub.read() as session:
        admin = load_actor(session, principals.get_principal(session, "user:a@s_les"))
        events = audit.search(session, reader=admin, limit=1000)
    assert sorted((e.action, e.resource) for e in events) == [
        ("domain.create", "s_les"),
        ("principal.create", "user:mia@s_les"),
    ]


def test_an_action_filter_names_an_action_or_a_family_of_them(sqlite_env: HubEnv) -> None:
    env = sqlite_env
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        principals.create_principal(session, actor=env.admin, principal="user:mia@sales")
    with env.hub.read() as session:
        exact = audit.search(session, reader=env.admin, action=Action.DOMAIN_CREATE)
        family = audit.search(session, reader=env.admin, action="principal")
        with pytest.raises(
            InvalidInputError,
            match=r"^Unknown action: 'domain\.created' \(known: access\.denied, .*"
            r"domain\.create, .*; or all of a family: access, .*domain, .*\)$",
        ):
            audit.search(session, reader=env.admin, action="domain.created")
    assert [e.resource for e in exact] == ["sales"]
    assert {e.action for e in family} == {"principal.create"}
    assert all(type(e.action) is str for e in exact)  # the trail holds plain values


def test_every_recorded_action_is_a_catalogued_one(sqlite_env: HubEnv) -> None:
    env = sqlite_env
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales", admins=["user:a@sales"])
    with env.hub.read() as session:
        events = audit.search(session, reader=env.admin, limit=1000)
    assert events
    assert all(Action(e.action) for e in events)
