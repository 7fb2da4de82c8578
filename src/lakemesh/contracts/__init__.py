"""Data contracts (ODCS v3): loading, validating, checking them against a product's tables, and
the quality rules and SLAs they promise."""

from __future__ import annotations

from lakemesh.contracts.conformance import (
    TableShape,
    check_conformance,
    classification_mismatches,
    conformance_problems,
)
from lakemesh.contracts.odcs import (
    API_VERSIONS,
    Contract,
    Property,
    SchemaObject,
    load_yaml,
    parse_contract,
    validate_contract,
)
from lakemesh.contracts.rules import QualityRule
from lakemesh.contracts.sla import Sla

__all__ = [
    "API_VERSIONS",
    "Contract",
    "Property",
    "QualityRule",
    "SchemaObject",
    "Sla",
    "TableShape",
    "check_conformance",
    "classification_mismatches",
    "conformance_problems",
    "load_yaml",
    "parse_contract",
    "validate_contract",
]
