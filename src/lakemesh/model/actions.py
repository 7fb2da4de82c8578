"""Every action the audit trail records: a state change, a read it audits, or a denial of one.

One name per action, so a service cannot record a misspelt one and ``audit search --action`` can
say which actions exist. Members are strings (``Action.GRANT_CREATE == "grant.create"``); the
trail stores their value.

>>> Action("grant.create") is Action.GRANT_CREATE
True
>>> is_action_filter("grant"), is_action_filter("grant.create"), is_action_filter("grants")
(True, True, False)
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """An audited action: ``<object>.<verb>`` (or one word for mesh-wide ones, ``query``)."""

    ACCESS_DENIED = "access.denied"

    ATTRIBUTE_CREATE = "attribute.create"
    ATTRIBUTE_DELEGATE = "attribute.delegate"
    ATTRIBUTE_DELETE = "attribute.delete"
    ATTRIBUTE_UNDELEGATE = "attribute.undelegate"
    ATTRIBUTE_UPDATE = "attribute.update"

    AUDIT_SEARCH = "audit.search"
    AUDIT_VERIFY = "audit.verify"

    CRAWL = "crawl"

    CREDENTIALS_VEND = "credentials.vend"

    DATABASE_ALTER = "database.alter"
    DATABASE_CREATE = "database.create"
    DATABASE_DROP = "database.drop"
    DATABASE_SHOW = "database.show"

    DECISIONS_SNAPSHOT = "decisions.snapshot"

    DOCTOR = "doctor"

    DOMAIN_ADD_ADMIN = "domain.add_admin"
    DOMAIN_CREATE = "domain.create"
    DOMAIN_DELETE = "domain.delete"
    DOMAIN_REMOVE_ADMIN = "domain.remove_admin"
    DOMAIN_UPDATE = "domain.update"

    EXPLAIN = "explain"

    FILTER_CREATE = "filter.create"
    FILTER_DELETE = "filter.delete"
    FILTER_LIST = "filter.list"
    FILTER_SHOW = "filter.show"
    FILTER_UPDATE = "filter.update"

    GRANT_CREATE = "grant.create"
    GRANT_REVOKE = "grant.revoke"

    GROUP_ADD_MEMBER = "group.add_member"
    GROUP_REMOVE_MEMBER = "group.remove_member"

    GUARDRAIL_CREATE = "guardrail.create"
    GUARDRAIL_DELETE = "guardrail.delete"
    GUARDRAIL_UPDATE = "guardrail.update"

    HUB_INIT = "hub.init"

    LINEAGE_RECORD = "lineage.record"

    LINK_CREATE = "link.create"
    LINK_DROP = "link.drop"
    LINK_SHOW = "link.show"

    LOCATION_DEREGISTER = "location.deregister"
    LOCATION_REGISTER = "location.register"

    MASK_CREATE = "mask.create"
    MASK_DELETE = "mask.delete"

    MESH_APPLY = "mesh.apply"
    MESH_EXPORT = "mesh.export"
    MESH_PLAN = "mesh.plan"

    NOTIFICATION_READ = "notification.read"
    NOTIFICATION_SEND = "notification.send"

    OIDC_SIGN_IN = "oidc.sign_in"

    ONBOARD_CONSUMER = "onboard.consumer"
    ONBOARD_PRODUCER = "onboard.producer"

    PGWIRE_CONNECT = "pgwire.connect"
    API_AUTHENTICATE = "api.authenticate"

    PRINCIPAL_CREATE = "principal.create"
    PRINCIPAL_DELETE = "principal.delete"
    PRINCIPAL_LIST = "principal.list"
    PRINCIPAL_SHOW = "principal.show"
    PRINCIPAL_UPDATE = "principal.update"

    PRODUCT_CHECK = "product.check"
    PRODUCT_DEPRECATE = "product.deprecate"
    PRODUCT_PUBLISH = "product.publish"
    PRODUCT_SHOW = "product.show"

    QUERY = "query"
    QUERY_HISTORY = "query.history"
    QUERY_READ = "query.read"

    SCHEDULE_REMOVE = "schedule.remove"
    SCHEDULE_RUN = "schedule.run"
    SCHEDULE_SET = "schedule.set"

    SCHEMA_ACCEPT = "schema.accept"
    SCHEMA_PROPOSE = "schema.propose"
    SCHEMA_REJECT = "schema.reject"

    SESSION_END = "session.end"
    SESSION_START = "session.start"

    SETTING_CHANGE = "setting.change"
    SETTING_READ = "setting.read"

    SHARE_ACCEPT = "share.accept"
    SHARE_CREATE = "share.create"
    SHARE_DECLINE = "share.decline"
    SHARE_SHOW = "share.show"

    SUBSCRIPTION_APPROVE = "subscription.approve"
    SUBSCRIPTION_REJECT = "subscription.reject"
    SUBSCRIPTION_REQUEST = "subscription.request"
    SUBSCRIPTION_REVOKE = "subscription.revoke"
    SUBSCRIPTION_SHOW = "subscription.show"

    TABLE_ALTER = "table.alter"
    TABLE_COMMIT = "table.commit"
    TABLE_CREATE = "table.create"
    TABLE_DROP = "table.drop"
    TABLE_LIST = "table.list"
    TABLE_SHOW = "table.show"

    TAG_ASSIGN = "tag.assign"
    TAG_CREATE = "tag.create"
    TAG_DELETE = "tag.delete"
    TAG_REMOVE = "tag.remove"
    TAG_SHOW_RESOURCE = "tag.show_resource"
    TAG_UPDATE = "tag.update"

    TOKEN_CREATE = "token.create"
    TOKEN_LIST = "token.list"
    TOKEN_REVOKE = "token.revoke"

    WEBHOOK_CREATE = "webhook.create"
    WEBHOOK_DELETE = "webhook.delete"
    WEBHOOK_REDELIVER = "webhook.redeliver"
    WEBHOOK_SECRET_DELETE = "webhook.secret_delete"
    WEBHOOK_SECRET_SET = "webhook.secret_set"

    WORKGROUP_CREATE = "workgroup.create"
    WORKGROUP_DELETE = "workgroup.delete"
    WORKGROUP_UPDATE = "workgroup.update"


VALUES = frozenset(action.value for action in Action)
FAMILIES = frozenset(value.partition(".")[0] for value in VALUES)
"""The first words of the actions (``grant`` for ``grant.create`` and ``grant.revoke``)."""


def is_action_filter(text: str) -> bool:
    """Whether ``text`` names an action or a family of them (what ``audit search`` accepts)."""
    return text in VALUES or text in FAMILIES
