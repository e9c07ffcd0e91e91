"""`RunEvents`: each run's streamed events, numbered as they come, for any number of
followers.

A run's stream has one consumer (`handler.stream_events()`); the server's runner is that
consumer and appends every event here, and each HTTP client follows from here, from any
sequence. The sequence of an event is its place in the run's stream, from 0: SSE frames
carry it as `id:`, so a client that reconnects with `Last-Event-ID` or `after_sequence`
gets exactly the events after the last one it saw. The events are kept in this process's
memory for now; a store that keeps the stream will stand behind this same class.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from agentflow.events import Event
from agentflow.server.wire import is_terminal


class _RunLog:
    __slots__ = ("changed", "ended", "events")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.ended = False
        self.changed: asyncio.Future[None] | None = None
        """Done at the next append; made by the first follower that waits for it."""


class RunEvents:
    """The numbered events of every run this server streams."""

    def __init__(self) -> None:
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

    def open(self, run_id: str) -> None:
        """Start the log of `run_id` (again, for a run resumed after a restart: its
        numbering starts over, as the events before the restart are not kept)."""
        self._logs[run_id] = _RunLog()

    def knows(self, run_id: str) -> bool:
        """True if this server streamed (or streams) `run_id`."""
        return run_id in self._logs

    def append(self, run_id: str, event: Event) -> int:
        """Add the next event of `run_id`; its sequence. The terminal event ends the log."""
        log = self._logs[run_id]
        log.events.append(event)
        log.ended = log.ended or is_terminal(event)
        changed, log.changed = log.changed, None
        if changed is not None and not changed.done():
            changed.set_result(None)
        return len(log.events) - 1

    def last_sequence(self, run_id: str) -> int:
        """The sequence of the last event of `run_id`, or -1 when it has none yet."""
        log = self._logs.get(run_id)
        return -1 if log is None else len(log.events) - 1

    def ended(self, run_id: str) -> bool:
        """True once the terminal event of `run_id` is in its log."""
        log = self._logs.get(run_id)
        return log is not None and log.ended

    async def follow(
        self, run_id: str, after_sequence: int, most: int
    ) -> AsyncIterator[tuple[int, list[Event]]]:
        """`(sequence of the first, events)`: the events of `run_id` after
        `after_sequence`, as many at a time as have come (at most `most`), waiting for new
        ones, until the terminal event (included). A follower that lags behind the run gets
        its events in large batches, which a server writes out as one chunk each."""
        log = self._logs[run_id]
        position = max(after_sequence + 1, 0)
        while True:
            while position < len(log.events):
                batch = log.events[position : position + most]
                for offset, event in enumerate(batch):
                    if is_terminal(event):
                        yield position, batch[: offset + 1]
                        return
                yield position, batch
                position += len(batch)
            if log.ended or self._stopped:
                return
            if log.changed is None:
                log.changed = asyncio.get_running_loop().create_future()
            await asyncio.shield(log.changed)
