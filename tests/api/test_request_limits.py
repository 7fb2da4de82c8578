"""Request limits over real HTTP: body size (413 before parsing), SQL size, nesting and syntax."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lakemesh.api.app import create_app
from lakemesh.api.body_limit import DEFAULT_MAX_REQUEST_BYTES
from lakemesh.api.server import serve_in_background
from lakemesh.errors import InvalidInputError
from tests.api.conftest import error_of, make_hub_home, ok

TOO_LARGE = "Request body is 5,242,880 bytes; the limit is 4,194,304 (hub config max_request_bytes)"


def test_a_body_over_the_limit_is_refused_before_it_is_read(admin: httpx.Client) -> None:
    body = b'{"sql": "SELECT 1 -- ' + b"x" * (5 * 1024 * 1024 - 23) + b'"}'
    assert len(body) == 5 * 1024 * 1024
    response = admin.post("/queries", content=body, headers={"Content-Type": "application/json"})
    error = error_of(response, 413)
    assert error["type"] == "limit_exceeded"
    assert error["message"] == TOO_LARGE
    assert error["details"] == {
        "limit": "max_request_bytes",
        "value": DEFAULT_MAX_REQUEST_BYTES,
        "bytes": 5 * 1024 * 1024,
    }


def test_a_chunked_body_over_the_limit_is_refused(admin: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"sql": "SELECT 1 -- '
        for _ in range(5):
            yield b"x" * 1024 * 1024
        yield b'"}'

    response = admin.post(
        "/queries", content=chunks(), headers={"Content-Type": "application/json"}
    )
    error = error_of(response, 413)
    assert error["message"] == (
        "Request body is over 4,194,304 bytes; the limit is 4,194,304 "
        "(hub config max_request_bytes)"
    )
    # A chunked body under the limit still reaches the endpoint whole.
    small = admin.post(
        "/queries",
        content=iter([b'{"sql": ', b'"SELECT 41 + 1 AS answer"}']),
        headers={"Content-Type": "application/json"},
    )
    assert ok(small)["rows"] == [[42]]


def test_sql_over_its_limit_is_a_named_error(admin: httpx.Client) -> None:
    sql = "SELECT 1 -- " + "x" * (2 * 1024 * 1024)
    error = error_of(admin.post("/queries", json={"sql": sql}), 400)
    assert error["type"] == "query_rejected"
    assert error["message"] == (
        "SQL is 2,097,164 bytes; the limit is 1,048,576 (setting max_sql_bytes)"
    )
    history = ok(admin.get("/queries/history", params={"limit": 1}))[0]
    assert history["status"] == "rejected"


def test_the_sql_limit_is_a_mesh_setting(admin: httpx.Client) -> None:
    ok(admin.put("/settings/max_sql_bytes", json={"value": 100}))
    try:
        error = error_of(admin.post("/queries", json={"sql": "SELECT 1 -- " + "x" * 100}), 400)
        assert error["message"] == "SQL is 112 bytes; the limit is 100 (setting max_sql_bytes)"
        invalid = error_of(admin.put("/settings/max_sql_bytes", json={"value": 0}), 400)
        assert invalid["message"] == "Setting max_sql_bytes takes a positive whole number, got 0"
    finally:
        ok(admin.put("/settings/max_sql_bytes", json={"value": 1_048_576}))


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT " + "(" * 45 + "1" + ")" * 45, r"Statement nests too deeply \(limit 32\)"),
        (
            "SELECT * FROM " + "(SELECT * FROM " * 50 + "range(3)" + ") t" * 50,
            r"Statement nests too deeply \(limit 32\)",
        ),
        ("SELECT " + "NOT " * 400 + "TRUE", r"Statement nests too deeply \(limit 32\)"),
        (
            "SELECT 2 * FROM t",
            "Could not parse the query: syntax error at line 1, column 12 near 'FROM'",
        ),
    ],
)
def test_deep_or_broken_statements_are_400s_without_a_traceback(
    admin: httpx.Client, caplog: pytest.LogCaptureFixture, sql: str, message: str
) -> None:
    with caplog.at_level(logging.ERROR):
        error = error_of(admin.post("/queries", json={"sql": sql}), 400)
    assert error["type"] == "query_rejected"
    assert re.match(message, error["message"]), error["message"]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_the_body_limit_is_set_in_the_hubs_config(tmp_path: Path) -> None:
    hub, token = make_hub_home(tmp_path / "home")
    try:
        config = hub.home.config()
        hub.home.write_config({**config, "max_request_bytes": 256})
        with (
            serve_in_background(hub) as url,
            httpx.Client(
                base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}
            ) as client,
        ):
            error = error_of(client.post("/queries", json={"sql": "SELECT 1 -- " + "x" * 300}), 413)
            assert error["message"].endswith("the limit is 256 (hub config max_request_bytes)")
            assert ok(client.post("/queries", json={"sql": "SELECT 1 AS n"}))["rows"] == [[1]]
        hub.home.write_config({**config, "max_request_bytes": "lots"})
        with pytest.raises(InvalidInputError, match="Invalid max_request_bytes in config.toml"):
            create_app(hub)
    finally:
        hub.close()
