"""Tag grants, data-filter pairs with LF cell semantics, and masks, table-driven (DESIGN §4)."""

from __future__ import annotations

import pytest

from lakemesh.model.access import CellPair
from tests.factories.policy import (
    ALL_COLUMNS,
    CAMPAIGNS,
    EU,
    NO_GRANT,
    PII_HASH,
    SECRET_NULL,
    US,
    Case,
    campaigns,
    check_case,
    customers,
    grant,
    mask,
    on,
    on_tags,
    orders,
    through_filter,
    who,
)

TAGS = {
    "a pii column drops out of a public|internal grant": Case(
        [grant(12, "group:analysts@marketing", "SELECT", on_tags("sensitivity=public|internal"))],
        True,
        ("id", "name", "region"),
        reasons=(
            r"^grant #12 SELECT on tag expression sensitivity=internal\|public "
            r"to group:analysts@marketing \(columns: id, name, region; "
            r"excluded by tags: email \[sensitivity=pii\], ssn \[sensitivity=secret\]\)$",
        ),
    ),
    "table tags override database tags": Case(
        [grant(1, "user:bob@marketing", "SELECT", on_tags("sensitivity=public"))],
        True,
        ("order_id", "customer_id", "amount", "region"),
        resource="sales.crm.orders",
        table=orders(),
    ),
    "database tags reach columns without own tags": Case(
        [grant(1, "user:bob@marketing", "SELECT", on_tags("domain=sales"))], True, ALL_COLUMNS
    ),
    "column tags override table tags": Case(
        [grant(1, "user:bob@marketing", "SELECT", on_tags("sensitivity=public"))],
        True,
        ("id",),
        table=customers(id={"sensitivity": "public"}),
    ),
    "no column matches: denied, with the near miss": Case(
        [grant(7, "user:bob@marketing", "SELECT", on_tags("sensitivity=public"))],
        False,
        reasons=(f"^{NO_GRANT}$", "^grant #7 .* matches no column of sales.crm.customers$"),
    ),
    "OR": Case(
        [grant(1, "user:bob@marketing", "SELECT", on_tags("sensitivity=secret OR pii_type=email"))],
        True,
        ("email", "ssn"),
    ),
    "NOT": Case(
        [
            grant(
                1,
                "user:bob@marketing",
                "SELECT",
                on_tags("domain=sales AND NOT sensitivity=secret"),
            )
        ],
        True,
        ("id", "name", "email", "region"),
    ),
    "!= with several values": Case(
        [grant(1, "user:bob@marketing", "SELECT", on_tags("sensitivity!=pii|secret"))],
        True,
        ("id", "name", "region"),
    ),
    "!= is true where the key is absent": Case(
        [grant(1, "user:bob@marketing", "SELECT", on_tags("pii_type!=email"))],
        True,
        ("id", "name", "region", "ssn"),
    ),
    "= is false where the key is absent": Case(
        [grant(1, "user:bob@marketing", "SELECT", on_tags("pii_type=phone|email"))],
        True,
        ("email",),
    ),
    "a scoped tag grant stays in its domain": Case(
        [
            grant(
                1,
                "user:bob@marketing",
                "SELECT",
                on_tags("sensitivity=internal", scope="marketing"),
            )
        ],
        False,
    ),
    "a scoped tag grant applies inside its domain": Case(
        [
            grant(
                1, "user:bob@marketing", "SELECT", on_tags("sensitivity=public", scope="marketing")
            )
        ],
        True,
        ("campaign", "budget"),
        resource=str(CAMPAIGNS),
        table=campaigns(),
    ),
    "database tag grants give database permissions": Case(
        [grant(1, "user:bob@marketing", "CREATE_TABLE", on_tags("domain=sales", databases=True))],
        True,
        permission="CREATE_TABLE",
        resource="sales.crm",
        database_tags={"domain": "sales"},
    ),
    "database tag grants do not read tables": Case(
        [grant(1, "user:bob@marketing", "ALL", on_tags("domain=sales", databases=True))], False
    ),
    "a whole-table permission needs every column in the expression": Case(
        [grant(4, "user:bob@marketing", "INSERT", on_tags("sensitivity=internal"))],
        False,
        permission="INSERT",
        reasons=("grant #4 INSERT .* does not cover every column of sales.crm.customers",),
    ),
    "a whole-table permission through a tag grant": Case(
        [grant(4, "user:bob@marketing", "INSERT", on_tags("domain=sales"))],
        True,
        permission="INSERT",
    ),
}

