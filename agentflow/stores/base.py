"""What every durable run store does: the records of runs, kept across processes.

A store keeps, per run, a row of metadata (`RunInfo`), an append-only journal of
`JournalRecord`s numbered by `seq`, at most one `Checkpoint`: a snapshot that folds
every record up to its `seq`, and the run's stream: every event the run streamed, as
`StreamEntry`s numbered from 0, kept (a checkpoint does not drop them) until the run is
dropped. The store does not read what a record says (`data` is JSON
text the runtime writes and folds); it keeps the records in order, writes each call to
`write` atomically, and answers `load` with the checkpoint and the records after it.

Every operation is a coroutine that never blocks the event loop: the SQLite store does its
I/O on a writer thread, the PostgreSQL store through psycopg's async pool. A write that
fails raises `StoreWriteError` (or a more precise `StoreError`) to its caller: nothing is
dropped silently.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Literal, Self

RunStatus = Literal["running", "waiting", "completed", "failed", "cancelled"]
"""`waiting`: nothing runs and the run waits for an event from outside (a human)."""

TERMINAL_STATUSES: frozenset[RunStatus] = frozenset({"completed", "failed", "cancelled"})
"""A run in one of these has ended: it is never written again, and `prune` may drop it."""

TTL_SWEEP_SECONDS = 60.0
"""With a `ttl`, a store drops expired runs when a run ends at most this often."""

DEFAULT_MAX_RECORD_BYTES = 1_000_000
"""The default size limit of one record's `data`, in UTF-8 bytes."""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run as `list_runs` and `get_run` report it."""

    run_id: str
    workflow: str
    """The qualified name of the run's workflow class (`module:QualName`)."""
    version: str | None
    """The workflow's `version` when the run started, if it declared one."""
    status: RunStatus
    created_at: datetime
    """When the run was created (UTC, timezone-aware)."""
    updated_at: datetime
    """When the run was last written (UTC, timezone-aware)."""
    result: str | None
    """JSON text the runtime wrote with the run's terminal status (its result or error)."""


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One entry of a run's journal."""

    seq: int
    """Its place in the run's journal: unique per run, and every write's records come
    after the ones already stored (the runtime numbers them)."""
    kind: str
    """What the record is, in the runtime's words ("execution", "sent", ...)."""
    key: str | None
    """For a step execution, its lineage (the step and the id of the event it consumed):
    unique per run and kind, so that a completion is never recorded twice."""
    data: str
    """JSON text; the store keeps it as it is."""


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One event of a run's stream, as its followers get it."""

    seq: int
    """Its place in the run's stream, from 0, without gaps (the runtime numbers them)."""
    key: str | None
    """The lineage of the step execution that wrote it (`step@event_id`), or None for an
    event the run itself wrote (its terminal StopEvent)."""
    data: str
    """The event as JSON text; the store keeps it as it is."""


@dataclass(frozen=True, slots=True)
class StreamPosition:
    """Where a resumed run's stream goes on: what `stream_position` gives."""

    next_seq: int
    """The seq of the next entry (0 for a run that streamed nothing)."""
    counts: dict[str, int]
    """For each lineage asked about that has entries, how many it has."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A snapshot of a run that folds every journal record up to `seq`."""

    seq: int
    data: str
    """JSON text; the store keeps it as it is."""


@dataclass(frozen=True, slots=True)
class StoredRun:
    """What `load` gives: everything needed to go on with a run."""

    info: RunInfo
    checkpoint: Checkpoint | None
    records: list[JournalRecord]
    """The records after the checkpoint (all of them without one), in `seq` order."""


class RunStore(abc.ABC):
    """A durable store of runs. Use it as `async with store:`, or call `close()`.

    `max_record_bytes` caps one record's data (not a checkpoint's, which holds the whole
    live run: see `checks.check_sizes`). `keep_history=True` keeps the records a checkpoint
    folds (by default a checkpoint drops them, so that a live run's storage is its
    checkpoint plus the records since). `ttl`, when set, lets the
    store drop terminal runs last written longer ago than that: at open, and afterwards
    whenever a run ends, at most once a minute.
    """

    def __init__(
        self,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        keep_history: bool = False,
        ttl: timedelta | None = None,
    ) -> None:
        if max_record_bytes <= 0:
            raise ValueError(f"max_record_bytes must be positive, got {max_record_bytes}")
        if ttl is not None and ttl <= timedelta(0):
            raise ValueError(f"ttl must be a positive timedelta or None, got {ttl}")
        self.max_record_bytes = max_record_bytes
        self.keep_history = keep_history
        self.ttl = ttl

    @abc.abstractmethod
    async def create_run(
        self,
        run_id: str,
        workflow: str,
        version: str | None,
        records: Sequence[JournalRecord] = (),
    ) -> RunInfo:
        """Add a run, status `running`, with its first records, in one transaction.
        `RunExistsError` if the id is taken."""

    @abc.abstractmethod
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
        """Append `records` and the `stream` entries, set the status (and `result`, with a
        terminal status) and store `checkpoint` (replacing the previous one and, unless
        `keep_history`, dropping the records it folds; never stream entries), all in one
        transaction: after a crash, either all of it is there or none of it.

        Concurrent writes (of one run or many) may share one commit; each caller still
        gets its own outcome. Raises `RunNotFoundError`, `RunFinishedError` (the run has
        ended; a terminal status is final), `RecordTooLargeError` (nothing written),
        `StoreWriteError` (a record's seq or kind+key is already stored, a stream entry's
        seq does not come after the stored ones, or the database failed). A stream entry
        counts against `max_record_bytes` as a record does."""

    @abc.abstractmethod
    async def load(self, run_id: str) -> StoredRun:
        """The run, its checkpoint and the records after it. `RunNotFoundError`."""

    @abc.abstractmethod
    async def read_stream(
        self, run_id: str, after: int = -1, limit: int | None = None
    ) -> list[StreamEntry]:
        """The run's stream entries with a seq above `after`, in seq order, at most
        `limit` of them. `RunNotFoundError`."""

    @abc.abstractmethod
    async def stream_position(self, run_id: str, keys: Sequence[str] = ()) -> StreamPosition:
        """Where the run's stream goes on, and how many entries each of the lineages
        `keys` wrote (what a resume needs so as not to store an event twice).
        `RunNotFoundError`."""

    @abc.abstractmethod
    async def get_run(self, run_id: str) -> RunInfo | None:
        """The run's metadata, or None."""

    @abc.abstractmethod
    def list_runs(
        self,
        status: RunStatus | None = None,
        workflow: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[RunInfo]:
        """Runs, most recently written first, optionally only those with `status` or of
        `workflow`: `[r.run_id async for r in store.list_runs(status="waiting")]`."""

    @abc.abstractmethod
    async def prune(self, older_than: timedelta) -> int:
        """Drop terminal runs last written more than `older_than` ago, with their records
        and stream;
        the number dropped. Runs that have not ended are never dropped."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish the writes under way, then release the connection(s). Idempotent; the
        store cannot be used afterwards."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
