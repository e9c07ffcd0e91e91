"""`WatchedStore`: a real store behind a gate a test controls, which also notes every
write that reached it (records, status, checkpoint), so that a test can see what a run
wrote and when, or make the process "die" under a run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

from agentflow.errors import StoreWriteError
from agentflow.stores.base import (
    Checkpoint,
    JournalRecord,
    RunInfo,
    RunStatus,
    RunStore,
    StoredRun,
    StreamEntry,
    StreamPosition,
)


class WatchedStore(RunStore):
    """A real store behind a gate the test controls: `write` waits while `gate` is clear,
    fails (writing nothing) once `gone` is set or when a record's or a stream entry's key
    is `fail_on`, and notes every write that reached the store."""

    def __init__(self, inner: RunStore) -> None:
        super().__init__()
        self.inner = inner
        self.gate = asyncio.Event()
        self.gate.set()
        self.gone = False
        """As if the process had died: nothing more reaches the store."""
        self.fail_on: str | None = None
        self.writes: list[tuple[list[JournalRecord], RunStatus | None, Checkpoint | None]] = []
        self.stream_writes: list[list[StreamEntry]] = []
        """The stream entries of each write in `writes`."""
        self._wrote = asyncio.Event()

    @property
    def written_keys(self) -> set[str]:
        return {r.key for records, _, _ in self.writes for r in records if r.key is not None}

    async def create_run(
        self,
        run_id: str,
        workflow: str,
        version: str | None,
        records: Sequence[JournalRecord] = (),
    ) -> RunInfo:
        return await self.inner.create_run(run_id, workflow, version, records)

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
        await self.gate.wait()
        if self.gone:
            raise StoreWriteError(f"run {run_id!r}: the process is gone")
        failing = self.fail_on
        if failing is not None and any(w.key == failing for w in [*records, *stream]):
            raise StoreWriteError(f"run {run_id!r}: the disk is full")
        await self.inner.write(
            run_id, records, status=status, result=result, checkpoint=checkpoint, stream=stream
        )
        self.writes.append((list(records), status, checkpoint))
        self.stream_writes.append(list(stream))
        self._wrote.set()

    async def until_status(self, status: RunStatus) -> None:
        """Return once a write giving a run `status` has reached the store."""
        while all(written != status for _, written, _ in self.writes):
            self._wrote.clear()
            await self._wrote.wait()

    async def load(self, run_id: str) -> StoredRun:
        return await self.inner.load(run_id)

    async def read_stream(
        self, run_id: str, after: int = -1, limit: int | None = None
    ) -> list[StreamEntry]:
        return await self.inner.read_stream(run_id, after, limit)

    async def stream_position(self, run_id: str, keys: Sequence[str] = ()) -> StreamPosition:
        return await self.inner.stream_position(run_id, keys)

    async def get_run(self, run_id: str) -> RunInfo | None:
        return await self.inner.get_run(run_id)

    def list_runs(
        self,
        status: RunStatus | None = None,
        workflow: str | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[RunInfo]:
        return self.inner.list_runs(status, workflow, limit)

    async def prune(self, older_than: timedelta) -> int:
        return await self.inner.prune(older_than)

    async def close(self) -> None:
        await self.inner.close()
