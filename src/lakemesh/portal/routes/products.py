"""``GET /products/{name}``: a data product, what the viewer gets of it, and requesting access
(``POST /products/{name}/requests``)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response

from lakemesh.portal.pages import PageDep, PortalRoute
from lakemesh.portal.views.products import product_page, product_sample, request_access

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.get("/products/{name}")
def show_product(name: str, page: PageDep, requested: int | None = None) -> Response:
    shown = product_page(page.session, page.hub, viewer=page.viewer, name=name)
    return page.render(
        "product.html", title=shown.product["title"], page=shown, requested=requested
    )


@router.get("/products/{name}/sample")
def show_sample(name: str, table: str, page: PageDep, fragment: bool = False) -> Response:
    """A table's governed sample: a page, or (``fragment``) the piece the product page loads."""
    shown = product_sample(page.session, page.hub, viewer=page.viewer, name=name, table=table)
    return page.render(
        "sample_fragment.html" if fragment else "sample.html",
        title=f"Sample of {table}",
        shown=shown,
    )


@router.post("/products/{name}/requests")
def request_product(name: str, page: PageDep) -> Response:
    row = request_access(
        page.session,
        viewer=page.viewer,
        name=name,
        principal=page.field("principal", page.viewer.ref),
        reason=page.field("reason"),
        exclude_columns=page.fields("exclude_columns"),
    )
    return page.redirect(f"/products/{quote(name)}?requested={row.id}")
