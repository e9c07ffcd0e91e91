"""Buffers behind `ctx.collect_events`, with bookkeeping that is O(1) per event.

`collect_events(ev, [Done] * n)` is called once per arriving event. Counting the expected
list on every call would make a fan-in of n events cost O(n²) (the reference library's
fan-in is quadratic for this reason), so a call first compares the number of buffered
events with the length of the list and only counts once enough events could be there.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import TYPE_CHECKING

from agentflow.events import Event
from agentflow.runtime.execution import current_execution

if TYPE_CHECKING:
    from agentflow.runtime.run import WorkflowRun


def collect_in_run(
    run: WorkflowRun,
    event: Event,
    expected: list[type[Event]] | type[Event],
    buffer_id: str | None,
    count: int | None,
) -> list[Event] | None:
    """`run`'s `collect_events` (the run port's): buffer `event` for the calling step of
    `run` (or a caller outside it); see `Context.collect_events`. Inside a step execution
    that runs again (a retry, or a resume), each call gives back what it gave the first
    time instead of buffering the event twice. A function of the run, bound as its
    method, so that the fan-in's hot path costs no call more than the buffer's own."""
    execution = current_execution.get()
    if execution is not None and execution.link is run.link:
        call = execution.collects
        execution.collects = call + 1
        if call < execution.replayed:
            recorded = execution.collected
            return recorded.get(call) if recorded is not None else None
        if buffer_id is None:
            buffer_id = execution.step
    else:
        execution = None  # a caller outside the run, or a step of another run
        if buffer_id is None:
            buffer_id = ""
    collections = run.collections
    if collections is None:
        collections = run.collections = Collections()
    buffers = collections.buffers
    buffer = buffers.get(buffer_id)
    if buffer is None:
        buffer = buffers[buffer_id] = CollectBuffer()
    result = buffer.collect(event, expected, 1 if count is None else count)
    if result is not None and execution is not None:
        execution.record_collected(result)  # a None needs no record but the count
    return result


class Collections:
    """A run's `collect_events` buffers, by buffer id (the collecting step's name unless
    the call names a shared buffer)."""

    __slots__ = ("buffers",)

    def __init__(self, saved: dict[str, list[Event]] | None = None) -> None:
        self.buffers: dict[str, CollectBuffer] = {}
        for key, events in (saved or {}).items():
            buffer = self.buffers[key] = CollectBuffer()
            for event in events:
                buffer.add(event)

    def sizes(self) -> dict[str, int]:
        """How many events each buffer holds."""
        return {key: len(buffer) for key, buffer in self.buffers.items()}

    def saved(self) -> dict[str, list[Event]]:
        """Every buffer's events, for a snapshot."""
        return {key: buffer.events() for key, buffer in self.buffers.items()}


class CollectBuffer:
    """Events that arrived at one collecting step, by exact type, in arrival order."""

    __slots__ = ("_by_type", "_size")

    def __init__(self) -> None:
        self._by_type: dict[type[Event], deque[Event]] = {}
        self._size = 0

    def add(self, event: Event) -> None:
        """Buffer `event` until a collection takes it."""
        queue = self._by_type.get(type(event))
        if queue is None:
            queue = self._by_type[type(event)] = deque()
        queue.append(event)
        self._size += 1

    def collect(
        self, event: Event, expected: list[type[Event]] | type[Event], count: int
    ) -> list[Event] | None:
        """Buffer `event`, then take what `expected` asks for if it is all there: one event
        per entry of a list, or `count` events of a single type. One call per arriving
        event, since this is the fan-in's hot path."""
        event_type = type(event)
        queue = self._by_type.get(event_type)
        if queue is None:
            queue = self._by_type[event_type] = deque()
        queue.append(event)
        self._size += 1
        if isinstance(expected, type):
            if expected is not event_type:
                queue = self._by_type.get(expected)
                if queue is None:
                    return None
            if len(queue) < count:
                return None
            return self.take_count_of(expected, count)
        return self.take_all_of(expected)

    def __len__(self) -> int:
        """How many events are buffered."""
        return self._size

    def events(self) -> list[Event]:
        """Every buffered event, grouped by type in arrival order."""
        return [event for queue in self._by_type.values() for event in queue]

    def take_all_of(self, event_types: list[type[Event]]) -> list[Event] | None:
        """One buffered event per entry of `event_types`, in that order, once every entry
        can be served; None (taking nothing) until then."""
        if self._size < len(event_types):
            return None
        for event_type, needed in Counter(event_types).items():
            queue = self._by_type.get(event_type)
            if queue is None or len(queue) < needed:
                return None
        self._size -= len(event_types)
        return [self._by_type[event_type].popleft() for event_type in event_types]

    def take_count_of(self, event_type: type[Event], count: int) -> list[Event] | None:
        """The first `count` buffered events of `event_type`, once that many have arrived."""
        queue = self._by_type.get(event_type)
        if queue is None or len(queue) < count:
            return None
        self._size -= count
        if count == len(queue):
            self._by_type[event_type] = deque()
            return list(queue)
        return [queue.popleft() for _ in range(count)]
