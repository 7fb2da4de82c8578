"""One Spark for the whole test run: the local session, which also serves Spark Connect on loopback.

Without Java or pyspark the Spark tests are skipped with the reason, except under CI (CI=true),
where they fail instead.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lakemesh.query.engines.spark import SparkEngine


@dataclass(frozen=True)
class SparkEngines:
    """The same Spark reached two ways: in process, and as a Spark Connect client."""

    local: SparkEngine
    connect: SparkEngine


def missing_reason() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'lakemesh[spark]')"
    java = shutil.which("java", path=_java_path())
    if java is None:
        return "Java is not installed (Spark needs Java 17 or later)"
    try:
        subprocess.run([java, "-version"], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return f"Java does not run: {e}"
    return None


def spark_engines() -> SparkEngines:
    """The run's Spark engines, started on first use (skips, or fails under CI, without Spark)."""
    reason = missing_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Spark tests cannot run under CI: {reason}")
        pytest.skip(reason)
    return _started()


@functools.cache
def _started() -> SparkEngines:
    from lakemesh.query.engines.spark import SparkEngine

    local = SparkEngine()
    context = local.session.sparkContext  # this test run's session, whoever started it
    # A Spark Connect server in the same JVM, on a free loopback port.
    port = _free_port()
    jvm = context._jvm
    conf = context._jsc.sc().conf()  # the SparkConf the Connect service reads its port from
    conf.set("spark.connect.grpc.binding.address", "127.0.0.1")
    conf.set("spark.connect.grpc.binding.port", str(port))
    jvm.org.apache.spark.sql.connect.service.SparkConnectService.start(context._jsc.sc())
    return SparkEngines(local=local, connect=SparkEngine(remote=f"sc://127.0.0.1:{port}"))


def _java_path() -> str:
    home = os.environ.get("JAVA_HOME")
    path = os.environ.get("PATH", "")
    return f"{home}/bin{os.pathsep}{path}" if home else path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
