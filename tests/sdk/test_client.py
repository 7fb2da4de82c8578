"""The SDK's behaviour, the same in both modes: every test runs embedded and remote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lakemesh import Client as ExportedClient
from lakemesh._version import __version__
from lakemesh.api.schemas.audit import AuditEvent, AuditVerification
from lakemesh.api.schemas.databases import DatabasePublic
from lakemesh.api.schemas.locations import LocationPublic
from lakemesh.api.schemas.principals import Health, PrincipalPublic
from lakemesh.api.schemas.settings import Settings
from lakemesh.api.schemas.tokens import TokenIssued, TokenPublic
from lakemesh.bootstrap import init_home
from lakemesh.errors import (
    AccessDeniedError,
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from lakemesh.sdk import Client, embedded
from lakemesh.settings import DEFAULTS
from tests.factories.lake import Lake
from tests.sdk.conftest import Mesh


def test_lakemesh_exports_the_sdk_client() -> None:
    assert ExportedClient is Client


def test_health_and_whoami(client: Client) -> None:
    health = client.health()
    assert isinstance(health, Health)
    assert (health.status, health.version) == ("ok", __version__)
    me = client.whoami()
    assert me.name == "user:admin@governance"
    assert me.is_mesh_admin is True


def test_domain_lifecycle(client: Client) -> None:
    created = client.create_domain(
        "sales", producer=True, description="Shops", admins=["user:sam@sales"]
    )
    assert created.name == "sales"
    assert created.producer is True
    assert created.admins == ["user:sam@sales"]
    assert [d.name for d in client.list_domains()] == ["governance", "sales"]

    updated = client.update_domain("sales", consumer=True, description="Shops and web")
    assert updated.consumer is True
    assert updated.producer is True
    assert updated.description == "Shops and web"

    with_admin = client.add_domain_admin("sales", "user:sue@sales")
    assert with_admin.admins == ["user:sam@sales", "user:sue@sales"]
    assert client.remove_domain_admin("sales", "user:sam@sales").admins == ["user:sue@sales"]

    client.delete_domain("sales")
    with pytest.raises(NotFoundError, match="Domain does not exist: sales"):
        client.get_domain("sales")


def test_principals_attributes_and_groups(client: Client) -> None:
    client.create_domain("marketing", admins=["user:maria@marketing"])
    client.create_attribute_key("region", values=["EU", "US"])
    client.create_attribute_key("team", values=["crm", "growth"])
    alice = client.create_principal("user:alice@marketing", attributes={"region": "EU"})
    assert alice.attributes == {"region": "EU"}
    client.create_principal("group:analysts@marketing")

    group = client.add_member("group:analysts@marketing", "user:alice@marketing")
    assert isinstance(group, PrincipalPublic)
    assert (group.name, group.members) == ("group:analysts@marketing", ["user:alice@marketing"])
    assert client.get_principal("user:alice@marketing").groups == ["group:analysts@marketing"]

    changed = client.set_attributes("user:alice@marketing", {"team": "growth"}, unset=["region"])
    assert changed.attributes == {"team": "growth"}

    users = client.list_principals(domain="marketing", kind="user")
    assert [p.name for p in users] == ["user:alice@marketing", "user:maria@marketing"]

    left = client.remove_member("group:analysts@marketing", "user:alice@marketing")
    assert left.members == []
    assert client.get_principal("group:analysts@marketing") == left
    client.delete_principal("user:alice@marketing")
    with pytest.raises(NotFoundError, match=r"user:alice@marketing"):
        client.get_principal("user:alice@marketing")


def test_tokens_act_as_their_principal_until_revoked(mesh: Mesh, client: Client) -> None:
    client.create_domain("sales", admins=["user:sam@sales"])
    issued = client.create_token("user:sam@sales", expires_in="30d", description="laptop")
    assert isinstance(issued, TokenIssued)
    assert issued.principal == "user:sam@sales"
    assert issued.token.startswith("lm_")
    assert issued.expires_at is not None

    with mesh.client(issued.token) as sam:
        me = sam.whoami()
        assert me.name == "user:sam@sales"
        assert me.is_mesh_admin is False
        assert me.admin_of == ["sales"]

    listed = client.list_tokens(principal="user:sam@sales")
    assert all(isinstance(token, TokenPublic) for token in listed)
    assert [(t.id, t.active, t.description) for t in listed] == [(issued.id, True, "laptop")]
    assert "token" not in listed[0].model_dump()

    revoked = client.revoke_token(issued.id)
    assert isinstance(revoked, TokenPublic)
    assert (revoked.id, revoked.active, revoked.revoked_at is not None) == (issued.id, False, True)
    with (
        mesh.client(issued.token) as sam,
        pytest.raises(AuthenticationError, match="API token was revoked"),
    ):
        sam.whoami()


def test_a_non_admin_is_denied_with_the_reason(mesh: Mesh, client: Client) -> None:
    client.create_domain("sales", admins=["user:sam@sales"])
    token = client.create_token("user:sam@sales").token
    with (
        mesh.client(token) as sam,
        pytest.raises(AccessDeniedError, match="user:sam@sales is not a mesh admin") as info,
    ):
        sam.create_domain("finance")
    assert info.value.details["principal"] == "user:sam@sales"


def test_locations_and_databases(client: Client, lake: Lake) -> None:
    client.create_domain("sales")
    location = client.register_location(str(lake.root), domain="sales")
    assert isinstance(location, LocationPublic)
    assert (location.uri, location.domain) == (lake.uri, "sales")
    with pytest.raises(AlreadyExistsError, match=f"Location already registered: {lake.uri}"):
        client.register_location(lake.uri, domain="sales")
    assert client.list_locations(domain="sales") == [location]

    database = client.create_database("sales.crm", description="Customers")
    assert isinstance(database, DatabasePublic)
    assert (database.name, database.domain, database.database) == ("sales.crm", "sales", "crm")
    assert client.list_databases(domain="sales") == [database]
    updated = client.update_database("sales.crm", description="CRM")
    assert updated == database.model_copy(update={"description": "CRM"})
    assert client.get_database("sales.crm") == updated
    client.drop_database("sales.crm")
    assert client.list_databases(domain="sales") == []

    client.remove_location(lake.uri)
    assert client.list_locations(domain="sales") == []


def test_a_database_name_needs_its_domain(client: Client) -> None:
    with pytest.raises(InvalidInputError, match=r"Invalid database name: 'crm' \(expected"):
        client.create_database("crm")


def test_deleting_a_domain_with_databases_is_a_conflict(client: Client) -> None:
    client.create_domain("sales")
    client.create_database("sales.crm")
    with pytest.raises(ConflictError, match=r"Domain sales still has 1 database\(s\)"):
        client.delete_domain("sales")


def test_settings(client: Client) -> None:
    settings = client.get_settings()
    assert isinstance(settings, Settings)
    assert settings.discovery == "published"
    changed = client.put_setting("discovery", "granted")
    assert changed == settings.model_copy(update={"discovery": "granted"})
    assert client.get_settings() == changed


def test_the_settings_model_names_every_setting() -> None:
    assert list(Settings.model_fields) == list(DEFAULTS)


def test_audit_search_and_verify(client: Client) -> None:
    client.create_domain("sales")
    events = client.audit_events(action="domain", since="1d")
    assert all(isinstance(event, AuditEvent) for event in events)
    assert [(e.action, e.resource) for e in events] == [("domain.create", "sales")]
    assert events[0].actor == "user:admin@governance"
    assert client.audit_events(actor="user:nobody@sales") == []
    verified = client.audit_verify()
    assert isinstance(verified, AuditVerification)
    assert (verified.ok, verified.broken_seq, verified.reason) == (True, None, None)
    assert verified.events >= 2


def test_an_embedded_client_left_open_exits_cleanly(tmp_path: Path) -> None:
    init_home(tmp_path / "home").hub.close()
    script = (
        "from lakemesh.sdk import Client\n"
        f"client = Client.open({str(tmp_path / 'home')!r})\n"
        "print(client.whoami().name)\n"
        "with Client.open(" + repr(str(tmp_path / "home")) + ") as other:\n"
        "    other.whoami()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "user:admin@governance\n", "")


def test_embedded_clients_of_one_home_share_one_hub(tmp_path: Path) -> None:
    init_home(tmp_path / "home").hub.close()
    home = (tmp_path / "home").resolve()
    with Client.open(home) as first:
        hub = embedded._OPEN[home].hub
        with Client.open(tmp_path / "home") as second:
            assert embedded._OPEN[home].hub is hub  # built once, for both
            assert embedded._OPEN[home].clients == 2
            second.create_domain("sales")
        assert [d.name for d in first.list_domains()] == ["governance", "sales"]
    assert home not in embedded._OPEN  # the last client let the hub go
