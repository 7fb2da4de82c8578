"""``/products``: data products, their publication, discovery, search and deprecation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.schemas import ProductDeprecate, ProductFacets, ProductPublic, ProductPublish
from lakemesh.sharing import products

router = APIRouter(prefix="/products", tags=["products"])


@router.get("", summary="Data products the caller may see", response_model=list[ProductPublic])
def list_products(
    session: SessionDep,
    actor: CurrentActor,
    domain: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    rows = products.list_products(session, actor=actor, domain=domain, status=status)
    return products.view_products(session, rows)


@router.get(
    "/search",
    summary="Search data products by text and by tag expression",
    response_model=list[ProductPublic],
)
def search_products(
    session: SessionDep,
    actor: CurrentActor,
    text: str = "",
    tags: str | None = None,
    health: Annotated[
        str | None,
        Query(description="Health facet: passed, failed, error, unchecked, on_time or late"),
    ] = None,
    sort: Annotated[str, Query(description="name, quality or checked")] = "name",
) -> list[dict[str, Any]]:
    rows = products.search_products(session, actor=actor, text=text, tags=tags)
    return products.sort_and_filter(products.view_products(session, rows), health=health, sort=sort)


@router.get(
    "/search/facets",
    summary="How many products a search finds in each health facet",
    response_model=ProductFacets,
)
def product_facets(
    session: SessionDep, actor: CurrentActor, text: str = "", tags: str | None = None
) -> dict[str, Any]:
    rows = products.search_products(session, actor=actor, text=text, tags=tags)
    return products.product_facets(products.view_products(session, rows))


@router.post(
    "",
    summary="Publish a data product (create or change it; or keep it a draft)",
    response_model=ProductPublic,
)
def publish_product(
    body: ProductPublish, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    spec = products.ProductSpec(**body.model_dump())
    row = products.publish_product(session, actor=actor, spec=spec)
    return products.view_product(session, row, detail=True)


@router.get(
    "/{name}", summary="One data product, with its tables' columns", response_model=ProductPublic
)
def show_product(name: str, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    row = products.show_product(session, actor=actor, name=name)
    return products.view_product(session, row, detail=True)


@router.post(
    "/{name}/deprecate",
    summary="Deprecate a product: access stays, readers are warned",
    response_model=ProductPublic,
)
def deprecate_product(
    name: str, body: ProductDeprecate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    row = products.deprecate_product(session, actor=actor, name=name, message=body.message)
    return products.view_product(session, row, detail=True)
