"""Schemathesis over the OpenAPI document, as the mesh admin and as an analyst, on a demo mesh.

Every operation gets a few generated requests (valid and invalid); no answer may be a 5xx, and
every status must be one the document declares for that operation. Bounded to a few examples per
operation so the whole run stays within a couple of minutes. Every operation is covered, crawls
and onboarding included (a generated URI names no registered location, or one of the demo's
small folders); ``DELETE /tokens/{id}`` is tried on every number but the roles' own tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from lakemesh.api.server import serve_in_background
from lakemesh.hub import Hub
from tests.factories.demo import DemoHome, copy_demo

ROLES = ("steward", "marketing-analyst")
EXAMPLES = 4
REVOKE_TOKEN = ("DELETE", "/api/v1/tokens/{token_id}")


@dataclass
class FuzzedHub:
    url: str
    tokens: dict[str, str]
    token_ids: frozenset[int]
    """The roles' own tokens, which a generated ``DELETE /tokens/{id}`` must leave alone."""


@pytest.fixture(scope="module")
def fuzzed_hub(
    demo_home: DemoHome, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzedHub]:
    result = copy_demo(demo_home, tmp_path_factory.mktemp("fuzz") / "home")
    hub = Hub.open(result.home)
    with serve_in_background(hub, log_level="critical") as url:
        ids = set()
        for role in ROLES:
            headers = {"Authorization": f"Bearer {result.tokens[role]}"}
            mine = httpx.get(f"{url}/api/v1/tokens", headers=headers, timeout=60).json()
            ids.update(int(token["id"]) for token in mine)
        yield FuzzedHub(url, result.tokens, frozenset(ids))
    hub.close()


@pytest.fixture(scope="module")
def api_schema(fuzzed_hub: FuzzedHub) -> schemathesis.schemas.BaseSchema:
    # The first request builds the document: allow for a loaded machine, as the calls do.
    return schemathesis.openapi.from_url(f"{fuzzed_hub.url}/api/v1/openapi.json", timeout=60)


def _check_operation(
    operation: schemathesis.APIOperation, fuzzed_hub: FuzzedHub, mode: GenerationMode
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        if (case.method.upper(), case.path) == REVOKE_TOKEN:
            # Any other number: revoking one of the roles' own tokens would end the run.
            assume(case.path_parameters.get("token_id") not in fuzzed_hub.token_ids)
        for role in ROLES:
            case.call_and_validate(
                base_url=fuzzed_hub.url,
                headers={"Authorization": f"Bearer {fuzzed_hub.tokens[role]}"},
                checks=[not_a_server_error, status_code_conformance],
                timeout=60,
            )

    check()


def _can_be_wrong(operation: schemathesis.APIOperation) -> bool:
    """Whether a request can break the operation's schema (it takes parameters or a body)."""
    definition = operation.definition.raw
    return bool(definition.get("parameters")) or "requestBody" in definition


@pytest.mark.slow
def test_no_server_errors_and_no_undocumented_statuses(
    api_schema: schemathesis.schemas.BaseSchema, fuzzed_hub: FuzzedHub
) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 80
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not _can_be_wrong(operation):
                continue
            try:
                _check_operation(operation, fuzzed_hub, mode)
            except Exception as failure:  # every operation is tried; all failures are reported
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {failure}")
    assert not failures, "\n\n".join(failures)
