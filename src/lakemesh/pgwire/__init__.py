"""Governed SQL over the PostgreSQL wire protocol (``lakemesh serve --pg-port 5433``).

Any PostgreSQL client (psql, psycopg, asyncpg, JDBC, BI tools) connects with the principal as its
user name and a lakemesh token as its password. Every query goes through the same service as
``POST /api/v1/queries`` (:func:`lakemesh.query.service.run`): validation, resolution,
enforcement, workgroup limits, history and audit. Catalog introspection is answered from the
governed catalog (what the principal may DESCRIBE, and only the columns it may read).

The protocol is implemented here on asyncio (docs/pgwire.md says why no library was used).
"""
