"""Shares: pending until the consumer accepts, delegated narrower, revoked with every delegation."""

from __future__ import annotations

import pytest

from lakemesh.errors import AccessDeniedError, ConflictError, NotFoundError
from lakemesh.governance import grants
from lakemesh.settings import change_setting
from lakemesh.sharing import shares
from tests.factories.sharing import CUSTOMER_COLUMNS, CUSTOMERS, MARIA, MIA, SAM, SharingMesh


def _list(mesh: SharingMesh, ref: str, **filters: str) -> list[dict[str, object]]:
    with mesh.read() as session:
        return [
            view.to_dict() for view in shares.list_shares(session, actor=mesh.actor(ref), **filters)
        ]


def test_a_share_is_pending_until_the_consumer_accepts_it(mesh: SharingMesh) -> None:
    share = mesh.grant(SAM, "domain:marketing", "SELECT", on=CUSTOMERS)
    assert mesh.columns(MARIA) == ()
    incoming = _list(mesh, MARIA, direction="incoming")
    assert [
        (s["id"], s["resource"], s["from_domain"], s["to_domain"], s["status"]) for s in incoming
    ] == [(share.id, CUSTOMERS, "sales", "marketing", "pending")]
    assert [s["id"] for s in _list(mesh, SAM, direction="outgoing")] == [share.id]
    assert _list(mesh, SAM, direction="incoming") == []
    with mesh.transaction() as session:
        accepted = shares.accept_share(session, actor=mesh.actor(MARIA), share_id=share.id)
    assert (accepted.status, accepted.decided_by) == ("accepted", MARIA)
    assert mesh.columns(MARIA) == CUSTOMER_COLUMNS
    assert [(e.actor, e.resource) for e in mesh.events("share.accept")] == [(MARIA, CUSTOMERS)]


def test_accepted_share_is_delegated_narrower_and_revoked_with_its_delegations(
    mesh: SharingMesh,
) -> None:
    share = mesh.grant(SAM, "domain:marketing", "SELECT", on=CUSTOMERS)
    with mesh.transaction() as session:
        shares.accept_share(session, actor=mesh.actor(MARIA), share_id=share.id)
    delegated = mesh.grant(MARIA, MIA, "SELECT", on=CUSTOMERS, exclude_columns=("email", "phone"))
    assert delegated.parent_id == share.id
    assert mesh.columns(MIA) == ("customer_id", "name", "region")
    with pytest.raises(AccessDeniedError, match="may not grant DELETE on sales.crm.customers"):
        mesh.grant(MARIA, MIA, "DELETE", on=CUSTOMERS)
    with mesh.transaction() as session:
        revoked = grants.revoke_grant(session, actor=mesh.actor(SAM), grant_id=share.id)
    assert revoked == [delegated.id, share.id]
    assert mesh.columns(MIA) == ()
    [gone] = _list(mesh, MARIA)
    assert (gone["id"], gone["status"]) == (share.id, "revoked")


def test_a_pending_share_cannot_be_delegated(mesh: SharingMesh) -> None:
    mesh.grant(SAM, "domain:marketing", "SELECT", on=CUSTOMERS)
    # Until the share is accepted the table is not visible to marketing: it reads as missing.
    with pytest.raises(NotFoundError, match="^Table does not exist: sales.crm.customers$"):
        mesh.grant(MARIA, MIA, "SELECT", on=CUSTOMERS)


def test_declined_share_stays_inert_and_can_be_accepted_later(mesh: SharingMesh) -> None:
    share = mesh.grant(SAM, "domain:marketing", "SELECT", on=CUSTOMERS)
    with mesh.transaction() as session:
        declined = shares.decline_share(session, actor=mesh.actor(MARIA), share_id=share.id)
    assert declined.status == "declined"
    assert mesh.columns(MARIA) == ()
    assert [s["id"] for s in _list(mesh, MARIA, status="declined")] == [share.id]
    with mesh.transaction() as session:
        shares.accept_share(session, actor=mesh.actor(MARIA), share_id=share.id)
    assert mesh.columns(MARIA) == CUSTOMER_COLUMNS


def test_a_delegated_share_cannot_be_declined(mesh: SharingMesh) -> None:
    share = mesh.grant(SAM, "domain:marketing", "SELECT", on=CUSTOMERS)
    with mesh.transaction() as session:
        shares.accept_share(session, actor=mesh.actor(MARIA), share_id=share.id)
    delegated = mesh.grant(MARIA, MIA, "SELECT", on=CUSTOMERS, columns=("customer_id",))
    with (
        pytest.raises(
            ConflictError,
            match=rf"Share #{share.id} of {CUSTOMERS} was delegated \(grants #{delegated.id}\)",
        ),
        mesh.transaction() as session,
    ):
        shares.decline_share(session, actor=mesh.actor(MARIA), share_id=share.id)


def test_only_the_consumers_admins_answer_a_share(mesh: SharingMesh) -> None:
    share = mesh.grant(SAM, "domain:marketing", "SELECT", on=CUSTOMERS)
    with (
        pytest.raises(
            AccessDeniedError, match="user:sam@sales is not an admin of domain marketing"
        ),
        mesh.transaction() as session,
    ):
        shares.accept_share(session, actor=mesh.actor(SAM), share_id=share.id)
    [denial] = [e for e in mesh.events("share.accept") if e.outcome == "denied"]
    assert (denial.actor, denial.resource) == (SAM, CUSTOMERS)


def test_an_unknown_share_is_named(mesh: SharingMesh) -> None:
    own = mesh.grant("user:admin@governance", MIA, "SELECT", on=CUSTOMERS)
    for share_id in (own.id, 999):
        with (
            pytest.raises(NotFoundError, match=f"Share does not exist: {share_id}"),
            mesh.transaction() as session,
        ):
            shares.accept_share(session, actor=mesh.admin, share_id=share_id)


def test_auto_accept_setting_accepts_unanswered_shares(mesh: SharingMesh) -> None:
    share = mesh.grant(SAM, "domain:marketing", "SELECT", on=CUSTOMERS)
    with mesh.transaction() as session:
        change_setting(session, actor=mesh.admin, key="auto_accept_shares", value=True)
    assert mesh.columns(MARIA) == CUSTOMER_COLUMNS
    assert [s["status"] for s in _list(mesh, MARIA)] == ["accepted"]
    with mesh.transaction() as session:
        shares.decline_share(session, actor=mesh.actor(MARIA), share_id=share.id)
    assert mesh.columns(MARIA) == ()


def test_grants_to_a_domain_of_its_own_objects_are_no_shares(mesh: SharingMesh) -> None:
    mesh.grant(SAM, "domain:sales", "SELECT", on=CUSTOMERS)
    assert _list(mesh, SAM) == []
