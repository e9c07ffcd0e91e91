"""The run's event stream: events written by steps, in order, ending with the terminal
StopEvent.

A list read from a moving head, plus one waiter future, rather than an `asyncio.Queue`:
writing must stay a plain synchronous call (`ctx.write_event_to_stream`) that costs an
append, a consumer that is behind drains the buffer without suspending once per event, and
a run that streamed one event should not hold a deque's 64-slot block while it waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from agentflow.errors import StreamAlreadyConsumedError
from agentflow.events import Event, StopEvent

_COMPACT_AFTER = 1024
"""Consumed events are dropped from the buffer's front once this many have piled up."""


class EventStream:
    """A single-consumer buffer of one run's streamed events."""

    __slots__ = ("_buffer", "_closed", "_consumed", "_head", "_waiter", "_written")

    def __init__(self) -> None:
        self._buffer: list[Event] = []
        self._head = 0
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._consumed = False
        self._written = 0

    @property
    def closed(self) -> bool:
        """True once the terminal event has been written."""
        return self._closed

    def write(self, event: Event) -> None:
        """Append `event`; wakes the consumer if it is waiting."""
        self._buffer.append(event)
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
        return self._written - (len(self._buffer) - self._head)

    def unconsumed(self) -> list[Event]:
        """The events written but not taken yet, oldest first."""
        return self._buffer[self._head :]

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
        buffer = self._buffer
        while True:
            while self._head < len(buffer):
                event = buffer[self._head]
                self._head += 1
                if self._head == len(buffer):
                    buffer.clear()
                    self._head = 0
                elif self._head >= _COMPACT_AFTER and self._head * 2 >= len(buffer):
                    del buffer[: self._head]
                    self._head = 0
                yield event
                if self._closed and self._head == len(buffer):
                    return
            if self._closed:
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            await waiter