FILTERS = {
    "a filter grant gives its rows and columns": Case(
        [
            grant(
                14,
                "user:bob@marketing",
                "SELECT",
                through_filter("eu", "region = 'EU'", columns=("id", "region")),
            )
        ],
        True,
        ("id", "region"),
        EU,
        reasons=(
            r"^grant #14 SELECT on sales.crm.customers through filter eu to user:bob@marketing "
            r"\(rows: \"region\" = 'EU'; columns: id, region\)$",
        ),
        pairs=(CellPair("\"region\" = 'EU'", frozenset({"id", "region"})),),
    ),
    "two filters with different columns: union of rows, NULL cells elsewhere": Case(
        [
            grant(
                1,
                "user:bob@marketing",
                "SELECT",
                through_filter("eu", "region = 'EU'", columns=("id", "name")),
            ),
            grant(
                2,
                "user:bob@marketing",
                "SELECT",
                through_filter("us", "region = 'US'", columns=("id", "region")),
            ),
        ],
        True,
        ("id", "name", "region"),
        f"{EU} OR {US}",
        pairs=(
            CellPair("\"region\" = 'EU'", frozenset({"id", "name"})),
            CellPair("\"region\" = 'US'", frozenset({"id", "region"})),
        ),
    ),
    "a filter next to a full grant: every row, filtered cells for the extra columns": Case(
        [
            grant(1, "user:bob@marketing", "SELECT", on_tags("sensitivity=internal")),
            grant(
                2,
                "user:bob@marketing",
                "SELECT",
                through_filter("eu", "region = 'EU'", columns=("id", "email")),
            ),
        ],
        True,
        ("id", "name", "email", "region"),
        None,
        pairs=(
            CellPair(None, frozenset({"id", "name", "region"})),
            CellPair("\"region\" = 'EU'", frozenset({"email"})),
        ),
    ),
    "the same filter twice merges": Case(
        [
            grant(
                1,
                "user:bob@marketing",
                "SELECT",
                through_filter("eu", "region = 'EU'", columns=("id",)),
            ),
            grant(
                2,
                "group:analysts@marketing",
                "SELECT",
                through_filter("eu2", "region = 'EU'", columns=("name",)),
            ),
        ],
        True,
        ("id", "name"),
        EU,
        pairs=(CellPair("\"region\" = 'EU'", frozenset({"id", "name"})),),
    ),
    "principal_attribute is bound to the principal's value": Case(
        [
            grant(
                1,
                "group:analysts@marketing",
                "SELECT",
                through_filter("mine", "region = principal_attribute('region')"),
            )
        ],
        True,
        ALL_COLUMNS,
        EU,
    ),
    "a missing attribute binds NULL: no row": Case(
        [
            grant(
                1,
                "user:ann@marketing",
                "SELECT",
                through_filter("mine", "region = principal_attribute('region')"),
            )
        ],
        True,
        ALL_COLUMNS,
        '("region" = NULL)',
        subject=who("user:ann@marketing"),
    ),
    "a filter without predicate reads every row of its columns": Case(
        [
            grant(
                1, "user:bob@marketing", "SELECT", through_filter("safe", None, excluding=("ssn",))
            )
        ],
        True,
        ("id", "name", "email", "region"),
        None,
    ),
    "a filter on another table does not apply": Case(
        [
            grant(
                1, "user:bob@marketing", "SELECT", through_filter("o", "amount > 1", table=orders())
            )
        ],
        False,
    ),
    "a filter carries SELECT only": Case(
        [grant(1, "user:bob@marketing", "ALL", through_filter("eu", "region = 'EU'"))],
        False,
        permission="DELETE",
    ),
    "column request: only the pairs covering the column": Case(
        [
            grant(
                1,
                "user:bob@marketing",
                "SELECT",
                through_filter("eu", "region = 'EU'", columns=("id", "name")),
            ),
            grant(
                2,
                "user:bob@marketing",
                "SELECT",
                through_filter("us", "region = 'US'", columns=("id", "region")),
            ),
        ],
        True,
        ("name",),
        EU,
        resource="sales.crm.customers.name",
    ),
}

MASKS = {
    "a pii column is masked": Case(
        [grant(1, "user:bob@marketing", "SELECT", on_tags("sensitivity=internal|pii"))],
        True,
        ("id", "name", "email", "region"),
        masks={"email": "hash"},
        mask_rules=(PII_HASH,),
        reasons=(r"^mask pii_hash \(hash\) on email: tags match sensitivity=pii$",),
        pairs=(CellPair(None, frozenset({"id", "name", "email", "region"})),),
    ),
    "UNMASK on the column lifts the mask": Case(
        [
            grant(1, "user:bob@marketing", "SELECT", on_tags("sensitivity=internal|pii")),
            grant(2, "user:bob@marketing", "UNMASK", on("sales.crm.customers.email")),
        ],
        True,
        ("id", "name", "email", "region"),
        mask_rules=(PII_HASH,),
        reasons=(
            "^mask pii_hash lifted on email by UNMASK: "
            "grant #2 UNMASK on sales.crm.customers.email",
        ),
    ),
    "UNMASK through a tag grant": Case(
        [
            grant(
                1, "user:bob@marketing", "SELECT", on_tags("pii_type=email OR sensitivity=secret")
            ),
            grant(2, "user:bob@marketing", "UNMASK", on_tags("pii_type=email")),
        ],
        True,
        ("email", "ssn"),
        masks={"ssn": "null"},
        mask_rules=(PII_HASH, SECRET_NULL),
    ),
    "the strongest of several masks wins": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers"))],
        True,
        ALL_COLUMNS,
        masks={"email": "null", "ssn": "null"},
        mask_rules=(
            PII_HASH,
            mask("mail", "pii_type=email", "email_domain"),
            mask("all_pii", "sensitivity=pii|secret", "null"),
        ),
    ),
    "masks apply to visible columns only": Case(
        [grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers", columns=("id",)))],
        True,
        ("id",),
        mask_rules=(PII_HASH,),
    ),
    "masks apply after filters": Case(
        [grant(1, "user:bob@marketing", "SELECT", through_filter("eu", "region = 'EU'"))],
        True,
        ALL_COLUMNS,
        EU,
        masks={"email": "hash"},
        mask_rules=(PII_HASH,),
    ),
    "UNMASK decision lists the unmasked columns": Case(
        [grant(1, "user:bob@marketing", "UNMASK", on_tags("sensitivity=pii"))],
        True,
        ("email",),
        permission="UNMASK",
    ),
}


CASES = {
    **{f"tags: {k}": v for k, v in TAGS.items()},
    **{f"filters: {k}": v for k, v in FILTERS.items()},
    **{f"masks: {k}": v for k, v in MASKS.items()},
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_decision(case: Case) -> None:
    check_case(case)
