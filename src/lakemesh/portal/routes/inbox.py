"""``/inbox``: the producer's requests to decide, products, auto-approval rules, shares, links."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.responses import Response

from lakemesh.portal.charts import subscriptions_chart
from lakemesh.portal.pages import PageDep, PortalRoute
from lakemesh.portal.views.inbox import inbox
from lakemesh.sharing import products, shares, subscriptions
from lakemesh.sharing.products import ProductSpec

router = APIRouter(route_class=PortalRoute, include_in_schema=False)


@router.get("/inbox")
def inbox_page(page: PageDep) -> Response:
    found = inbox(page.session, viewer=page.viewer)
    return page.render(
        "inbox.html",
        title="Producer inbox",
        inbox=found,
        chart=subscriptions_chart(found.per_product) if found.per_product else None,
        done=page.request.query_params.get("done", ""),
    )


def _back(done: str) -> str:
    return f"/inbox?done={quote(done)}"


@router.post("/inbox/subscriptions/{subscription_id}/approve")
def approve(subscription_id: int, page: PageDep) -> Response:
    """Approve as asked, or less: the columns ticked are left out."""
    subscriptions.approve_subscription(
        page.session,
        actor=page.viewer,
        subscription_id=subscription_id,
        comment=page.field("comment"),
        exclude_columns=page.fields("exclude_columns"),
    )
    return page.redirect(_back(f"Approved subscription #{subscription_id}"))


@router.post("/inbox/subscriptions/{subscription_id}/reject")
def reject(subscription_id: int, page: PageDep) -> Response:
    subscriptions.reject_subscription(
        page.session,
        actor=page.viewer,
        subscription_id=subscription_id,
        reason=page.field("reason"),
    )
    return page.redirect(_back(f"Rejected subscription #{subscription_id}"))


@router.post("/inbox/products/{name}/publish")
def publish(name: str, page: PageDep) -> Response:
    """Publish a draft as it stands (the services check it as ``product publish`` does)."""
    row = products.show_product(page.session, actor=page.viewer, name=name)
    spec = ProductSpec(name=name, domain=row.domain.name)
    products.publish_product(page.session, actor=page.viewer, spec=spec)
    return page.redirect(_back(f"Published {name}"))


@router.post("/inbox/products/{name}/deprecate")
def deprecate(name: str, page: PageDep) -> Response:
    products.deprecate_product(
        page.session, actor=page.viewer, name=name, message=page.field("message")
    )
    return page.redirect(_back(f"Deprecated {name}"))


@router.post("/inbox/shares/{share_id}/accept")
def accept_share(share_id: int, page: PageDep) -> Response:
    shares.accept_share(page.session, actor=page.viewer, share_id=share_id)
    return page.redirect(_back(f"Accepted share #{share_id}"))


@router.post("/inbox/shares/{share_id}/decline")
def decline_share(share_id: int, page: PageDep) -> Response:
    shares.decline_share(page.session, actor=page.viewer, share_id=share_id)
    return page.redirect(_back(f"Declined share #{share_id}"))
