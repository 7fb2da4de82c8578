"""The settings of portal sign-in with an OpenID Connect provider: the ``[oidc]`` table of the
hub's ``config.toml`` (none: the sign-in page offers the token form only).

```toml
[oidc]
issuer = "https://login.example.com/realms/nimbuscart"
client_id = "lakemesh"
client_secret = "..."
name = "NimbusCart SSO"                 # the button: "Sign in with NimbusCart SSO"
principal_claim = "preferred_username"  # its value names the principal: mia@marketing or
                                        # user:mia@marketing (default: preferred_username)
groups_claim = "groups"                 # optional: the provider's groups of the person
scopes = ["openid", "profile", "email"] # default; add the scope that releases groups_claim
redirect_uri = "https://hub.example.com/login/oidc/callback"  # default: this hub's own URL
session_hours = 12                      # how long a portal session signed in this way lasts

[oidc.groups]                           # provider group = lakemesh group
"nimbus-marketing-analysts" = "group:analysts@marketing"
```

>>> settings = oidc_settings({"oidc": {"issuer": "https://idp", "client_id": "c",
...                                    "client_secret": "s"}})
>>> settings.principal_claim, settings.scopes
('preferred_username', ('openid', 'profile', 'email'))
>>> oidc_settings({}) is None
True
>>> principal_from_claim("mia@marketing"), principal_from_claim("service:etl@sales")
('user:mia@marketing', 'service:etl@sales')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lakemesh.errors import InvalidInputError

SECTION = "oidc"
DEFAULT_SCOPES = ("openid", "profile", "email")


@dataclass(frozen=True)
class OidcSettings:
    """The ``[oidc]`` table of ``config.toml``: one OpenID Connect provider."""

    issuer: str
    client_id: str
    client_secret: str
    name: str = "OpenID Connect"
    principal_claim: str = "preferred_username"
    groups_claim: str | None = None
    groups: Mapping[str, str] = field(default_factory=dict)
    """Provider group -> lakemesh group (``group:analysts@marketing``)."""
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    redirect_uri: str | None = None
    session_hours: float = 12.0


def _text(section: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = section.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInputError(
            f"Invalid OpenID Connect settings in config.toml: oidc.{key} takes a non-empty text",
            details={"setting": f"oidc.{key}"},
        )
    return value


def oidc_settings(config: dict[str, Any]) -> OidcSettings | None:
    """The ``[oidc]`` settings of a hub's ``config.toml``; None when sign-in with a provider is
    not configured.

    Raises:
        InvalidInputError: a setting is missing or has the wrong type, naming it.
    """
    section = config.get(SECTION)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise InvalidInputError(
            "Invalid OpenID Connect settings in config.toml: [oidc] must be a table",
            details={"setting": SECTION},
        )
    groups = section.get("groups", {})
    if not isinstance(groups, dict) or not all(
        isinstance(v, str) and v.startswith("group:") for v in groups.values()
    ):
        raise InvalidInputError(
            "Invalid OpenID Connect settings in config.toml: [oidc.groups] maps provider groups "
            'to lakemesh groups ("analysts" = "group:analysts@marketing")',
            details={"setting": "oidc.groups"},
        )
    scopes = section.get("scopes", list(DEFAULT_SCOPES))
    if not isinstance(scopes, list) or "openid" not in scopes:
        raise InvalidInputError(
            "Invalid OpenID Connect settings in config.toml: oidc.scopes is a list that "
            'includes "openid"',
            details={"setting": "oidc.scopes"},
        )
    hours = section.get("session_hours", 12.0)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        raise InvalidInputError(
            "Invalid OpenID Connect settings in config.toml: oidc.session_hours takes a "
            "positive number",
            details={"setting": "oidc.session_hours"},
        )
    return OidcSettings(
        issuer=str(_text(section, "issuer", required=True)).rstrip("/"),
        client_id=str(_text(section, "client_id", required=True)),
        client_secret=str(_text(section, "client_secret", required=True)),
        name=_text(section, "name") or "OpenID Connect",
        principal_claim=_text(section, "principal_claim") or "preferred_username",
        groups_claim=_text(section, "groups_claim"),
        groups=dict(groups),
        scopes=tuple(str(scope) for scope in scopes),
        redirect_uri=_text(section, "redirect_uri"),
        session_hours=float(hours),
    )


def principal_from_claim(value: str) -> str:
    """The principal a claim names: ``user:mia@marketing`` as is, ``mia@marketing`` as a user."""
    return value if ":" in value else f"user:{value}"
