"""What a principal may not see reads exactly as what does not exist (issue 9, existence oracles).

Table-driven over the endpoints that take a name or a number: each case asks once for an object
that exists but is hidden from the persona and once for one that does not exist, and both answers
must have the same status and the same message, up to the name itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.demo.mesh import PERSONAS
from lakemesh.hub import Hub
from tests.api.conftest import ok
from tests.factories.demo import DemoHome, copy_demo

MIA = "user:mia@marketing"  # a marketing analyst
NAME = "{}"


@dataclass
class DemoServer:
    url: str
    tokens: dict[str, str]
    principals: dict[str, str]

    def client(self, profile: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[profile]}"}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=60)


@pytest.fixture(scope="module")
def demo_server(
    demo_home: DemoHome, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoServer]:
    """The demo mesh, served, with a draft product of sales (hidden from other domains)."""
    result = copy_demo(demo_home, tmp_path_factory.mktemp("oracles") / "home")
    hub = Hub.open(result.home)
    with serve_in_background(hub) as url:
        server = DemoServer(url, result.tokens, {p.profile: p.principal for p in PERSONAS})
        with server.client("sales-admin") as sales:
            body = {"name": "sales_draft", "domain": "sales", "tables": ["crm.orders"]}
            ok(sales.post("/products", json={**body, "draft": True}))
        yield server
    hub.close()


def _token_of(server: DemoServer, profile: str, principal: str) -> int:
    with server.client(profile) as client:
        tokens = ok(client.get("/tokens", params={"principal": principal}))
    return int(tokens[0]["id"])


def _explain(principal: str, permission: str) -> str:
    return f"/explain?principal={principal}&permission={permission}&resource={NAME}"


ANALYST, ADMIN, FINANCE = "marketing-analyst", "marketing-admin", "finance-analyst"
# (hidden from the persona, missing)
TABLE = ("finance.hr.salaries", "finance.hr.gone")
DATABASE = ("finance.hr", "finance.gone")
COLUMN = ("finance.hr.salaries.salary", "finance.hr.salaries.gone")
COLUMN_OF_TABLE = ("finance.hr.salaries.salary", "finance.hr.gone.salary")
USER = ("user:frank@finance", "user:gone@finance")
GROUP = ("group:analysts@finance", "group:gone@finance")
LINK = ("analytics.shared_sales.customers", "analytics.shared_sales.gone")
DRAFT = ("sales_draft", "gone")
GRANT_ON = {"permissions": ["SELECT"], "on": NAME}
OWN_TABLE = {"permissions": ["SELECT"], "on": "marketing.campaigns.campaigns"}
MARKETING_GROUP = "group:analysts@marketing"

# (persona, method, path, hidden, missing, body): NAME in the path and body stands for the name.
CASES: list[tuple[str, str, str, str, str, dict[str, Any] | None]] = [
    # Catalog objects of another domain.
    (ANALYST, "GET", "/tables/{}", *TABLE, None),
    (ANALYST, "GET", "/tables/{}/history", *TABLE, None),
    (ANALYST, "PATCH", "/tables/{}", *TABLE, {"description": "x"}),
    (ANALYST, "DELETE", "/tables/{}", *TABLE, None),
    (ANALYST, "GET", "/databases/{}", *DATABASE, None),
    (ANALYST, "PATCH", "/databases/{}", *DATABASE, {"description": "x"}),
    (ANALYST, "DELETE", "/databases/{}", *DATABASE, None),
    (ANALYST, "GET", "/tables?database={}", *DATABASE, None),
    (ANALYST, "GET", "/resources/{}/tags", *TABLE, None),
    (ANALYST, "GET", "/resources/{}/tags", *COLUMN_OF_TABLE, None),
    (ANALYST, "POST", "/resources/{}/tags", *TABLE, {"tags": {"owner": "finance"}}),
    (ANALYST, "DELETE", "/resources/{}/tags?key=owner", *TABLE, None),
    (ADMIN, "POST", "/links", *TABLE, {"name": "marketing.linked.t", "target": NAME}),
    (ADMIN, "POST", "/filters", *TABLE, {"name": "f", "table": NAME}),
    (ADMIN, "POST", "/grants", *TABLE, {"grantee": MIA, **GRANT_ON}),
    (ADMIN, "POST", "/grants/revoke", *TABLE, {"grantee": MIA, **GRANT_ON}),
    (ADMIN, "POST", "/grants/revoke", *DATABASE, {"grantee": "group:analysts@finance", **GRANT_ON}),
    (ANALYST, "POST", "/queries", *TABLE, {"sql": "SELECT * FROM {}"}),
    # explain on one's own access: a hidden table or column reads as a missing one.
    (ANALYST, "GET", _explain(MIA, "SELECT"), *TABLE, None),
    (ANALYST, "GET", _explain(MIA, "DESCRIBE"), *TABLE, None),
    (ANALYST, "GET", _explain(MIA, "SELECT"), *COLUMN, None),
    (ANALYST, "GET", _explain(MIA, "SELECT"), *COLUMN_OF_TABLE, None),
    (ANALYST, "GET", _explain(MIA, "DESCRIBE"), *DATABASE, None),
    # Principals of another domain.
    (
        ANALYST,
        "GET",
        "/explain?principal={}&permission=SELECT&resource=finance.hr.salaries",
        *USER,
        None,
    ),
    (ANALYST, "GET", "/principals/{}", *USER, None),
    (ANALYST, "PATCH", "/principals/{}", *USER, {"set": {"region": "EU"}}),
    (ANALYST, "DELETE", "/principals/{}", *USER, None),
    (ANALYST, "POST", "/groups/{}/members", *GROUP, {"member": MIA}),
    (ANALYST, "DELETE", f"/groups/{{}}/members/{MIA}", *GROUP, None),
    (ANALYST, "GET", "/grants?principal={}", *USER, None),
    # Another domain's principals as grantees and group members, with authority on the target
    # (the marketing admin) and without (the analyst).
    (ADMIN, "POST", "/grants", *USER, {"grantee": NAME, **OWN_TABLE}),
    (ADMIN, "POST", "/grants", *GROUP, {"grantee": NAME, **OWN_TABLE}),
    (ANALYST, "POST", "/grants", *USER, {"grantee": NAME, **OWN_TABLE}),
    (ADMIN, "POST", "/grants/revoke", *USER, {"grantee": NAME, **OWN_TABLE}),
    (ADMIN, "POST", f"/groups/{MARKETING_GROUP}/members", *USER, {"member": NAME}),
    (ADMIN, "POST", f"/groups/{MARKETING_GROUP}/members", *GROUP, {"member": NAME}),
    (ADMIN, "DELETE", f"/groups/{MARKETING_GROUP}/members/{{}}", *USER, None),
    (FINANCE, "GET", "/tokens?principal={}", MIA, "user:gone@marketing", None),
    # Numbered objects the persona may not see.
    (ANALYST, "DELETE", "/grants/{}", "3", "99999", None),
    (ANALYST, "GET", "/shares/{}", "4", "99999", None),
    (ANALYST, "POST", "/shares/{}/accept", "4", "99999", None),
    (ANALYST, "POST", "/shares/{}/decline", "4", "99999", None),
    (ANALYST, "GET", "/subscriptions/{}", "3", "99999", None),
    (ANALYST, "POST", "/subscriptions/{}/approve", "3", "99999", {"comment": ""}),
    (ANALYST, "POST", "/subscriptions/{}/reject", "3", "99999", {"reason": "r"}),
    (ANALYST, "POST", "/subscriptions/{}/revoke", "1", "99999", {"reason": "r"}),
    (FINANCE, "DELETE", "/tokens/{}", "MIA_TOKEN", "99999", None),
    # Named objects of another domain's admins: filters, draft products, links.
    (ANALYST, "GET", "/filters/{}", "eu_only", "gone", None),
    (ANALYST, "PATCH", "/filters/{}", "eu_only", "gone", {"all_rows": True}),
    (ANALYST, "DELETE", "/filters/{}", "eu_only", "gone", None),
    (ANALYST, "GET", "/products/{}", *DRAFT, None),
    (ANALYST, "POST", "/products/{}/deprecate", *DRAFT, {"message": ""}),
    (ANALYST, "POST", "/subscriptions", *DRAFT, {"product": NAME, "principal": MIA, "reason": "r"}),
    (ANALYST, "GET", "/subscriptions?product={}", *DRAFT, None),
    (ANALYST, "GET", "/links/{}", *LINK, None),
    (ANALYST, "DELETE", "/links/{}", *LINK, None),
]

# The grant or membership asked for exists for nobody: a real not-found, nothing concealed.
NOTHING_HIDDEN = {
    ("POST", "/grants/revoke", USER[0]),
    ("DELETE", f"/groups/{MARKETING_GROUP}/members/{{}}", USER[0]),
}


def _fill(template: Any, name: str) -> Any:
    return json.loads(json.dumps(template).replace(NAME, name))


def _answer(client: httpx.Client, method: str, path: str, name: str, body: Any) -> tuple[int, str]:
    response = client.request(
        method, path.replace(NAME, name), json=_fill(body, name) if body is not None else None
    )
    if response.status_code >= 400:
        error = response.json()["error"]
        text = f"{error['type']}: {error['message']}"
    else:
        text = response.text
    # A column's message may name its table instead.
    return response.status_code, _blank(text, name)


@pytest.mark.parametrize(
    ("persona", "method", "path", "hidden", "missing", "body"),
    CASES,
    ids=[f"{c[1]} {c[2].split('?')[0]} {c[3]}" for c in CASES],
)
def test_hidden_reads_as_missing(
    demo_server: DemoServer,
    persona: str,
    method: str,
    path: str,
    hidden: str,
    missing: str,
    body: dict[str, Any] | None,
) -> None:
    if hidden == "MIA_TOKEN":
        hidden = str(_token_of(demo_server, "marketing-analyst", MIA))
    before = _last_event(demo_server)
    with demo_server.client(persona) as client:
        seen_hidden = _answer(client, method, path, hidden, body)
        audited = _events_since(demo_server, before)
        seen_missing = _answer(client, method, path, missing, body)
    assert seen_hidden == seen_missing
    assert seen_hidden[0] in (200, 403, 404), seen_hidden
    if seen_hidden[0] != 200 and (method, path, hidden) not in NOTHING_HIDDEN:
        # A refusal, concealed as a 404 or not, is in the audit trail as a denial.
        [denial] = [event for event in audited if event["outcome"] == "denied"]
        assert denial["actor"] == demo_server.principals[persona]
        if seen_hidden[0] == 404:
            answered = denial["details"]["answered"]
            assert seen_hidden[1] == "not_found: " + _blank(answered, hidden)


def _blank(text: str, name: str) -> str:
    for named in (name, name.rsplit(".", 1)[0] if name.count(".") == 3 else name):
        text = text.replace(named, "NAME")
    return text


def _last_event(server: DemoServer) -> int:
    with server.client("steward") as steward:
        events = ok(steward.get("/audit/events", params={"limit": 1}))
    return int(events[0]["seq"]) if events else 0


def _events_since(server: DemoServer, seq: int) -> list[dict[str, Any]]:
    with server.client("steward") as steward:
        events = ok(steward.get("/audit/events", params={"limit": 50}))
    return [event for event in events if event["seq"] > seq]


def test_explaining_a_hidden_table_names_no_grant_or_tag(demo_server: DemoServer) -> None:
    with demo_server.client("marketing-analyst") as client:
        decision = ok(client.get(_explain(MIA, "SELECT").replace(NAME, "finance.hr.salaries")))
    assert decision == {
        "allowed": False,
        "columns": [],
        "row_filter": None,
        "masks": {},
        "reasons": [f"{MIA} lacks DESCRIBE on finance.hr.salaries"],
        "attributes": {},
    }


def test_visible_objects_keep_their_answers(demo_server: DemoServer) -> None:
    """What the persona may see still answers as before: a 403 that says what is missing."""
    with demo_server.client("marketing-analyst") as client:
        response = client.post("/products/finance_ledger/deprecate", json={"message": ""})
        assert response.status_code == 403
        assert response.json()["error"]["message"] == f"{MIA} is not an admin of domain finance"
        decision = ok(client.get(_explain(MIA, "SELECT").replace(NAME, "sales.crm.customers")))
        assert decision["allowed"] is True
        assert "email" not in decision["columns"]
    with demo_server.client("steward") as client:
        response = client.delete("/grants/99999")
        assert response.json()["error"]["message"] == "Grant does not exist: 99999"


def test_the_sdk_reads_hidden_as_missing(demo_server: DemoServer) -> None:
    """The SDK (and the CLI on it) gets the same answers."""
    from lakemesh.sdk import Client

    with Client.connect(demo_server.url, token=demo_server.tokens["marketing-analyst"]) as sdk:
        hidden = sdk.explain(MIA, "SELECT", "finance.hr.salaries")
        missing = sdk.explain(MIA, "SELECT", "finance.hr.gone")
    assert hidden.reasons == [f"{MIA} lacks DESCRIBE on finance.hr.salaries"]
    assert missing.reasons == [f"{MIA} lacks DESCRIBE on finance.hr.gone"]


def test_the_sdk_grants_to_a_hidden_principal_as_to_a_missing_one(demo_server: DemoServer) -> None:
    from lakemesh.errors import AccessDeniedError
    from lakemesh.sdk import Client

    seen = []
    with Client.connect(demo_server.url, token=demo_server.tokens[ADMIN]) as sdk:
        for name in USER:
            with pytest.raises(AccessDeniedError) as raised:
                sdk.grant("SELECT", grantee=name, on="marketing.campaigns.campaigns")
            seen.append(raised.value.message.replace(name, "NAME"))
            with pytest.raises(AccessDeniedError) as raised:
                sdk.add_member(MARKETING_GROUP, name)
            seen.append(raised.value.message.replace(name, "NAME"))
    assert seen[:2] == seen[2:]
