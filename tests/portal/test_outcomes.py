"""What a viewer gets of each column, read off the decision ``explain`` gives: visible, masked
(which function), NULL outside some rows, hidden (DESIGN §4's cell semantics)."""

from __future__ import annotations

import pytest

from lakemesh.portal.views.access import HIDDEN, MASKED, NULL_OUTSIDE_ROWS, VISIBLE, column_outcome
from tests.factories.policy import ALL_COLUMNS, Case, decide_case, grant, mask, on, through_filter

EU_PREDICATE = "\"region\" = 'EU'"

CASES = {
    "no grant: every column hidden": (
        Case(grants=[], allowed=False),
        {c: (HIDDEN, None, None) for c in ALL_COLUMNS},
    ),
    "a column list: the others hidden": (
        Case(
            grants=[grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers",
                                                                 columns=("id", "name")))],
            allowed=True,
        ),
        {
            "id": (VISIBLE, None, None),
            "name": (VISIBLE, None, None),
            "email": (HIDDEN, None, None),
            "region": (HIDDEN, None, None),
            "ssn": (HIDDEN, None, None),
        },
    ),
    "a mask on pii: masked with its function": (
        Case(
            grants=[grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers"))],
            allowed=True,
            mask_rules=(mask("pii_redact", "sensitivity=pii", "redact"),),
        ),
        {
            "id": (VISIBLE, None, None),
            "email": (MASKED, "redact", None),
            "ssn": (VISIBLE, None, None),
        },
    ),
    "all rows of some columns, EU rows of all: the rest NULL outside EU rows": (
        Case(
            grants=[
                grant(1, "user:bob@marketing", "SELECT", on("sales.crm.customers",
                                                            columns=("id", "region"))),
                grant(2, "user:bob@marketing", "SELECT", through_filter("eu", "region = 'EU'")),
            ],
            allowed=True,
        ),
        {
            "id": (VISIBLE, None, None),
            "region": (VISIBLE, None, None),
            "email": (NULL_OUTSIDE_ROWS, None, f"({EU_PREDICATE})"),
            "name": (NULL_OUTSIDE_ROWS, None, f"({EU_PREDICATE})"),
        },
    ),
    "one filter for everything: a row filter, no NULLs": (
        Case(
            grants=[grant(1, "user:bob@marketing", "SELECT",
                          through_filter("eu", "region = 'EU'"))],
            allowed=True,
        ),
        {c: (VISIBLE, None, None) for c in ALL_COLUMNS},
    ),
}  # fmt: skip


@pytest.mark.parametrize(("case", "expected"), CASES.values(), ids=CASES.keys())
def test_column_outcomes_follow_the_decision(
    case: Case, expected: dict[str, tuple[str, str | None, str | None]]
) -> None:
    decision = decide_case(case)
    for column, outcome in expected.items():
        assert column_outcome(column, decision) == outcome, column
