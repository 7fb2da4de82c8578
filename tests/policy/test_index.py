"""The policy index decides exactly like the plain decision function, before and after changes."""

from __future__ import annotations

import threading
from random import Random

import pytest

from lakemesh.errors import NotFoundError
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.policy import (
    CatalogTable,
    PolicyIndex,
    PrincipalFacts,
    TagAssignment,
    decide,
    parse_tag_expression,
)
from tests.factories.policy import (
    RANDOM_DOMAINS,
    RANDOM_PRINCIPALS,
    RANDOM_VALUES,
    RandomMesh,
    grant,
    mask,
    on_tags,
    principal,
    random_expression,
    random_grant,
    random_mesh,
    resource,
    through_filter,
)

U1, U2, U3, U4, G1, G2, HR = RANDOM_PRINCIPALS
PRINCIPALS = [
    PrincipalFacts(U1, {"region": "x"}),
    PrincipalFacts(U2, {"region": "y"}, admin_of_domains=frozenset({"hr"})),
    PrincipalFacts(U3, is_mesh_admin=True),
    PrincipalFacts(G2, admin_of_domains=frozenset({"ops"})),  # roles pass to members
]
MEMBERSHIPS = [(U1, G1), (U4, G1), (G1, G2), (U2, G2)]  # G1 inside G2: U1 and U4 reach G2
MASKS = [mask("pii", "sensitivity=pii", "hash"), mask("tier1", "tier=1", "redact")]
SEEDS = range(6)
USERS = (U1, U2, U3, U4, HR)


def build(mesh: RandomMesh) -> PolicyIndex:
    return PolicyIndex.build(
        tables=mesh.tables,
        tags=mesh.tags,
        grants=mesh.grants,
        masks=MASKS,
        principals=PRINCIPALS,
        memberships=MEMBERSHIPS,
    )


def assert_agrees(index: PolicyIndex, mesh: RandomMesh) -> None:
    """Every decision and listing of the index equals the brute-force answer."""
    for user in USERS:
        subject = index.subject(user)
        readable = []
        for table in mesh.tables:
            facts = mesh.facts(table)
            for permission in (
                Permission.SELECT,
                Permission.UNMASK,
                Permission.DESCRIBE,
                Permission.INSERT,
            ):
                expected = decide(
                    subject=subject,
                    permission=permission,
                    resource=table.name,
                    grants=mesh.grants,
                    table=facts,
                    masks=MASKS,
                )
                assert (
                    index.decide(subject=subject, permission=permission, resource=table.name)
                    == expected
                )
                if permission == Permission.SELECT and expected.allowed:
                    readable.append(table.name)
        assert index.selectable_tables(subject=subject) == readable
        for domain in RANDOM_DOMAINS:
            database = ResourceName(domain, "a")
            for permission in (Permission.DESCRIBE, Permission.CREATE_TABLE):
                expected = decide(
                    subject=subject,
                    permission=permission,
                    resource=database,
                    grants=mesh.grants,
                    database_tags=mesh.database_tags(database),
                )
                assert (
                    index.decide(subject=subject, permission=permission, resource=database)
                    == expected
                )


def assert_scopes_agree(index: PolicyIndex, mesh: RandomMesh, rng: Random) -> None:
    for _ in range(40):
        expression = parse_tag_expression(random_expression(rng))
        expected = [
            table.name
            for table in mesh.tables
            if any(expression.matches(tags) for tags, _ in mesh.facts(table).tag_groups())
        ]
        assert index.tables_matching(expression) == expected, str(expression)


@pytest.mark.parametrize("seed", SEEDS)
def test_index_decides_like_the_decision_function(seed: int) -> None:
    mesh = random_mesh(seed)
    assert_agrees(build(mesh), mesh)


@pytest.mark.parametrize("seed", SEEDS)
def test_tag_expression_scopes_match_brute_force(seed: int) -> None:
    mesh = random_mesh(seed, tables=80)
    # some tables whose every column has its own tags exercise the per-table path
    for table in mesh.tables[:10]:
        for column in table.columns:
            name = ResourceName(table.name.domain, table.name.database, table.name.table, column)
            mesh.tags.append(TagAssignment(name, "tier", "2"))
    assert_scopes_agree(build(mesh), mesh, Random(seed))


