"""Search: the products and tables the viewer may DESCRIBE that hold every word of the query,
narrowed by facets (domain, tag values, owner, status, last update).

Products come from :func:`lakemesh.sharing.products.search_products` (what the REST API's
``/products/search`` answers), tables from :func:`lakemesh.catalog.tables.visible_tables`: the
services decide what the viewer may see; this module only matches text and counts facets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.authz import policy_index
from lakemesh.catalog.tables import table_name, visible_tables
from lakemesh.contracts.health import matches
from lakemesh.errors import InvalidInputError
from lakemesh.model.actors import Actor
from lakemesh.sharing import products

PRODUCT, TABLE = "product", "table"
DEPRECATED, CONTRACT_VIOLATED, LATE, DRAFT = "deprecated", "contract_violated", "late", "draft"
STATUSES = (DEPRECATED, CONTRACT_VIOLATED, LATE, DRAFT)
"""Status facet values: deprecated products, products whose last contract check failed, products
whose data is later than their contract's freshness, drafts."""
FRESHNESS: tuple[tuple[str, str, timedelta | None], ...] = (
    ("1d", "today", timedelta(days=1)),
    ("7d", "this week", timedelta(days=7)),
    ("30d", "this month", timedelta(days=30)),
    ("older", "earlier", None),
)
"""Freshness facet values: updated within a day, a week, a month, or earlier."""
VALUE_LABELS = {value: label for value, label, _ in FRESHNESS} | {
    CONTRACT_VIOLATED: "contract violated",
    LATE: "data late",
}
FACET_LABELS = {
    "kind": "Kind",
    "domain": "Domain",
    "tag": "Tags",
    "owner": "Owner",
    "status": "Status",
    "freshness": "Last updated",
}


@dataclass(frozen=True)
class Hit:
    """One product or table found: what a result line shows."""

    kind: str
    name: str
    title: str
    url: str
    description: str
    owner: str
    domain: str
    tags: dict[str, str]
    updated_at: datetime
    statuses: tuple[str, ...] = ()
    haystack: str = field(default="", repr=False)

    def facet_values(self, facet: str, now: datetime) -> tuple[str, ...]:
        """The values of ``facet`` this hit has (tags and statuses have several)."""
        if facet == "kind":
            return (self.kind,)
        if facet == "domain":
            return (self.domain,)
        if facet == "owner":
            return (self.owner,)
        if facet == "tag":
            return tuple(f"{key}={value}" for key, value in sorted(self.tags.items()))
        if facet == "status":
            return self.statuses
        return (freshness_of(self.updated_at, now),)


@dataclass(frozen=True)
class FacetValue:
    """A value of a facet, how many hits have it, whether the viewer picked it."""

    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    """A facet with its values, most frequent first."""

    name: str
    label: str
    values: list[FacetValue]


@dataclass(frozen=True)
class SearchResult:
    """Hits of a query after the facets picked, and the facets with their counts."""

    query: str
    hits: list[Hit]
    facets: list[Facet]
    filters: dict[str, list[str]]


def freshness_of(updated_at: datetime, now: datetime) -> str:
    """The freshness facet value of something last updated at ``updated_at``.

    >>> from datetime import UTC
    >>> now = datetime(2026, 1, 10, tzinfo=UTC)
    >>> freshness_of(datetime(2026, 1, 9, 12, tzinfo=UTC), now), freshness_of(datetime(2025, 1, 1, tzinfo=UTC), now)
    ('1d', 'older')
    """  # noqa: E501
    age = now - updated_at
    for value, _label, within in FRESHNESS:
        if within is None or age <= within:
            return value
    return FRESHNESS[-1][0]


def _words_match(words: Sequence[str], haystack: str) -> bool:
    return all(word in haystack for word in words)


