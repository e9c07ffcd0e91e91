"""`SqliteStore`: the embedded default `RunStore`, one SQLite file, the standard library's
sqlite3 and nothing else.

Every operation below is a plain function of the connection, run on the store's writer
thread (`sqlite_thread.WriterThread`: one thread, group commit, a savepoint per operation);
the coroutines only queue it and await the answer, so the event loop never waits for the
disk. Opening (WAL, `synchronous=FULL`, migrations) is `sqlite_schema`'s job; the checks
every store shares are in `checks`. Times are stored as UTC ISO 8601 text, which sorts as
it compares.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Self

from agentflow.errors import RunExistsError, RunNotFoundError, StoreError
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
    duplicate_key_error,
)
from agentflow.stores.clock import WriteClock
from agentflow.stores.sqlite_schema import open_database
from agentflow.stores.sqlite_thread import WriterThread

"""A run that ends prunes the expired ones at most this often (pruning scans the index)."""

_RUN_COLUMNS = "run_id, workflow, version, status, created_at, updated_at, result"
_ENDED = "status IN ('completed', 'failed', 'cancelled')"


class SqliteStore(RunStore):
    """Runs in the SQLite database at `path` (created when missing). The file is opened,
    and migrated, by the first operation or `async with`; see `RunStore` for the options.

    Several processes may open one file: SQLite's lock orders their writes, and each
    store's writes are group-committed by its own thread."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        keep_history: bool = False,
        ttl: timedelta | None = None,
    ) -> None:
        super().__init__(max_record_bytes=max_record_bytes, keep_history=keep_history, ttl=ttl)
        self.path = Path(path)
        self._clock = WriteClock()  # used on the writer thread only
        self._ttl_pruned_at = time.monotonic()
        self._thread = WriterThread(self.path, self._open)

    async def __aenter__(self) -> Self:
        await self._thread.submit(_nothing)  # open now, so that a bad file fails here
        return self

    async def create_run(
        self,
        run_id: str,
        workflow: str,
        version: str | None,
        records: Sequence[JournalRecord] = (),
    ) -> RunInfo:
        records = tuple(records)  # the caller may change its list while this one waits
        return await self._thread.submit(
            lambda db: self._create_run(db, run_id, workflow, version, records)
        )

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
        # The caller may change its lists while this write waits.
        records, entries = tuple(records), tuple(stream)
        await self._thread.submit(
            lambda db: self._write(db, run_id, records, status, result, checkpoint, entries)
        )

    async def load(self, run_id: str) -> StoredRun:
        return await self._thread.submit(lambda db: self._load(db, run_id))

    async def read_stream(
        self, run_id: str, after: int = -1, limit: int | None = None
    ) -> list[StreamEntry]:
        return await self._thread.submit(lambda db: _read_stream(db, run_id, after, limit))

    async def stream_position(self, run_id: str, keys: Sequence[str] = ()) -> StreamPosition:
        asked = json.dumps(list(keys))
        return await self._thread.submit(lambda db: _stream_position(db, run_id, asked))

    async def get_run(self, run_id: str) -> RunInfo | None:
        return await self._thread.submit(lambda db: _get_run(db, run_id))

    async def list_runs(
        self,
        status: RunStatus | None = None,
        workflow: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[RunInfo]:
        for info in await self._thread.submit(lambda db: _list_runs(db, status, workflow, limit)):
            yield info

    async def prune(self, older_than: timedelta) -> int:
        return await self._thread.submit(lambda db: self._prune(db, older_than))

    async def close(self) -> None:
        await self._thread.stop()

    # On the writer thread from here on.

    def _open(self) -> sqlite3.Connection:
        connection = open_database(self.path)
        if self.ttl is not None:
            try:
                connection.execute("BEGIN IMMEDIATE")
                self._prune(connection, self.ttl)
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                connection.close()
                raise StoreError(
                    f"cannot drop the expired runs of the SQLite database at '{self.path}': {error}"
                ) from error
        return connection

    def _create_run(
        self,
        db: sqlite3.Connection,
        run_id: str,
        workflow: str,
        version: str | None,
        records: Sequence[JournalRecord],
    ) -> RunInfo:
        check_sizes(run_id, records, self.max_record_bytes)
        check_order(run_id, records, None)
        now = self._clock.now()
        try:
            db.execute(
                f"INSERT INTO runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, 'running', ?, ?, NULL)",
                (run_id, workflow, version, _text(now), _text(now)),
            )
        except sqlite3.IntegrityError as error:
            raise RunExistsError(f"run {run_id!r} is already in the store") from error
        _insert_records(db, run_id, records)
        return RunInfo(run_id, workflow, version, "running", now, now, None)

    def _write(
        self,
        db: sqlite3.Connection,
        run_id: str,
        records: Sequence[JournalRecord],
        status: RunStatus | None,
        result: str | None,
        checkpoint: Checkpoint | None,
        stream: Sequence[StreamEntry],
    ) -> None:
        row = db.execute(
            "SELECT status, checkpoint_seq, (SELECT max(seq) FROM journal WHERE run_id = ?) "
            "FROM runs WHERE run_id = ?",
            (run_id, run_id),
        ).fetchone()
        if row is None:
            raise RunNotFoundError(f"run {run_id!r} is not in the store")
        stored_status, checkpoint_seq, journal_seq = row
        check_not_finished(run_id, stored_status)
        check_sizes(run_id, records, self.max_record_bytes)
        stored = [seq for seq in (checkpoint_seq, journal_seq) if seq is not None]
        last_seq = check_order(run_id, records, max(stored, default=None))
        if checkpoint is not None:
            check_checkpoint(run_id, checkpoint, last_seq, checkpoint_seq)
        if stream:
            stream_seq = db.execute(
                "SELECT max(seq) FROM stream WHERE run_id = ?", (run_id,)
            ).fetchone()[0]
            check_stream(run_id, stream, stream_seq, self.max_record_bytes)
        _insert_records(db, run_id, records)
        db.executemany(
            "INSERT INTO stream (run_id, seq, key, data) VALUES (?, ?, ?, ?)",
            [(run_id, entry.seq, entry.key, entry.data) for entry in stream],
        )
        now = self._clock.now()
        db.execute(
            "UPDATE runs SET status = coalesce(?, status), result = coalesce(?, result), "
            "updated_at = ? WHERE run_id = ?",
            (status, result, _text(now), run_id),
        )
        if checkpoint is not None:
            db.execute(
                "UPDATE runs SET checkpoint_seq = ?, checkpoint_data = ? WHERE run_id = ?",
                (checkpoint.seq, checkpoint.data, run_id),
            )
            if not self.keep_history:
                db.execute(
                    "DELETE FROM journal WHERE run_id = ? AND seq <= ?", (run_id, checkpoint.seq)
                )
        ttl_due = time.monotonic() - self._ttl_pruned_at >= TTL_SWEEP_SECONDS
        if status in TERMINAL_STATUSES and self.ttl is not None and ttl_due:
            self._prune(db, self.ttl)

    def _load(self, db: sqlite3.Connection, run_id: str) -> StoredRun:
        row = db.execute(
            f"SELECT {_RUN_COLUMNS}, checkpoint_seq, checkpoint_data FROM runs WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            raise RunNotFoundError(f"run {run_id!r} is not in the store")
        checkpoint_seq, checkpoint_data = row[-2:]
        records = [
            JournalRecord(seq, kind, key, data)
            for seq, kind, key, data in db.execute(
                "SELECT seq, kind, key, data FROM journal WHERE run_id = ? AND seq > ? "
                "ORDER BY seq",
                (run_id, checkpoint_seq if checkpoint_seq is not None else -(2**63)),
            )
        ]
        checkpoint = None if checkpoint_seq is None else Checkpoint(checkpoint_seq, checkpoint_data)
        return StoredRun(_run_info(row[:-2]), checkpoint, records)

    def _prune(self, db: sqlite3.Connection, older_than: timedelta) -> int:
        self._ttl_pruned_at = time.monotonic()
        cutoff = _text(self._clock.now() - older_than)
        for table in ("journal", "stream"):
            db.execute(
                f"DELETE FROM {table} WHERE run_id IN "
                f"(SELECT run_id FROM runs WHERE {_ENDED} AND updated_at < ?)",
                (cutoff,),
            )
        return db.execute(f"DELETE FROM runs WHERE {_ENDED} AND updated_at < ?", (cutoff,)).rowcount


def _nothing(db: sqlite3.Connection) -> None:
    """An operation that only makes the thread open the database."""


def _insert_records(db: sqlite3.Connection, run_id: str, records: Sequence[JournalRecord]) -> None:
    for record in records:
        try:
            db.execute(
                "INSERT INTO journal (run_id, seq, kind, key, data) VALUES (?, ?, ?, ?, ?)",
                (run_id, record.seq, record.kind, record.key, record.data),
            )
        except sqlite3.IntegrityError as error:
            # The seqs were checked to come after the stored ones: the kind+key is taken.
            raise duplicate_key_error(run_id, record) from error


def _check_run(db: sqlite3.Connection, run_id: str) -> None:
    if db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
        raise RunNotFoundError(f"run {run_id!r} is not in the store")


def _read_stream(
    db: sqlite3.Connection, run_id: str, after: int, limit: int | None
) -> list[StreamEntry]:
    _check_run(db, run_id)
    rows = db.execute(
        "SELECT seq, key, data FROM stream WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        (run_id, after, -1 if limit is None else limit),
    )
    return [StreamEntry(*row) for row in rows]


def _stream_position(db: sqlite3.Connection, run_id: str, keys: str) -> StreamPosition:
    """`keys`: the lineages asked about, as a JSON list (one parameter, however many)."""
    _check_run(db, run_id)
    last = db.execute("SELECT max(seq) FROM stream WHERE run_id = ?", (run_id,)).fetchone()[0]
    counts = db.execute(
        "SELECT key, count(*) FROM stream WHERE run_id = ? "
        "AND key IN (SELECT value FROM json_each(?)) GROUP BY key",
        (run_id, keys),
    )
    return StreamPosition(0 if last is None else last + 1, dict(counts.fetchall()))


def _get_run(db: sqlite3.Connection, run_id: str) -> RunInfo | None:
    row = db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else _run_info(row)


def _list_runs(
    db: sqlite3.Connection, status: RunStatus | None, workflow: str | None, limit: int | None
) -> list[RunInfo]:
    # Only the filters given, so that SQLite can pick the (status, updated_at) index.
    where = [("status = ?", status), ("workflow = ?", workflow)]
    chosen = [(clause, value) for clause, value in where if value is not None]
    sql = f"SELECT {_RUN_COLUMNS} FROM runs"
    if chosen:
        sql += " WHERE " + " AND ".join(clause for clause, _ in chosen)
    sql += " ORDER BY updated_at DESC LIMIT ?"
    values = [value for _, value in chosen]
    rows = db.execute(sql, (*values, -1 if limit is None else limit))
    return [_run_info(row) for row in rows]


def _text(moment: datetime) -> str:
    """A UTC time as the database keeps it: fixed-width ISO 8601, so that text order is time
    order (plain `isoformat()` drops the microseconds when they are zero)."""
    return moment.isoformat(timespec="microseconds")


def _run_info(row: Any) -> RunInfo:
    run_id, workflow, version, status, created_at, updated_at, result = row
    return RunInfo(
        run_id,
        workflow,
        version,
        status,
        datetime.fromisoformat(created_at),
        datetime.fromisoformat(updated_at),
        result,
    )
