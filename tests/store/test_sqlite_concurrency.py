"""On SQLite, readers do not queue behind a writer (WAL + deferred read transactions)."""

from __future__ import annotations

from lakemesh.catalog import domains
from tests.conftest import HubEnv


def test_reads_proceed_while_a_write_transaction_is_open(sqlite_env: HubEnv) -> None:
    hub = sqlite_env.hub
    with hub.transaction() as writer:
        domains.create_domain(writer, actor=sqlite_env.admin, name="sales")
        # The writer holds the write lock; a reader still sees the last committed state at once.
        with hub.read() as reader:
            assert [d.name for d in domains.list_domains(reader)] == ["governance"]
    with hub.read() as reader:
        assert [d.name for d in domains.list_domains(reader)] == ["governance", "sales"]
