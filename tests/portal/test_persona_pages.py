"""My access, the producer inbox, the steward pages and the query editor over real HTTP, on the
sharing mesh (tests/factories/sharing.py) served by uvicorn, each persona signed in with its own
token: what each page shows is what the REST API answers the same viewer, every action goes
through the services (audited), hostile text is escaped, and a viewer sees nothing it may not
DESCRIBE."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qsl

import httpx
import pyarrow.parquet as pq
import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.identity import tokens
from lakemesh.portal.charts import human_bytes
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.factories.sharing import FIONA, MARIA, MAX, MIA, SAM
from tests.portal.conftest import HOSTILE, IMAGE, Browser, api_client, build_hostile_mesh

ADMIN = "user:admin@governance"


@dataclass
class Served:
    """The sharing mesh served, with a token per person."""

    url: str
    tokens: dict[str, str]

    def browser(self, ref: str) -> Browser:
        browser = Browser(self.url)
        browser.sign_in(self.tokens[ref])
        return browser

    def api(self, ref: str) -> httpx.Client:
        return api_client(self.url, self.tokens[ref])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """sales publishes ``sales_customers`` and a product with hostile text and a hostile column;
    mia asked for the hostile one with a hostile reason."""
    mesh = build_hostile_mesh(tmp_path_factory.mktemp("pages"))
    env = mesh.env
    with env.hub.transaction() as session:
        sam = mesh.actor(SAM)
        for spec in (
            ProductSpec(
                name="sales_customers",
                domain="sales",
                tables=["crm.customers"],
                title="Customers",
            ),
            ProductSpec(name="sales_draft", domain="sales", tables=["crm.orders"], draft=True),
        ):
            products.publish_product(session, actor=sam, spec=spec)
        issued = {
            ref: tokens.create_token(session, actor=env.admin, principal=ref).token
            for ref in (MIA, MAX, SAM, MARIA, FIONA)
        }
    issued[ADMIN] = env.token
    with serve_in_background(env.hub) as url:
        served = Served(url, issued)
        with served.api(MIA) as mia:
            requested = mia.post(
                "/subscriptions",
                json={"product": "hostile_product", "principal": MIA, "reason": HOSTILE + IMAGE},
            )
            assert requested.status_code == 201, requested.text
        yield served
    env.hub.close()


def ok_page(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text[:2000]
    return response.text


def element(html: str, element_id: str) -> str:
    """The text of the element with ``element_id`` up to its closing tag (tables, lists)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found, f"no element #{element_id}"
    tag = found.group(1)
    end = html.find(f"</{tag}>", found.end())
    return html[found.start() : end + len(tag) + 3]


def follow(browser: Browser, response: httpx.Response) -> str:
    """The page a POST redirected to (303), with its query string."""
    assert response.status_code == 303, response.text[:2000]
    path, _, query = response.headers["location"].partition("?")
    return ok_page(browser.get(path, **dict(parse_qsl(query))))


def error_type(response: httpx.Response) -> str:
    found = re.search(r'id="error-message"[^>]*data-error-type="([^"]+)"', response.text)
    assert found, response.text[:2000]
    return found.group(1)


