"""Server time of every portal page on the NimbusCart demo mesh, per persona (target: 200 ms).

The demo is built once (``--orders``, cached under ``benchmarks/.data/``) and served by uvicorn
in this process, as in the tests. Each persona signs in through the sign-in form; each page is
fetched once to warm caches, then ``--runs`` times (the menu brings the query editor, My access,
and for admins the inbox, governance and audit pages; the steward also asks for the doctor and
the audit chain's verification, which those pages run only when asked). The server time is what
a timing middleware measures around the app (the ``Server-Timing`` header it adds), so the
client's own time and the loopback are left out. Pages the hub does not serve (404) are listed as
such.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from html import unescape
from pathlib import Path

import httpx
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lakemesh.api.app import create_app
from lakemesh.api.server import serve_app_in_background
from lakemesh.demo.mesh import build_demo, load_demo
from lakemesh.hub import Hub

DATA = Path(__file__).parent / ".data" / "portal"
TARGET_MS = 200.0
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')
NAV_LINK = re.compile(r'<nav aria-label="Main"[^>]*>(.*?)</nav>', re.S)
HREF = re.compile(r'href="(/[^"]*)"')

DETAIL_PAGES = {
    # Pages every persona opens beside its menu's: a search, a product, a table.
    "search": "/search?q=customers",
    "product": "/products/sales_customers",
    "table": "/tables/sales.crm.customers",
}
PERSONAS = ("marketing-analyst", "sales-admin", "steward")
ON_DEMAND = {
    # What a mesh admin asks for with a button, not on every view of its page.
    "steward": {"doctor": "/governance?doctor=run", "audit verify": "/audit?verify=chain"},
}


class ServerTiming:
    """ASGI middleware: ``Server-Timing: app;dur=<ms>`` on every response (the time from the
    request's arrival to the response's start)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                MutableHeaders(scope=message).append("server-timing", f"app;dur={elapsed:.2f}")
            await send(message)

        await self.app(scope, receive, timed)


def _server_ms(response: httpx.Response) -> float:
    return float(response.headers["server-timing"].split("dur=")[1])


def _sign_in(client: httpx.Client, token: str) -> None:
    form = client.get("/login")
    csrf = CSRF_INPUT.search(form.text)
    assert csrf is not None, "the sign-in page has no CSRF token"
    signed_in = client.post(
        "/login", data={"token": token, "next": "/", "csrf_token": unescape(csrf.group(1))}
    )
    assert signed_in.status_code == 303, signed_in.text


def _pages(client: httpx.Client, persona: str) -> dict[str, str]:
    """The viewer's menu (from the home page), the detail pages and what it asks for."""
    home = client.get("/")
    menu = NAV_LINK.search(home.text)
    pages = {"home": "/"}
    for path in HREF.findall(menu.group(1) if menu else ""):
        pages.setdefault(path.strip("/").replace("-", " ") or "home", unescape(path))
    pages.update(DETAIL_PAGES)
    pages.update(ON_DEMAND.get(persona, {}))
    return pages


def _measure(client: httpx.Client, path: str, runs: int) -> tuple[int, list[float]]:
    first = client.get(path)
    if first.status_code >= 400:
        return first.status_code, []
    return first.status_code, [_server_ms(client.get(path)) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    arguments = parser.parse_args()
    home = DATA / f"home-{arguments.orders}"
    demo = load_demo(home)
    if demo is None:
        print(f"building the demo mesh ({arguments.orders:,} orders) in {home}")
        demo = build_demo(home, orders=arguments.orders)
    hub = Hub.open(home)
    app = create_app(hub)
    app.add_middleware(ServerTiming)
    missed: list[str] = []
    print(
        f"server time per page, median and max of {arguments.runs} runs (target {TARGET_MS:.0f} ms)"
    )
    print(f"{'persona':<18} {'page':<16} {'path':<34} {'median':>9} {'max':>9}")
    with serve_app_in_background(app) as url:
        anonymous = httpx.Client(base_url=url, timeout=60)
        status, times = _measure(anonymous, "/login", arguments.runs)
        rows = [("(signed out)", "sign-in", "/login", status, times)]
        for persona in PERSONAS:
            with httpx.Client(base_url=url, timeout=60) as client:
                _sign_in(client, demo.tokens[persona])
                for page, path in _pages(client, persona).items():
                    status, times = _measure(client, path, arguments.runs)
                    rows.append((persona, page, path, status, times))
        anonymous.close()
    for persona, page, path, status, times in rows:
        if not times:
            note = "not served yet" if status == 404 else f"HTTP {status}"
            print(f"{persona:<18} {page:<16} {path:<34} {note:>19}")
            continue
        median, worst = statistics.median(times), max(times)
        flag = "" if median <= TARGET_MS else "  over target"
        if flag:
            missed.append(f"{persona} {path}")
        print(f"{persona:<18} {page:<16} {path:<34} {median:>7.1f}ms {worst:>7.1f}ms{flag}")
    hub.close()
    print("every page within target" if not missed else f"over target: {', '.join(missed)}")


if __name__ == "__main__":
    main()
