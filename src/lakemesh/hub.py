"""The hub: one process's handle on the store, the home and the storage, and its transactions."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from lakemesh import audit
from lakemesh.errors import AccessDeniedError, InvalidInputError, NotFoundError
from lakemesh.home import HubHome
from lakemesh.model.actions import Action
from lakemesh.store import connect, upgrade
from lakemesh.store.backends import READ_ONLY
from lakemesh.store.integrity import translate_integrity_error
from lakemesh.store.policy_changes import TRANSACTION_KEYS, track_policy_changes

WROTE = "lakemesh_wrote"
"""Key in ``Session.info``: this transaction has written to the store (not committed yet)."""


def _note_write(session: Session, _flush_context: Any) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[WROTE] = True


def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


def _forget_transaction(session: Session, *_: Any) -> None:
    """A transaction ended: what ``Session.info`` held about it no longer applies."""
    for key in (WROTE, *TRANSACTION_KEYS):
        session.info.pop(key, None)


class Hub:
    """The hub's state: a store (SQLite or PostgreSQL) and a home folder.

    Every change happens inside :meth:`transaction`, which also writes an audit event for every
    access denial that escapes it (in a transaction of its own, since the failed one rolls back),
    a concealed one answered as not-found included.
    """

    def __init__(self, *, home: Path, database_url: str | None = None) -> None:
        self.home = HubHome(home)
        self.database_url = database_url or self.home.database_url()
        self.engine: Engine = connect(self.database_url)
        upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={"hub": self})
        event.listen(self._sessions, "after_flush", _note_write)
        event.listen(self._sessions, "do_orm_execute", _note_statement)
        track_policy_changes(self._sessions)
        event.listen(self._sessions, "after_commit", _forget_transaction)
        event.listen(self._sessions, "after_rollback", _forget_transaction)
        self._read_sessions = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}),
            expire_on_commit=False,
            info={"hub": self},
        )
        # Per-process caches of derived state (the policy index), keyed by their owners.
        self.caches: dict[str, Any] = {}

    @classmethod
    def open(cls, home: Path, *, database_url: str | None = None) -> Hub:
        """Open an existing hub home (``lakemesh init`` makes one)."""
        hub_home = HubHome(home)
        if not hub_home.exists():
            raise InvalidInputError(
                f"Hub home does not exist: {home} (run 'lakemesh init' first)",
                details={"home": str(home)},
            )
        return cls(home=home, database_url=database_url)

    @property
    def storage_root(self) -> Path:
        """Where domains created without an explicit location keep their data."""
        return self.home.storage

    def storage_properties(self) -> dict[str, str]:
        """The storage settings of ``config.toml``'s ``[storage.s3]`` table, keyed like the
        storage backends' properties (``s3.endpoint``, ``s3.access-key-id``, ``s3.profile``, ...).

        Raises:
            InvalidInputError: the table holds something other than text values.
        """
        section = self.home.config().get("storage", {})
        properties: dict[str, str] = {}
        for scheme, values in section.items() if isinstance(section, dict) else ():
            if not isinstance(values, dict) or not all(
                isinstance(value, str) for value in values.values()
            ):
                raise InvalidInputError(
                    f"Invalid storage settings in {self.home.config_file}: [storage.{scheme}] "
                    'takes text values (endpoint = "http://...")',
                    details={"file": str(self.home.config_file), "section": f"storage.{scheme}"},
                )
            properties.update({f"{scheme}.{key}": value for key, value in values.items()})
        return properties

    def mask_salt(self) -> str:
        """The per-mesh salt of the ``hash`` mask (kept in ``config.toml``)."""
        config = self.home.config()
        salt = config.get("mask_salt")
        if not isinstance(salt, str):
            salt = secrets.token_hex(16)
            config["mask_salt"] = salt
            self.home.write_config(config)
        return salt

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back when it raises.

        A constraint the store enforces (a row another transaction wrote meanwhile) raises
        :class:`~lakemesh.errors.AlreadyExistsError` or :class:`~lakemesh.errors.ConflictError`.
        """
        try:
            with self._denials_audited(), self._sessions.begin() as session:
                yield session
        except IntegrityError as violation:
            raise translate_integrity_error(violation) from violation

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction for reads only: on SQLite it takes no write lock, so readers run side by
        side. Denials raised inside are audited like in :meth:`transaction`."""
        with self._denials_audited(), self._read_sessions.begin() as session:
            yield session

    @contextmanager
    def _denials_audited(self) -> Iterator[None]:
        """Audit the access denial, or the concealed one behind a not-found, escaping the block."""
        try:
            yield
        except AccessDeniedError as denial:
            self._record_denial(denial)
            raise
        except NotFoundError as missing:
            concealed, missing.concealing = missing.concealing, None  # audited once
            if concealed is not None:
                self._record_denial(concealed, answered=missing)
            raise

    def _record_denial(
        self, denial: AccessDeniedError, *, answered: NotFoundError | None = None
    ) -> None:
        """Audit ``denial`` in a transaction of its own; ``answered`` is the not-found the caller
        got instead (a concealed refusal), whose message the event keeps too."""
        details = dict(denial.details)
        if answered is not None:
            details["answered"] = answered.message
        with self._sessions.begin() as session:
            audit.record(
                session,
                actor=str(details.pop("principal", "unknown")),
                action=Action(str(details.pop("action", Action.ACCESS_DENIED))),
                resource=str(details.pop("resource", "")),
                outcome="denied",
                details={"message": denial.message, **details},
            )

    @staticmethod
    def of(session: Session) -> Hub:
        """The hub a session belongs to."""
        hub = session.info.get("hub")
        if not isinstance(hub, Hub):
            raise RuntimeError("session was not opened by a Hub")
        return hub

    def close(self) -> None:
        """Close what the caches hold open (query jobs finish first), then the store's pool."""
        for cached in list(self.caches.values()):
            close = getattr(cached, "close", None)
            if callable(close):
                close()
        self.engine.dispose()