def wait_for_job(browser: Browser, path: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        html = ok_page(browser.get(path))
        status = re.search(r'id="job-status" data-status="(\w+)"', html)
        assert status
        if status.group(1) not in ("queued", "running"):
            return html
        time.sleep(0.2)
    raise AssertionError(f"{path} did not finish")


def test_the_access_story_over_http(served: Served) -> None:
    """mia asks for sales_customers; sam approves less from the inbox; mia sees it approved in My
    access and queries through it in the editor; the steward finds both events in the audit."""
    mia = served.browser(MIA)
    product = ok_page(mia.get("/products/sales_customers"))
    assert 'id="request-form"' in product
    requested = mia.post(
        "/products/sales_customers/requests", {"principal": MIA, "reason": "Q3 campaigns"}
    )
    assert requested.status_code == 303, requested.text
    number = int(dict(parse_qsl(requested.headers["location"].partition("?")[2]))["requested"])
    sam = served.browser(SAM)
    inbox = ok_page(sam.get("/inbox"))
    card = element(inbox, f"request-{number}")
    assert "Q3 campaigns" in card
    assert MIA in card
    assert 'id="approve-comment-' in card
    assert 'id="reject-reason-' in card
    phone = re.search(r'id="(approve-exclude-\d+-\d+)" name="exclude_columns" value="phone"', card)
    assert phone, card
    approved = sam.post(
        f"/inbox/subscriptions/{number}/approve",
        {"comment": "no phone numbers", "exclude_columns": ["phone"]},
    )
    done = follow(sam, approved)
    assert f"Approved subscription #{number}" in element(done, "inbox-done")
    assert 'data-status="approved"' in element(done, f"decided-{number}")

    access = ok_page(mia.get("/access"))
    row = element(access, f"subscription-{number}")
    assert 'data-status="approved"' in row
    assert "all but phone" in row
    assert "delegated from share" in element(access, "my-grants")

    sql = "SELECT customer_id, email FROM sales.crm.customers ORDER BY customer_id"
    ok_page(mia.get("/query"))
    submitted = mia.post("/query", {"sql": sql, "workgroup": "primary"})
    assert submitted.status_code == 303, submitted.text
    job = submitted.headers["location"]
    html = wait_for_job(mia, job)
    assert 'data-status="succeeded"' in html
    results = element(html, "query-results")
    assert "ada@x.org" in results
    assert "+1-1" not in results
    csv = mia.get(f"{job}/result.csv")
    assert csv.status_code == 200
    assert csv.text.splitlines()[:2] == ['"customer_id","email"', '1,"ada@x.org"']
    parquet = pq.read_table(io.BytesIO(mia.get(f"{job}/result.parquet").content))
    assert parquet.column("email").to_pylist()[0] == "ada@x.org"
    assert sql in element(ok_page(mia.get("/query")), "query-history")
    # What the subscription left out stays out, with the reason.
    ok_page(mia.get("/query"))
    denied = wait_for_job(
        mia,
        mia.post("/query", {"sql": "SELECT phone FROM sales.crm.customers"}).headers["location"],
    )
    assert 'data-status="denied"' in denied
    assert f"{MIA} lacks SELECT on sales.crm.customers.phone" in unescape(
        element(denied, "job-error")
    )

    steward = served.browser(ADMIN)
    audit = ok_page(steward.get("/audit", resource="product:sales_customers"))
    events = element(audit, "audit-events")
    assert 'data-action="subscription.request"' in events
    assert 'data-action="subscription.approve"' in events
    # The chain is verified when asked (it reads the whole trail), keeping the search.
    assert 'data-ok="not-run"' in element(audit, "audit-verify")
    verify_form = element(audit, "audit-verify-form")
    assert '<input type="hidden" name="resource" value="product:sales_customers">' in verify_form
    assert 'name="verify" value="chain"' in verify_form
    verified = ok_page(steward.get("/audit", resource="product:sales_customers", verify="chain"))
    assert 'data-ok="true"' in element(verified, "audit-verify")
    assert element(verified, "audit-events") == events
    reads = ok_page(steward.get("/audit", actor=MIA, action="query"))
    assert 'data-outcome="denied"' in element(reads, "audit-events")
    assert "<svg" in element(audit, "activity-chart")


def test_my_access_lists_tokens_and_creates_and_revokes_them(served: Served) -> None:
    fiona = served.browser(FIONA)
    page = ok_page(fiona.get("/access"))
    assert 'for="token-expires"' in page
    assert 'for="token-description"' in page
    created = fiona.post("/access/tokens", {"description": "notebook", "expires_in": "2d"})
    html = ok_page(created)
    secret = re.search(r'id="new-token" type="text" readonly value="([^"]+)"', html)
    assert secret
    with api_client(served.url, unescape(secret.group(1))) as api:
        me = api.get("/tokens")
        assert me.status_code == 200
        [new] = [t for t in me.json() if t["description"] == "notebook"]
    assert f'id="token-revoke-{new["id"]}"' in html
    revoked = fiona.post(f"/access/tokens/{new['id']}/revoke")
    assert revoked.status_code == 303
    with api_client(served.url, unescape(secret.group(1))) as api:
        assert api.get("/tokens").status_code == 401
    refused = fiona.post("/access/tokens", {"expires_in": "soon"})
    assert refused.status_code == 400
    assert error_type(refused) == "invalid_input"
    # Someone else's token reads as missing, as in the API.
    assert fiona.post(f"/access/tokens/{1}/revoke").status_code == 404


def test_forms_refuse_a_post_without_the_csrf_token(served: Served) -> None:
    sam = served.browser(SAM)
    ok_page(sam.get("/inbox"))
    for path in ("/inbox/subscriptions/1/approve", "/access/tokens", "/query"):
        refused = sam.post(path, {"sql": "SELECT 1"}, csrf=False)
        assert refused.status_code == 403, path


def test_the_inbox_is_for_the_products_admins(served: Served) -> None:
    sam, maria, mia = served.browser(SAM), served.browser(MARIA), served.browser(MIA)
    with served.api(SAM) as api:
        pending = api.get("/subscriptions", params={"status": "pending"}).json()
    shown = ok_page(sam.get("/inbox"))
    for subscription in pending:
        assert f'id="request-{subscription["id"]}"' in shown
    assert "sales_draft" in element(shown, "my-products")
    assert "Subscriptions per product" in element(shown, "subscriptions-chart")
    assert 'id="pending-empty"' in ok_page(maria.get("/inbox"))  # marketing publishes nothing
    assert 'id="inbox-empty"' in ok_page(mia.get("/inbox"))
    # Deciding goes through the service: a consumer's admin may not approve (403 with the reason).
    refused = maria.post(f"/inbox/subscriptions/{pending[0]['id']}/approve", {"comment": "me?"})
    assert refused.status_code == 403
    assert f"{MARIA} is not an admin of domain sales" in unescape(refused.text)
    rejected = sam.post(f"/inbox/subscriptions/{pending[0]['id']}/reject", {"reason": ""})
    assert rejected.status_code == 400
    assert "needs a reason" in unescape(rejected.text)


def test_publishing_a_draft_and_deprecating_from_the_inbox(served: Served) -> None:
    sam = served.browser(SAM)
    ok_page(sam.get("/inbox"))
    assert sam.post("/inbox/products/sales_draft/publish").status_code == 303
    with served.api(MIA) as api:
        assert api.get("/products/sales_draft").json()["status"] == "published"
    ok_page(sam.get("/inbox"))
    done = sam.post("/inbox/products/sales_draft/deprecate", {"message": "use sales_orders"})
    assert done.status_code == 303
    with served.api(MIA) as api:
        shown = api.get("/products/sales_draft").json()
    assert (shown["status"], shown["deprecation_message"]) == ("deprecated", "use sales_orders")
    mia = served.browser(MIA)
    ok_page(mia.get("/access"))
    assert mia.post("/inbox/products/sales_customers/deprecate").status_code == 403


def test_steward_pages_for_mesh_admins_domain_admins_and_nobody_else(served: Served) -> None:
    steward, sam, mia = served.browser(ADMIN), served.browser(SAM), served.browser(MIA)
    governance = ok_page(steward.get("/governance"))
    assert "sensitivity" in element(governance, "tags")
    # The doctor runs when a mesh admin asks (it reads every grant, token, location and admin).
    assert 'id="doctor-findings' not in governance
    assert 'name="doctor" value="run"' in element(governance, "doctor-form")
    assert 'id="doctor-findings' in ok_page(steward.get("/governance", doctor="run"))
    assert 'id="doctor-findings-none">The doctor' in ok_page(sam.get("/governance"))
    assert 'id="doctor-form"' not in ok_page(sam.get("/governance"))
    asked = sam.get("/governance", doctor="run")
    assert asked.status_code == 403
    assert f"{SAM} is not a mesh admin" in unescape(asked.text)
    for path in ("/governance", "/grants", "/audit"):
        refused = mia.get(path)
        assert refused.status_code == 403, path
        assert "is not a mesh admin or a domain admin" in refused.text
    with served.api(ADMIN) as api:
        expected = api.get("/grants", params={"principal": "domain:marketing"}).json()
    listed = element(ok_page(steward.get("/grants", principal="domain:marketing")), "grants-table")
    assert sorted(int(n) for n in re.findall(r'id="grant-(\d+)"', listed)) == sorted(
        g["id"] for g in expected
    )
    by_tag = steward.get("/grants", tag="nope")
    assert by_tag.status_code == 404
    assert "Tag key does not exist: nope" in by_tag.text
    pii = element(ok_page(steward.get("/grants", tag="sensitivity=pii")), "grants-table")
    assert 'id="grant-' not in pii  # no grant of this mesh names a tag
    with served.api(SAM) as api:
        seen = api.get("/audit/events", params={"limit": 200}).json()
    shown = element(ok_page(sam.get("/audit")), "audit-events")
    assert len(re.findall(r'id="audit-event-\d+"', shown)) == min(len(seen), 200)
    assert 'data-ok="unknown"' in ok_page(sam.get("/audit"))
    assert sam.get("/audit", verify="chain").status_code == 403


def test_hostile_text_is_escaped_on_every_page(served: Served) -> None:
    pages = {
        SAM: ["/inbox", "/governance", "/grants", "/audit", "/query", "/access"],
        MIA: ["/access", "/query"],
        ADMIN: ["/governance", "/audit", "/audit?q=script"],
    }
    seen_escaped = False
    for ref, paths in pages.items():
        browser = served.browser(ref)
        for path in paths:
            html = ok_page(browser.get(path))
            assert HOSTILE not in html, (ref, path)
            assert "<img src=x" not in html, (ref, path)
            seen_escaped |= "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert seen_escaped
    sam = served.browser(SAM)
    ok_page(sam.get("/query"))
    sql = "SELECT * FROM sales.crm.hostile"
    html = wait_for_job(sam, sam.post("/query", {"sql": sql}).headers["location"])
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in element(html, "query-results")


def test_a_viewer_sees_nothing_it_may_not_describe(served: Served) -> None:
    """fiona (finance) has no grant: her pages name no grant, subscription or job of others."""
    fiona = served.browser(FIONA)
    access = ok_page(fiona.get("/access"))
    assert 'id="my-subscriptions-empty"' in access
    assert 'id="my-grants-empty"' in access
    with served.api(FIONA) as api:
        assert api.get("/subscriptions").json() == []
    assert MIA not in access
    assert "sales_customers" not in access
    with served.api(MIA) as api:
        [mine] = [q for q in api.get("/queries/history").json()][:1] or [None]
    if mine is not None:
        assert error_type(fiona.get(f"/query/jobs/{mine['query_id']}")) == "not_found"
        assert fiona.get(f"/query/jobs/{mine['query_id']}/result.csv").status_code == 404
    assert "sales_draft" not in ok_page(fiona.get("/query"))


SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"


def test_a_running_query_follows_itself_and_can_be_cancelled(served: Served) -> None:
    max_ = served.browser(MAX)
    editor = ok_page(max_.get("/query"))
    assert 'for="query-sql"' in editor
    assert 'for="query-workgroup"' in editor
    assert f"Workgroup primary, {MAX}&#39;s queries: bytes scanned this month" in editor
    job = max_.post("/query", {"sql": SLOW}).headers["location"]
    running = ok_page(max_.get(job))
    assert 'data-refresh-ms="1000"' in running  # portal.js reloads it; no meta refresh (axe)
    assert 'id="job-refresh"' in running
    assert 'id="job-cancel"' in running
    cancelled = max_.post(f"{job}/cancel")
    assert cancelled.status_code == 303
    html = wait_for_job(max_, job)
    assert 'data-status="cancelled"' in html
    assert "data-refresh-ms" not in html
    gone = max_.get(f"{job}/result.csv")
    assert gone.status_code == 409
    assert error_type(gone) == "query_cancelled"


def test_the_usage_charts_show_ones_own_queries_and_mesh_admins_everyones(served: Served) -> None:
    sql = "SELECT count(*) AS n FROM sales.crm.orders"
    with served.api(SAM) as sam:
        ran = sam.post("/queries", json={"sql": sql, "workgroup": "primary", "format": "json"})
        assert ran.status_code == 200, ran.text
        own = sam.get("/workgroups/primary/usage").json()
        refused = sam.get("/workgroups/primary/usage", params={"all_principals": "true"})
    assert own["principal"] == SAM
    assert own["bytes_this_month"] > 0
    assert refused.status_code == 403
    with served.api(ADMIN) as admin:
        everyone = admin.get("/workgroups/primary/usage", params={"all_principals": "true"}).json()
    assert everyone["principal"] is None
    assert everyone["bytes_this_month"] >= own["bytes_this_month"]
    mine = ok_page(served.browser(SAM).get("/query"))
    assert f"Workgroup primary, {SAM}&#39;s queries: bytes scanned this month" in mine
    assert f"{human_bytes(own['bytes_this_month'])} of" in mine or (
        f"{human_bytes(own['bytes_this_month'])} (no monthly limit)" in mine
    )
    assert "Workgroup primary, every principal" not in mine
    shown = ok_page(served.browser(ADMIN).get("/query"))  # primary is everyone's workgroup
    assert "Workgroup primary, every principal: bytes scanned this month" in shown
    assert human_bytes(everyone["bytes_this_month"]) in shown


def test_shares_received_are_accepted_or_declined_from_the_inbox(served: Served) -> None:
    with served.api(SAM) as api:
        for table in ("sales.crm.orders", "sales.crm.customers"):
            shared = api.post(
                "/grants",
                json={
                    "grantee": "domain:finance",
                    "permissions": ["SELECT"],
                    "on": table,
                    "exclude_columns": ["email", "phone"] if table.endswith("customers") else [],
                },
            )
            assert shared.status_code == 201, shared.text
    fiona = served.browser(FIONA)
    inbox = ok_page(fiona.get("/inbox"))
    received = element(inbox, "incoming-shares")
    ids = [int(n) for n in re.findall(r'id="accept-share-(\d+)"', received)]
    assert len(ids) == 2
    assert "sales.crm.orders" in received
    assert follow(fiona, fiona.post(f"/inbox/shares/{ids[0]}/accept"))
    ok_page(fiona.get("/inbox"))
    assert follow(fiona, fiona.post(f"/inbox/shares/{ids[1]}/decline"))
    with served.api(FIONA) as api:
        answers = {s["id"]: s["status"] for s in api.get("/shares").json()}
    assert (answers[ids[0]], answers[ids[1]]) == ("accepted", "declined")
    sent = element(ok_page(served.browser(SAM).get("/inbox")), "outgoing-shares")
    assert f'id="outgoing-shares-{ids[0]}" data-status="accepted"' in sent
