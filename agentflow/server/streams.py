"""`RunEvents`: each run's streamed events, by their seq in the run's stored stream, for any
number of followers.

A durable run numbers every event it streams and keeps it in its store (`RunStore.
read_stream`), so the seq of an event is the same in every process: SSE frames carry it as
`id:`, and a client that reconnects with `Last-Event-ID` or `after_sequence`, to this
server or to one restarted after a crash, gets exactly the events after the last one it saw.

The server's runner is each run's one stream consumer and appends what this process streams
here (`append`), from `base`: the events before it were stored by an earlier process (the
run was resumed), and a follower reads those from the store first, then the ones held here,
then waits for more. The hand-over is by seq, so nothing is skipped or sent twice.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import AsyncIterator
from typing import Protocol, cast

from agentflow.context.serializers import JsonSerializer
from agentflow.events import Event
from agentflow.server.wire import is_terminal
from agentflow.stores.base import RunStore

READ_PAGE = 500
"""How many stored events a follower reads from the store at a time."""


class RunStreams(Protocol):
    """What the event routes ask of a runner's streams (`RunEvents` here; the DBOS runner
    follows the store, `agentflow.runners.dbos.tail`)."""

    async def where(self, run_id: str) -> tuple[bool, int, bool]:
        """Whether `run_id` can be followed here, the seq of its last event (-1: none
        yet), and whether that event is its terminal one."""

    def follow(
        self, run_id: str, after_sequence: int, most: int
    ) -> AsyncIterator[list[tuple[int, Event]]]:
        """Batches of `(seq, event)` after `after_sequence`, waiting for more, until the
        terminal event (included) or `stop`."""

    def stored(
        self, run_id: str, after_sequence: int, below: int | None = None
    ) -> AsyncIterator[list[tuple[int, Event]]]:
        """Batches of `(seq, event)` of the run's stored stream after `after_sequence`."""

    def stop(self) -> None:
        """End every follower now (the server is shutting down)."""


class _RunLog:
    __slots__ = ("base", "changed", "ended", "events", "seqs")

    def __init__(self, base: int) -> None:
        self.base = base
        self.seqs: list[int] = []
        self.events: list[Event] = []
        self.ended = False
        self.changed: asyncio.Future[None] | None = None
        """Done at the next append; made by the first follower that waits for it."""


class RunEvents:
    """The numbered events of every run this server streams."""

    def __init__(self, store: RunStore) -> None:
        self._store = store
        self._logs: dict[str, _RunLog] = {}
        self._stopped = False

    def stop(self) -> None:
        """End every follower now (the server is shutting down)."""
        self._stopped = True
        for log in self._logs.values():
            changed, log.changed = log.changed, None
            if changed is not None and not changed.done():
                changed.set_result(None)

    def forget(self, run_id: str) -> None:
        """Drop the events of `run_id` (an ended run; its followers have had them all)."""
        self._logs.pop(run_id, None)

    def open(self, run_id: str, base: int = 0) -> None:
        """Start the log of `run_id`, whose stored stream holds `base` events already (a
        run resumed after a restart; 0 for a new one)."""
        self._logs[run_id] = _RunLog(base)

    def append(self, run_id: str, seq: int | None, event: Event) -> None:
        """Add the event of `run_id` the run numbered `seq`. None: a write a re-run step
        made before a crash too, stored then under its seq (and skipped here), or a
        terminal event the store could not take (numbered after the last one). The
        terminal event ends the log."""
        log = self._logs[run_id]
        terminal = is_terminal(event)
        if seq is None:
            if not terminal:
                return
            seq = self.last_sequence(run_id) + 1
        log.seqs.append(seq)
        log.events.append(event)
        log.ended = log.ended or terminal
        changed, log.changed = log.changed, None
        if changed is not None and not changed.done():
            changed.set_result(None)

    def last_sequence(self, run_id: str) -> int:
        """The seq of the last event of `run_id`, or -1 when it has none yet."""
        log = self._logs.get(run_id)
        if log is None:
            return -1
        return log.seqs[-1] if log.seqs else log.base - 1

    async def where(self, run_id: str) -> tuple[bool, int, bool]:
        """Whether this server follows `run_id` (else its stream is only in the store),
        the seq of its last event (-1: none yet), and whether that is its terminal one."""
        if run_id in self._logs:
            return True, self.last_sequence(run_id), self.ended(run_id)
        # Ended, and no longer in memory: its stream is in the store.
        return False, (await self._store.stream_position(run_id)).next_seq - 1, True

    def ended(self, run_id: str) -> bool:
        """True once the terminal event of `run_id` is in its log."""
        log = self._logs.get(run_id)
        return log is not None and log.ended

    async def stored(
        self, run_id: str, after_sequence: int, below: int | None = None
    ) -> AsyncIterator[list[tuple[int, Event]]]:
        """Batches of `(seq, event)` from the run's stored stream after `after_sequence`
        (and below `below`): what a run streamed in an earlier process, or the whole stream
        of an ended run this server no longer keeps in memory."""
        last = after_sequence
        serializer = JsonSerializer()
        while below is None or last + 1 < below:
            entries = await self._store.read_stream(run_id, after=last, limit=READ_PAGE)
            if below is not None:
                entries = [entry for entry in entries if entry.seq < below]
            if not entries:
                return
            yield [
                (
                    entry.seq,
                    cast(Event, serializer.deserialize_at(entry.data, f"stream {entry.seq}")),
                )
                for entry in entries
            ]
            last = entries[-1].seq

    async def follow(
        self, run_id: str, after_sequence: int, most: int
    ) -> AsyncIterator[list[tuple[int, Event]]]:
        """Batches of `(seq, event)`: the events of `run_id` after `after_sequence`, as many
        at a time as have come (at most `most`), waiting for new ones, until the terminal
        event (included). A follower that lags behind the run gets its events in large
        batches, which a server writes out as one chunk each."""
        log = self._logs[run_id]
        last = after_sequence
        async for batch in self.stored(run_id, after_sequence, below=log.base):
            yield batch  # stored by the process before this one
            last = batch[-1][0]
        position = bisect_right(log.seqs, last)
        while True:
            while position < len(log.events):
                end = position + most
                batch = list(zip(log.seqs[position:end], log.events[position:end], strict=True))
                for offset, (_, event) in enumerate(batch):
                    if is_terminal(event):
                        yield batch[: offset + 1]
                        return
                yield batch
                position += len(batch)
            if log.ended or self._stopped:
                return
            if log.changed is None:
                log.changed = asyncio.get_running_loop().create_future()
            await asyncio.shield(log.changed)
