"""Governed principal attributes: a consumer domain's admin cannot widen a producer's
``region = principal_attribute('region')`` filter by setting its own users' values (SQLite and
PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lakemesh import audit
from lakemesh.catalog import crawler, domains, locations
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
)
from lakemesh.governance import explanations, filters, grants
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.identity import attributes, principals, tokens
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from lakemesh.query import service
from tests.conftest import HubEnv
from tests.factories.lake import Lake

ORDERS = "sales.crm.orders"
MARK = "user:mark@marketing"  # marketing's domain admin
MIA = "user:mia@marketing"
HR = "user:hr@governance"


def _actor(env: HubEnv, principal: str) -> Actor:
    with env.hub.transaction() as session:
        issued = tokens.create_token(session, actor=env.admin, principal=principal)
    with env.hub.transaction() as session:
        return tokens.authenticate(session, issued.token)


@pytest.fixture
def mark(env: HubEnv, tmp_path: Path) -> Actor:
    """Sales shares its orders to marketing through a regional filter, with grant option."""
    lake = Lake(tmp_path / "lake")
    lake.csv("sales/crm/orders/part-0.csv", "id,region\n1,EU\n2,US\n3,APAC\n")
    with env.hub.transaction() as session:
        domains.create_domain(session, actor=env.admin, name="sales")
        domains.create_domain(session, actor=env.admin, name="marketing", admins=[MARK])
        principals.create_principal(session, actor=env.admin, principal=HR)
        attributes.create_attribute_key(
            session, actor=env.admin, key="region", values=["EU", "US", "APAC"]
        )
        principals.create_principal(
            session, actor=env.admin, principal=MIA, attributes={"region": "EU"}
        )
        locations.register_location(
            session, actor=env.admin, uri=str(lake.root / "sales"), domain="sales"
        )
    crawler.crawl(
        env.hub, actor=env.admin, uri=str(lake.root / "sales" / "crm"), domain="sales",
        database="crm",
    )  # fmt: skip
    with env.hub.transaction() as session:
        filters.create_filter(
            session,
            actor=env.admin,
            name="own_region",
            table=ORDERS,
            rows="region = principal_attribute('region')",
        )
        grants.grant(
            session,
            actor=env.admin,
            grantee=MARK,
            request=GrantRequest(
                permissions=frozenset({Permission.SELECT}),
                on=ORDERS,
                filter="own_region",
                with_grant_option=True,
            ),
        )
    return _actor(env, MARK)


def _regions(env: HubEnv, actor: Actor) -> list[str]:
    outcome = service.run(env.hub, actor=actor, sql=f"SELECT region FROM {ORDERS} ORDER BY 1")
    return [row["region"] for row in outcome.result.table.to_pylist()]


def test_a_consumer_admin_cannot_widen_the_filter_for_its_users(env: HubEnv, mark: Actor) -> None:
    # The derived "same or less" grant is allowed; the attribute it reads is not marketing's.
    with env.hub.transaction() as session:
        grants.grant(
            session,
            actor=mark,
            grantee=MIA,
            request=GrantRequest(
                permissions=frozenset({Permission.SELECT}), on=ORDERS, filter="own_region"
            ),
        )
    mia = _actor(env, MIA)
    assert _regions(env, mia) == ["EU"]
    denial = f"{MARK} may not set attribute region of {MIA} (mesh admins and the key's delegates"
    with (
        pytest.raises(AccessDeniedError, match=re.escape(denial)),
        env.hub.transaction() as session,
    ):
        principals.update_attributes(session, actor=mark, principal=MIA, set_={"region": "US"})
    with (
        pytest.raises(AccessDeniedError, match="may not set attribute region of user:max@"),
        env.hub.transaction() as session,
    ):
        principals.create_principal(
            session, actor=mark, principal="user:max@marketing", attributes={"region": "US"}
        )
    with (
        pytest.raises(AccessDeniedError, match="may not set attribute region"),
        env.hub.transaction() as session,
    ):
        principals.update_attributes(session, actor=mark, principal=MIA, set_={}, unset=["region"])
    assert _regions(env, _actor(env, MIA)) == ["EU"]
    with env.hub.read() as session:
        events = audit.search(session, reader=env.admin, actor=MARK, action="principal.update")
    assert [event.outcome for event in events] == ["denied", "denied", "denied"]


def test_keys_are_defined_centrally_with_allowed_values(env: HubEnv, mark: Actor) -> None:
    with (
        pytest.raises(InvalidInputError, match=r"Attribute key does not exist: tier \(a mesh"),
        env.hub.transaction() as session,
    ):
        principals.update_attributes(session, actor=env.admin, principal=MIA, set_={"tier": "gold"})
    with (
        pytest.raises(
            InvalidInputError, match=r"Attribute value not allowed: region=MARS \(allowed: EU, US, "
        ),
        env.hub.transaction() as session,
    ):
        principals.update_attributes(
            session, actor=env.admin, principal=MIA, set_={"region": "MARS"}
        )
    with (
        pytest.raises(AccessDeniedError, match=f"{MARK} is not a mesh admin"),
        env.hub.transaction() as session,
    ):
        attributes.create_attribute_key(session, actor=mark, key="tier", values=["gold"])
    with (
        pytest.raises(AlreadyExistsError, match="Attribute key already exists: region"),
        env.hub.transaction() as session,
    ):
        attributes.create_attribute_key(session, actor=env.admin, key="region", values=["x"])
    with (
        pytest.raises(ConflictError, match=rf"Attribute values still held: region \({MIA}\)"),
        env.hub.transaction() as session,
    ):
        attributes.update_attribute_key(
            session, actor=env.admin, key="region", values=["US", "APAC"]
        )
    with (
        pytest.raises(ConflictError, match=rf"Attribute key still held: region \({MIA}\)"),
        env.hub.transaction() as session,
    ):
        attributes.delete_attribute_key(session, actor=env.admin, key="region")


def test_a_delegate_sets_values_and_explain_says_who(env: HubEnv, mark: Actor) -> None:
    hr = _actor(env, HR)
    with (
        pytest.raises(AccessDeniedError, match="may not set attribute region"),
        env.hub.transaction() as session,
    ):
        principals.update_attributes(session, actor=hr, principal=MIA, set_={"region": "US"})
    with env.hub.transaction() as session:
        attributes.delegate_attribute(session, actor=env.admin, key="region", principal=HR)
    with env.hub.transaction() as session:
        principals.update_attributes(session, actor=hr, principal=MIA, set_={"region": "US"})
        grants.grant(
            session,
            actor=mark,
            grantee=MIA,
            request=GrantRequest(
                permissions=frozenset({Permission.SELECT}), on=ORDERS, filter="own_region"
            ),
        )
    assert _regions(env, _actor(env, MIA)) == ["US"]
    with env.hub.read() as session:
        explained = explanations.explain(
            session, actor=env.admin, principal=MIA, permission=Permission.SELECT, resource=ORDERS
        )
        event = audit.search(session, reader=env.admin, actor=HR, action="principal.update")[0]
    assert explained.attributes["region"]["value"] == "US"
    assert explained.attributes["region"]["set_by"] == HR
    assert f"attribute region of {MIA} = US (set by {HR} at " in explained.reasons[-1]
    assert event.details["set"] == {"region": "US"}
    assert event.details["before"] == {"region": "EU"}
    with env.hub.transaction() as session:
        attributes.undelegate_attribute(session, actor=env.admin, key="region", principal=HR)
        listed = [r.delegates for r in attributes.list_attribute_keys(session)]
    assert listed[0] == []
    with (
        pytest.raises(AccessDeniedError, match="may not set attribute region"),
        env.hub.transaction() as session,
    ):
        principals.update_attributes(session, actor=hr, principal=MIA, set_={"region": "EU"})
