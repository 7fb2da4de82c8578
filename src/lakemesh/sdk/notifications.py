"""SDK methods of notifications: the inbox, webhooks, their secrets and deliveries.

>>> client.inbox(unread=True)  # doctest: +SKIP
>>> client.set_webhook_secret("hooks", value=SECRET, domain="marketing")  # doctest: +SKIP
>>> client.create_webhook("https://hooks.example.org/lakemesh", secret="hooks",
...                       domain="marketing")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

from lakemesh.api.schemas.notifications import (
    DeliveryPublic,
    NotificationPublic,
    SecretPublic,
    WebhookPublic,
)
from lakemesh.sdk.base import ApiBase, only_set, parsed, parsed_list, segment


class NotificationMethods(ApiBase):
    """The caller's inbox and webhooks."""

    def inbox(self, *, unread: bool = False, limit: int = 100) -> list[NotificationPublic]:
        """Your notifications (and your groups' and domains'), newest first."""
        found = self._get("/inbox", unread=unread or None, limit=limit)
        return parsed_list(NotificationPublic, found)

    def mark_read(self, ids: Iterable[int] = (), *, all: bool = False) -> list[NotificationPublic]:
        """Mark notifications read: ``ids``, or ``all`` unread ones."""
        marked = self.request("POST", "/inbox/read", json={"ids": list(ids), "all": all})
        return parsed_list(NotificationPublic, marked)

    def set_webhook_secret(
        self, name: str, *, value: str, domain: str | None = None
    ) -> SecretPublic:
        """Create or replace a signing secret (yours, or ``domain``'s); it is never shown again."""
        body = {"name": name, "value": value, **only_set(domain=domain)}
        return parsed(SecretPublic, self.request("PUT", "/webhooks/secrets", json=body))

    def list_webhook_secrets(self) -> list[SecretPublic]:
        """Names of your and your domains' secrets."""
        return parsed_list(SecretPublic, self._get("/webhooks/secrets"))

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
    ) -> WebhookPublic:
        """Post your (or ``domain``'s) notifications to ``url``, signed with ``secret``."""
        body = {
            "url": url,
            "secret": secret,
            "kinds": list(kinds),
            **only_set(domain=domain, product=product),
        }
        return parsed(WebhookPublic, self.request("POST", "/webhooks", json=body))

    def list_webhooks(self) -> list[WebhookPublic]:
        return parsed_list(WebhookPublic, self._get("/webhooks"))

    def delete_webhook(self, webhook_id: int) -> None:
        self.request("DELETE", f"/webhooks/{webhook_id}")

    def webhook_deliveries(
        self, *, webhook: int | None = None, limit: int = 100
    ) -> list[DeliveryPublic]:
        """Deliveries to your webhooks, newest first, with status, tries and last answer."""
        found = self._get("/webhooks/deliveries", webhook=webhook, limit=limit)
        return parsed_list(DeliveryPublic, found)

    def redeliver(self, delivery_id: int) -> DeliveryPublic:
        """Try a delivery again."""
        again = self.request("POST", f"/webhooks/deliveries/{delivery_id}/redeliver")
        return parsed(DeliveryPublic, again)
