"""A data product's contract against its tables: checked on publish, warnings shown with it.

Conformance (tables, columns, types, rule columns) refuses a contract outright. Classification
consistency (a property classified ``pii`` on a column not tagged ``sensitivity=pii``) is a
warning on the product, or a refusal when a ``contract-classification`` guardrail asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import policy_index
from lakemesh.authz.guardrail_rules import CONTRACT_CLASSIFICATION, label, list_guardrails
from lakemesh.catalog.tables import table_name
from lakemesh.contracts import (
    Contract,
    TableShape,
    check_conformance,
    classification_mismatches,
    parse_contract,
    validate_contract,
)
from lakemesh.errors import GuardrailViolationError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.store.schema import DataProduct, Guardrail, Table, TagKey

SENSITIVITY = "sensitivity"
"""The tag key classifications are compared with when no guardrail names others."""


def table_shapes(session: Session, tables: Sequence[Table]) -> list[TableShape]:
    """The product's tables with their columns' types and effective tags."""
    index = policy_index(session)
    shapes: list[TableShape] = []
    for table in tables:
        name = table_name(table)
        facts = index.table_facts(name) if index.has_table(name) else None
        shapes.append(
            TableShape(
                f"{table.database.name}.{table.name}",
                {column.name: column.type for column in table.columns},
                {
                    column.name: dict(facts.tags_of(column.name)) if facts else {}
                    for column in table.columns
                },
            )
        )
    return shapes


def _tag_values(session: Session, keys: Sequence[str]) -> dict[str, list[str]]:
    rows = session.execute(select(TagKey).where(TagKey.key.in_(keys))).scalars()
    return {row.key: [value.value for value in row.values] for row in rows}


def _mismatches(
    session: Session, contract: Contract, shapes: Sequence[TableShape]
) -> tuple[list[str], Guardrail | None]:
    """Classification mismatches, and the guardrail that turns them into a refusal (if any)."""
    guardrails = list(list_guardrails(session, kind=CONTRACT_CLASSIFICATION))
    keys = sorted({key for row in guardrails for key in row.config.get("keys", [])})
    values = _tag_values(session, keys or [SENSITIVITY])
    keys = keys or [key for key in values if key == SENSITIVITY]
    if not keys:
        return [], None
    found = classification_mismatches(contract, shapes, keys=keys, values=values)
    return found, guardrails[0] if guardrails else None


def apply_contract(
    session: Session,
    *,
    actor: Actor,
    row: DataProduct,
    text: str,
    tables: Sequence[Table],
) -> tuple[str, list[str]]:
    """Check ``text`` against ``tables`` and store it on ``row``; return the contract's version
    and its classification warnings.

    Raises:
        InvalidInputError: the contract is invalid or does not describe the tables.
        GuardrailViolationError: a classification mismatch under a ``contract-classification``
            guardrail.
    """
    contract = parse_contract(text)
    shapes = table_shapes(session, tables)
    check_conformance(contract, shapes)
    warnings, guardrail = _mismatches(session, contract, shapes)
    if warnings and guardrail is not None:
        raise GuardrailViolationError(
            f"{label(guardrail)}: {'; '.join(warnings)}",
            details={
                "principal": actor.ref,
                "action": Action.PRODUCT_PUBLISH,
                "resource": f"product:{row.name}",
                "guardrail": guardrail.name,
                "kind": guardrail.kind,
                "problems": warnings,
            },
        )
    row.contract = contract.document
    return contract.version, warnings


def contract_warnings(session: Session, row: DataProduct) -> list[str]:
    """What the product's contract promises that its tables' tags do not bear out now."""
    if not row.contract:
        return []
    contract = validate_contract(row.contract)
    shapes = table_shapes(session, [item.table for item in row.tables])
    return _mismatches(session, contract, shapes)[0]
