"""Where the hub's S3 credentials come from (hub settings, environment, AWS profile) and what a
missing or refused credential says: on the real SeaweedFS server, through a real crawl and query.

Every error is a :class:`StorageError` naming the reason; botocore's own text never shows.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakemesh.catalog import crawler, locations
from lakemesh.errors import StorageError
from lakemesh.query import service
from tests.conftest import HubEnv, make_hub_env, s3_environment
from tests.seaweedfs import ACCESS_KEY, REGION, SCOPED_KEY, SCOPED_SECRET, SECRET_KEY, S3Server

BUCKET = "credentials"
LOCATION = f"s3://{BUCKET}/shop"
ITEMS = pa.table({"item_id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"]})


@pytest.fixture(scope="module")
def bucket(seaweedfs: S3Server) -> S3Server:
    seaweedfs.create_bucket(BUCKET)
    body = io.BytesIO()
    pq.write_table(ITEMS, body)
    seaweedfs.put(f"{LOCATION}/items/part-0.parquet", body.getvalue())
    return seaweedfs


@pytest.fixture
def hub_env(tmp_path: Path) -> Iterator[HubEnv]:
    env = make_hub_env(tmp_path / "home")
    with env.hub.transaction() as session:
        locations.register_location(session, actor=env.admin, uri=LOCATION, domain="governance")
    yield env
    env.hub.close()


def configure(env: HubEnv, **s3: str) -> None:
    """Write ``[storage.s3]`` into the hub home's config.toml."""
    lines = ["[storage.s3]", *(f'{key.replace("_", "-")} = "{value}"' for key, value in s3.items())]
    with env.hub.home.config_file.open("a") as config:
        config.write("\n".join(lines) + "\n")


def crawl_and_query(env: HubEnv) -> list[dict[str, object]]:
    crawler.crawl(env.hub, actor=env.admin, uri=LOCATION, domain="governance", database="shop")
    sql = "SELECT item_id, name FROM governance.shop.items ORDER BY item_id"
    outcome = service.run(env.hub, actor=env.admin, sql=sql)
    return outcome.result.table.to_pylist()


def no_credentials(tmp_path: Path) -> dict[str, str | None]:
    """Environment overrides that leave boto's chain nothing to find."""
    return {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
    }


def test_keys_from_the_hub_settings(bucket: S3Server, hub_env: HubEnv, tmp_path: Path) -> None:
    configure(
        hub_env,
        endpoint=bucket.endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        region=REGION,
    )
    environment = {**no_credentials(tmp_path), "LAKEMESH_S3_ENDPOINT_URL": None}
    with s3_environment(bucket, **environment):
        assert crawl_and_query(hub_env) == ITEMS.to_pylist()


def test_the_hub_settings_beat_the_environment(
    bucket: S3Server, hub_env: HubEnv, tmp_path: Path
) -> None:
    configure(hub_env, access_key_id=ACCESS_KEY, secret_access_key="not-the-secret")
    with (
        s3_environment(bucket),
        pytest.raises(
            StorageError, match=r"refused the hub's credentials \(SignatureDoesNotMatch\)"
        ),
    ):
        crawl_and_query(hub_env)


def test_keys_from_an_aws_profile(bucket: S3Server, hub_env: HubEnv, tmp_path: Path) -> None:
    """The credential chain serves listing, crawling and the DuckDB query (explicit keys)."""
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[lake]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    environment = {
        **no_credentials(tmp_path),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_PROFILE": "lake",
    }
    with s3_environment(bucket, **environment):
        assert crawl_and_query(hub_env) == ITEMS.to_pylist()


def _storage_error(env: HubEnv) -> StorageError:
    with pytest.raises(StorageError) as info:
        crawler.crawl(env.hub, actor=env.admin, uri=LOCATION, domain="governance", database="shop")
    return info.value


BOTOCORE_WORDING = ("An error occurred", "Unable to locate credentials", "calling the")


@pytest.mark.parametrize(
    ("environment", "expected", "reason"),
    [
        (
            {"AWS_SECRET_ACCESS_KEY": "wrong"},
            "S3 refused the hub's credentials (SignatureDoesNotMatch)",
            "invalid_credentials",
        ),
        (
            {"AWS_ACCESS_KEY_ID": "NOSUCHKEY"},
            "S3 refused the hub's credentials (InvalidAccessKeyId)",
            "invalid_credentials",
        ),
        (
            {"AWS_ACCESS_KEY_ID": SCOPED_KEY, "AWS_SECRET_ACCESS_KEY": SCOPED_SECRET},
            "S3 denied the hub access (AccessDenied)",
            "access_denied",
        ),
        (
            {"LAKEMESH_S3_ENDPOINT_URL": "http://127.0.0.1:9"},
            "the S3 endpoint cannot be reached",
            "unreachable",
        ),
    ],
)
def test_refused_credentials_are_named(
    bucket: S3Server,
    hub_env: HubEnv,
    environment: dict[str, str],
    expected: str,
    reason: str,
) -> None:
    with s3_environment(bucket, **environment):
        error = _storage_error(hub_env)
    assert error.message == f"Cannot list {LOCATION}: {expected}"
    assert error.details["reason"] == reason
    assert not any(words in error.message for words in BOTOCORE_WORDING)


def test_missing_credentials_are_named(bucket: S3Server, hub_env: HubEnv, tmp_path: Path) -> None:
    with s3_environment(bucket, **no_credentials(tmp_path)):
        error = _storage_error(hub_env)
    assert error.message.startswith(f"Cannot list {LOCATION}: no S3 credentials for the hub (set ")
    assert "AWS_PROFILE" in error.message
    assert "s3.access-key-id" in error.message
    assert error.details["reason"] == "no_credentials"
    assert not any(words in error.message for words in BOTOCORE_WORDING)


def test_a_query_without_credentials_is_named(
    bucket: S3Server, hub_env: HubEnv, tmp_path: Path
) -> None:
    with s3_environment(bucket):
        crawler.crawl(
            hub_env.hub, actor=hub_env.admin, uri=LOCATION, domain="governance", database="shop"
        )
    sql = "SELECT count(*) FROM governance.shop.items"
    with (
        s3_environment(bucket, **no_credentials(tmp_path)),
        pytest.raises(StorageError) as info,
    ):
        service.run(hub_env.hub, actor=hub_env.admin, sql=sql)
    assert info.value.message.startswith(
        "Cannot list the files of table governance.shop.items: no S3 credentials for the hub"
    )


def test_an_unknown_profile_is_named(bucket: S3Server, hub_env: HubEnv, tmp_path: Path) -> None:
    with s3_environment(bucket, **no_credentials(tmp_path), AWS_PROFILE="nowhere"):
        error = _storage_error(hub_env)
    assert error.details["reason"] == "no_credentials"
    assert "no S3 credentials for the hub" in error.message


def test_invalid_storage_settings_are_named(hub_env: HubEnv) -> None:
    with hub_env.hub.home.config_file.open("a") as config:
        config.write("[storage.s3]\nendpoint = 9000\n")
    with pytest.raises(Exception, match=r"\[storage.s3\] takes text values"):
        hub_env.hub.storage_properties()
