"""The policy engine: who may see what (DESIGN §4), pure — no database, web framework or engine.

- :mod:`~lakemesh.policy.tag_expressions`: parse and evaluate ``k=v1|v2 AND NOT k2=v3``.
- :mod:`~lakemesh.policy.predicates`: check and bind row-filter predicates (imported on its own:
  its grammar loads sqlglot, which a decision without a row filter never needs).
- :mod:`~lakemesh.policy.decide`: the one decision function; :mod:`~lakemesh.policy.grant_option`:
  who may grant what.
- :mod:`~lakemesh.policy.index`: everything indexed for fast decisions and incremental changes.
"""

from __future__ import annotations

from lakemesh.policy.decide import decide
from lakemesh.policy.decision import Decision
from lakemesh.policy.facts import CatalogTable, TableFacts, TagAssignment, effective_tags
from lakemesh.policy.grant_option import can_grant
from lakemesh.policy.index import PolicyIndex
from lakemesh.policy.rules import (
    ColumnChoice,
    DataFilter,
    FilterTarget,
    GrantRule,
    GrantTarget,
    Location,
    LocationTarget,
    MaskRule,
    PolicySettings,
    PrincipalFacts,
    Resource,
    ResourceTarget,
    Subject,
    TagTarget,
    TagValue,
    TagValuesTarget,
)
from lakemesh.policy.tag_expressions import TagExpression, parse_tag_expression
from lakemesh.policy.tag_implication import implies

__all__ = [
    "CatalogTable",
    "ColumnChoice",
    "DataFilter",
    "Decision",
    "FilterTarget",
    "GrantRule",
    "GrantTarget",
    "Location",
    "LocationTarget",
    "MaskRule",
    "PolicyIndex",
    "PolicySettings",
    "PrincipalFacts",
    "Resource",
    "ResourceTarget",
    "Subject",
    "TableFacts",
    "TagAssignment",
    "TagExpression",
    "TagTarget",
    "TagValue",
    "TagValuesTarget",
    "can_grant",
    "decide",
    "effective_tags",
    "implies",
    "parse_tag_expression",
]
