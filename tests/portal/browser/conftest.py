"""Browser fixtures: Debian's Chromium driven by Playwright (one browser for the package's tests), a
demo mesh of their own served on a free 127.0.0.1 port, and a persona's tab that signs in
through the sign-in form, screenshots every page it checks and runs axe on it.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (``make test-deps``
installs Debian's ``chromium`` package).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lakemesh.api.server import serve_in_background
from lakemesh.hub import Hub
from tests.factories.demo import DemoHome, copy_demo

CHROMIUM = os.environ.get("LAKEMESH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "portal"
"""Screenshots of every page the browser tests check (gitignored)."""
BLOCKING_IMPACTS = ("serious", "critical")
TIMEOUT_MS = 30_000

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the browser tests (this package; under ``make test`` they run
    on one worker together, see :mod:`tests.worker_groups`). Not one per session: while
    Playwright's sync API is open, its event loop counts as running in the main thread, and a
    later test's asyncio.run() (asyncpg, in the pgwire tests) on the same worker would fail;
    pytest closes it before the first test outside this package."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(
            f"Debian's chromium is not installed at {CHROMIUM} (make test-deps installs it)"
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class StoryHub:
    """A NimbusCart demo mesh of the browser tests' own (they change it), served."""

    hub: Hub
    url: str
    demo: DemoHome


@pytest.fixture(scope="session")
def story_hub(demo_home: DemoHome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoryHub]:
    demo = copy_demo(demo_home, tmp_path_factory.mktemp("browser") / "home")
    hub = Hub.open(demo.home)
    with serve_in_background(hub) as url:
        yield StoryHub(hub, url, demo)
    hub.close()


@dataclass
class Tab:
    """One persona's browser tab (a context of its own: its own cookies)."""

    page: Any
    base_url: str
    name: str
    dialogs: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        assert response is not None, path
        assert response.status < 400, f"{path}: HTTP {response.status}"
        return response

    def sign_in(self, token: str) -> None:
        """Sign in through ``/login``'s form, as a person would."""
        self.open("/login")
        self.page.get_by_label("API token").fill(token)
        self.page.locator("#login-submit").click()
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, self.page.locator("body").inner_text()

    def check(self, label: str) -> None:
        """Screenshot the page as it is, and hold it to axe: no serious or critical violation
        (and no script ran a dialog)."""
        from axe_playwright_python.sync_playwright import Axe

        self.page.wait_for_load_state()
        shot = ARTIFACTS / f"{self.name}-{_slug(label)}.png"
        self.page.screenshot(path=str(shot), full_page=True)
        self.shots.append(shot)
        results = Axe().run(self.page)
        blocking = [
            violation
            for violation in results.response["violations"]
            if violation.get("impact") in BLOCKING_IMPACTS
        ]
        assert not blocking, f"{label} ({self.page.url}): " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in blocking
        )
        assert not self.dialogs, f"a script ran on {label}: {self.dialogs}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "home"


@pytest.fixture
def tabs(chromium: Any) -> Iterator[Any]:
    """A factory of persona tabs on a served hub (``tabs(name, base_url=url)``), each in its own
    browser context; closed after the test."""
    contexts: list[Any] = []

    def open_tab(name: str, *, base_url: str) -> Tab:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        tab = Tab(context.new_page(), base_url, name)

        def on_dialog(dialog: Any) -> None:
            tab.dialogs.append(dialog.message)
            dialog.dismiss()

        tab.page.on("dialog", on_dialog)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
