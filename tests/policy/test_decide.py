"""DESIGN §4 decisions, table-driven: each case is (setup, principal, request, expected)."""

from __future__ import annotations

import pytest

from lakemesh.api.schemas.grants import DecisionPublic
from lakemesh.errors import AccessDeniedError, InvalidInputError, NotFoundError
from lakemesh.model.access import CellPair
from lakemesh.policy import (
    Location,
    LocationTarget,
    PolicySettings,
    TagValue,
    TagValuesTarget,
)
from tests.factories.policy import (
    ALL_COLUMNS,
    EU,
    NO_GRANT,
    PII_HASH,
    Case,
    check_case,
    customers,
    decide_case,
    grant,
    on,
    through_filter,
    who,
)

DEFAULT_DENY = {
    "no grants at all": Case([], False, reasons=(f"^{NO_GRANT}$",)),
    "a grant to someone else": Case(
        [grant(1, "user:ann@marketing", "SELECT", on("sales.crm.customers"))], False
    ),
    "a grant on another table": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.crm.orders"))], False
    ),
    "a grant of another permission": Case(
        [grant(1, "user:bob@marketing", "DESCRIBE", on("sales.crm.customers"))], False
    ),
}

NAMED = {
    "table grant reads every column": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers"))],
        True,
        ALL_COLUMNS,
        reasons=(
            r"^grant #1 SELECT on sales.crm.customers to user:bob@marketing "
            r"\(columns: id, name, email, region, ssn\)$",
        ),
        pairs=(CellPair(None, frozenset(ALL_COLUMNS)),),
    ),
    "database grant covers its tables": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.crm"))], True, ALL_COLUMNS
    ),
    "domain grant covers its tables": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales"))], True, ALL_COLUMNS
    ),
    "ALL on the database includes SELECT": Case(
        [grant(1, "user:bob@marketing", "ALL", on("sales.crm"))], True, ALL_COLUMNS
    ),
    "a grant on another database does not": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.erp"))], False
    ),
    "column include list": Case(
        [
            grant(
                1, "user:bob@marketing", "SELECT", on("sales.crm.customers", columns=("NAME", "id"))
            )
        ],
        True,
        ("id", "name"),
        reasons=(r"on sales.crm.customers \(columns NAME, id\)",),
    ),
    "column exclude list": Case(
        [
            grant(
                1,
                "user:bob@marketing",
                "SELECT",
                on("sales.crm.customers", excluding=("ssn", "email")),
            )
        ],
        True,
        ("id", "name", "region"),
    ),
    "column-level grant": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers.email"))],
        True,
        ("email",),
    ),
    "column request covered by a table grant": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers"))],
        True,
        ("email",),
        resource="sales.crm.customers.email",
        pairs=(CellPair(None, frozenset({"email"})),),
    ),
    "column request outside the grant's columns": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers", columns=("id",)))],
        False,
        resource="sales.crm.customers.ssn",
        reasons=(
            "^no grant of SELECT on sales.crm.customers.ssn reaches user:bob@marketing$",
            r"grant #1 .* \(columns: id\) does not cover ssn",
        ),
    ),
    "a column grant gives column permissions only": Case(
        [grant(1, "user:bob@marketing", "ALL", on("sales.crm.customers", columns=("id",)))],
        False,
        permission="DROP",
    ),
}

REACH = {
    "through a group": Case(
        [grant(1, "group:analysts@marketing", "SELECT", on("sales.crm.customers"))],
        True,
        ALL_COLUMNS,
        reasons=("to group:analysts@marketing",),
    ),
    "through an outer group (groups are transitive)": Case(
        [grant(1, "group:everyone@marketing", "SELECT", on("sales.crm.customers"))],
        True,
        ALL_COLUMNS,
        subject=who(
            "user:bob@marketing", groups=("group:analysts@marketing", "group:everyone@marketing")
        ),
    ),
    "a domain grant reaches the domain's admins": Case(
        [grant(1, "domain:marketing", "SELECT", on("sales.crm.customers"))],
        True,
        ALL_COLUMNS,
        subject=who("user:bob@marketing", admin_of=("marketing",)),
        reasons=(r"to domain:marketing \(reaching its admins\)",),
    ),
    "a domain grant does not reach the domain's other members": Case(
        [grant(1, "domain:marketing", "SELECT", on("sales.crm.customers"))], False
    ),
    "a domain grant reaches the domain principal itself": Case(
        [grant(1, "domain:marketing", "SELECT", on("sales.crm.customers"))],
        True,
        ALL_COLUMNS,
        subject=who("domain:marketing"),
    ),
}

