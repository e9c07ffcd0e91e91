"""Where the durable scenarios keep their runs: a fresh database per measurement, opened by
agentflow's store or by LangGraph's saver, and the bytes each left behind.

A database is named by a string: a SQLite file path, or a PostgreSQL DSN. The PostgreSQL
server is the one `AGENTFLOW_TEST_POSTGRES_DSN` names, else a throwaway one started with the
test suite's `postgres_server.py` (initdb and pg_ctl on 127.0.0.1, fsync off: the same
settings for both systems) and stopped at the end.

Bytes stored are measured the same way for both systems: SQLite, the database file once the
WAL is checkpointed into it, then again after VACUUM; PostgreSQL, the sum of
`pg_total_relation_size` (table, indexes, TOAST) of every table in the database's public
schema, as left and after VACUUM FULL. Each system has its own database, so the sums hold
nothing of the other's.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests" / "agentflow" / "stores"))

from postgres_server import DATA_DIR_VARIABLE, DSN_VARIABLE, PostgresServer, start  # noqa: E402

SQLITE = "sqlite"
POSTGRES = "postgres"


class PostgresDatabases:
    """Fresh databases on one server, dropped by `close` (which stops a server it started)."""

    def __init__(self) -> None:
        self._started: PostgresServer | None = None
        self.server_directory: Path | None = None
        """The directory `postgres_server.py` started the server in (its data in `data/`),
        when known: bench/cluster.py reads the server's CPU time from its postmaster."""
        from_environment = os.environ.get(DSN_VARIABLE)
        if from_environment:
            self.admin_dsn = from_environment
            directory = os.environ.get(DATA_DIR_VARIABLE)
            self.server_directory = Path(directory) if directory else None
        else:
            self._started = start()
            self.admin_dsn = self._started.dsn
            self.server_directory = self._started.data_dir
        self._made: dict[str, str] = {}
        """DSN -> database name, of the databases made and not dropped yet."""

    def fresh(self) -> str:
        """The DSN of a new, empty database."""
        import psycopg
        from psycopg import sql
        from psycopg.conninfo import make_conninfo

        name = f"agentflow_bench_{uuid.uuid4().hex}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        dsn = make_conninfo(self.admin_dsn, dbname=name)
        self._made[dsn] = name
        return dsn

    def drop(self, dsn: str) -> None:
        import psycopg
        from psycopg import sql

        name = self._made.pop(dsn)
        with psycopg.connect(self.admin_dsn, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def close(self) -> None:
        for dsn in list(self._made):
            self.drop(dsn)
        if self._started is not None:
            self._started.stop()
            self._started = None


@asynccontextmanager
async def agentflow_store(kind: str, database: str) -> AsyncIterator[Any]:
    """agentflow's store on `database`, opened (and migrated) before it is handed over."""
    if kind == SQLITE:
        from agentflow.stores import SqliteStore

        store: Any = SqliteStore(database)
    else:
        from agentflow.stores import PostgresStore

        store = PostgresStore(database)
    async with store:
        if kind == POSTGRES:
            await store.get_run("warm-up")  # opens the pool and migrates, like setup()
        yield store


@asynccontextmanager
async def langgraph_saver(kind: str, database: str) -> AsyncIterator[Any]:
    """LangGraph's async saver on `database`, its tables set up before it is handed over."""
    if kind == SQLITE:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(database) as saver:
            await saver.setup()
            yield saver
    else:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        async with AsyncPostgresSaver.from_conn_string(database) as saver:
            await saver.setup()
            yield saver


def bytes_stored(kind: str, database: str) -> tuple[int, int]:
    """(bytes as the run left them, bytes after VACUUM) of `database`; call it once the
    store or saver is closed."""
    if kind == SQLITE:
        connection = sqlite3.connect(database, isolation_level=None)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            as_left = os.path.getsize(database)
            connection.execute("VACUUM")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            vacuumed = os.path.getsize(database)
        finally:
            connection.close()
        return as_left, vacuumed
    import psycopg

    total = (
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r'"
    )
    with psycopg.connect(database, autocommit=True) as connection:
        as_left = _fetch_int(connection, total)
        connection.execute("VACUUM FULL")
        vacuumed = _fetch_int(connection, total)
    return as_left, vacuumed


def _fetch_int(connection: Any, query: str) -> int:
    row = connection.execute(query).fetchone()
    return int(row[0])