def product_hits(session: Session, *, viewer: Actor, text: str) -> list[Hit]:
    """Products ``viewer`` may see holding every word of ``text`` (the REST search's rule)."""
    rows = products.search_products(session, actor=viewer, text=text)
    hits = []
    for described in products.view_products(session, rows):
        health = described["health"]
        statuses = [s for s in (DEPRECATED, DRAFT) if described["status"] == s]
        if matches(health, "failed"):
            statuses.append(CONTRACT_VIOLATED)
        if matches(health, "late"):
            statuses.append(LATE)
        hits.append(
            Hit(
                kind=PRODUCT,
                name=described["name"],
                title=described["title"],
                url=f"/products/{described['name']}",
                description=described["description"],
                owner=described["owner"],
                domain=described["domain"],
                tags=dict(described["tags"]),
                updated_at=datetime.fromisoformat(described["updated_at"]),
                statuses=tuple(statuses),
            )
        )
    return hits


def table_hits(session: Session, *, viewer: Actor, text: str) -> list[Hit]:
    """Tables ``viewer`` may DESCRIBE whose name, description, columns or tags hold every word
    of ``text``; a table is owned by its domain."""
    words = text.lower().split()
    index = policy_index(session)
    hits = []
    for row in visible_tables(session, actor=viewer):
        name = str(table_name(row))
        tags = index.table_facts(table_name(row)).table_tags
        haystack = " ".join(
            [name, row.description, *(c.name for c in row.columns)]
            + [f"{key}={value}" for key, value in tags.items()]
        ).lower()
        if not _words_match(words, haystack):
            continue
        hits.append(
            Hit(
                kind=TABLE,
                name=name,
                title=name,
                url=f"/tables/{name}",
                description=row.description,
                owner=f"domain:{row.database.domain.name}",
                domain=row.database.domain.name,
                tags=dict(tags),
                updated_at=row.updated_at,
            )
        )
    return hits


def _selected(hit: Hit, filters: Mapping[str, Sequence[str]], now: datetime, skip: str) -> bool:
    """Whether ``hit`` has every value picked in each facet but ``skip``."""
    for facet, picked in filters.items():
        if facet == skip or not picked:
            continue
        if not set(picked) <= set(hit.facet_values(facet, now)):
            return False
    return True


def _facet(
    name: str, hits: Sequence[Hit], filters: Mapping[str, Sequence[str]], now: datetime
) -> Facet:
    counts: Counter[str] = Counter()
    for hit in hits:
        if _selected(hit, filters, now, skip=name):
            counts.update(hit.facet_values(name, now))
    picked = set(filters.get(name, ()))
    values = [
        FacetValue(value, VALUE_LABELS.get(value, value), count, value in picked)
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    values += [FacetValue(v, VALUE_LABELS.get(v, v), 0, True) for v in sorted(picked - set(counts))]
    return Facet(name, FACET_LABELS[name], values)


def check_filters(filters: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The picked facet values, each facet known and each value possible.

    Raises:
        InvalidInputError: an unknown status or freshness value.
    """
    checked = {name: [v for v in filters.get(name, ()) if v] for name in FACET_LABELS}
    unknown = set(checked["status"]) - set(STATUSES)
    unknown |= set(checked["freshness"]) - {value for value, _, _ in FRESHNESS}
    unknown |= set(checked["kind"]) - {PRODUCT, TABLE}
    if unknown:
        raise InvalidInputError(
            f"Unknown facet values: {', '.join(sorted(unknown))}",
            details={"values": sorted(unknown)},
        )
    return checked


def search(
    session: Session, *, viewer: Actor, text: str, filters: Mapping[str, Sequence[str]]
) -> SearchResult:
    """What ``viewer`` finds for ``text`` with the facet values of ``filters`` picked (values of
    one facet must all hold: two tags pick what carries both)."""
    picked = check_filters(filters)
    now = clock.now()
    found = product_hits(session, viewer=viewer, text=text)
    found += table_hits(session, viewer=viewer, text=text)
    facets = [_facet(name, found, picked, now) for name in FACET_LABELS]
    hits = [hit for hit in found if _selected(hit, picked, now, skip="")]
    return SearchResult(text, hits, facets, picked)
