"""The authorization kernel: may this principal do this? (DESIGN §4)

Every front (REST, CLI, SDK, the Iceberg catalog) reaches it through the services, and the
services ask it through one API:

- :func:`decide`: the decision, allowed or not, with its reasons;
- :func:`require`: the decision when allowed, otherwise an audited denial naming what is missing;
- :func:`visible` / :func:`require_visible`: whether a catalog object may be seen (DESCRIBE);
  :func:`require_seen` for a name the actor typed (what it may not see does not exist);
- :func:`subject_of`: the actor as decisions see it (its groups, roles and attributes);
- :func:`policy_index`: the index as of the caller's transaction, for analyses that ask many
  questions at once (explaining a decision, whether a grant could be made, the tables a tag
  expression matches), and :func:`grant_rule` (with :class:`CatalogNames`) for a stored grant
  as the index sees it.

Services import this package, never its internals (``state``, ``loader``, ``decisions``,
``visibility``): an import-linter ``protected`` contract in ``make lint`` keeps it so.

Below it are the policy engine, the store and the model; above it every service. Its modules:
:mod:`~lakemesh.authz.state` (the policy index kept in step with the store),
:mod:`~lakemesh.authz.loader` (building the index from the store),
:mod:`~lakemesh.authz.share_status` (which shares take effect),
:mod:`~lakemesh.authz.grant_reach` (what a grant could reach),
:mod:`~lakemesh.authz.guardrail_rules` and :mod:`~lakemesh.authz.guardrail_checks` (guardrails).
"""

from __future__ import annotations

from lakemesh.authz.decisions import decide, require, subject_of
from lakemesh.authz.loader import CatalogNames, grant_rule
from lakemesh.authz.state import policy_index
from lakemesh.authz.visibility import require_seen, require_visible, visible

__all__ = [
    "CatalogNames",
    "decide",
    "grant_rule",
    "policy_index",
    "require",
    "require_seen",
    "require_visible",
    "subject_of",
    "visible",
]
