"""The demo's example queries name demo personas and are queries the gateway accepts."""

from __future__ import annotations

from lakemesh.demo.mesh import PERSONAS
from lakemesh.demo.queries import example_queries
from lakemesh.query import parse_statement


def test_example_queries_are_run_by_demo_personas() -> None:
    profiles = {persona.profile for persona in PERSONAS}
    examples = example_queries()
    assert [profile for profile, _, _ in examples] == [
        "marketing-analyst",
        "eu-manager",
        "marketing-analyst",
    ]
    for profile, description, sql in examples:
        assert profile in profiles
        assert description
        parse_statement(sql)