def _random_change(index: PolicyIndex, mesh: RandomMesh, rng: Random, number: int) -> None:
    """Apply one random change to the index and to the mesh description alike."""
    draw = rng.random()
    if draw < 0.45 and mesh.tables:
        table = rng.choice(mesh.tables)
        level = rng.choice(["database", "table", "column"])
        if level == "database":
            target = ResourceName(table.name.domain, table.name.database)
        elif level == "table" or not table.columns:
            target = table.name
        else:
            name = table.name
            target = ResourceName(name.domain, name.database, name.table, rng.choice(table.columns))
        key = rng.choice(list(RANDOM_VALUES))
        value = None if rng.random() < 0.3 else rng.choice(RANDOM_VALUES[key])
        index.set_tag(resource=target, key=key, value=value)
        mesh.tags = [a for a in mesh.tags if (a.resource, a.key) != (target, key)]
        if value is not None:
            mesh.tags.append(TagAssignment(target, key, value))
    elif draw < 0.6:
        name = ResourceName(rng.choice(RANDOM_DOMAINS), rng.choice(["a", "b"]), f"new{number}")
        table = CatalogTable(name, tuple(f"c{i}" for i in range(rng.randint(1, 3))))
        index.upsert_table(table)
        mesh.tables.append(table)
    elif draw < 0.7 and mesh.tables:
        position = rng.randrange(len(mesh.tables))
        old = mesh.tables[position]
        table = CatalogTable(old.name, (*old.columns[:-1], "z"), published=not old.published)
        index.upsert_table(table)
        mesh.tables[position] = table
        kept = {c.lower() for c in table.columns}
        mesh.tags = [
            a
            for a in mesh.tags
            if a.resource.table_name != table.name
            or a.resource.column is None
            or a.resource.column in kept
        ]
    elif draw < 0.75 and mesh.tables:
        table = mesh.tables.pop(rng.randrange(len(mesh.tables)))
        index.remove_table(table.name)
        mesh.tags = [
            a
            for a in mesh.tags
            if a.resource.level == "database" or a.resource.table_name != table.name
        ]
    elif draw < 0.9 and mesh.tables:
        rule = random_grant(rng, 1000 + number, mesh.tables)
        index.add_grant(rule)
        mesh.grants.append(rule)
    elif mesh.grants:
        rule = mesh.grants.pop(rng.randrange(len(mesh.grants)))
        assert index.remove_grant(rule.id) == rule


@pytest.mark.parametrize("seed", SEEDS)
def test_incremental_changes_keep_the_index_exact(seed: int) -> None:
    mesh = random_mesh(seed, tables=30, grants=40)
    index = build(mesh)
    rng = Random(seed + 100)
    for number in range(60):
        _random_change(index, mesh, rng, number)
    assert_agrees(index, mesh)
    assert_scopes_agree(index, mesh, rng)
    fresh = build(mesh)
    for user in USERS:
        assert fresh.selectable_tables(subject=fresh.subject(user)) == index.selectable_tables(
            subject=index.subject(user)
        )


SALES_NEW = resource("sales.crm.leads")


def test_a_table_added_later_is_in_scope_without_a_new_grant() -> None:
    index = PolicyIndex.build(
        tags=[TagAssignment(resource("sales.crm"), "sensitivity", "public")],
        grants=[grant(1, "user:bob@marketing", "SELECT", on_tags("sensitivity=public"))],
    )
    bob = index.subject(principal("user:bob@marketing"))
    assert index.selectable_tables(subject=bob) == []
    index.upsert_table(CatalogTable(SALES_NEW, ("id", "email")))
    assert index.selectable_tables(subject=bob) == [SALES_NEW]
    decision = index.decide(subject=bob, permission=Permission.SELECT, resource=SALES_NEW)
    assert decision.columns == ("id", "email")
    index.set_tag(resource=resource("sales.crm.leads.email"), key="sensitivity", value="pii")
    decision = index.decide(subject=bob, permission=Permission.SELECT, resource=SALES_NEW)
    assert decision.columns == ("id",)
    index.set_tag(resource=resource("sales.crm"), key="sensitivity", value=None)
    assert index.selectable_tables(subject=bob) == []
    assert not index.decide(subject=bob, permission=Permission.SELECT, resource=SALES_NEW).allowed


def test_grants_and_revokes_decide_the_next_request() -> None:
    index = PolicyIndex.build(tables=[CatalogTable(SALES_NEW, ("id",))])
    bob = index.subject(principal("user:bob@marketing"))
    before = index.version
    index.add_grant(grant(5, "user:bob@marketing", "SELECT", on_tags("sensitivity!=pii")))
    assert index.version > before
    assert index.decide(subject=bob, permission=Permission.SELECT, resource=SALES_NEW).allowed
    index.remove_grant(5)
    assert not index.decide(subject=bob, permission=Permission.SELECT, resource=SALES_NEW).allowed
    assert index.remove_grant(5) is None


