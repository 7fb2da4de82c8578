"""SDK methods of governance: grants, revokes, explain, guardrails and the doctor."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict, Unpack

from lakemesh.api.schemas.grants import DecisionPublic, GrantPublic
from lakemesh.api.schemas.guardrails import Diagnosis, GuardrailPublic
from lakemesh.sdk.base import ApiBase, only_set, parsed, parsed_list, segment


def permission_list(permissions: str | Iterable[str]) -> list[str]:
    """``"SELECT,DESCRIBE"`` or ``["SELECT", "DESCRIBE"]`` as a list of names.

    >>> permission_list("select, describe")
    ['select', 'describe']
    """
    if isinstance(permissions, str):
        return [part.strip() for part in permissions.split(",") if part.strip()]
    return [str(permission) for permission in permissions]


class GrantTarget(TypedDict, total=False):
    """The one target a grant names, as :meth:`GovernanceMethods.grant` and
    :meth:`GovernanceMethods.revoke` take it (an argument left out or ``None`` is not sent)."""

    on: str | None
    columns: Iterable[str] | None
    exclude_columns: Iterable[str] | None
    filter: str | None
    on_tags: str | None
    resource_type: str | None
    location: str | None
    tag_values: str | None


def grant_body(
    permissions: str | Iterable[str],
    *,
    grantee: str,
    with_grant_option: bool,
    target: GrantTarget,
) -> dict[str, Any]:
    """The JSON body of ``POST /grants`` and ``POST /grants/revoke``.

    Raises:
        TypeError: ``target`` holds an argument a grant does not take.
    """
    unknown = sorted(set(target) - GrantTarget.__optional_keys__)
    if unknown:
        raise TypeError(f"Unexpected grant target argument: {unknown[0]}")
    body: dict[str, Any] = {
        "grantee": grantee,
        "permissions": permission_list(permissions),
        "with_grant_option": with_grant_option,
        **only_set(
            on=target.get("on"),
            filter=target.get("filter"),
            on_tags=target.get("on_tags"),
            resource_type=target.get("resource_type"),
            location=target.get("location"),
            tag_values=target.get("tag_values"),
        ),
    }
    columns = target.get("columns")
    if columns is not None:
        body["columns"] = list(columns)
    exclude_columns = target.get("exclude_columns")
    if exclude_columns:
        body["exclude_columns"] = list(exclude_columns)
    return body


class GovernanceMethods(ApiBase):
    """Who may see what: grants, decisions explained, guardrails, the doctor."""

    # -- grants ---------------------------------------------------------------------------------

    def grant(
        self,
        permissions: str | Iterable[str],
        *,
        grantee: str,
        with_grant_option: bool = False,
        **target: Unpack[GrantTarget],
    ) -> GrantPublic:
        """Grant ``permissions`` (``"SELECT"``, ``"SELECT,DESCRIBE"`` or a list) to ``grantee``
        on exactly one target: ``on`` a resource (with ``columns``, ``exclude_columns`` or a data
        ``filter``), ``on_tags`` a tag expression (``resource_type`` table or database),
        ``location`` a storage URI, or ``tag_values`` like ``"sensitivity=pii|internal"``.

        >>> client.grant("SELECT", on="sales.crm.orders", grantee="user:mia@x")  # doctest: +SKIP

        Returns the grant (its ``id``, ``grantee``, ``permissions``, ``target``, ...).
        """
        body = grant_body(
            permissions, grantee=grantee, with_grant_option=with_grant_option, target=target
        )
        return parsed(GrantPublic, self.request("POST", "/grants", json=body))

    def revoke(
        self,
        permissions: str | Iterable[str],
        *,
        grantee: str,
        **target: Unpack[GrantTarget],
    ) -> list[int]:
        """Take ``permissions`` back from ``grantee`` on exactly the target a grant named (the
        arguments mirror :meth:`grant`); grants derived from them go too. Returns the ids of
        the grants revoked or narrowed."""
        body = grant_body(permissions, grantee=grantee, with_grant_option=False, target=target)
        revoked: list[int] = self.request("POST", "/grants/revoke", json=body)["revoked"]
        return revoked

    def revoke_grant(self, grant_id: int) -> list[int]:
        """Revoke one grant (by id) and every grant derived from it; returns their ids."""
        revoked: list[int] = self.request("DELETE", f"/grants/{int(grant_id)}")["revoked"]
        return revoked

    def list_grants(
        self, *, principal: str | None = None, resource: str | None = None
    ) -> list[GrantPublic]:
        """Grants to ``principal`` and/or concerning ``resource``, as far as the caller sees."""
        return parsed_list(
            GrantPublic, self._get("/grants", principal=principal, resource=resource)
        )

    def explain(self, principal: str, permission: str, resource: str) -> DecisionPublic:
        """Whether ``principal`` may use ``permission`` on ``resource``, and why: ``allowed``,
        ``columns``, ``row_filter``, ``masks``, ``reasons`` and ``attributes`` (its
        ``model_dump()`` is the CLI's ``--json``).

        >>> client.explain("user:mia@sales", "SELECT", "sales.crm.customers")  # doctest: +SKIP
        """
        found = self._get("/explain", principal=principal, permission=permission, resource=resource)
        return parsed(DecisionPublic, found)

    # -- guardrails -----------------------------------------------------------------------------

    def list_guardrails(self, *, kind: str | None = None) -> list[GuardrailPublic]:
        """Every guardrail (of one kind)."""
        return parsed_list(GuardrailPublic, self._get("/guardrails", kind=kind))

    def create_guardrail(
        self,
        name: str,
        *,
        kind: str,
        keys: Iterable[str] | None = None,
        on_tags: str | None = None,
        prefixes: Iterable[str] | None = None,
        max_lifetime: str | None = None,
    ) -> GuardrailPublic:
        """Create a guardrail (mesh admins): ``kind`` ``required-tags`` takes ``keys``,
        ``sensitive-scope`` ``on_tags``, ``location-prefixes`` ``prefixes``,
        ``max-token-lifetime`` ``max_lifetime`` (like ``"90d"``)."""
        body = {
            "name": name,
            "kind": kind,
            **_guardrail_options(keys, on_tags, prefixes, max_lifetime),
        }
        return parsed(GuardrailPublic, self.request("POST", "/guardrails", json=body))

    def get_guardrail(self, name: str) -> GuardrailPublic:
        return parsed(GuardrailPublic, self._get(f"/guardrails/{segment(name)}"))

    def update_guardrail(
        self,
        name: str,
        *,
        keys: Iterable[str] | None = None,
        on_tags: str | None = None,
        prefixes: Iterable[str] | None = None,
        max_lifetime: str | None = None,
    ) -> GuardrailPublic:
        """Replace a guardrail's configuration (its kind stays; mesh admins)."""
        body = _guardrail_options(keys, on_tags, prefixes, max_lifetime)
        changed = self.request("PATCH", f"/guardrails/{segment(name)}", json=body)
        return parsed(GuardrailPublic, changed)

    def delete_guardrail(self, name: str) -> None:
        """Delete a guardrail (mesh admins)."""
        self.request("DELETE", f"/guardrails/{segment(name)}")

    # -- doctor ---------------------------------------------------------------------------------

    def doctor(self) -> Diagnosis:
        """The mesh's risky states (mesh admins): the ``findings`` (each its ``kind``,
        ``severity``, ``resource``, ``message`` and ``details``) and their ``counts`` by
        severity."""
        return parsed(Diagnosis, self._get("/doctor"))


def _guardrail_options(
    keys: Iterable[str] | None,
    on_tags: str | None,
    prefixes: Iterable[str] | None,
    max_lifetime: str | None,
) -> dict[str, Any]:
    return only_set(
        keys=list(keys) if keys is not None else None,
        on_tags=on_tags,
        prefixes=list(prefixes) if prefixes is not None else None,
        max_lifetime=max_lifetime,
    )
