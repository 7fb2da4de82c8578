"""Data contracts (ODCS v3): loading, validating, and checking them against a product's tables."""

from __future__ import annotations

from lakemesh.contracts.odcs import (
    API_VERSIONS,
    Contract,
    check_conformance,
    load_yaml,
    parse_contract,
    validate_contract,
)

__all__ = [
    "API_VERSIONS",
    "Contract",
    "check_conformance",
    "load_yaml",
    "parse_contract",
    "validate_contract",
]
