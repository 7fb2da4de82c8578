"""The REST API's docs page (Swagger UI), served whole by the hub: it works with no internet.

Swagger UI's files come from the ``swagger-ui-bundle-v2`` package and are served under
:data:`SWAGGER_PATH`; the page is FastAPI's own, pointed at them. Its Content-Security-Policy
allows scripts from this origin plus, by hash, the page's one inline script that starts
Swagger UI, and nothing from any other origin.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse
from swagger_ui_bundle import swagger_ui_path

SWAGGER_PATH = "/static/swagger-ui"
FAVICON = "/static/portal/favicon.svg"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: str) -> str:
    """The page's Content-Security-Policy: its inline scripts allowed by their SHA-256 only.

    >>> docs_policy("<script>go()</script>").split("; ")[1]
    "script-src 'self' 'sha256-5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw='"
    """
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".strip(),
            # Swagger UI sets a few styles of its own.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        )
    )


def install_docs(app: FastAPI, *, docs_url: str, openapi_url: str) -> None:
    """Serve Swagger UI at ``docs_url`` for the document at ``openapi_url``, from local files."""
    app.mount(SWAGGER_PATH, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui-static")

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} REST API",
            swagger_js_url=f"{SWAGGER_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_PATH}/swagger-ui.css",
            swagger_favicon_url=FAVICON,
        )
        html = bytes(page.body).decode()
        return HTMLResponse(html, headers={"Content-Security-Policy": docs_policy(html)})
