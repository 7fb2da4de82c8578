"""Decision snapshots and their comparison: a change planted in a copy of the demo mesh (a
grant, a data filter, a tag assignment) is found, and nothing else; an identical copy shows
nothing. The comparison that decides only where inputs differ finds what the full one finds."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from lakemesh.governance import filters, grants, tag_assignments
from lakemesh.governance.grant_targets import GrantRequest
from lakemesh.hub import Hub
from lakemesh.identity import principals
from lakemesh.model.actors import Actor
from lakemesh.model.names import parse_principal
from lakemesh.model.permissions import Permission
from lakemesh.recovery.compare import Difference, compare_hubs, compare_snapshots, describe
from lakemesh.recovery.decisions import HubDecisions
from lakemesh.recovery.snapshot import DecisionSnapshot, TableDecision
from lakemesh.settings import change_setting
from tests.factories.demo import DemoBackup

SELECT = frozenset({Permission.SELECT})
Plant = Callable[[Session, Actor], None]


@pytest.fixture
def original(demo_backup: DemoBackup) -> Iterator[Hub]:
    hub = Hub.open(demo_backup.home)
    yield hub
    hub.close()


@pytest.fixture
def copy(demo_backup: DemoBackup, tmp_path: Path) -> Iterator[tuple[Hub, Actor]]:
    hub, steward = demo_backup.copy(tmp_path / "copy")
    yield hub, steward
    hub.close()


def _compare(before: Hub, after: Hub) -> list[Difference]:
    """The pruned comparison, checked against the full one of two materialised snapshots."""
    with before.read() as old_session, after.read() as new_session:
        old, new = HubDecisions(old_session), HubDecisions(new_session)
        found = compare_hubs(old, new)
        full = compare_snapshots(old.snapshot(), new.snapshot())
    assert found == full
    return found


def _members(hub: Hub, group: str) -> set[str]:
    with hub.read() as session:
        return {
            ref
            for ref in HubDecisions(session).principals
            if parse_principal(group) in HubDecisions(session).subject(ref).groups
        }


def test_an_identical_copy_has_no_difference(original: Hub, copy: tuple[Hub, Actor]) -> None:
    assert _compare(original, copy[0]) == []


def test_a_planted_grant_is_the_one_difference(original: Hub, copy: tuple[Hub, Actor]) -> None:
    hub, steward = copy
    with hub.transaction() as session:
        grants.grant(
            session,
            actor=steward,
            grantee="user:sol@supply_chain",
            request=GrantRequest(permissions=SELECT, on="sales.crm.stores", columns=("city",)),
        )
    (difference,) = _compare(original, hub)
    assert (difference.principal, difference.table, difference.aspect) == (
        "user:sol@supply_chain",
        "sales.crm.stores",
        "access",
    )
    assert difference.before == "denied"
    assert difference.after["columns"] == ["city"]
    assert difference.after["reasons"] == [
        "grant SELECT on sales.crm.stores (columns city) to user:sol@supply_chain (columns: city)"
    ]


def test_a_changed_data_filter_shows_for_its_grantees_only(
    original: Hub, copy: tuple[Hub, Actor]
) -> None:
    hub, steward = copy
    with hub.transaction() as session:
        filters.update_filter(
            session,
            actor=steward,
            name="eu_only",
            table="sales.crm.orders",
            rows="region = principal_attribute('region') AND amount > 100",
        )
    differences = _compare(original, hub)
    managers = {"group:regional_managers@sales"} | _members(hub, "group:regional_managers@sales")
    assert {(d.principal, d.table) for d in differences} == {
        (ref, "sales.crm.orders") for ref in managers
    }
    assert {d.aspect for d in differences} <= {"row_filter", "cells", "reasons"}
    filtered = [d for d in differences if d.aspect == "row_filter"]
    assert filtered
    for difference in filtered:
        assert difference.after == difference.before[:-1] + ' AND "amount" > 100)'


def test_a_changed_tag_assignment_shows_on_its_table_only(
    original: Hub, copy: tuple[Hub, Actor]
) -> None:
    hub, steward = copy
    with hub.transaction() as session:
        tag_assignments.assign_tags(
            session,
            actor=steward,
            resource="sales.crm.customers.segment",
            tags={"sensitivity": "pii"},
        )
    differences = _compare(original, hub)
    assert differences
    assert {d.table for d in differences} == {"sales.crm.customers"}
    by_aspect = {(d.principal, d.aspect): d for d in differences}
    # Marketing analysts read public and internal columns through a tag grant: segment drops out.
    lost = by_aspect["group:analysts@marketing", "columns"]
    assert set(lost.before) - set(lost.after) == {"segment"}
    # Whoever still reads segment without UNMASK now sees it redacted.
    masked = [d for d in differences if d.aspect == "masks"]
    assert masked
    for difference in masked:
        assert difference.after.get("segment") == "redact"
        assert "segment" not in difference.before


def test_a_principal_on_one_side_only_is_one_difference(
    original: Hub, copy: tuple[Hub, Actor]
) -> None:
    hub, steward = copy
    with hub.transaction() as session:
        principals.create_principal(session, actor=steward, principal="user:zoe@marketing")
        grants.grant(
            session,
            actor=steward,
            grantee="user:zoe@marketing",
            request=GrantRequest(permissions=SELECT, on="sales.crm.stores"),
        )
    assert _compare(original, hub) == [
        Difference("user:zoe@marketing", None, "principal", "absent", "present")
    ]


def test_the_listing_agrees_with_every_single_decision(original: Hub) -> None:
    """The snapshot decides only the tables the kernel lists as readable: deciding every
    principal on every table gives the same answers."""
    with original.read() as session:
        hub = HubDecisions(session)
        snapshot = hub.snapshot()
        every = {
            (ref, table): decision
            for ref in hub.principals
            for table in hub.tables
            if (decision := hub.decision(ref, table)) is not None
        }
    assert snapshot.decisions == every
    assert len(every) > 10


def test_a_snapshot_is_stable_json(original: Hub, copy: tuple[Hub, Actor]) -> None:
    with original.read() as session:
        first = HubDecisions(session).snapshot().to_dict()
    with copy[0].read() as session:
        second = HubDecisions(session).snapshot().to_dict()
    text = json.dumps(first, sort_keys=False)
    assert text == json.dumps(second, sort_keys=False)
    assert "grant #" not in text  # grant ids differ between a hub and its copy
    back = DecisionSnapshot.from_dict(json.loads(text))
    assert back.to_dict() == first
    orders = first["decisions"]["user:emma@sales"]["sales.crm.orders"]
    assert set(orders) == {"columns", "row_filter", "cells", "masks", "reasons"}


def test_row_predicates_and_reasons_are_in_a_fixed_order() -> None:
    """The kernel joins predicates in grant-id order; a snapshot sorts them."""
    from lakemesh.model.access import CellPair, ColumnAccess
    from lakemesh.policy import Decision

    def decision(predicates: list[str], ids: list[int]) -> Decision:
        return Decision(
            True,
            parse_principal("user:a@sales"),
            "SELECT",
            "sales.crm.orders",
            columns=("a",),
            row_filter=" OR ".join(f"({p})" for p in predicates),
            access=ColumnAccess(tuple(CellPair(p, frozenset({"a"})) for p in predicates)),
            reasons=[f"grant #{i} SELECT on sales.crm.orders through filter f{i}" for i in ids],
        )

    one = TableDecision.of(decision(["b = 2", "a = 1"], [7, 3]))
    other = TableDecision.of(decision(["a = 1", "b = 2"], [12, 40]))
    assert one.row_filter == other.row_filter == "(a = 1) OR (b = 2)"
    assert one.reasons != other.reasons  # different filters named
    assert one.reasons[0].startswith("grant SELECT")


def test_a_document_that_is_not_a_snapshot_is_refused() -> None:
    from lakemesh.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="Not a decision snapshot of format 1"):
        DecisionSnapshot.from_dict({"format": 99})
    with pytest.raises(InvalidInputError, match="Invalid decision snapshot"):
        DecisionSnapshot.from_dict({"format": 1, "principals": []})


def test_a_copy_on_postgresql_decides_as_the_sqlite_original(
    original: Hub, demo_backup: DemoBackup, tmp_path: Path, postgres_database: str
) -> None:
    hub, _ = demo_backup.copy(tmp_path / "pg", database_url=postgres_database)
    try:
        assert _compare(original, hub) == []
    finally:
        hub.close()


def test_a_changed_membership_and_attribute_show_for_those_principals_only(
    original: Hub, copy: tuple[Hub, Actor]
) -> None:
    """Groups and attributes differ: those principals are decided on every table."""
    from lakemesh.identity.attributes import apply_attributes
    from lakemesh.identity.principals import add_member, get_principal

    hub, steward = copy
    with hub.transaction() as session:
        add_member(
            session, actor=steward, group="group:analysts@finance", member="user:sol@supply_chain"
        )
        emma = get_principal(session, "user:emma@sales")
        apply_attributes(session, actor=steward, principal=emma, set_={"region": "NA"})
    differences = _compare(original, hub)
    assert {d.principal for d in differences} == {"user:sol@supply_chain", "user:emma@sales"}
    assert {d.table for d in differences if d.principal == "user:sol@supply_chain"} == {
        "finance.ledger.invoices"
    }
    (emma_filter,) = [d for d in differences if d.aspect == "row_filter"]
    assert (emma_filter.before, emma_filter.after) == (
        """("region" = 'EU')""",
        """("region" = 'NA')""",
    )


def test_a_describe_decision_that_differs_is_found(original: Hub, copy: tuple[Hub, Actor]) -> None:
    hub, steward = copy
    with hub.transaction() as session:
        change_setting(session, actor=steward, key="discovery", value="granted")
    found = _compare(original, hub)  # the pruned comparison agrees with the full snapshots
    assert found
    assert {d.aspect for d in found} == {"describe"}  # what one may read is the same
    by_pair = {(d.principal, d.table): (d.before, d.after) for d in found}
    assert by_pair[("user:sol@supply_chain", "sales.crm.stores")] == ("allowed", "denied")
    assert describe(found[0])[0].endswith(": describe: allowed -> denied")
    with original.read() as session:
        taken = HubDecisions(session).snapshot()
    assert "sales.crm.stores" in taken.describable["user:sol@supply_chain"]
    assert DecisionSnapshot.from_dict(json.loads(json.dumps(taken.to_dict()))) == taken
