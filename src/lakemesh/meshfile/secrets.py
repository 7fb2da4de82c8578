"""Secrets the mesh files name but never hold: tokens' ``secret_env: NAME`` and the token of a
workgroup's Spark Connect address (``spark_token_env: NAME``).

The command that plans or applies the files resolves each name it finds: a ``NAME=value`` line of
its ``--secrets`` file, else its environment variable ``NAME``. Only the names the files use are
sent to the hub, which keeps a token's hash and the name, never the value; plans show a
fingerprint (the start of the hash), and an export writes the name again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from lakemesh.errors import InvalidInputError, StorageError
from lakemesh.identity.tokens import hash_token
from lakemesh.meshfile.model import MeshFiles


def referenced_secrets(files: MeshFiles) -> list[str]:
    """The names of every secret ``files`` refer to, sorted."""
    tokens = {
        token.secret_env
        for folder in files.domains
        for principal in folder.domain.principals
        for token in principal.tokens
    }
    workgroups = files.mesh.workgroups if files.mesh is not None else []
    spark = {w.spark_token_env for w in workgroups if w.spark_token_env is not None}
    return sorted(tokens | spark)


def spark_token_name(workgroup: str) -> str:
    """The secret name an export gives a workgroup's Spark Connect token.

    >>> spark_token_name("spark_etl")
    'SPARK_TOKEN_SPARK_ETL'
    """
    return "SPARK_TOKEN_" + re.sub(r"[^A-Za-z0-9]", "_", workgroup).upper()


def read_secrets_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``export`` before the name, quotes around the value, ``#`` comments
    and blank lines allowed), as a dotenv file has them.

    Raises:
        StorageError: the file cannot be read.
        InvalidInputError: a line that is not ``NAME=value``, naming the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise StorageError(f"Cannot read the secrets file {path}: {e}") from e
    found: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name.isidentifier():
            # Never echo the line: it may hold a secret.
            raise InvalidInputError(
                f"Invalid secrets file {path}, line {number}: expected NAME=value",
                details={"path": str(path), "line": number},
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[name] = value
    return found


def resolve_secrets(
    names: Iterable[str],
    *,
    secrets_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The values of ``names`` found in ``secrets_file`` or else ``environ`` (the process's
    environment by default); a name found in neither is left out (the hub names it)."""
    from_file = read_secrets_file(secrets_file) if secrets_file is not None else {}
    environment = os.environ if environ is None else environ
    resolved: dict[str, str] = {}
    for name in names:
        value = from_file.get(name, environment.get(name))
        if value:
            resolved[name] = value
    return resolved


def fingerprint(secret: str) -> str:
    """What a plan shows of a secret: the start of its SHA-256 (the hub stores the whole hash)."""
    return fingerprint_of_hash(hash_token(secret))


def fingerprint_of_hash(token_hash: str) -> str:
    """:func:`fingerprint` from the stored hash."""
    return "sha256:" + token_hash[:12]


def missing_secret(name: str, principal: str) -> InvalidInputError:
    """The error for a token whose secret the command did not give (``principal`` names its
    owner: a principal, or ``workgroup:NAME`` for a Spark Connect token)."""
    owner = (
        f"the Spark Connect address of {principal}"
        if principal.startswith("workgroup:")
        else f"a token of {principal}"
    )
    return InvalidInputError(
        f"Secret {name} of {owner} is not given: set the environment variable "
        f"{name} or a line {name}=... in the --secrets file",
        details={"secret": name, "principal": principal},
    )
