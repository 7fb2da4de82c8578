"""S3 options from hub properties and the environment, and the lazily imported s3fs.

No S3 server is needed: building an ``S3FileSystem`` does not connect.
"""

from __future__ import annotations

import sys

import pytest

from lakemesh.errors import InvalidInputError
from lakemesh.storage import S3Options, filesystem_for
from lakemesh.storage.s3 import ENVIRONMENT_VARIABLES


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the S3 variables they set."""
    for variable in ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def test_no_settings_leave_everything_to_boto() -> None:
    assert S3Options.resolve({}, environ={}) == S3Options()
    assert S3Options().filesystem_kwargs() == {"use_listings_cache": False}


def test_options_come_from_the_environment() -> None:
    environ = {
        "LAKEMESH_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ACCESS_KEY_ID": "minio",
        "AWS_SECRET_ACCESS_KEY": "minio-secret",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    options = S3Options.resolve(environ=environ)
    assert options == S3Options(
        endpoint_url="http://127.0.0.1:9000",
        key="minio",
        secret="minio-secret",
        region="eu-west-1",
    )
    assert options.filesystem_kwargs() == {
        "use_listings_cache": False,
        "endpoint_url": "http://127.0.0.1:9000",
        "key": "minio",
        "secret": "minio-secret",
        "client_kwargs": {"region_name": "eu-west-1"},
    }


def test_properties_beat_lakemesh_variables_which_beat_aws_ones() -> None:
    environ = {
        "AWS_ENDPOINT_URL": "http://aws-wide",
        "LAKEMESH_S3_ENDPOINT_URL": "http://lakemesh",
        "AWS_ACCESS_KEY_ID": "aws-key",
        "LAKEMESH_S3_ACCESS_KEY_ID": "lakemesh-key",
        "AWS_REGION": "us-east-1",
    }
    properties = {"s3.endpoint": "http://configured", "s3.session-token": "token"}
    options = S3Options.resolve(properties, environ=environ)
    assert options == S3Options(
        endpoint_url="http://configured", key="lakemesh-key", token="token", region="us-east-1"
    )


def test_filesystem_for_s3_uses_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEMESH_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "minio")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "minio-secret")
    filesystem, path = filesystem_for("s3a://lake/sales/")
    assert type(filesystem).__name__ == "S3FileSystem"
    assert path == "lake/sales"
    assert filesystem.storage_options["endpoint_url"] == "http://127.0.0.1:9000"
    assert filesystem.storage_options["key"] == "minio"
    assert filesystem.storage_options["secret"] == "minio-secret"


def test_filesystem_for_s3_takes_properties() -> None:
    filesystem, _ = filesystem_for(
        "s3://lake/sales", properties={"s3.endpoint": "http://minio:9000", "s3.region": "eu-1"}
    )
    assert filesystem.storage_options["endpoint_url"] == "http://minio:9000"
    assert filesystem.storage_options["client_kwargs"] == {"region_name": "eu-1"}


def test_url_style_is_configured_or_follows_the_endpoint() -> None:
    assert S3Options().effective_url_style == "vhost"
    assert S3Options(endpoint_url="http://127.0.0.1:9000").effective_url_style == "path"
    options = S3Options.resolve({"s3.url-style": "VHost"}, environ={})
    assert options.url_style == options.effective_url_style == "vhost"
    assert options.filesystem_kwargs()["config_kwargs"] == {"s3": {"addressing_style": "virtual"}}
    environ = {"LAKEMESH_S3_URL_STYLE": "path"}
    assert S3Options.resolve(environ=environ).filesystem_kwargs()["config_kwargs"] == {
        "s3": {"addressing_style": "path"}
    }
    with pytest.raises(InvalidInputError, match="Invalid S3 URL style: 'dns'"):
        S3Options.resolve(environ={"LAKEMESH_S3_URL_STYLE": "dns"})


def test_options_never_print_the_secret() -> None:
    options = S3Options(key="minio", secret="minio-secret", token="session-token")
    assert "minio-secret" not in repr(options)
    assert "session-token" not in repr(options)
    assert "key='minio'" in repr(options)


def test_missing_s3fs_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # what an environment without s3fs imports
    with pytest.raises(InvalidInputError, match=r"pip install 'lakemesh\[s3\]'"):
        filesystem_for("s3://lake/sales")