def test_subject_groups_are_transitive_and_cycles_end() -> None:
    a, b, c = (principal(f"group:{name}@sales") for name in "abc")
    user = principal("user:zoe@sales")
    index = PolicyIndex.build(
        memberships=[(user, a), (a, b), (b, c), (c, a)],
        principals=[
            PrincipalFacts(user, {"region": "EU"}),
            PrincipalFacts(c, is_mesh_admin=True, admin_of_domains=frozenset({"sales"})),
        ],
    )
    subject = index.subject(user)
    assert subject.groups == frozenset({a, b, c})
    assert subject.attributes == {"region": "EU"}
    assert subject.is_mesh_admin
    assert subject.admin_of_domains == frozenset({"sales"})
    index.set_groups(member=a, groups=[])
    assert index.subject(user).groups == frozenset({a})
    index.remove_principal(user)
    assert index.subject(user).groups == frozenset()


def test_replacing_a_grant_through_an_updated_filter_changes_the_decision() -> None:
    table = CatalogTable(resource("sales.crm.customers"), ("id", "name", "email", "region", "ssn"))
    rule = grant(1, "user:bob@marketing", "SELECT", through_filter("eu", "region = 'EU'"))
    index = PolicyIndex.build(tables=[table], grants=[rule])
    bob = index.subject(principal("user:bob@marketing"))
    assert index.decide(
        subject=bob, permission=Permission.SELECT, resource=table.name
    ).row_filter == ("(\"region\" = 'EU')")
    index.add_grant(
        grant(1, "user:bob@marketing", "SELECT", through_filter("eu", "region IN ('EU', 'UK')"))
    )
    decision = index.decide(subject=bob, permission=Permission.SELECT, resource=table.name)
    assert decision.row_filter == "(\"region\" IN ('EU', 'UK'))"


def test_explain_uses_the_index_principal() -> None:
    table = CatalogTable(resource("sales.crm.customers"), ("id", "region"))
    index = PolicyIndex.build(
        tables=[table],
        grants=[
            grant(
                1,
                "user:bob@marketing",
                "SELECT",
                through_filter("mine", "region = principal_attribute('region')"),
            )
        ],
        principals=[PrincipalFacts(principal("user:bob@marketing"), {"region": "EU"})],
    )
    decision = index.explain(
        principal=principal("user:bob@marketing"), permission=Permission.SELECT, resource=table.name
    )
    assert decision.row_filter == "(\"region\" = 'EU')"


def test_unknown_tables_and_columns_are_named() -> None:
    index = PolicyIndex()
    with pytest.raises(NotFoundError, match="^Table does not exist: sales.crm.nope$"):
        index.table_facts(resource("sales.crm.nope"))
    with pytest.raises(NotFoundError, match="^Table does not exist: sales.crm.nope$"):
        index.set_tag(resource=resource("sales.crm.nope"), key="k", value="v")
    index.upsert_table(CatalogTable(SALES_NEW, ("id",)))
    with pytest.raises(NotFoundError, match="^Column does not exist: sales.crm.leads.nope$"):
        index.set_tag(resource=resource("sales.crm.leads.nope"), key="k", value="v")


def test_can_grant_reads_the_subjects_grants() -> None:
    index = PolicyIndex.build(
        grants=[
            grant(
                1,
                "group:leads@sales",
                "SELECT",
                on_tags("sensitivity=public|internal"),
                with_grant_option=True,
            )
        ],
        memberships=[(principal("user:kim@sales"), principal("group:leads@sales"))],
    )
    kim = index.subject(principal("user:kim@sales"))
    narrower = grant(0, "user:ann@sales", "SELECT", on_tags("sensitivity=public"))
    wider = grant(0, "user:ann@sales", "SELECT", on_tags("sensitivity=public|pii"))
    assert index.can_grant(subject=kim, rule=narrower).allowed
    assert not index.can_grant(subject=kim, rule=wider).allowed


def test_changes_and_decisions_from_several_threads() -> None:
    """Writers and readers share one index (the hub serves requests on a thread pool)."""
    mesh = random_mesh(3)
    index = build(mesh)
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        rng = Random(offset)
        try:
            for number in range(200):
                index.add_grant(random_grant(rng, 10_000 * offset + number, mesh.tables))
                index.set_tag(resource=rng.choice(mesh.tables).name, key="tier", value="1")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def read() -> None:
        try:
            for _ in range(200):
                for user in USERS:
                    subject = index.subject(user)
                    index.selectable_tables(subject=subject)
                    index.decide(
                        subject=subject, permission=Permission.SELECT, resource=mesh.tables[0].name
                    )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in (1, 2)]
    threads += [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
