"""The portal's pages on the NimbusCart demo mesh, persona by persona, checked against the REST
answers for the same viewer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.portal.conftest import Browser, DemoServer

CUSTOMERS = "sales.crm.customers"


def _outcomes(html: str, table: str | None = None) -> dict[str, str]:
    """Column -> outcome of the columns table (the first, or the one of ``table``)."""
    if table is not None:
        html = html.split(f'data-table="{table}"', 1)[1]
    body = html.split('<table class="data" id="columns', 1)[1].split("</table>", 1)[0]
    return dict(re.findall(r'<tr data-column="([^"]+)" data-outcome="([^"]+)"', body))


@pytest.fixture
def analyst(demo_server: DemoServer) -> Iterator[Browser]:
    browser = demo_server.browser("marketing-analyst")
    yield browser
    browser.close()


def test_the_analyst_sees_email_and_phone_hidden_on_sales_customers(analyst: Browser) -> None:
    page = analyst.get("/products/sales_customers")
    assert page.status_code == 200
    outcomes = _outcomes(page.text, CUSTOMERS)
    assert outcomes == {
        "customer_id": "visible",
        "first_name": "visible",
        "last_name": "visible",
        "email": "hidden",
        "phone": "hidden",
        "country": "visible",
        "region": "visible",
        "segment": "visible",
        "signup_date": "visible",
    }
    assert "sensitivity=pii" in page.text  # the hidden columns show their tags
    assert 'id="request-form"' in page.text
    for field in ("request-reason", "request-principal", "request-exclude-1", "request-submit"):
        assert f'id="{field}"' in page.text


def test_the_sample_is_a_governed_query_recorded_for_the_viewer(
    demo_server: DemoServer, analyst: Browser
) -> None:
    page = analyst.get("/products/sales_customers").text
    slot = page.split('id="sample-1-slot"', 1)[1].split("</div>", 1)[0]
    url = "/products/sales_customers/sample?table=sales.crm.customers"
    assert f'data-fragment="{url}&amp;fragment=true"' in slot
    assert f'href="{url}"' in slot  # without script, the same sample as a page
    fragment = analyst.client.get(f"{url}&fragment=true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    sample = fragment.text.split('id="sample-1"', 1)[1].split("</table>", 1)[0]
    header = re.findall(r'<th scope="col">([^<]+)</th>', sample)
    assert header == [c for c, o in _outcomes(page, CUSTOMERS).items() if o != "hidden"]
    assert 1 <= sample.count("<tr>") - 1 <= 20
    [query_id] = re.findall(r"Query ([\w-]+), run through", fragment.text)
    with demo_server.api("marketing-analyst") as api:
        history = api.get("/queries/history", params={"limit": 20}).json()
    recorded = next(q for q in history if q["query_id"] == query_id)
    assert recorded["principal"] == "user:mia@marketing"
    assert recorded["tables"] == [CUSTOMERS]
    assert "email" not in recorded["columns"].get(CUSTOMERS, [])
    assert 'id="sample-1"' in analyst.get(url).text  # the page form


def test_a_sample_of_a_table_outside_the_product_is_not_found(analyst: Browser) -> None:
    response = analyst.get("/products/sales_customers/sample", table="finance.hr.salaries")
    assert response.status_code == 404
    assert "Data product sales_customers has no table finance.hr.salaries" in response.text


def test_the_eu_manager_reads_orders_through_its_row_filter(demo_server: DemoServer) -> None:
    browser = demo_server.browser("eu-manager")
    page = browser.get("/products/sales_orders").text
    assert "You read only the rows where" in page
    assert "EU" in page.split("You read only the rows where", 1)[1].split("</p>", 1)[0]
    assert set(_outcomes(page).values()) == {"visible"}


def test_the_sales_admin_sees_everything_and_the_location(demo_server: DemoServer) -> None:
    browser = demo_server.browser("sales-admin")
    page = browser.get(f"/tables/{CUSTOMERS}").text
    assert set(_outcomes(page).values()) == {"visible"}
    assert 'id="table-location"' in page


def test_the_table_page_says_why_the_analyst_sees_it(analyst: Browser) -> None:
    page = analyst.get(f"/tables/{CUSTOMERS}")
    assert page.status_code == 200
    assert 'id="table-location"' not in page.text  # admins only
    reasons = page.text.split('id="explain-reasons"', 1)[1].split("</ul>", 1)[0]
    assert "sensitivity=internal|public" in reasons
    assert 'href="/products/sales_customers"' in page.text
    assert _outcomes(page.text)["email"] == "hidden"
    assert 'id="schema-history"' in page.text


def test_search_finds_what_the_analyst_may_describe_with_facets(
    demo_server: DemoServer, analyst: Browser
) -> None:
    page = analyst.get("/search", q="customers").text
    hits = re.findall(r'<li class="hit" data-kind="(\w+)" data-name="([^"]+)"', page)
    assert ("product", "sales_customers") in hits
    assert ("table", CUSTOMERS) in hits
    with demo_server.api("marketing-analyst") as api:
        visible = {t["name"] for t in api.get("/tables").json()}
    assert {name for kind, name in hits if kind == "table"} <= visible
    for facet in ("facet-domain", "facet-tag", "facet-owner", "facet-freshness", "facet-kind"):
        assert f'id="{facet}"' in page
    first = page.split('<li class="hit"', 2)[1]
    for shown in ("Owner", "Domain", "Tags", "Last updated"):
        assert f"<dt>{shown}</dt>" in first
    every = re.findall(r'<li class="hit" [^>]*data-domain="([^"]+)"', analyst.get("/search").text)
    narrowed = analyst.client.get("/search", params={"domain": "sales"})
    domains = re.findall(r'<li class="hit" [^>]*data-domain="([^"]+)"', narrowed.text)
    assert 0 < len(domains) < len(every)
    assert set(domains) == {"sales"}


def test_search_without_words_lists_only_describable_tables(
    demo_server: DemoServer, analyst: Browser
) -> None:
    page = analyst.get("/search", kind="table").text
    found = set(re.findall(r'data-kind="table" data-name="([^"]+)"', page))
    with demo_server.api("marketing-analyst") as api:
        visible = {t["name"] for t in api.get("/tables").json()}
    assert found == visible
    assert "finance.hr.salaries" not in found


def test_an_unknown_facet_value_is_refused(analyst: Browser) -> None:
    page = analyst.get("/search", status="bogus")
    assert page.status_code == 400
    assert "Unknown facet values: bogus" in page.text


def test_pages_answer_like_the_rest_api_for_the_same_viewer(demo_server: DemoServer) -> None:
    """Every table of the mesh, and products that exist or not: the analyst's page has the
    status of the analyst's REST answer (what it may not DESCRIBE reads as the API says)."""
    with demo_server.api("steward") as steward:
        every_table = [t["name"] for t in steward.get("/tables").json()]
    browser = demo_server.browser("marketing-analyst")
    with demo_server.api("marketing-analyst") as api:
        for name in [*every_table, "sales.crm.nothing", "nowhere.db.table"]:
            rest = api.get(f"/tables/{name}")
            page = browser.client.get(f"/tables/{name}")
            assert page.status_code == rest.status_code, name
            if rest.status_code >= 400:
                message = rest.json()["error"]["message"]
                assert message in page.text.replace("&#39;", "'")
                assert name not in "".join(re.findall(r'data-column="([^"]+)"', page.text))
        for product in ("sales_customers", "no_such_product"):
            rest = api.get(f"/products/{product}")
            page = browser.client.get(f"/products/{product}")
            assert page.status_code == rest.status_code, product


def test_asking_for_a_group_one_is_not_in_is_refused_like_the_api(
    demo_server: DemoServer,
) -> None:
    browser = demo_server.browser("marketing-analyst")
    browser.get("/products/sales_orders")
    form = {"reason": "Forecasts", "principal": "group:analysts@finance"}
    page = browser.post("/products/sales_orders/requests", form)
    with demo_server.api("marketing-analyst") as api:
        rest = api.post("/subscriptions", json={"product": "sales_orders", **form})
    assert rest.status_code == page.status_code == 403
    assert rest.json()["error"]["message"] in page.text.replace("&#39;", "'")
