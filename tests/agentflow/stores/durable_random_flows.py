"""The workflow test_durable_random_kills.py kills at random points: a child process runs it
on a store until the test kills it with SIGKILL, and another child resumes it.

    python durable_random_flows.py start|resume STORE_URL LOG_PATH RUN_ID

`Mixed` has every shape a journal records: a `ctx.once` side effect, a chain whose steps
change the state and write to the stream, a fan-out over four workers sent with
`ctx.send_event` and gathered with `collect_events`, and a question a human answers (the
child answers every question it sees on the stream). Each step execution appends a line
naming itself to the log and prints it, which is what the test counts to pick its kill
points. Each call of a `ctx.once` function appends `once:THEN KEY` to the log, THEN being
the line its step prints once `once` has returned (the call prints nothing, so that the
test never kills right after one by choice).

The child prints `result:` and the result the store holds once the run has ended (also
when a resume finds the run had ended already, killed before it could print it).
"""

from __future__ import annotations

import asyncio
import json
import sys

from agentflow import Context, Workflow, step
from agentflow.errors import RunFinishedError
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.stores import open_store

LOG: list[str] = []
CHAIN = 12
WIDTH = 24
IN_FLIGHT_AT_MOST = 6
"""The executions that can be in flight at one moment, and so run again after a kill:
the fan-out's four `work` workers, with `scatter` and `gather`'s one worker."""


def did(line: str) -> None:
    """Note an execution in the side-effect log and on stdout, where the test counts."""
    append(line)
    print(line, flush=True)


def append(line: str) -> None:
    with open(LOG[0], "a", encoding="utf-8") as log:
        log.write(line + "\n")


def side_effect(then: str, key: str) -> str:
    """What `ctx.once` calls: an outside system that takes an idempotency key, and whose
    receipt depends on that key alone (the run's id left out, so that runs compare)."""
    append(f"once:{then} {key}")
    return f"receipt for {key.split(':', 1)[1]}"


class Link(Event):
    n: int


class Progress(Event):
    n: int


class Scatter(Event):
    pass


class Item(Event):
    n: int


class Done(Event):
    n: int


class Gathered(Event):
    total: int


class Mixed(Workflow):
    """begin, CHAIN links, scatter, WIDTH works, gather (collects), ask (a human), result."""

    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> Link:
        charged = await ctx.once("charge", side_effect, "begin", ctx.idempotency_key("charge"))
        await ctx.store.set("charged", charged)
        did("begin")
        return Link(n=0)

    @step
    async def link(self, ctx: Context, ev: Link) -> Link | Scatter:
        await ctx.store.set("total", await ctx.store.get("total", 0) + ev.n)
        ctx.write_event_to_stream(Progress(n=ev.n))
        did(f"link:{ev.n}")
        return Link(n=ev.n + 1) if ev.n + 1 < CHAIN else Scatter()

    @step
    async def scatter(self, ctx: Context, ev: Scatter) -> Item | None:
        for n in range(WIDTH):
            ctx.send_event(Item(n=n))
            await asyncio.sleep(0)  # lets workers start while it still sends
        did("scatter")
        return None

    @step(num_workers=4)
    async def work(self, ctx: Context, ev: Item) -> Done:
        await asyncio.sleep(0)
        await ctx.store.set(f"squares.{ev.n}", ev.n * ev.n)
        await ctx.once("record", side_effect, f"work:{ev.n}", ctx.idempotency_key("record"))
        did(f"work:{ev.n}")
        return Done(n=ev.n)

    @step(num_workers=1)
    async def gather(self, ctx: Context, ev: Done) -> Gathered | None:
        done = ctx.collect_events(ev, Done, count=WIDTH)
        did(f"collect:{ev.n}")
        if done is None:
            return None
        return Gathered(total=sum(event.n for event in done))

    @step
    async def ask(self, ctx: Context, ev: Gathered) -> StopEvent:
        did("ask")
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="ship it?")
        )
        notified = await ctx.once(
            "notify", side_effect, "answered:yes", ctx.idempotency_key("notify")
        )
        did(f"answered:{answer.response}")
        squares = await ctx.store.get("squares")
        return StopEvent(
            result={
                "chain": await ctx.store.get("total"),
                "fan_out": ev.total,
                "squares": sum(squares.values()),
                "answer": answer.response,
                "receipts": [await ctx.store.get("charged"), notified],
            }
        )


async def main(command: str, url: str, log: str, run_id: str) -> None:
    LOG.append(log)
    async with open_store(url) as store:
        # Checkpoints often, so that most resumes start from one and fold what follows.
        workflow = Mixed(store=store, timeout=None, checkpoint_every=10)
        try:
            handler = workflow.run(run_id=run_id) if command == "start" else None
            if handler is None:
                handler = await workflow.resume(run_id)
        except RunFinishedError:
            handler = None  # it ended before the child that ran it could say so
        if handler is not None:
            async for event in handler.stream_events():
                if isinstance(event, InputRequiredEvent):
                    handler.ctx.send_event(HumanResponseEvent(response="yes"))
                elif isinstance(event, Progress):
                    print(f"streamed:{event.n}", flush=True)
            await handler
        info = await store.get_run(run_id)
        assert info is not None
        assert info.result is not None
        print(f"result:{info.status} {json.loads(info.result)['result']}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
