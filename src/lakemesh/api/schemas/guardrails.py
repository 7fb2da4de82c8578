"""Guardrails (organisation policies) and the doctor's findings."""

from __future__ import annotations

from typing import Any

from lakemesh.api.schemas.base import RequestBody, ResponseModel, Timestamp


class GuardrailUpdate(RequestBody):
    """The one option of the guardrail's kind: ``keys`` (required-tags), ``on_tags``
    (sensitive-scope), ``prefixes`` (location-prefixes), ``max_lifetime`` like ``90d``
    (max-token-lifetime)."""

    keys: list[str] | None = None
    on_tags: str | None = None
    prefixes: list[str] | None = None
    max_lifetime: str | None = None


class GuardrailCreate(GuardrailUpdate):
    name: str
    kind: str


class GuardrailPublic(ResponseModel):
    name: str
    kind: str
    config: dict[str, Any]
    rule: str
    created_by: str | None
    created_at: Timestamp


class Finding(ResponseModel):
    kind: str
    severity: str
    resource: str
    message: str
    details: dict[str, Any]


class Diagnosis(ResponseModel):
    findings: list[Finding]
    counts: dict[str, int]
