"""Who may search which audit events, on both store backends."""

from __future__ import annotations

from lakemesh import audit
from lakemesh.catalog import domains
from lakemesh.identity import principals
from lakemesh.identity.actors import load_actor
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
