"""SDK methods of the hub's identity: the caller, settings, domains, principals, groups, tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lakemesh.api.schemas.attributes import AttributeKeyPublic
from lakemesh.api.schemas.domains import DomainPublic
from lakemesh.api.schemas.principals import Health, PrincipalPublic, WhoAmI
from lakemesh.api.schemas.settings import Settings
from lakemesh.api.schemas.tokens import TokenIssued, TokenPublic
from lakemesh.sdk.base import ApiBase, only_set, parsed, parsed_list, segment


class IdentityMethods(ApiBase):
    """Who is who in the mesh, and the mesh's settings."""

    # -- hub and identity -----------------------------------------------------------------------

    def health(self) -> Health:
        """The hub's ``status`` (``ok``) and ``version``; needs no valid token."""
        return parsed(Health, self._get("/health"))

    def whoami(self) -> WhoAmI:
        """The caller: its principal, groups, admin roles and ``is_mesh_admin``."""
        return parsed(WhoAmI, self._get("/whoami"))

    def get_settings(self) -> Settings:
        """Every mesh setting with its value (mesh admins only)."""
        return parsed(Settings, self._get("/settings"))

    def put_setting(self, key: str, value: Any) -> Settings:
        """Change a mesh setting (mesh admins only); returns every setting."""
        changed = self.request("PUT", f"/settings/{segment(key)}", json={"value": value})
        return parsed(Settings, changed)

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

    def list_attribute_keys(self) -> list[AttributeKeyPublic]:
        """Every attribute key with its allowed values and delegates."""
        return parsed_list(AttributeKeyPublic, self._get("/attribute-keys"))

    def create_attribute_key(
        self, key: str, *, values: Iterable[str], description: str = ""
    ) -> AttributeKeyPublic:
        """Define an attribute key and its allowed values (mesh admins)."""
        body = {"key": key, "values": list(values), "description": description}
        return parsed(AttributeKeyPublic, self.request("POST", "/attribute-keys", json=body))

    def get_attribute_key(self, key: str) -> AttributeKeyPublic:
        return parsed(AttributeKeyPublic, self._get(f"/attribute-keys/{segment(key)}"))

    def update_attribute_key(
        self, key: str, *, values: Iterable[str] | None = None, description: str | None = None
    ) -> AttributeKeyPublic:
        """Replace the allowed values (a value some principal holds cannot go) or the
        description (mesh admins)."""
        body = only_set(values=None if values is None else list(values), description=description)
        changed = self.request("PATCH", f"/attribute-keys/{segment(key)}", json=body)
        return parsed(AttributeKeyPublic, changed)

    def delete_attribute_key(self, key: str) -> None:
        """Delete an attribute key no principal holds (mesh admins)."""
        self.request("DELETE", f"/attribute-keys/{segment(key)}")

    def delegate_attribute(self, key: str, principal: str) -> AttributeKeyPublic:
        """Let ``principal`` (a user, a group, ``domain:X``'s admins) set ``key``'s values."""
        path = f"/attribute-keys/{segment(key)}/delegates"
        delegated = self.request("POST", path, json={"principal": principal})
        return parsed(AttributeKeyPublic, delegated)

    def undelegate_attribute(self, key: str, principal: str) -> AttributeKeyPublic:
        """Take back a delegation of ``key``."""
        path = f"/attribute-keys/{segment(key)}/delegates/{segment(principal)}"
        return parsed(AttributeKeyPublic, self.request("DELETE", path))

    def delete_principal(self, name: str) -> None:
        self.request("DELETE", f"/principals/{segment(name)}")

    def add_member(self, group: str, member: str) -> PrincipalPublic:
        """Add ``member`` (a user, service or group) to ``group``; returns the group."""
        path = f"/groups/{segment(group)}/members"
        return parsed(PrincipalPublic, self.request("POST", path, json={"member": member}))

    def remove_member(self, group: str, member: str) -> PrincipalPublic:
        """Take ``member`` out of ``group``; returns the group."""
        path = f"/groups/{segment(group)}/members/{segment(member)}"
        return parsed(PrincipalPublic, self.request("DELETE", path))

    # -- tokens ---------------------------------------------------------------------------------

    def create_token(
        self, principal: str, *, expires_in: str | None = None, description: str = ""
    ) -> TokenIssued:
        """A new token for ``principal`` (``expires_in`` like ``30d``); its secret, ``token``,
        is shown this once."""
        body = {"principal": principal, "expires_in": expires_in, "description": description}
        return parsed(TokenIssued, self.request("POST", "/tokens", json=body))

    def list_tokens(self, *, principal: str | None = None) -> list[TokenPublic]:
        """Tokens (never their secrets) of ``principal``, or of the caller."""
        return parsed_list(TokenPublic, self._get("/tokens", principal=principal))

    def revoke_token(self, token_id: int) -> TokenPublic:
        """Revoke a token; returns it."""
        return parsed(TokenPublic, self.request("DELETE", f"/tokens/{int(token_id)}"))
