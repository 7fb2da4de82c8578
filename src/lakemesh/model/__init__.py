"""Pure value types shared by every layer: names of principals and catalog objects, permissions."""

from __future__ import annotations

from lakemesh.model.names import PrincipalName, ResourceName, parse_principal, parse_resource
from lakemesh.model.permissions import Permission, parse_permissions

__all__ = [
    "Permission",
    "PrincipalName",
    "ResourceName",
    "parse_permissions",
    "parse_principal",
    "parse_resource",
]
