"""`send_event_confirmed(..., idempotency_key=...)`: an event sent again with a key the run
took before is not sent again, in memory and durably, where the key is journalled with the
event (and carried by checkpoints), so that a retry after the process died is harmless too.
A send the run refused does not use up its key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from watched_store import WatchedStore

from agentflow import Context, Workflow, step
from agentflow.context.serializers import JsonSerializer
from agentflow.durable.fold import Fold
from agentflow.errors import StoreWriteError, WorkflowRuntimeError
from agentflow.events import HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.handler import WorkflowHandler
from agentflow.runtime.step_table import step_table_of
from agentflow.stores.base import RunStore

pytestmark = pytest.mark.timeout(20)


class Tally(Workflow):
    """Takes one word per answer until the answer `end`; the words are the result."""

    @step
    async def go(self, ev: StartEvent, ctx: Context) -> StopEvent:
        words: list[str] = []
        while True:
            answer = await ctx.wait_for_event(
                HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="word? ")
            )
            if answer.response == "end":
                return StopEvent(result=words)
            words.append(answer.response)


async def until_asked(handler: WorkflowHandler) -> None:
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            return
    raise AssertionError("the run ended without asking")


def word(text: str) -> HumanResponseEvent:
    return HumanResponseEvent(response=text)


async def test_in_memory_a_repeated_key_sends_nothing() -> None:
    handler = Tally(timeout=None).run()
    await until_asked(handler)
    assert await handler.send_event_confirmed(word("one"), idempotency_key="k1")
    assert await handler.send_event_confirmed(word("one"), idempotency_key="k1")
    assert await handler.send_event_confirmed(word("two"), idempotency_key="k2")
    assert handler.idempotency_keys() == {"k1", "k2"}
    await handler.send_event_confirmed(word("end"))
    assert await handler == ["one", "two"]


async def test_in_memory_a_key_taken_before_the_run_ended_still_answers_true() -> None:
    handler = Tally(timeout=None).run()
    await until_asked(handler)
    assert await handler.send_event_confirmed(word("end"), idempotency_key="k1")
    assert await handler == []
    assert await handler.send_event_confirmed(word("end"), idempotency_key="k1")
    assert not await handler.send_event_confirmed(word("end"), idempotency_key="k2")


async def test_a_refused_send_does_not_use_up_its_key() -> None:
    handler = Tally(timeout=None).run()
    await until_asked(handler)
    with pytest.raises(WorkflowRuntimeError, match="nope"):
        await handler.send_event_confirmed(word("one"), "nope", idempotency_key="k1")
    assert handler.idempotency_keys() == frozenset()
    assert await handler.send_event_confirmed(word("one"), idempotency_key="k1")
    await handler.send_event_confirmed(word("end"))
    assert await handler == ["one"]


@pytest.mark.parametrize("durability", ["sync", "async"])
async def test_a_key_journalled_before_the_process_died_is_known_to_the_resumed_run(
    store: RunStore, durability: Any
) -> None:
    watched = WatchedStore(store)
    handler = Tally(timeout=None, store=watched, durability=durability).run(run_id="t")
    await until_asked(handler)
    assert await handler.send_event_confirmed(word("one"), idempotency_key="k1")
    assert await handler.send_event_confirmed(word("one"), idempotency_key="k1")
    watched.gone = True  # the process dies; the client did not hear back and retries
    await handler.cancel_run()
    with pytest.raises(StoreWriteError, match="the process is gone"):
        await handler

    resumed = await Tally(timeout=None, store=store, durability=durability).resume("t")
    assert resumed.idempotency_keys() == {"k1"}
    assert await resumed.send_event_confirmed(word("one"), idempotency_key="k1")
    await resumed.send_event_confirmed(word("end"))
    assert await resumed == ["one"]
    sent = [r for r in (await store.load("t")).records if r.kind == "sent"]
    assert [r.key for r in sent] == ["k1", None]


def test_a_checkpoint_carries_the_keys() -> None:
    serializer = JsonSerializer()
    table = step_table_of(Tally)
    live = Fold(table, serializer)
    answer = word("one")
    entry = {"id": "0", "value": serializer.serialize(answer, "event 0"), "to": []}
    live.live["0"] = answer
    live.apply("sent", "k1", json.dumps({"event": entry}))

    resumed = Fold.from_json(live.to_json(), table, serializer)

    assert resumed.idempotency_keys == {"k1"}
