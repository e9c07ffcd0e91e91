"""The PostgreSQL store's schema: its numbered migrations, applied when a store opens.

Several processes may open stores on one database at once, so the migrations run in one
transaction under a transaction-scoped advisory lock: the first applies them, the others
wait for it and then find nothing left to do. A database whose recorded version is past
the last migration this code ships was migrated by a newer agentflow, whose tables this
code may misread, so it is refused instead of used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentflow.errors import StoreVersionError
from agentflow.stores.migrations import find_migrations

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.rows import TupleRow

MIGRATION_LOCK = 0x6167656E74666C6F
"""The advisory lock's key ("agentflo" in ASCII): one per database, held while migrating."""

VERSION_TABLE = "agentflow_schema_version"


async def migrate(connection: AsyncConnection[TupleRow]) -> int:
    """Bring the database to the last migration; the schema version it is at afterwards.
    `StoreVersionError` when the database is newer than this code."""
    migrations = find_migrations("postgres")
    latest = migrations[-1].version
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor = await connection.execute(f"SELECT max(version) FROM {VERSION_TABLE}")
        row = await cursor.fetchone()
        current: int = row[0] if row is not None and row[0] is not None else 0
        if current > latest:
            raise StoreVersionError(
                f"the database's agentflow schema is at version {current}, newer than "
                f"version {latest}, the last this agentflow knows: upgrade agentflow"
            )
        for migration in migrations[current:]:
            await connection.execute(migration.sql.encode("utf-8"))
            await connection.execute(
                f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (%s, %s)",
                [migration.version, migration.name],
            )
    return latest