ROLES = {
    "mesh admin reads no data without a grant": Case(
        [],
        False,
        subject=who("user:root@governance", mesh_admin=True),
        reasons=("no data access",),
    ),
    "mesh admin describes every table": Case(
        [],
        True,
        subject=who("user:root@governance", mesh_admin=True),
        permission="DESCRIBE",
        reasons=("^role: mesh admin",),
    ),
    "mesh admin describes every domain": Case(
        [],
        True,
        subject=who("user:root@governance", mesh_admin=True),
        permission="DESCRIBE",
        resource="sales",
    ),
    "domain admin reads its domain's tables, unmasked": Case(
        [],
        True,
        ALL_COLUMNS,
        subject=who("user:sam@sales", admin_of=("sales",)),
        mask_rules=(PII_HASH,),
        reasons=("^role: domain admin of sales", "mask pii_hash lifted on email"),
    ),
    "domain admin drops its domain's tables": Case(
        [], True, subject=who("user:sam@sales", admin_of=("sales",)), permission="DROP"
    ),
    "domain admin creates tables in its databases": Case(
        [],
        True,
        subject=who("user:sam@sales", admin_of=("sales",)),
        permission="CREATE_TABLE",
        resource="sales.crm",
    ),
    "domain admin of another domain reads nothing": Case(
        [], False, subject=who("user:mia@marketing", admin_of=("marketing",))
    ),
    "everyone describes published tables": Case(
        [],
        True,
        permission="DESCRIBE",
        table=customers(published=True),
        reasons=("^discovery: sales.crm.customers is in a published data product$",),
    ),
    "discovery=granted hides published tables": Case(
        [],
        False,
        permission="DESCRIBE",
        table=customers(published=True),
        settings=PolicySettings(discovery="granted"),
    ),
    "published does not mean readable": Case([], False, table=customers(published=True)),
    "unpublished tables are not discoverable": Case([], False, permission="DESCRIBE"),
    "any permission on a table implies DESCRIBE": Case(
        [grant(3, "user:bob@marketing", "SELECT", on("sales.crm.customers", columns=("id",)))],
        True,
        permission="DESCRIBE",
        reasons=(r"grant #3 SELECT .* \(implies DESCRIBE\)",),
    ),
    "a filter grant implies DESCRIBE of its database": Case(
        [grant(3, "user:bob@marketing", "SELECT", through_filter("eu", "region = 'EU'"))],
        True,
        permission="DESCRIBE",
        resource="sales.crm",
    ),
}

OTHER_RESOURCES = {
    "permission not applicable to a column": Case(
        [grant(1, "user:bob@marketing", "ALL", on("sales"))],
        False,
        permission="INSERT",
        resource="sales.crm.customers.email",
        reasons=(r"^INSERT does not apply to a column \(applies: SELECT, UNMASK\)$",),
    ),
    "permission not applicable to a table": Case(
        [grant(1, "user:bob@marketing", "ALL", on("sales"))], False, permission="CREATE_TABLE"
    ),
    "location grant covers locations under it": Case(
        [
            grant(
                1, "user:bob@marketing", "DATA_LOCATION_ACCESS", LocationTarget("s3://lake/sales/")
            )
        ],
        True,
        permission="DATA_LOCATION_ACCESS",
        resource=Location("s3://lake/sales/crm", "sales"),
    ),
    "location grant stops at the path boundary": Case(
        [grant(1, "user:bob@marketing", "DATA_LOCATION_ACCESS", LocationTarget("s3://lake/sales"))],
        False,
        permission="DATA_LOCATION_ACCESS",
        resource=Location("s3://lake/salesforce", "sales"),
    ),
    "domain admins use their domain's locations": Case(
        [],
        True,
        subject=who("user:sam@sales", admin_of=("sales",)),
        permission="DATA_LOCATION_ACCESS",
        resource=Location("s3://lake/sales", "sales"),
    ),
    "delegated ASSOCIATE on some tag values": Case(
        [
            grant(
                1,
                "user:bob@marketing",
                "ASSOCIATE",
                TagValuesTarget("sensitivity", frozenset({"internal"})),
            )
        ],
        True,
        permission="ASSOCIATE",
        resource=TagValue("sensitivity", "internal"),
    ),
    "ASSOCIATE stops at the delegated values": Case(
        [
            grant(
                1,
                "user:bob@marketing",
                "ASSOCIATE",
                TagValuesTarget("sensitivity", frozenset({"internal"})),
            )
        ],
        False,
        permission="ASSOCIATE",
        resource=TagValue("sensitivity", "pii"),
    ),
    "mesh admins assign any tag": Case(
        [],
        True,
        subject=who("user:root@governance", mesh_admin=True),
        permission="ASSOCIATE",
        resource=TagValue("sensitivity", "pii"),
    ),
}

CASES = {
    **{f"deny: {k}": v for k, v in DEFAULT_DENY.items()},
    **{f"named: {k}": v for k, v in NAMED.items()},
    **{f"reach: {k}": v for k, v in REACH.items()},
    **{f"roles: {k}": v for k, v in ROLES.items()},
    **{f"other: {k}": v for k, v in OTHER_RESOURCES.items()},
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_decision(case: Case) -> None:
    check_case(case)


def test_explain_json_has_the_design_shape() -> None:
    decision = decide_case(
        Case(
            [grant(1, "user:bob@marketing", "SELECT", through_filter("eu", "region = 'EU'"))],
            True,
            mask_rules=(PII_HASH,),
        )
    )
    assert DecisionPublic.of(decision).model_dump() == {
        "allowed": True,
        "columns": list(ALL_COLUMNS),
        "row_filter": EU,
        "masks": {"email": "hash"},
        "reasons": decision.reasons,
        "attributes": {},  # explain fills in the attribute values the filters read
    }


def test_require_names_what_is_missing() -> None:
    decision = decide_case(Case([], False, resource="sales.crm.customers.email"))
    with pytest.raises(
        AccessDeniedError, match=r"^user:bob@marketing lacks SELECT on sales.crm.customers.email$"
    ):
        decision.require()


def test_all_is_not_a_question() -> None:
    with pytest.raises(InvalidInputError, match="one permission at a time"):
        decide_case(Case([], False, permission="ALL"))


def test_unknown_column() -> None:
    with pytest.raises(NotFoundError, match="Column does not exist: sales.crm.customers.nope"):
        decide_case(Case([], False, resource="sales.crm.customers.nope"))


def test_table_facts_are_required() -> None:
    with pytest.raises(InvalidInputError, match="Table facts for sales.crm.orders are needed"):
        decide_case(Case([], False, resource="sales.crm.orders", table=customers()))
