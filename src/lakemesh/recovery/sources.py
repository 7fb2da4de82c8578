"""Where decisions are read from: a hub home, a store's database URL, or a snapshot file."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.home import HubHome
from lakemesh.hub import Hub
from lakemesh.recovery.snapshot import DecisionSnapshot


def is_database_url(text: str) -> bool:
    """Whether ``text`` reads as a database URL (``sqlite:///...``, ``postgresql+psycopg://...``)."""
    if "://" not in text:
        return False
    try:
        make_url(text)
    except ArgumentError:
        return False
    return True


@contextmanager
def open_hub(source: str) -> Iterator[Hub]:
    """The hub of a hub home (a folder) or of a store's database URL.

    Raises:
        NotFoundError: a folder that is not an initialised hub home.
    """
    if is_database_url(source):
        with tempfile.TemporaryDirectory(prefix="lakemesh-source-") as scratch:
            hub = Hub(home=Path(scratch), database_url=source)
            try:
                yield hub
            finally:
                hub.close()
        return
    home = Path(source).expanduser()
    if not HubHome(home).exists():
        raise NotFoundError(
            f"Hub home does not exist: {home} (give a hub home, a database URL or a snapshot file)",
            details={"source": source},
        )
    hub = Hub.open(home)
    try:
        yield hub
    finally:
        hub.close()


def is_snapshot_file(source: str) -> bool:
    """Whether ``source`` names a file (a snapshot) rather than a hub home or a database."""
    return not is_database_url(source) and Path(source).expanduser().is_file()


def read_snapshot(path: Path) -> DecisionSnapshot:
    """A snapshot written by ``lakemesh decisions snapshot``.

    Raises:
        InvalidInputError: the file is not JSON, or not a decision snapshot.
    """
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInputError(
            f"Cannot read decision snapshot {path}: {e}", details={"file": str(path)}
        ) from e
    try:
        return DecisionSnapshot.from_dict(data)
    except InvalidInputError as e:
        raise InvalidInputError(f"{e.message}: {path}", details={"file": str(path)}) from e
