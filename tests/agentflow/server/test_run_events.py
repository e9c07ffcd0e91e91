"""`RunEvents.follow`: a follower gets the events that have come as batches."""

from __future__ import annotations

import asyncio

from agentflow.events import Event, StopEvent
from agentflow.server.streams import RunEvents
from agentflow.stores import MemoryStore


class Tick(Event):
    n: int


async def test_events_that_have_come_are_given_together_at_most_most_at_a_time() -> None:
    events = RunEvents(MemoryStore())
    events.open("r")
    for n in range(5):
        events.append("r", n, Tick(n=n))
    events.append("r", 5, StopEvent(result="done"))
    events.append("r", 6, Tick(n=99))  # after the terminal event: never followed

    batches = [batch async for batch in events.follow("r", -1, 4)]

    assert [[seq for seq, _ in batch] for batch in batches] == [[0, 1, 2, 3], [4, 5]]
    assert [event.n for _, event in batches[0]] == [0, 1, 2, 3]  # type: ignore[attr-defined]
    assert [event for _, event in batches[1]] == [Tick(n=4), StopEvent(result="done")]


async def test_a_follower_waits_for_new_events_after_its_cursor() -> None:
    events = RunEvents(MemoryStore())
    events.open("r")
    events.append("r", 0, Tick(n=0))
    events.append("r", 1, Tick(n=1))
    followed = events.follow("r", 0, 10)

    assert await anext(followed) == [(1, Tick(n=1))]
    waiting = asyncio.ensure_future(anext(followed))
    await asyncio.sleep(0)
    assert not waiting.done()
    events.append("r", 2, Tick(n=2))
    events.append("r", 3, StopEvent())
    assert await waiting == [(2, Tick(n=2)), (3, StopEvent())]
    assert [batch async for batch in followed] == []
