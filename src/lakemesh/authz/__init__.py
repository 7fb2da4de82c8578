"""The authorization kernel: may this principal do this? (DESIGN §4)

Every front (REST, CLI, SDK, the Iceberg catalog) reaches it through the services, and the
services ask it through one API:

- :func:`decide`: the decision, allowed or not, with its reasons;
- :func:`require`: the decision when allowed, otherwise an audited denial naming what is missing;
- :func:`visible` / :func:`require_visible`: whether a catalog object may be seen (DESCRIBE).

Below it are the policy engine, the store and the model; above it every service. Its modules:
:mod:`~lakemesh.authz.state` (the policy index kept in step with the store),
:mod:`~lakemesh.authz.loader` (building the index from the store),
:mod:`~lakemesh.authz.share_status` (which shares take effect),
:mod:`~lakemesh.authz.grant_reach` (what a grant could reach),
:mod:`~lakemesh.authz.guardrail_rules` and :mod:`~lakemesh.authz.guardrail_checks` (guardrails).
"""

from __future__ import annotations

from lakemesh.authz.decisions import decide, require, subject_of
from lakemesh.authz.visibility import require_visible, visible

__all__ = ["decide", "require", "require_visible", "subject_of", "visible"]
