"""Mesh settings: every one with its value (``lakemesh.settings.DEFAULTS`` names them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, ResponseModel


class Settings(ResponseModel):
    discovery: str = Field(
        description="published: everyone may DESCRIBE published products' tables; granted: "
        "only what was granted"
    )
    auto_accept_shares: bool = Field(
        description="Shares to a domain of the mesh are accepted without its admins acting"
    )
    max_sql_bytes: int = Field(description="The longest SQL statement the gateway parses")

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Settings:
        """Every setting's value (``settings.all_settings``)."""
        return cls.model_validate(dict(values))


class SettingUpdate(RequestBody):
    value: Any
