"""`PostgresStore`: runs journalled in PostgreSQL, for runs shared by several processes or
machines (the `postgres` extra: psycopg 3 and its pool).

Each call takes a connection from a `psycopg_pool.AsyncConnectionPool`, so concurrent
writes run side by side and never block the event loop. A write is one transaction that
first locks its run's row (`SELECT ... FOR UPDATE`): writes to one run are serialised by
the database, and the checks that need the stored state (status, last seq, checkpoint)
see it as it is. A write without a checkpoint, which is nearly every one, is a single
statement that makes those checks itself (`_APPEND`): one round trip instead of five.
The store connects, and migrates the schema, on first use, so that it can be made outside
a coroutine: `PostgresStore(dsn)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from time import monotonic

from agentflow.errors import (
    RunExistsError,
    RunNotFoundError,
    StoreError,
    StoreWriteError,
)
from agentflow.extras import extra_needed
from agentflow.stores.base import (
    DEFAULT_MAX_RECORD_BYTES,
    TERMINAL_STATUSES,
    TTL_SWEEP_SECONDS,
    Checkpoint,
    JournalRecord,
    RunInfo,
    RunStatus,
    RunStore,
    StoredRun,
    StreamEntry,
    StreamPosition,
)
from agentflow.stores.checks import (
    check_checkpoint,
    check_not_finished,
    check_order,
    check_sizes,
    check_stream,
)
from agentflow.stores.postgres_schema import migrate

with extra_needed("postgres", "PostgresStore"):
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import TupleRow
    from psycopg_pool import AsyncConnectionPool

__all__ = ["PostgresStore"]


_RUN_COLUMNS = "run_id, workflow, version, status, created_at, updated_at, result"
_TERMINAL = tuple(sorted(TERMINAL_STATUSES))
_PRUNE = """WITH pruned AS (DELETE FROM agentflow_runs WHERE status = ANY(%s) AND
updated_at < now() - %s RETURNING run_id), runner AS (DELETE FROM agentflow_runner_runs
WHERE run_id IN (SELECT run_id FROM pruned)) SELECT count(*) FROM pruned"""
"""Ended runs, with their rows of the DBOS runner (`agentflow.runners.dbos.board`)."""


_APPEND = """
WITH run AS (
    SELECT status, checkpoint_seq,
        (SELECT max(seq) FROM agentflow_journal WHERE run_id = %(run)s) AS journal_seq,
        CASE WHEN %(stream_first)s::bigint IS NULL THEN NULL
            ELSE (SELECT max(seq) FROM agentflow_stream WHERE run_id = %(run)s)
        END AS stream_seq
    FROM agentflow_runs WHERE run_id = %(run)s FOR UPDATE
), allowed AS (
    SELECT FROM run WHERE status <> ALL(%(ended)s::text[])
        AND (%(first)s::bigint IS NULL
             OR %(first)s::bigint > greatest(journal_seq, checkpoint_seq)
             OR greatest(journal_seq, checkpoint_seq) IS NULL)
        AND (%(stream_first)s::bigint IS NULL
             OR stream_seq IS NULL
             OR %(stream_first)s::bigint > stream_seq)
), added AS (
    INSERT INTO agentflow_journal (run_id, seq, kind, key, data)
    SELECT %(run)s, r.* FROM unnest(
        %(seqs)s::bigint[], %(kinds)s::text[], %(keys)s::text[], %(datas)s::text[]) AS r
    WHERE EXISTS (SELECT FROM allowed)
), streamed AS (
    INSERT INTO agentflow_stream (run_id, seq, key, data)
    SELECT %(run)s, e.* FROM unnest(
        %(stream_seqs)s::bigint[], %(stream_keys)s::text[], %(stream_datas)s::text[]) AS e
    WHERE EXISTS (SELECT FROM allowed)
), updated AS (
    UPDATE agentflow_runs SET updated_at = now(),
        status = coalesce(%(status)s, status), result = coalesce(%(result)s, result)
    WHERE run_id = %(run)s AND EXISTS (SELECT FROM allowed)
)
SELECT status, checkpoint_seq, journal_seq, stream_seq FROM run
"""
"""A write without a checkpoint, as one statement: lock the run's row, and append the
records and the stream entries and touch the run only if the run has not ended and the
records and entries come after the stored ones (the checks `write` makes); return what
was stored, for those checks."""


def _duplicate_error(run_id: str, error: pg_errors.UniqueViolation) -> StoreWriteError:
    """A record repeats a stored one (the write's own records were checked): say which."""
    detail = error.diag.message_detail or str(error)
    return StoreWriteError(
        f"run {run_id!r}: a record is already stored with that "
        f"{'kind and key' if 'kind' in detail else 'seq'}: {detail}"
    )


def _run_info(row: TupleRow) -> RunInfo:
    return RunInfo(*row[:7])


def _server_of(dsn: str) -> str:
    """`host:port` from a DSN, for messages: the password is never part of it."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "the server of an invalid DSN"
    return f"{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}"


class PostgresStore(RunStore):
    """Runs journalled in PostgreSQL at `dsn` (`postgresql://user:password@host/db`).

    `min_size` and `max_size` bound the connection pool: `max_size` writes run at once,
    the others wait for a connection. See `RunStore` for the other options."""

    def __init__(
        self,
        dsn: str,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        keep_history: bool = False,
        ttl: timedelta | None = None,
        min_size: int = 1,
        max_size: int = 10,
    ) -> None:
        super().__init__(max_record_bytes=max_record_bytes, keep_history=keep_history, ttl=ttl)
        self._dsn = dsn
        self._server = _server_of(dsn)
        self._min_size, self._max_size = min_size, max_size
        self._pool: AsyncConnectionPool | None = None
        self._opening = asyncio.Lock()
        self._closed = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_sweep = monotonic()

    def __repr__(self) -> str:
        return f"PostgresStore({self._server!r})"

    async def _open(self) -> AsyncConnectionPool:
        """The pool, made on first use after migrating the schema over one connection of
        its own (a pool would retry an unreachable server until its timeout; this fails
        at once, naming the server)."""
        async with self._opening:
            if self._pool is not None:
                return self._pool
            try:
                connection = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
            except psycopg.OperationalError as error:
                raise StoreError(
                    f"cannot connect to PostgreSQL at {self._server}: "
                    f"{str(error).strip().splitlines()[0]}"
                ) from None
            async with connection:
                await migrate(connection)
                if self.ttl is not None:
                    await connection.execute(_PRUNE, [list(_TERMINAL), self.ttl])
            pool = AsyncConnectionPool(
                self._dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                kwargs={"autocommit": True},
                open=False,
            )
            try:
                await pool.open(wait=True)
            except BaseException:
                await pool.close()  # its workers would go on trying to connect
                raise
            self._pool = pool
            return pool

    @asynccontextmanager
    async def _connection(
        self, failure: type[StoreError] = StoreError
    ) -> AsyncIterator[psycopg.AsyncConnection[TupleRow]]:
        """A pooled connection, counted as work under way so that `close` waits for it.
        A database failure becomes `failure` (a `StoreError`) naming the server."""
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        self._in_flight += 1
        self._idle.clear()
        try:
            pool = self._pool or await self._open()
            async with pool.connection() as connection:
                yield connection
        except psycopg.Error as error:
            raise failure(f"PostgreSQL at {self._server} failed: {error}") from error
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    @property
    def dsn(self) -> str:
        return self._dsn

    def connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[TupleRow]]:
        """A connection of the store's pool (autocommit), to a database migrated to this
        agentflow's schema: for the tables that live beside the store's own (the DBOS
        runner's, `agentflow.runners.dbos`). A database failure raises `StoreError`."""
        return self._connection()

    async def create_run(
        self,
        run_id: str,
        workflow: str,
        version: str | None,
        records: Sequence[JournalRecord] = (),
    ) -> RunInfo:
        check_sizes(run_id, records, self.max_record_bytes)
        check_order(run_id, records, None)
        async with self._connection(StoreWriteError) as connection, connection.transaction():
            cursor = await connection.execute(
                "INSERT INTO agentflow_runs (run_id, workflow, version, status, created_at,"
                " updated_at) VALUES (%s, %s, %s, 'running', now(), now())"
                f" ON CONFLICT (run_id) DO NOTHING RETURNING {_RUN_COLUMNS}",
                [run_id, workflow, version],
            )
            row = await cursor.fetchone()
            if row is None:
                raise RunExistsError(f"a run with id {run_id!r} is already in the store")
            await self._append(connection, run_id, records)
        return _run_info(row)

    async def write(
        self,
        run_id: str,
        records: Sequence[JournalRecord] = (),
        *,
        status: RunStatus | None = None,
        result: str | None = None,
        checkpoint: Checkpoint | None = None,
        stream: Sequence[StreamEntry] = (),
    ) -> None:
        check_sizes(run_id, records, self.max_record_bytes)
        check_stream(run_id, stream, None, self.max_record_bytes)  # before anything is sent
        sweep = self._sweep_due(status)
        if checkpoint is None and sweep is None:
            await self._append_in_one_statement(run_id, records, status, result, stream)
            return
        async with self._connection(StoreWriteError) as connection, connection.transaction():
            cursor = await connection.execute(
                "SELECT status, checkpoint_seq, (SELECT max(seq) FROM agentflow_journal"
                " WHERE run_id = %s) FROM agentflow_runs WHERE run_id = %s FOR UPDATE",
                [run_id, run_id],
            )
            row = await cursor.fetchone()
            if row is None:
                raise RunNotFoundError(f"no run with id {run_id!r} is in the store")
            stored_status, checkpoint_seq, journal_seq = row
            check_not_finished(run_id, stored_status)
            # Without history, a checkpoint's records are gone: it holds the last seq.
            known = [seq for seq in (checkpoint_seq, journal_seq) if seq is not None]
            last_seq = check_order(run_id, records, max(known, default=None))
            if checkpoint is not None:
                check_checkpoint(run_id, checkpoint, last_seq, checkpoint_seq)
            if stream:
                cursor = await connection.execute(
                    "SELECT max(seq) FROM agentflow_stream WHERE run_id = %s", [run_id]
                )
                stream_row = await cursor.fetchone()
                assert stream_row is not None, "an aggregate has a row"
                check_stream(run_id, stream, stream_row[0], self.max_record_bytes)
            await self._append(connection, run_id, records)
            if stream:
                async with connection.cursor() as stream_cursor:
                    await stream_cursor.executemany(
                        "INSERT INTO agentflow_stream (run_id, seq, key, data)"
                        " VALUES (%s, %s, %s, %s)",
                        [(run_id, entry.seq, entry.key, entry.data) for entry in stream],
                    )
            await connection.execute(
                "UPDATE agentflow_runs SET updated_at = now(),"
                " status = coalesce(%s, status), result = coalesce(%s, result)"
                " WHERE run_id = %s",
                [status, result, run_id],
            )
            if checkpoint is not None:
                await self._store_checkpoint(connection, run_id, checkpoint)
            if sweep is not None:
                await connection.execute(_PRUNE, [list(_TERMINAL), sweep])

    async def _append_in_one_statement(
        self,
        run_id: str,
        records: Sequence[JournalRecord],
        status: RunStatus | None,
        result: str | None,
        stream: Sequence[StreamEntry],
    ) -> None:
        """A write without a checkpoint (nearly every one): one statement (`_APPEND`), so
        one round trip and an implicit transaction, instead of five or six. It writes only
        when the run has not ended and the records and stream entries come after the
        stored ones, and returns what it found, from which the same checks as `write`'s
        raise when it did not."""
        check_order(run_id, records, None)  # in the write itself: before anything is sent
        try:
            async with self._connection(StoreWriteError) as connection:
                cursor = await connection.execute(
                    _APPEND,
                    {
                        "run": run_id,
                        "first": records[0].seq if records else None,
                        "seqs": [record.seq for record in records],
                        "kinds": [record.kind for record in records],
                        "keys": [record.key for record in records],
                        "datas": [record.data for record in records],
                        "stream_first": stream[0].seq if stream else None,
                        "stream_seqs": [entry.seq for entry in stream],
                        "stream_keys": [entry.key for entry in stream],
                        "stream_datas": [entry.data for entry in stream],
                        "status": status,
                        "result": result,
                        "ended": list(_TERMINAL),
                    },
                )
                row = await cursor.fetchone()
        except StoreWriteError as error:
            if isinstance(error.__cause__, pg_errors.UniqueViolation):
                raise _duplicate_error(run_id, error.__cause__) from None
            raise
        if row is None:
            raise RunNotFoundError(f"no run with id {run_id!r} is in the store")
        stored_status, checkpoint_seq, journal_seq, stream_seq = row
        # The statement wrote nothing if one of these fails, for the same reasons.
        check_not_finished(run_id, stored_status)
        known = [seq for seq in (checkpoint_seq, journal_seq) if seq is not None]
        check_order(run_id, records, max(known, default=None))
        check_stream(run_id, stream, stream_seq, self.max_record_bytes)

    def _sweep_due(self, status: RunStatus | None) -> timedelta | None:
        """The TTL, when this write ends a run and the last sweep is a minute old."""
        if self.ttl is None or status not in TERMINAL_STATUSES:
            return None
        now = monotonic()
        if now - self._last_sweep < TTL_SWEEP_SECONDS:
            return None
        self._last_sweep = now
        return self.ttl

    async def _append(
        self,
        connection: psycopg.AsyncConnection[TupleRow],
        run_id: str,
        records: Sequence[JournalRecord],
    ) -> None:
        if not records:
            return
        try:
            async with connection.cursor() as cursor:
                await cursor.executemany(
                    "INSERT INTO agentflow_journal (run_id, seq, kind, key, data)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [(run_id, r.seq, r.kind, r.key, r.data) for r in records],
                )
        except pg_errors.UniqueViolation as error:
            raise _duplicate_error(run_id, error) from None

    async def _store_checkpoint(
        self,
        connection: psycopg.AsyncConnection[TupleRow],
        run_id: str,
        checkpoint: Checkpoint,
    ) -> None:
        await connection.execute(
            "UPDATE agentflow_runs SET checkpoint_seq = %s, checkpoint_data = %s WHERE run_id = %s",
            [checkpoint.seq, checkpoint.data, run_id],
        )
        if not self.keep_history:
            await connection.execute(
                "DELETE FROM agentflow_journal WHERE run_id = %s AND seq <= %s",
                [run_id, checkpoint.seq],
            )

    async def load(self, run_id: str) -> StoredRun:
        async with self._connection() as connection, connection.transaction():
            # One snapshot for both reads: a write between them cannot pair a checkpoint
            # with records it already folds.
            await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor = await connection.execute(
                f"SELECT {_RUN_COLUMNS}, checkpoint_seq, checkpoint_data FROM agentflow_runs"
                " WHERE run_id = %s",
                [run_id],
            )
            row = await cursor.fetchone()
            if row is None:
                raise RunNotFoundError(f"no run with id {run_id!r} is in the store")
            checkpoint_seq, checkpoint_data = row[7], row[8]
            cursor = await connection.execute(
                "SELECT seq, kind, key, data FROM agentflow_journal"
                " WHERE run_id = %s AND seq > %s ORDER BY seq",
                [run_id, -1 if checkpoint_seq is None else checkpoint_seq],
            )
            records = [JournalRecord(*record) for record in await cursor.fetchall()]
        checkpoint = None if checkpoint_seq is None else Checkpoint(checkpoint_seq, checkpoint_data)
        return StoredRun(_run_info(row), checkpoint, records)

    async def read_stream(
        self, run_id: str, after: int = -1, limit: int | None = None
    ) -> list[StreamEntry]:
        async with self._connection() as connection:
            cursor = await connection.execute(
                "SELECT s.seq, s.key, s.data FROM agentflow_runs r"
                " LEFT JOIN agentflow_stream s ON s.run_id = r.run_id AND s.seq > %s"
                " WHERE r.run_id = %s ORDER BY s.seq LIMIT %s",
                [after, run_id, None if limit is None else limit + 1],
            )
            rows = await cursor.fetchall()
        if not rows:
            raise RunNotFoundError(f"no run with id {run_id!r} is in the store")
        entries = [StreamEntry(*row) for row in rows if row[0] is not None]
        return entries[:limit]

    async def stream_position(self, run_id: str, keys: Sequence[str] = ()) -> StreamPosition:
        async with self._connection() as connection, connection.transaction():
            await connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor = await connection.execute(
                "SELECT (SELECT max(seq) FROM agentflow_stream WHERE run_id = %s)"
                " FROM agentflow_runs WHERE run_id = %s",
                [run_id, run_id],
            )
            row = await cursor.fetchone()
            if row is None:
                raise RunNotFoundError(f"no run with id {run_id!r} is in the store")
            cursor = await connection.execute(
                "SELECT key, count(*) FROM agentflow_stream WHERE run_id = %s"
                " AND key = ANY(%s) GROUP BY key",
                [run_id, list(keys)],
            )
            counts = {key: count for key, count in await cursor.fetchall()}
        return StreamPosition(0 if row[0] is None else row[0] + 1, counts)

    async def get_run(self, run_id: str) -> RunInfo | None:
        async with self._connection() as connection:
            cursor = await connection.execute(
                f"SELECT {_RUN_COLUMNS} FROM agentflow_runs WHERE run_id = %s", [run_id]
            )
            row = await cursor.fetchone()
        return None if row is None else _run_info(row)

    async def list_runs(
        self,
        status: RunStatus | None = None,
        workflow: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[RunInfo]:
        # Only the filters given are in the query, so that it can use their index.
        where = [
            f"{column} = %s"
            for column, value in [("status", status), ("workflow", workflow)]
            if value is not None
        ]
        query = f"SELECT {_RUN_COLUMNS} FROM agentflow_runs"
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY updated_at DESC, run_id LIMIT %s"
        parameters = [value for value in (status, workflow) if value is not None]
        async with self._connection() as connection:
            cursor = await connection.execute(query, [*parameters, limit])
            rows = await cursor.fetchall()
        for row in rows:
            yield _run_info(row)

    async def prune(self, older_than: timedelta) -> int:
        async with self._connection(StoreWriteError) as connection:
            cursor = await connection.execute(_PRUNE, [list(_TERMINAL), older_than])
            row = await cursor.fetchone()
            return 0 if row is None else int(row[0])

    async def close(self) -> None:
        self._closed = True
        await self._idle.wait()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
