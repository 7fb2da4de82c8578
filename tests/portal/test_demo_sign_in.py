"""``make demo`` prints the portal's URL and a token per persona: each one signs in."""

from __future__ import annotations

from lakemesh.cli.demo import portal_lines
from tests.portal.conftest import Browser, DemoServer


def test_every_printed_persona_signs_in_to_the_printed_portal(demo_server: DemoServer) -> None:
    url = f"{demo_server.url}/"
    first, *personas = portal_lines(demo_server.result, url=url)
    assert first == f"The portal: {url} (sign in at {url}login with a persona's token)"
    assert len(personas) == len(demo_server.result.personas)
    for line, persona in zip(personas, demo_server.result.personas, strict=True):
        profile, token = line.split()
        assert profile == persona.profile
        browser = Browser(demo_server.url)
        browser.sign_in(token)
        home = browser.get("/")
        assert f'<span id="viewer-name">{persona.principal}</span>' in home.text
        browser.close()
