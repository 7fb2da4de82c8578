"""Onboarding: a producer (domain, admin, location, crawl, tags) or a consumer in one step,
idempotent, refusing conflicts before changing anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lakemesh.catalog import domains, tables
from lakemesh.errors import AccessDeniedError, ConflictError, InvalidInputError, StorageError
from lakemesh.governance import tag_assignments, tags
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_domain_row, get_principal
from lakemesh.sharing import onboarding
from lakemesh.store.schema import AuditEvent
from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.sharing import write_sales_lake

SAM = "user:sam@sales"


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    result = Lake(tmp_path / "lake")
    write_sales_lake(result)
    result.parquet("sales/web/sessions/part-0.parquet", {"session_id": [1], "pages": [3]})
    return result


@pytest.fixture
def tagged(env: HubEnv) -> HubEnv:
    with env.hub.transaction() as session:
        tags.create_tag(session, actor=env.admin, key="owner", values=["sales", "finance"])
    return env


def _producer(env: HubEnv, lake: Lake, **options: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "name": "sales",
        "location": lake.uri_of("sales"),
        "admin": SAM,
        "tags": {"owner": "sales"},
        **options,
    }
    return onboarding.onboard_producer(env.hub, actor=env.admin, **arguments).to_dict()  # type: ignore[arg-type]


def test_producer_onboarding_makes_everything_and_is_idempotent(tagged: HubEnv, lake: Lake) -> None:
    env = tagged
    first = _producer(env, lake)
    assert first["changes"] == [
        "created domain sales (producer) with admin user:sam@sales",
        f"registered location {lake.uri_of('sales')}",
        "crawled sales.crm: sales.crm.customers created, sales.crm.orders created",
        "crawled sales.web: sales.web.sessions created",
        "tagged sales.crm owner=sales",
        "tagged sales.web owner=sales",
    ]
    with env.hub.read() as session:
        names = [str(tables.table_name(row)) for row in tables.list_tables(session, domain="sales")]
        view = tag_assignments.resource_tags(
            session, actor=env.admin, resource="sales.crm.orders.amount"
        )
        sales = get_domain_row(session, "sales")
        admins = domains.domain_admins(session, sales)
    assert names == ["sales.crm.customers", "sales.crm.orders", "sales.web.sessions"]
    assert view.effective == {"owner": "sales"}
    assert (sales.producer, admins) == (True, [SAM])
    again = _producer(env, lake)
    assert again["changes"] == []
    assert [t["status"] for t in again["databases"]["crm"]] == ["unchanged", "unchanged"]  # type: ignore[index]
    with env.hub.read() as session:
        runs = session.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "onboard.producer")
        ).all()
    assert len(runs) == 2


def test_database_option_registers_the_location_tables_in_one_database(
    tagged: HubEnv, lake: Lake
) -> None:
    result = _producer(tagged, lake, location=lake.uri_of("sales/crm"), database="core", tags={})
    assert list(result["databases"]) == ["core"]  # type: ignore[call-overload]
    assert [t["name"] for t in result["databases"]["core"]] == [  # type: ignore[index]
        "sales.core.customers",
        "sales.core.orders",
    ]


def test_consumer_onboarding_is_idempotent(env: HubEnv) -> None:
    first = onboarding.onboard_consumer(
        env.hub, actor=env.admin, name="analytics", admin="user:ana@analytics"
    )
    assert first.changes == ["created domain analytics (consumer) with admin user:ana@analytics"]
    again = onboarding.onboard_consumer(
        env.hub, actor=env.admin, name="analytics", admin="user:ana@analytics"
    )
    assert again.changes == []


def test_an_existing_producer_becomes_a_consumer_too(tagged: HubEnv, lake: Lake) -> None:
    _producer(tagged, lake)
    result = onboarding.onboard_consumer(tagged.hub, actor=tagged.admin, name="sales", admin=SAM)
    assert result.changes == ["marked domain sales as consumer"]


def test_conflicts_are_refused_before_any_change(
    tagged: HubEnv, lake: Lake, tmp_path: Path
) -> None:
    env = tagged
    _producer(env, lake)
    with pytest.raises(
        ConflictError,
        match="Domain sales exists and user:bob@sales is not its admin "
        r"\(admins: user:sam@sales\)",
    ):
        _producer(env, lake, admin="user:bob@sales")
    with pytest.raises(
        ConflictError, match=r"Database sales.crm is tagged owner=sales, not owner=finance"
    ):
        _producer(env, lake, tags={"owner": "finance"})
    with pytest.raises(
        ConflictError,
        match=f"Location {lake.uri_of('sales')} is registered by domain sales, not finance",
    ):
        _producer(env, lake, name="finance", admin="user:fiona@finance")
    with env.hub.read() as session:
        assert [d.name for d in domains.list_domains(session)] == ["governance", "sales"]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (
            {"admin": "user:sam@finance"},
            InvalidInputError,
            "The admin of domain sales is a user, service or group of it, got user:sam@finance",
        ),
        (
            {"tags": {"owner": "nobody"}},
            InvalidInputError,
            r"Tag value does not exist: owner=nobody",
        ),
        (
            {"location": "/nowhere/at/all"},
            StorageError,
            "Storage location does not exist: file:///nowhere/at/all",
        ),
        ({"name": "Sales"}, InvalidInputError, "Invalid domain name: 'Sales'"),
    ],
)
def test_bad_requests_are_named(
    tagged: HubEnv, lake: Lake, options: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _producer(tagged, lake, **options)
    with tagged.hub.read() as session:
        assert [d.name for d in domains.list_domains(session)] == ["governance"]


def test_an_empty_location_is_named(tagged: HubEnv, lake: Lake) -> None:
    lake.folder("empty")
    with pytest.raises(InvalidInputError, match="No database folders under .*empty"):
        _producer(tagged, lake, location=lake.uri_of("empty"))


def test_only_mesh_admins_onboard_a_new_domain(tagged: HubEnv, lake: Lake) -> None:
    _producer(tagged, lake)
    with tagged.hub.read() as session:
        sam = load_actor(session, get_principal(session, SAM))
    with pytest.raises(AccessDeniedError, match="user:sam@sales is not a mesh admin"):
        onboarding.onboard_consumer(
            tagged.hub, actor=sam, name="analytics", admin="user:ana@analytics"
        )
    result = onboarding.onboard_producer(
        tagged.hub, actor=sam, name="sales", location=lake.uri_of("sales"), admin=SAM
    )
    assert result.changes == []
