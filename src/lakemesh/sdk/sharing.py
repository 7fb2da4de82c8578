"""SDK methods of sharing across domains: shares, links, data products, subscriptions, onboarding.

>>> client.search_products("customers")  # doctest: +SKIP
>>> sub = client.request_subscription(
...     "sales_customers", principal="user:mia@marketing", reason="churn model",
...     exclude_columns=["email"])  # doctest: +SKIP
>>> client.approve_subscription(sub.id, comment="ok")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lakemesh.api.schemas.notifications import ProductVersions, SchemaProposalPublic
from lakemesh.api.schemas.quality import QualityRunPublic
from lakemesh.api.schemas.sharing import (
    LinkPublic,
    ProductFacets,
    ProductPublic,
    SharePublic,
    SubscriptionPublic,
)
from lakemesh.sdk.base import ApiBase, only_set, parsed, parsed_list, segment


class SharingMethods(ApiBase):
    """Shares, resource links, data products, subscriptions and onboarding."""

    # -- shares ---------------------------------------------------------------------------------

    def list_shares(
        self,
        *,
        direction: str | None = None,
        domain: str | None = None,
        status: str | None = None,
    ) -> list[SharePublic]:
        """Shares you may see: ``direction`` ``incoming`` or ``outgoing`` (of ``domain``)."""
        found = self._get("/shares", direction=direction, domain=domain, status=status)
        return parsed_list(SharePublic, found)

    def get_share(self, share_id: int) -> SharePublic:
        return parsed(SharePublic, self._get(f"/shares/{share_id}"))

    def accept_share(self, share_id: int) -> SharePublic:
        """Accept a share to a domain you administer; it takes effect at once."""
        return parsed(SharePublic, self.request("POST", f"/shares/{share_id}/accept"))

    def decline_share(self, share_id: int) -> SharePublic:
        return parsed(SharePublic, self.request("POST", f"/shares/{share_id}/decline"))

    # -- resource links -------------------------------------------------------------------------

    def create_link(self, name: str, *, target: str) -> LinkPublic:
        """Link ``CONSUMER.DB.T`` to ``PRODUCER.DB.T`` (or a database to a database)."""
        made = self.request("POST", "/links", json={"name": name, "target": target})
        return parsed(LinkPublic, made)

    def list_links(self, *, domain: str | None = None) -> list[LinkPublic]:
        """Links you may DESCRIBE, each with ``status`` ``ok`` or ``broken`` and a message."""
        return parsed_list(LinkPublic, self._get("/links", domain=domain))

    def get_link(self, name: str) -> LinkPublic:
        return parsed(LinkPublic, self._get(f"/links/{segment(name)}"))

    def drop_link(self, name: str) -> None:
        self.request("DELETE", f"/links/{segment(name)}")

    # -- data products --------------------------------------------------------------------------

    def publish_product(
        self,
        name: str,
        *,
        domain: str,
        tables: Iterable[str] = (),
        title: str | None = None,
        description: str | None = None,
        owner: str | None = None,
        tags: Mapping[str, str] | None = None,
        version: str | None = None,
        contract: str | Path | None = None,
        draft: bool = False,
        auto_approve: str | None = None,
    ) -> ProductPublic:
        """Publish (create or change) a data product; ``contract`` is ODCS v3 YAML text or a
        path to such a file; ``draft=True`` keeps a new product unpublished."""
        if isinstance(contract, Path):
            contract = contract.read_text()
        body = only_set(
            title=title,
            description=description,
            owner=owner,
            tags=dict(tags) if tags is not None else None,
            version=version,
            contract=contract,
            auto_approve=auto_approve,
        )
        body.update(name=name, domain=domain, tables=list(tables), draft=draft)
        return parsed(ProductPublic, self.request("POST", "/products", json=body))

    def list_products(
        self, *, domain: str | None = None, status: str | None = None
    ) -> list[ProductPublic]:
        return parsed_list(ProductPublic, self._get("/products", domain=domain, status=status))

    def search_products(
        self,
        text: str = "",
        *,
        tags: str | None = None,
        health: str | None = None,
        sort: str = "name",
    ) -> list[ProductPublic]:
        """Products whose text holds every word of ``text`` and that match the tag expression;
        ``health`` keeps one health facet (``passed``, ``failed``, ``error``, ``unchecked``,
        ``on_time``, ``late``); ``sort`` is ``name``, ``quality`` or ``checked``."""
        found = self._get("/products/search", text=text, tags=tags, health=health, sort=sort)
        return parsed_list(ProductPublic, found)

    def product_facets(self, text: str = "", *, tags: str | None = None) -> ProductFacets:
        """How many products the search finds (``total``) and in each health facet
        (``health``: passed, failed, error, unchecked, on_time, late)."""
        found = self._get("/products/search/facets", text=text, tags=tags)
        return parsed(ProductFacets, found)

    def check_product(self, name: str) -> QualityRunPublic:
        """Run the product's contract checks now (its domain's admins); returns the run with
        each rule's value, threshold and status."""
        ran = self.request("POST", f"/products/{segment(name)}/checks")
        return parsed(QualityRunPublic, ran)

    def product_checks(self, name: str, *, limit: int = 20) -> list[QualityRunPublic]:
        """The product's latest check runs, newest first."""
        found = self._get(f"/products/{segment(name)}/checks", limit=limit)
        return parsed_list(QualityRunPublic, found)

    def product_versions(self, name: str) -> ProductVersions:
        """The product's versions (oldest first) and its tables' schema proposals (newest
        first)."""
        return parsed(ProductVersions, self._get(f"/products/{segment(name)}/versions"))

    def accept_schema_change(
        self,
        name: str,
        proposal: int,
        *,
        contract: str | Path | None = None,
        version: str | None = None,
        comment: str = "",
    ) -> SchemaProposalPublic:
        """Accept a pending schema proposal of the product (its domain's admins): the table
        serves the new schema and the product is published at its next major version, with
        ``contract`` (ODCS YAML text or a file) or the current contract revised."""
        text = Path(contract).read_text() if isinstance(contract, Path) else contract
        body = only_set(contract=text, version=version) | {"comment": comment}
        path = f"/products/{segment(name)}/proposals/{proposal}/accept"
        return parsed(SchemaProposalPublic, self.request("POST", path, json=body))

    def reject_schema_change(
        self, name: str, proposal: int, *, comment: str = ""
    ) -> SchemaProposalPublic:
        """Reject a pending schema proposal: the table keeps serving the contracted schema."""
        path = f"/products/{segment(name)}/proposals/{proposal}/reject"
        return parsed(SchemaProposalPublic, self.request("POST", path, json={"comment": comment}))

    def get_product(self, name: str) -> ProductPublic:
        """One product with its tables' columns (``warning`` is set when it is deprecated)."""
        return parsed(ProductPublic, self._get(f"/products/{segment(name)}"))

    def deprecate_product(self, name: str, *, message: str = "") -> ProductPublic:
        path = f"/products/{segment(name)}/deprecate"
        return parsed(ProductPublic, self.request("POST", path, json={"message": message}))

    # -- subscriptions --------------------------------------------------------------------------

    def request_subscription(
        self,
        product: str,
        *,
        principal: str,
        reason: str,
        columns: Iterable[str] | None = None,
        exclude_columns: Iterable[str] = (),
        filter: str | None = None,
    ) -> SubscriptionPublic:
        """Ask for access to ``product`` for ``principal``; the answer has ``id`` and ``status``."""
        body: dict[str, Any] = {
            "product": product,
            "principal": principal,
            "reason": reason,
            "exclude_columns": list(exclude_columns),
        }
        if columns is not None:
            body["columns"] = list(columns)
        if filter is not None:
            body["filter"] = filter
        return parsed(SubscriptionPublic, self.request("POST", "/subscriptions", json=body))

    def list_subscriptions(
        self,
        *,
        product: str | None = None,
        consumer: str | None = None,
        principal: str | None = None,
        status: str | None = None,
    ) -> list[SubscriptionPublic]:
        """Subscriptions you may see, newest first, each with its history."""
        found = self._get(
            "/subscriptions",
            product=product,
            consumer=consumer,
            principal=principal,
            status=status,
        )
        return parsed_list(SubscriptionPublic, found)

    def get_subscription(self, subscription_id: int) -> SubscriptionPublic:
        return parsed(SubscriptionPublic, self._get(f"/subscriptions/{subscription_id}"))

    def approve_subscription(
        self, subscription_id: int, *, comment: str = "", exclude_columns: Sequence[str] = ()
    ) -> SubscriptionPublic:
        """Approve as asked, or with ``exclude_columns`` left out of what was asked for."""
        body = {"comment": comment, "exclude_columns": list(exclude_columns)}
        decided = self.request("POST", f"/subscriptions/{subscription_id}/approve", json=body)
        return parsed(SubscriptionPublic, decided)

    def reject_subscription(self, subscription_id: int, *, reason: str) -> SubscriptionPublic:
        decided = self.request(
            "POST", f"/subscriptions/{subscription_id}/reject", json={"reason": reason}
        )
        return parsed(SubscriptionPublic, decided)

    def revoke_subscription(self, subscription_id: int, *, reason: str = "") -> SubscriptionPublic:
        decided = self.request(
            "POST", f"/subscriptions/{subscription_id}/revoke", json={"reason": reason}
        )
        return parsed(SubscriptionPublic, decided)

    # -- onboarding -----------------------------------------------------------------------------

    def onboard_producer(
        self,
        name: str,
        *,
        location: str,
        admin: str,
        tags: Mapping[str, str] | None = None,
        database: str | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        """Domain, admin, location, crawl and tags in one step (repeatable)."""
        body: dict[str, Any] = {
            "name": name,
            "location": location,
            "admin": admin,
            "tags": dict(tags or {}),
            "description": description,
        }
        if database is not None:
            body["database"] = database
        result: dict[str, Any] = self.request("POST", "/onboarding/producers", json=body)
        return result

    def onboard_consumer(self, name: str, *, admin: str, description: str = "") -> dict[str, Any]:
        """A consumer domain and its admin in one step (repeatable)."""
        result: dict[str, Any] = self.request(
            "POST",
            "/onboarding/consumers",
            json={"name": name, "admin": admin, "description": description},
        )
        return result
