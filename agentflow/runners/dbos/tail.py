"""`StoreTail`: a replica's view of runs' streams, which workers write to the store.

A durable run numbers each event it streams and stores it under that seq (the stream's
entries commit with the records that made them, and a step re-run after a crash skips the
writes its earlier run stored), so reading the store by seq gives every event once, in
order, whichever worker drove which part of the run. A follower reads the pages after the
last seq it gave and, when there is nothing new, reads again after a pause that grows from
`first_pause` to `longest_pause` and starts over at each new event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from agentflow.errors import RunNotFoundError
from agentflow.events import Event
from agentflow.server.streams import RunEvents
from agentflow.server.wire import is_terminal
from agentflow.stores.base import TERMINAL_STATUSES, RunStore


class StoreTail:
    """The `RunStreams` of a replica that runs nothing itself; see the module docstring."""

    def __init__(
        self, store: RunStore, *, first_pause: float = 0.005, longest_pause: float = 0.1
    ) -> None:
        self._store = store
        self._pages = RunEvents(store)
        """Reads the stored stream a page at a time (`RunEvents.stored`)."""
        self.first_pause = first_pause
        self.longest_pause = longest_pause
        self._stopping: asyncio.Event | None = None

    async def where(self, run_id: str) -> tuple[bool, int, bool]:
        """Any run can be followed here, ended or not: from the store."""
        info = await self._store.get_run(run_id)
        if info is None:
            return True, -1, False  # queued: no worker has put it in the store yet
        last = (await self._store.stream_position(run_id)).next_seq - 1
        return True, last, info.status in TERMINAL_STATUSES

    def stored(
        self, run_id: str, after_sequence: int, below: int | None = None
    ) -> AsyncIterator[list[tuple[int, Event]]]:
        return self._pages.stored(run_id, after_sequence, below)

    async def follow(
        self, run_id: str, after_sequence: int, most: int
    ) -> AsyncIterator[list[tuple[int, Event]]]:
        stopping = self._stopping_event()
        last = after_sequence
        pause = self.first_pause
        ended = False
        while not stopping.is_set():
            fresh = False
            try:
                async for page in self._pages.stored(run_id, last):
                    for start in range(0, len(page), most):
                        batch = page[start : start + most]
                        for offset, (_, event) in enumerate(batch):
                            if is_terminal(event):
                                yield batch[: offset + 1]
                                return
                        yield batch
                    last = page[-1][0]
                    fresh = True
            except RunNotFoundError:
                pass  # not in the store yet
            if fresh:
                pause = self.first_pause
                continue
            if ended:
                return  # its terminal event was at or before `after_sequence`
            info = await self._store.get_run(run_id)
            if info is not None and info.status in TERMINAL_STATUSES:
                ended = True  # read once more: the end may have come after that read
                continue
            try:
                await asyncio.wait_for(stopping.wait(), pause)
            except TimeoutError:
                pause = min(pause * 2, self.longest_pause)

    def stop(self) -> None:
        self._stopping_event().set()

    def _stopping_event(self) -> asyncio.Event:
        if self._stopping is None:
            self._stopping = asyncio.Event()
        return self._stopping
