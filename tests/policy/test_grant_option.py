"""Grant option: the same or fewer permissions on the same or a narrower scope, else refused."""

from __future__ import annotations

import re

import pytest

from lakemesh.errors import AccessDeniedError
from lakemesh.policy import GrantRule, LocationTarget, Subject, TagValuesTarget, can_grant
from tests.factories.policy import grant, on, on_tags, through_filter, who

CAROL = who("user:carol@marketing", groups=("group:leads@marketing",))
TO_ANN = "user:ann@marketing"


def held(
    permissions: str, target, *, option: bool = True, grantee: str = "user:carol@marketing"
) -> GrantRule:  # type: ignore[no-untyped-def]
    return grant(100, grantee, permissions, target, with_grant_option=option)


def new(permissions: str, target, *, to: str = TO_ANN, option: bool = False) -> GrantRule:  # type: ignore[no-untyped-def]
    return grant(0, to, permissions, target, with_grant_option=option)


CASES: dict[str, tuple[Subject, list[GrantRule], GrantRule, bool, str]] = {
    "mesh admins grant anything": (
        who("user:root@governance", mesh_admin=True),
        [],
        new("ALL", on("sales")),
        True,
        "^role: mesh admin may grant anything$",
    ),
    "domain admins grant their domain's objects": (
        who("user:sam@sales", admin_of=("sales",)),
        [],
        new("SELECT", on("sales.crm.customers"), to="domain:marketing"),
        True,
        "^role: domain admin of sales",
    ),
    "domain admins do not grant other domains' objects": (
        who("user:sam@sales", admin_of=("sales",)),
        [],
        new("SELECT", on("hr.people.staff")),
        False,
        "no grant with grant option gives SELECT on hr.people.staff",
    ),
    "domain admins do not grant mesh-wide tag expressions": (
        who("user:sam@sales", admin_of=("sales",)),
        [],
        new("SELECT", on_tags("sensitivity=public")),
        False,
        "no grant with grant option",
    ),
    "domain admins grant tag expressions scoped to their domain": (
        who("user:sam@sales", admin_of=("sales",)),
        [],
        new("SELECT", on_tags("sensitivity=public", scope="sales.crm")),
        True,
        "domain admin of sales",
    ),
    "a table inside a granted database": (
        CAROL,
        [held("SELECT", on("sales.crm"))],
        new("SELECT", on("sales.crm.customers")),
        True,
        r"^grant #100 SELECT on sales.crm with grant option to user:carol@marketing covers SELECT$",
    ),
    "the same scope": (
        CAROL,
        [held("SELECT", on("sales.crm"))],
        new("SELECT", on("sales.crm")),
        True,
        "",
    ),
    "a wider scope is refused": (
        CAROL,
        [held("SELECT", on("sales.crm"))],
        new("SELECT", on("sales")),
        False,
        "does not contain sales",
    ),
    "without grant option nothing passes on": (
        CAROL,
        [held("SELECT", on("sales.crm"), option=False)],
        new("SELECT", on("sales.crm.customers")),
        False,
        "^no grant with grant option gives SELECT on sales.crm.customers or wider "
        "to user:carol@marketing$",
    ),
    "more permissions are refused": (
        CAROL,
        [held("SELECT", on("sales.crm"))],
        new("SELECT, INSERT", on("sales.crm.customers")),
        False,
        "gives INSERT",
    ),
    "ALL held covers SELECT on some columns": (
        CAROL,
        [held("ALL", on("sales.crm.customers"))],
        new("SELECT", on("sales.crm.customers", columns=("id",))),
        True,
        "",
    ),
    "a column subset": (
        CAROL,
        [held("SELECT", on("sales.crm.customers", columns=("id", "name")))],
        new("SELECT", on("sales.crm.customers", columns=("id",))),
        True,
        "",
    ),
    "a column outside the held list": (
        CAROL,
        [held("SELECT", on("sales.crm.customers", columns=("id", "name")))],
        new("SELECT", on("sales.crm.customers", columns=("id", "ssn"))),
        False,
        "",
    ),
    "the whole table from a column list": (
        CAROL,
        [held("SELECT", on("sales.crm.customers", columns=("id", "name")))],
        new("SELECT", on("sales.crm.customers")),
        False,
        "",
    ),
    "an exclude list from an include list (it grows with the table)": (
        CAROL,
        [held("SELECT", on("sales.crm.customers", columns=("id", "name")))],
        new("SELECT", on("sales.crm.customers", excluding=("ssn",))),
        False,
        "",
    ),
    "a longer exclude list": (
        CAROL,
        [held("SELECT", on("sales.crm.customers", excluding=("ssn",)))],
        new("SELECT", on("sales.crm.customers", excluding=("ssn", "email"))),
        True,
        "",
    ),
    "an excluded column": (
        CAROL,
        [held("SELECT", on("sales.crm.customers", excluding=("ssn",)))],
        new("SELECT", on("sales.crm.customers.ssn")),
        False,
        "",
    ),
    "a filter added to a named grant": (
        CAROL,
        [held("SELECT", on("sales.crm"))],
        new("SELECT", through_filter("eu", "region = 'EU'")),
        True,
        "",
    ),
    "the same filter with fewer columns": (
        CAROL,
        [held("SELECT", through_filter("eu", "region = 'EU'"))],
        new("SELECT", through_filter("eu", "region = 'EU'", columns=("id",))),
        True,
        "",
    ),
    "a filter with one more condition": (
        CAROL,
        [held("SELECT", through_filter("eu", "region = 'EU' AND id > 3"))],
        new("SELECT", through_filter("eu_big", "id > 3 AND region = 'EU' AND name LIKE 'A%'")),
        True,
        "",
    ),
    "a different filter": (
        CAROL,
        [held("SELECT", through_filter("eu", "region = 'EU'"))],
        new("SELECT", through_filter("us", "region = 'US'")),
        False,
        "",
    ),
    "all rows from a filter": (
        CAROL,
        [held("SELECT", through_filter("eu", "region = 'EU'"))],
        new("SELECT", on("sales.crm.customers")),
        False,
        "",
    ),
    "a narrower tag expression": (
        CAROL,
        [held("SELECT", on_tags("sensitivity=public|internal"))],
        new("SELECT", on_tags("sensitivity=public AND domain=sales")),
        True,
        "",
    ),
    "a wider tag expression": (
        CAROL,
        [held("SELECT", on_tags("sensitivity=public|internal"))],
        new("SELECT", on_tags("sensitivity=public|pii")),
        False,
        r"grant #100 SELECT on tag expression sensitivity=internal\|public with grant option "
        r"to user:carol@marketing does not contain tag expression sensitivity=pii\|public",
    ),
    "a named table from a tag grant (tags change)": (
        CAROL,
        [held("SELECT", on_tags("sensitivity=public|internal"))],
        new("SELECT", on("sales.crm.customers")),
        False,
        "",
    ),
    "a scoped tag grant inside a held database": (
        CAROL,
        [held("SELECT", on("sales.crm"))],
        new("SELECT", on_tags("sensitivity=public", scope="sales.crm")),
        True,
        "",
    ),
    "an unscoped tag grant from a held database": (
        CAROL,
        [held("SELECT", on("sales.crm"))],
        new("SELECT", on_tags("sensitivity=public")),
        False,
        "",
    ),
    "grant option passes on only from a grant with it": (
        CAROL,
        [held("SELECT", on("sales.crm"), option=False, grantee="domain:marketing")],
        new("SELECT", on("sales.crm.customers"), option=True),
        False,
        "",
    ),
    "through a group holding grant option": (
        CAROL,
        [held("SELECT", on("sales.crm"), grantee="group:leads@marketing")],
        new("SELECT", on("sales.crm.customers")),
        True,
        "to group:leads@marketing covers SELECT",
    ),
    "domain admins delegate what their domain received, inside the domain": (
        who("user:mia@marketing", admin_of=("marketing",)),
        [held("SELECT", on("sales.crm"), option=False, grantee="domain:marketing")],
        new("SELECT", on("sales.crm.customers")),
        True,
        r"to domain:marketing \(reaching its admins\) covers SELECT",
    ),
    "but not outside the domain": (
        who("user:mia@marketing", admin_of=("marketing",)),
        [held("SELECT", on("sales.crm"), option=False, grantee="domain:marketing")],
        new("SELECT", on("sales.crm.customers"), to="user:hal@hr"),
        False,
        "",
    ),
    "a location under the held one": (
        CAROL,
        [held("DATA_LOCATION_ACCESS", LocationTarget("s3://lake/sales"))],
        new("DATA_LOCATION_ACCESS", LocationTarget("s3://lake/sales/crm")),
        True,
        "",
    ),
    "a location beside the held one": (
        CAROL,
        [held("DATA_LOCATION_ACCESS", LocationTarget("s3://lake/sales"))],
        new("DATA_LOCATION_ACCESS", LocationTarget("s3://lake/salesforce")),
        False,
        "",
    ),
    "some of the held tag values": (
        CAROL,
        [held("ASSOCIATE", TagValuesTarget("sensitivity", frozenset({"public", "internal"})))],
        new("ASSOCIATE", TagValuesTarget("sensitivity", frozenset({"internal"}))),
        True,
        "",
    ),
    "a tag value not held": (
        CAROL,
        [held("ASSOCIATE", TagValuesTarget("sensitivity", frozenset({"public", "internal"})))],
        new("ASSOCIATE", TagValuesTarget("sensitivity", frozenset({"pii"}))),
        False,
        "",
    ),
}


@pytest.mark.parametrize(
    ("subject", "grants", "rule", "allowed", "reason"), list(CASES.values()), ids=list(CASES)
)
def test_can_grant(
    subject: Subject, grants: list[GrantRule], rule: GrantRule, allowed: bool, reason: str
) -> None:
    decision = can_grant(subject=subject, rule=rule, grants=grants)
    assert decision.allowed is allowed, decision.reasons
    assert any(re.search(reason, text) for text in decision.reasons), decision.reasons


def test_refusal_message() -> None:
    decision = can_grant(subject=CAROL, rule=new("SELECT", on("sales")), grants=[])
    assert decision.permission == "GRANT SELECT"
    with pytest.raises(
        AccessDeniedError, match="^user:carol@marketing lacks GRANT SELECT on sales$"
    ):
        decision.require()
