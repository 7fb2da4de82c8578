"""Guardrail kinds and reading the ``guardrails`` rows: what the checks in
:mod:`lakemesh.authz.guardrail_checks` apply. Creating, changing and deleting guardrails is the
service :mod:`lakemesh.governance.guardrails`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.store.schema import Guardrail

REQUIRED_TAGS = "required-tags"
SENSITIVE_SCOPE = "sensitive-scope"
LOCATION_PREFIXES = "location-prefixes"
MAX_TOKEN_LIFETIME = "max-token-lifetime"
CONTRACT_CLASSIFICATION = "contract-classification"
KINDS = (
    REQUIRED_TAGS,
    SENSITIVE_SCOPE,
    LOCATION_PREFIXES,
    MAX_TOKEN_LIFETIME,
    CONTRACT_CLASSIFICATION,
)


def get_guardrail(session: Session, name: str) -> Guardrail:
    """The guardrail called ``name``.

    Raises:
        NotFoundError: ``Guardrail does not exist: pii-only-named``.
    """
    row = session.execute(select(Guardrail).where(Guardrail.name == name)).scalar()
    if row is None:
        raise NotFoundError(f"Guardrail does not exist: {name}", details={"guardrail": name})
    return row


def list_guardrails(session: Session, *, kind: str | None = None) -> Sequence[Guardrail]:
    """Every guardrail (of one kind), by name. Guardrails are not secret: anyone may read them."""
    query = select(Guardrail).order_by(Guardrail.name)
    if kind is not None:
        query = query.where(Guardrail.kind == check_kind(kind))
    return session.execute(query).scalars().all()


def location_prefixes(
    row: Guardrail, domain: str, prefixes: Sequence[str] | None = None
) -> list[str]:
    """A ``location-prefixes`` guardrail's prefixes (or ``prefixes`` of them) for ``domain``,
    with ``{domain}`` replaced.

    >>> location_prefixes(Guardrail(config={"prefixes": ["s3://lake/{domain}"]}), "sales")
    ['s3://lake/sales']
    """
    if prefixes is None:
        prefixes = row.config.get("prefixes", [])
    return [prefix.replace("{domain}", domain) for prefix in prefixes]


def rule_text(row: Guardrail) -> str:
    """``sensitive-scope sensitivity=pii``: the kind and what it holds."""
    config = row.config
    shown = {
        REQUIRED_TAGS: lambda: ", ".join(config.get("keys", [])),
        CONTRACT_CLASSIFICATION: lambda: ", ".join(config.get("keys", [])),
        SENSITIVE_SCOPE: lambda: str(config.get("expression", "")),
        LOCATION_PREFIXES: lambda: ", ".join(config.get("prefixes", [])),
        MAX_TOKEN_LIFETIME: lambda: str(config.get("max", "")),
    }.get(row.kind, lambda: "")()
    return f"{row.kind} {shown}".strip()


def label(row: Guardrail) -> str:
    """``Guardrail pii-only-named (sensitive-scope sensitivity=pii)``."""
    return f"Guardrail {row.name} ({rule_text(row)})"


def check_kind(kind: str) -> str:
    """``kind`` when it is a known guardrail kind."""
    if kind not in KINDS:
        raise InvalidInputError(
            f"Unknown guardrail kind: {kind!r} (known: {', '.join(KINDS)})",
            details={"kind": kind},
        )
    return kind
