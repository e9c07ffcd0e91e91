"""Opening a SQLite run database: the connection's settings and the schema's migrations.

Runs on the store's writer thread (`sqlite_thread`), once, before any other work. The
numbered files come from `agentflow.stores.migrations`; they are applied inside one
`BEGIN IMMEDIATE` transaction, which takes SQLite's write lock first, so that two processes
opening one new database never both apply a migration, and a failed migration leaves the
database as it was.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from agentflow.errors import StoreError, StoreVersionError
from agentflow.stores.migrations import Migration, find_migrations

VERSION_TABLE = "agentflow_schema_version"
"""One row per migration applied: the database's schema version is the highest."""

_BUSY_TIMEOUT_SECONDS = 30.0
"""How long a connection waits for another process's write lock before it fails."""


def open_database(path: Path) -> sqlite3.Connection:
    """A connection to the database at `path`, in WAL mode with `synchronous=FULL`, its
    schema migrated to the newest version this code knows.

    Raises `StoreError` naming the path when the file cannot be opened or set up, and
    `StoreVersionError` when the database was migrated by a newer agentflow."""
    try:
        # isolation_level=None: the writer thread issues BEGIN/SAVEPOINT/COMMIT itself
        # (sqlite3's implicit transactions would commit behind its back).
        # check_same_thread stays on: only the writer thread ever touches the connection.
        connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except sqlite3.Error as error:
        raise StoreError(f"cannot open the SQLite database at '{path}': {error}") from error
    try:
        _configure(connection, path)
        migrate(connection, path, find_migrations("sqlite"))
    except BaseException:
        connection.close()
        raise
    return connection


def _configure(connection: sqlite3.Connection, path: Path) -> None:
    try:
        # WAL: readers (another process's `agentflow runs list`) never block the writer,
        # and a commit appends to the log instead of rewriting pages.
        (mode,) = connection.execute("PRAGMA journal_mode=WAL").fetchone()
        # FULL: a commit that returned is on disk, not only handed to the OS.
        connection.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error as error:
        raise StoreError(f"cannot use the SQLite database at '{path}': {error}") from error
    if str(mode).lower() != "wal":
        raise StoreError(
            f"the SQLite database at '{path}' cannot use WAL mode (it stays in {mode!r} "
            "mode; a file on a network share or in memory cannot)"
        )


def migrate(connection: sqlite3.Connection, path: Path, migrations: list[Migration]) -> int:
    """Apply the `migrations` the database lacks, under the write lock; the schema version
    it has afterwards. `StoreVersionError` if the database is past the last one."""
    newest = migrations[-1].version if migrations else 0
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current: int
            (current,) = connection.execute(
                f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}"
            ).fetchone()
            if current > newest:
                raise StoreVersionError(
                    f"the SQLite database at '{path}' has schema version {current}, newer "
                    f"than version {newest}, the last this agentflow knows: it was written "
                    "by a newer agentflow, upgrade this one to open it"
                )
            for migration in migrations[current:]:
                for statement in split_statements(migration.sql):
                    connection.execute(statement)
                connection.execute(
                    f"INSERT INTO {VERSION_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, datetime.now(UTC).isoformat()),
                )
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    except sqlite3.Error as error:
        raise StoreError(
            f"cannot migrate the SQLite database at '{path}' to schema version {newest}: {error}"
        ) from error
    return max(current, newest)


def split_statements(script: str) -> list[str]:
    """The statements of an SQL script, one by one.

    `executescript` would run them all at once but commits any open transaction first, which
    would apply a migration outside the lock; `sqlite3.complete_statement` knows where a
    statement ends (semicolons in strings and triggers included), so none is cut wrongly.
    """
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _has_sql(pending):
                statements.append(pending.strip())
            pending = ""
    if _has_sql(pending.removesuffix(";")):
        raise ValueError(f"an SQL statement is not complete: {pending.strip()[:80]!r}")
    return statements


def _has_sql(text: str) -> bool:
    """Whether `text` holds more than whitespace, semicolons and `--` comment lines."""
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return code.strip().strip(";").strip() != ""
