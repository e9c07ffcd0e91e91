"""`MemoryStore`: the `RunStore` contract in this process's memory, for tests and runs that
need a store's API without its durability.

Nothing is shared with another process and nothing outlives the object. Every operation
runs on the caller's thread with no awaits inside, so each write is atomic by construction:
it checks everything first, then applies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

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


@dataclass
class _Run:
    info: RunInfo
    records: list[JournalRecord] = field(default_factory=list)
    """Every record kept: those after the checkpoint, and with `keep_history` the folded ones."""
    keys: set[tuple[str, str]] = field(default_factory=set)
    """The kind+key of each record in `records`, as the unique index of a database."""
    last_seq: int | None = None
    checkpoint: Checkpoint | None = None
    stream: list[StreamEntry] = field(default_factory=list)


class MemoryStore(RunStore):
    """A `RunStore` in a dict, for this process only (see the module docstring)."""

    def __init__(
        self,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        keep_history: bool = False,
        ttl: timedelta | None = None,
    ) -> None:
        super().__init__(max_record_bytes=max_record_bytes, keep_history=keep_history, ttl=ttl)
        self._runs: dict[str, _Run] = {}
        self._clock = WriteClock()
        self._closed = False
        self._ttl_pruned_at = self._clock.now()

    async def create_run(
        self,
        run_id: str,
        workflow: str,
        version: str | None,
        records: Sequence[JournalRecord] = (),
    ) -> RunInfo:
        self._check_open()
        if run_id in self._runs:
            raise RunExistsError(f"run {run_id!r} is already in the store")
        check_sizes(run_id, records, self.max_record_bytes)
        last_seq = check_order(run_id, records, None)
        now = self._clock.now()
        info = RunInfo(run_id, workflow, version, "running", now, now, None)
        run = _Run(info, last_seq=last_seq)
        self._append(run, records)
        self._runs[run_id] = run
        return info

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
        run = self._run(run_id)
        check_not_finished(run_id, run.info.status)
        check_sizes(run_id, records, self.max_record_bytes)
        last_seq = check_order(run_id, records, run.last_seq)
        check_stream(
            run_id, stream, run.stream[-1].seq if run.stream else None, self.max_record_bytes
        )
        for record in records:
            if record.key is not None and (record.kind, record.key) in run.keys:
                raise duplicate_key_error(run_id, record)
        if checkpoint is not None:
            previous = run.checkpoint.seq if run.checkpoint is not None else None
            check_checkpoint(run_id, checkpoint, last_seq, previous)
        # Everything is checked: from here on, nothing fails.
        self._append(run, records)
        run.stream.extend(stream)
        run.last_seq = last_seq
        if checkpoint is not None:
            run.checkpoint = checkpoint
            if not self.keep_history:
                self._fold(run, checkpoint.seq)
        now = self._clock.now()
        run.info = replace(
            run.info,
            status=status or run.info.status,
            result=result if result is not None else run.info.result,
            updated_at=now,
        )
        ttl_due = now - self._ttl_pruned_at >= timedelta(seconds=TTL_SWEEP_SECONDS)
        if status in TERMINAL_STATUSES and self.ttl is not None and ttl_due:
            self._ttl_pruned_at = now
            self._drop_ended_before(now - self.ttl)

    async def load(self, run_id: str) -> StoredRun:
        run = self._run(run_id)
        after = run.checkpoint.seq if run.checkpoint is not None else None
        records = [r for r in run.records if after is None or r.seq > after]
        return StoredRun(run.info, run.checkpoint, records)

    async def read_stream(
        self, run_id: str, after: int = -1, limit: int | None = None
    ) -> list[StreamEntry]:
        entries = [entry for entry in self._run(run_id).stream if entry.seq > after]
        return entries[:limit]

    async def stream_position(self, run_id: str, keys: Sequence[str] = ()) -> StreamPosition:
        stream = self._run(run_id).stream
        asked = set(keys)
        counts: dict[str, int] = {}
        for entry in stream:
            if entry.key is not None and entry.key in asked:
                counts[entry.key] = counts.get(entry.key, 0) + 1
        return StreamPosition(stream[-1].seq + 1 if stream else 0, counts)

    async def get_run(self, run_id: str) -> RunInfo | None:
        self._check_open()
        run = self._runs.get(run_id)
        return run.info if run is not None else None

    async def list_runs(
        self,
        status: RunStatus | None = None,
        workflow: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[RunInfo]:
        self._check_open()
        infos = sorted(
            (
                run.info
                for run in self._runs.values()
                if (status is None or run.info.status == status)
                and (workflow is None or run.info.workflow == workflow)
            ),
            key=lambda info: info.updated_at,
            reverse=True,
        )
        for info in infos[:limit]:
            yield info

    async def prune(self, older_than: timedelta) -> int:
        self._check_open()
        return self._drop_ended_before(self._clock.now() - older_than)

    async def close(self) -> None:
        self._closed = True
        self._runs.clear()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the MemoryStore is closed; open a new store")

    def _run(self, run_id: str) -> _Run:
        self._check_open()
        run = self._runs.get(run_id)
        if run is None:
            raise RunNotFoundError(f"run {run_id!r} is not in the store")
        return run

    @staticmethod
    def _append(run: _Run, records: Sequence[JournalRecord]) -> None:
        run.records.extend(records)
        run.keys.update((r.kind, r.key) for r in records if r.key is not None)

    @staticmethod
    def _fold(run: _Run, seq: int) -> None:
        folded = [r for r in run.records if r.seq <= seq]
        run.records = [r for r in run.records if r.seq > seq]
        run.keys.difference_update((r.kind, r.key) for r in folded if r.key is not None)

    def _drop_ended_before(self, cutoff: datetime) -> int:
        ended = [
            run_id
            for run_id, run in self._runs.items()
            if run.info.status in TERMINAL_STATUSES and run.info.updated_at < cutoff
        ]
        for run_id in ended:
            del self._runs[run_id]
        return len(ended)
