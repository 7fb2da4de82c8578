"""Governance services: the policy index kept in step with the store, decisions, grants, tags,
data filters, masks, guardrails."""
