"""API errors come back as the matching LakemeshError, with message and details."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from lakemesh.bootstrap import init_home
from lakemesh.errors import (
    AuthenticationError,
    InvalidInputError,
    LakemeshError,
    NotFoundError,
)
from lakemesh.sdk import Client, HubUnreachableError
from tests.sdk.conftest import Mesh


def test_not_found_keeps_message_and_details(client: Client) -> None:
    with pytest.raises(NotFoundError, match="Domain does not exist: nope") as info:
        client.get_domain("nope")
    assert info.value.details == {"domain": "nope"}
    assert info.value.to_dict()["error"]["type"] == "not_found"


def test_a_wrong_token_is_unauthenticated(mesh: Mesh) -> None:
    with mesh.client("lm_not-a-token") as stranger:
        with pytest.raises(AuthenticationError, match="Invalid API token"):
            stranger.whoami()
        assert stranger.health().status == "ok"


def test_request_validation_errors_are_invalid_input(client: Client) -> None:
    with pytest.raises(InvalidInputError, match="Invalid request: body.producer"):
        client.request("POST", "/domains", json={"name": "x", "producer": "maybe"})


def test_unknown_route_is_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError, match="No such route: GET /api/v1/nowhere"):
        client.request("GET", "/nowhere")


def test_an_error_type_the_client_does_not_know_is_kept(client: Client) -> None:
    error = client._error({"type": "brand_new", "message": "Something new", "details": {}})
    assert type(error) is LakemeshError
    assert error.to_dict() == {
        "error": {"type": "brand_new", "message": "Something new", "details": {}}
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_hub_names_its_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with (
        Client.connect(url, token="lm_x") as client,
        pytest.raises(HubUnreachableError, match=f"Cannot reach the hub at {url}") as info,
    ):
        client.whoami()
    assert info.value.details == {"hub": url}
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_a_hub_url_needs_a_scheme() -> None:
    with pytest.raises(InvalidInputError, match=r"Invalid hub URL: '127.0.0.1:8000'"):
        Client.connect("127.0.0.1:8000")


def test_opening_a_missing_home_says_to_init(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"Hub home does not exist: .*lakemesh init"):
        Client.open(tmp_path / "nowhere")


def test_opening_without_token_uses_the_default_profile(tmp_path: Path) -> None:
    initialised = init_home(tmp_path / "home")
    initialised.hub.close()
    with Client.open(tmp_path / "home") as client:
        assert client.whoami().name == "user:admin@governance"
    with pytest.raises(NotFoundError, match="Profile does not exist: ci"):
        Client.open(tmp_path / "home", profile="ci")
