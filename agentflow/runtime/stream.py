"""The run's event stream: events written by steps, in order, ending with the terminal
StopEvent.

A deque plus one waiter future rather than an `asyncio.Queue`: writing must stay a plain
synchronous call (`ctx.write_event_to_stream`) that costs an append, and a consumer that
is behind drains the buffer without suspending once per event. The deque is dropped
whenever the consumer has caught up, so that a run waiting for a human does not hold a
deque's 64-slot block.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from agentflow.errors import StreamAlreadyConsumedError
from agentflow.events import Event, StopEvent


class EventStream:
    """A single-consumer buffer of one run's streamed events."""

    __slots__ = ("_buffer", "_closed", "_consumed", "_waiter", "_written")

    def __init__(self) -> None:
        self._buffer: deque[Event] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._consumed = False
        self._written = 0

    @property
    def closed(self) -> bool:
        """True once the terminal event has been written."""
        return self._closed

    def write(self, event: Event) -> None:
        """Append `event`; wakes the consumer if it is waiting. Nothing is written after
        the terminal event (a task outliving its run may still try)."""
        if self._closed:
            return
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = deque()
        buffer.append(event)
        self._written += 1
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def close(self, terminal: StopEvent) -> None:
        """Write the terminal event; nothing is written after it."""
        self.write(terminal)
        self._closed = True

    def position(self) -> int:
        """How many events the consumer has taken."""
        return self._written - len(self._buffer or ())

    def unconsumed(self) -> list[Event]:
        """The events written but not taken yet, oldest first."""
        return list(self._buffer or ())

    def resume_at(self, position: int) -> None:
        """Continue counting from a saved run's position."""
        self._written += position

    def consume(self) -> AsyncIterator[Event]:
        """The one iterator over this stream; a second call raises."""
        if self._consumed:
            raise StreamAlreadyConsumedError(
                "this run's events were already consumed by another stream_events() call; "
                "a stream has a single consumer, so keep one iterator and fan out yourself"
            )
        self._consumed = True
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            buffer = self._buffer
            if buffer:
                event = buffer.popleft()
                if not buffer:
                    # Dropped before the yield, local reference included: the consumer
                    # may pause there for a long time.
                    self._buffer = buffer = None
                yield event
                continue
            if self._closed:
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            await waiter
