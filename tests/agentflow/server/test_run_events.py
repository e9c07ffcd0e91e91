"""`RunEvents.follow`: a follower gets the events that have come as batches."""

from __future__ import annotations

import asyncio

from agentflow.events import Event, StopEvent
from agentflow.server.streams import RunEvents


class Tick(Event):
    n: int


async def test_events_that_have_come_are_given_together_at_most_most_at_a_time() -> None:
    events = RunEvents()
    events.open("r")
    for n in range(5):
        events.append("r", Tick(n=n))
    events.append("r", StopEvent(result="done"))
    events.append("r", Tick(n=99))  # after the terminal event: never followed

    batches = [(first, batch) async for first, batch in events.follow("r", -1, 4)]

    assert [(first, len(batch)) for first, batch in batches] == [(0, 4), (4, 2)]
    assert [event.n for event in batches[0][1]] == [0, 1, 2, 3]
    assert batches[1][1] == [Tick(n=4), StopEvent(result="done")]


async def test_a_follower_waits_for_new_events_after_its_cursor() -> None:
    events = RunEvents()
    events.open("r")
    events.append("r", Tick(n=0))
    events.append("r", Tick(n=1))
    followed = events.follow("r", 0, 10)

    assert await anext(followed) == (1, [Tick(n=1)])
    waiting = asyncio.ensure_future(anext(followed))
    await asyncio.sleep(0)
    assert not waiting.done()
    events.append("r", Tick(n=2))
    events.append("r", StopEvent())
    assert await waiting == (2, [Tick(n=2), StopEvent()])
    assert [batch async for batch in followed] == []
