"""SDK methods of the hub's identity: the caller, settings, domains, principals, groups, tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lakemesh.api.schemas.domains import DomainPublic
from lakemesh.api.schemas.principals import PrincipalPublic, WhoAmI
from lakemesh.sdk.base import ApiBase, only_set, parsed, parsed_list, segment


class IdentityMethods(ApiBase):
    """Who is who in the mesh, and the mesh's settings."""

    # -- hub and identity -----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "version": ...}``; needs no valid token."""
        result: dict[str, Any] = self._get("/health")
        return result

    def whoami(self) -> WhoAmI:
        """The caller: its principal, groups, admin roles and ``is_mesh_admin``."""
        return parsed(WhoAmI, self._get("/whoami"))

    def get_settings(self) -> dict[str, Any]:
        """Every mesh setting with its value."""
        result: dict[str, Any] = self._get("/settings")
        return result

    def put_setting(self, key: str, value: Any) -> Any:
        """Change a mesh setting (mesh admins only)."""
        return self.request("PUT", f"/settings/{segment(key)}", json={"value": value})

    # -- domains --------------------------------------------------------------------------------

    def list_domains(self) -> list[DomainPublic]:
        """Every domain of the mesh."""
        return parsed_list(DomainPublic, self._get("/domains"))

    def create_domain(
        self,
        name: str,
        *,
        producer: bool = False,
        consumer: bool = False,
        description: str = "",
        admins: Iterable[str] = (),
    ) -> DomainPublic:
        """Create a domain (mesh admins only) with its admins (``user:x@NAME`` are created)."""
        body = {
            "name": name,
            "producer": producer,
            "consumer": consumer,
            "description": description,
            "admins": list(admins),
        }
        return parsed(DomainPublic, self.request("POST", "/domains", json=body))

    def get_domain(self, name: str) -> DomainPublic:
        return parsed(DomainPublic, self._get(f"/domains/{segment(name)}"))

    def update_domain(
        self,
        name: str,
        *,
        producer: bool | None = None,
        consumer: bool | None = None,
        description: str | None = None,
        schema_changes: str | None = None,
        check_schedule: str | None = None,
    ) -> DomainPublic:
        """Change a domain's flags, description, ``schema_changes`` setting (``hold`` or
        ``violate``) or default ``check_schedule`` (cron; ``""`` removes it); arguments left
        ``None`` stay as they are."""
        body = only_set(
            producer=producer,
            consumer=consumer,
            description=description,
            schema_changes=schema_changes,
            check_schedule=check_schedule,
        )
        return parsed(DomainPublic, self.request("PATCH", f"/domains/{segment(name)}", json=body))

    def delete_domain(self, name: str) -> None:
        """Delete an empty domain (mesh admins only)."""
        self.request("DELETE", f"/domains/{segment(name)}")

    def add_domain_admin(self, domain: str, principal: str) -> DomainPublic:
        body = {"principal": principal}
        return parsed(
            DomainPublic, self.request("POST", f"/domains/{segment(domain)}/admins", json=body)
        )

    def remove_domain_admin(self, domain: str, principal: str) -> DomainPublic:
        path = f"/domains/{segment(domain)}/admins/{segment(principal)}"
        return parsed(DomainPublic, self.request("DELETE", path))

    # -- principals and groups ------------------------------------------------------------------

    def list_principals(
        self, *, domain: str | None = None, kind: str | None = None
    ) -> list[PrincipalPublic]:
        return parsed_list(PrincipalPublic, self._get("/principals", domain=domain, kind=kind))

    def create_principal(
        self, name: str, *, attributes: Mapping[str, str] | None = None
    ) -> PrincipalPublic:
        """Create ``user:alice@marketing``, ``group:…`` or ``service:…`` with attributes."""
        body = {"name": name, "attributes": dict(attributes or {})}
        return parsed(PrincipalPublic, self.request("POST", "/principals", json=body))

    def get_principal(self, name: str) -> PrincipalPublic:
        return parsed(PrincipalPublic, self._get(f"/principals/{segment(name)}"))

    def set_attributes(
        self,
        name: str,
        attributes: Mapping[str, str] | None = None,
        *,
        unset: Iterable[str] = (),
    ) -> PrincipalPublic:
        """Set some attributes of a user or service and remove others."""
        body = {"set": dict(attributes or {}), "unset": list(unset)}
        changed = self.request("PATCH", f"/principals/{segment(name)}", json=body)
        return parsed(PrincipalPublic, changed)

    # -- attribute keys (what row filters read through principal_attribute) ----------------------

    def list_attribute_keys(self) -> list[dict[str, Any]]:
        """Every attribute key with its allowed values and delegates."""
        result: list[dict[str, Any]] = self._get("/attribute-keys")
        return result

    def create_attribute_key(
        self, key: str, *, values: Iterable[str], description: str = ""
    ) -> dict[str, Any]:
        """Define an attribute key and its allowed values (mesh admins)."""
        body = {"key": key, "values": list(values), "description": description}
        result: dict[str, Any] = self.request("POST", "/attribute-keys", json=body)
        return result

    def get_attribute_key(self, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get(f"/attribute-keys/{segment(key)}")
        return result

    def update_attribute_key(
        self, key: str, *, values: Iterable[str] | None = None, description: str | None = None
    ) -> dict[str, Any]:
        """Replace the allowed values (a value some principal holds cannot go) or the
        description (mesh admins)."""
        body = only_set(values=None if values is None else list(values), description=description)
        result: dict[str, Any] = self.request("PATCH", f"/attribute-keys/{segment(key)}", json=body)
        return result

    def delete_attribute_key(self, key: str) -> None:
        """Delete an attribute key no principal holds (mesh admins)."""
        self.request("DELETE", f"/attribute-keys/{segment(key)}")

    def delegate_attribute(self, key: str, principal: str) -> dict[str, Any]:
        """Let ``principal`` (a user, a group, ``domain:X``'s admins) set ``key``'s values."""
        result: dict[str, Any] = self.request(
            "POST", f"/attribute-keys/{segment(key)}/delegates", json={"principal": principal}
        )
        return result

    def undelegate_attribute(self, key: str, principal: str) -> dict[str, Any]:
        """Take back a delegation of ``key``."""
        result: dict[str, Any] = self.request(
            "DELETE", f"/attribute-keys/{segment(key)}/delegates/{segment(principal)}"
        )
        return result

    def delete_principal(self, name: str) -> None:
        self.request("DELETE", f"/principals/{segment(name)}")

    def add_member(self, group: str, member: str) -> Any:
        """Add ``member`` (a user, service or group) to ``group``."""
        return self.request("POST", f"/groups/{segment(group)}/members", json={"member": member})

    def remove_member(self, group: str, member: str) -> Any:
        return self.request("DELETE", f"/groups/{segment(group)}/members/{segment(member)}")

    # -- tokens ---------------------------------------------------------------------------------

    def create_token(
        self, principal: str, *, expires_in: str | None = None, description: str = ""
    ) -> dict[str, Any]:
        """A new token for ``principal`` (``expires_in`` like ``30d``); the secret is shown once.

        Returns ``{"id", "token", "principal", "expires_at"}``.
        """
        body = {"principal": principal, "expires_in": expires_in, "description": description}
        result: dict[str, Any] = self.request("POST", "/tokens", json=body)
        return result

    def list_tokens(self, *, principal: str | None = None) -> list[dict[str, Any]]:
        """Tokens (never their secrets) of ``principal``, or of the caller."""
        result: list[dict[str, Any]] = self._get("/tokens", principal=principal)
        return result

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        result: dict[str, Any] = self.request("DELETE", f"/tokens/{int(token_id)}")
        return result
