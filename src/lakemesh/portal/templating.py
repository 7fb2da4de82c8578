"""The portal's Jinja2 environment: templates under ``templates/``, every value escaped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from lakemesh.portal.navigation import navigation

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def _when(value: Any) -> str:
    """A time as people read it: ``2026-01-01 12:00 UTC`` (ISO text or datetime)."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    # Every template escapes every value, whatever its file name; StrictUndefined turns a
    # misspelt variable into an error instead of an empty string.
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["when"] = _when


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """``template`` rendered with ``context`` plus what every page's layout needs (``viewer``,
    ``csrf_token``, ``nav``, ``path``), as an HTML response."""
    viewer = context.setdefault("viewer", None)
    context.setdefault("csrf_token", "")
    context.setdefault("nav", navigation(viewer))
    context.setdefault("path", request.url.path)
    html = environment.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)
