"""Contract checks with known answers on Parquet, CSV and partitioned tables, run through the
gateway as the domain's quality principal, kept with their history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lakemesh.api.schemas.quality import QualityRunPublic
from lakemesh.errors import AccessDeniedError, InvalidInputError
from lakemesh.quality import CheckRun, check_history, run_checks
from lakemesh.store.schema import AuditEvent, QueryRecord
from tests.conftest import HubEnv
from tests.factories.lake import Lake
from tests.factories.quality import ANA, QUALITY, SHOP_ADMIN, TABLES, Shop, build_shop


def shown(run: CheckRun) -> dict[str, Any]:
    """A check run as the API shows it."""
    return QualityRunPublic.from_run(run).model_dump()


def _by_rule(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {result["rule"].split(".", 1)[1]: result for result in run["results"]}


def _expected(table: str) -> dict[str, tuple[str, float | None, list[dict[str, Any]] | None]]:
    """rule -> (status, value, failure sample) as the data says."""
    return {
        "rowCount": ("passed", 8, None),
        "duplicateValues": (
            "failed",
            2,
            [
                {"customer_id": 1, "day": "2025-01-01", "copies": 2},
                {"customer_id": 3, "day": "2025-01-01", "copies": 2},
            ],
        ),
        "order_id.primaryKey": ("passed", 0, None),
        "order_id.unique": ("failed", 1, [{"order_id": 7, "copies": 2}]),
        "email.required": ("error", None, None),
        "status.nullValues": ("passed", 1, None),
        "status.missingValues": ("passed", 37.5, None),
        "status.invalidValues": ("failed", 3, [{"order_id": 4}, {"order_id": 5}, {"order_id": 7}]),
        "code.invalidValues": ("failed", 1, [{"order_id": 4}]),
        "amount.sql": ("passed", 360, None),
    }


@pytest.mark.parametrize("table", TABLES)
def test_every_metric_gives_the_known_answer(shop: Shop, table: str) -> None:
    run = shown(run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product=table))
    found = {
        rule: (result["status"], result["value"], result["sample"])
        for rule, result in _by_rule(run).items()
    }
    assert found == _expected(table)
    results = _by_rule(run)
    assert (
        results["email.required"]["message"]
        == f"{QUALITY} lacks SELECT on shop.sales.{table}.email"
    )
    assert results["status.invalidValues"]["rows_scanned"] == 8
    assert results["status.missingValues"]["threshold"] == "<= 37.5"
    assert (run["status"], run["rules_total"], run["rules_passed"]) == ("error", 10, 5)
    assert run["principal"] == QUALITY
    assert run["requested_by"] == SHOP_ADMIN


def test_metrics_run_in_one_statement_as_the_quality_principal(shop: Shop) -> None:
    run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_parquet")
    with shop.env.hub.read() as session:
        queries = (
            session.execute(select(QueryRecord).order_by(QueryRecord.submitted_at)).scalars().all()
        )
        audits = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "product.check"))
            .scalars()
            .all()
        )
    assert {query.principal for query in queries} == {QUALITY}
    metric_statements = [
        q.sql for q in queries if "FILTER (WHERE" in q.sql and "LIMIT" not in q.sql
    ]
    assert len(metric_statements) == 1  # every library metric of the table in one pass
    # one metrics pass, one sql rule, and one sample query per failed library rule
    assert len(queries) == 1 + 1 + 4
    assert audits[-1].details["status"] == "error"


def test_samples_leave_out_pii_and_are_shown_to_the_domain_admins_only(shop: Shop) -> None:
    run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_parquet")
    with shop.env.hub.read() as session:
        mine = [
            shown(run)
            for run in check_history(
                session, actor=shop.actor(SHOP_ADMIN), product="orders_parquet"
            )
        ]
        theirs = [
            shown(run)
            for run in check_history(session, actor=shop.actor(ANA), product="orders_parquet")
        ]
    samples = [r["sample"] for r in mine[0]["results"] if r["sample"]]
    assert samples
    assert all("email" not in row for sample in samples for row in sample)
    assert [r["sample"] for r in theirs[0]["results"]] == [None] * 10
    assert [r["value"] for r in theirs[0]["results"]] == [r["value"] for r in mine[0]["results"]]


def test_history_keeps_every_run_newest_first(shop: Shop) -> None:
    first = run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_csv")
    second = run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_csv")
    with shop.env.hub.read() as session:
        history = check_history(session, actor=shop.actor(SHOP_ADMIN), product="orders_csv")
    assert [run.row.id for run in history] == [second.row.id, first.row.id]


def test_only_the_domain_admins_run_checks(shop: Shop) -> None:
    with pytest.raises(AccessDeniedError, match=f"{ANA} is not an admin of domain shop"):
        run_checks(shop.env.hub, actor=shop.actor(ANA), product="orders_csv")


def test_a_domain_without_a_quality_principal_is_told_what_to_do(
    sqlite_env: HubEnv, tmp_path: Path
) -> None:
    shop = build_shop(sqlite_env, Lake(tmp_path / "lake"), grant_quality=False)
    with pytest.raises(
        InvalidInputError,
        match=f"Checks of orders_csv run as {QUALITY}, which does not exist: create it and grant",
    ):
        run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_csv")


def test_checks_run_on_postgres_too(env: HubEnv, tmp_path: Path) -> None:
    shop = build_shop(env, Lake(tmp_path / "lake"))
    run = shown(run_checks(shop.env.hub, actor=shop.actor(SHOP_ADMIN), product="orders_parts"))
    assert {rule: r["value"] for rule, r in _by_rule(run).items()}["duplicateValues"] == 2
