"""SDK methods of notifications: the inbox, webhooks, their secrets and deliveries.

>>> client.inbox(unread=True)  # doctest: +SKIP
>>> client.set_webhook_secret("hooks", value=SECRET, domain="marketing")  # doctest: +SKIP
>>> client.create_webhook("https://hooks.example.org/lakemesh", secret="hooks",
...                       domain="marketing")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lakemesh.sdk.base import ApiBase, only_set, segment


class NotificationMethods(ApiBase):
    """The caller's inbox and webhooks."""

    def inbox(self, *, unread: bool = False, limit: int = 100) -> list[dict[str, Any]]:
        """Your notifications (and your groups' and domains'), newest first."""
        result: list[dict[str, Any]] = self._get("/inbox", unread=unread or None, limit=limit)
        return result

    def mark_read(self, ids: Iterable[int] = (), *, all: bool = False) -> list[dict[str, Any]]:
        """Mark notifications read: ``ids``, or ``all`` unread ones."""
        result: list[dict[str, Any]] = self.request(
            "POST", "/inbox/read", json={"ids": list(ids), "all": all}
        )
        return result

    def set_webhook_secret(
        self, name: str, *, value: str, domain: str | None = None
    ) -> dict[str, Any]:
        """Create or replace a signing secret (yours, or ``domain``'s); it is never shown again."""
        body = {"name": name, "value": value, **only_set(domain=domain)}
        result: dict[str, Any] = self.request("PUT", "/webhooks/secrets", json=body)
        return result

    def list_webhook_secrets(self) -> list[dict[str, Any]]:
        """Names of your and your domains' secrets."""
        result: list[dict[str, Any]] = self._get("/webhooks/secrets")
        return result

    def delete_webhook_secret(self, name: str, *, domain: str | None = None) -> None:
        self.request("DELETE", f"/webhooks/secrets/{segment(name)}", params=only_set(domain=domain))

    def create_webhook(
        self,
        url: str,
        *,
        secret: str,
        domain: str | None = None,
        kinds: Iterable[str] = (),
        product: str | None = None,
    ) -> dict[str, Any]:
        """Post your (or ``domain``'s) notifications to ``url``, signed with ``secret``."""
        body = {
            "url": url,
            "secret": secret,
            "kinds": list(kinds),
            **only_set(domain=domain, product=product),
        }
        result: dict[str, Any] = self.request("POST", "/webhooks", json=body)
        return result

    def list_webhooks(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/webhooks")
        return result

    def delete_webhook(self, webhook_id: int) -> None:
        self.request("DELETE", f"/webhooks/{webhook_id}")

    def webhook_deliveries(
        self, *, webhook: int | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Deliveries to your webhooks, newest first, with status, tries and last answer."""
        result: list[dict[str, Any]] = self._get(
            "/webhooks/deliveries", webhook=webhook, limit=limit
        )
        return result

    def redeliver(self, delivery_id: int) -> dict[str, Any]:
        """Try a delivery again."""
        result: dict[str, Any] = self.request(
            "POST", f"/webhooks/deliveries/{delivery_id}/redeliver"
        )
        return result
