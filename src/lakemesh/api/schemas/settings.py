"""Mesh settings (``{key: value}``)."""

from __future__ import annotations

from typing import Any

from lakemesh.api.schemas.base import RequestBody

Settings = dict[str, Any]


class SettingUpdate(RequestBody):
    value: Any
