"""Workflows a durable-run test starts in a child process, kills with SIGKILL, and resumes
in another: each step execution appends a line naming itself to a log before it returns,
and prints it, so the test can kill the child after a given number of executions.

    python durable_crash_flows.py start|resume FLOW STORE_URL LOG_PATH RUN_ID [ANSWER] [hang]
        [durability=sync|async|exit]

With ANSWER, the caller answers the run's question (on resume, or right after the question
on start; without one, start prints `asked` once the question is out); with `hang`, the
step that got the answer then waits forever, so the test can kill the child after the
answer was journalled and before the step completed. `durability=` is the workflow's mode.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from agentflow import Context, Workflow, step
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.stores import open_store

LOG: list[str] = []
HANG = "hang" in sys.argv
MODE = "durability="


def did(line: str) -> None:
    """Note an execution in the side-effect log and on stdout, where the test counts."""
    with open(LOG[0], "a", encoding="utf-8") as log:
        log.write(line + "\n")
    print(line, flush=True)


class Count(Event):
    n: int


class Chain(Workflow):
    """200 steps, one after another, each adding its number to the state."""

    @step
    async def begin(self, ev: StartEvent) -> Count:
        did("begin")
        return Count(n=0)

    @step
    async def count(self, ctx: Context, ev: Count) -> Count | StopEvent:
        await ctx.store.set("total", await ctx.store.get("total", 0) + ev.n)
        did(f"count:{ev.n}")
        if ev.n == 199:
            return StopEvent(result=await ctx.store.get("total"))
        return Count(n=ev.n + 1)


class Item(Event):
    n: int


class Done(Event):
    n: int


WIDTH = 1000


class FanOut(Workflow):
    """1,000 items sent to four workers, collected with collect_events."""

    @step
    async def scatter(self, ctx: Context, ev: StartEvent) -> Item | None:
        for n in range(WIDTH):
            ctx.send_event(Item(n=n))
        did("scatter")
        return None

    @step(num_workers=4)
    async def work(self, ev: Item) -> Done:
        await asyncio.sleep(0)
        did(f"work:{ev.n}")
        return Done(n=ev.n)

    @step
    async def gather(self, ctx: Context, ev: Done) -> StopEvent | None:
        done = ctx.collect_events(ev, Done, count=WIDTH)
        if done is None:
            return None
        did("gather")
        return StopEvent(result=sum(event.n for event in done))


class Asks(Workflow):
    """Asks a human, then finishes with the answer."""

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        did("ask")
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        did(f"answered:{answer.response}")
        if HANG:
            await asyncio.Event().wait()  # killed here by the test
        return StopEvent(result=f"hello {answer.response}")


class Ready(Event):
    pass


class PreparesThenAsks(Workflow):
    """Prepares, then asks a human and finishes with the answer."""

    @step
    async def prepare(self, ev: StartEvent) -> Ready:
        did("prepare")
        return Ready()

    @step
    async def ask(self, ctx: Context, ev: Ready) -> StopEvent:
        did("ask")
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        did(f"answered:{answer.response}")
        return StopEvent(result=f"hello {answer.response}")


FLOWS: dict[str, type[Workflow]] = {
    "chain": Chain,
    "fanout": FanOut,
    "asks": Asks,
    "prepares": PreparesThenAsks,
}


async def main(command: str, flow: str, url: str, log: str, run_id: str, *rest: str) -> None:
    LOG.append(log)
    answer = next((word for word in rest if word != "hang" and not word.startswith(MODE)), None)
    durability: Any = next((word[len(MODE) :] for word in rest if word.startswith(MODE)), "sync")
    async with open_store(url) as store:
        # Checkpoints often, so that a resume starts from one and folds what follows.
        workflow = FLOWS[flow](
            store=store, timeout=None, checkpoint_every=25, durability=durability
        )
        if command == "abandon":
            # Returns while the run is busy, as a program whose main ends (or is
            # interrupted) does: asyncio.run cancels the run, which stays resumable.
            handler = workflow.run(run_id=run_id)
            async for _ in handler.stream_events():
                return
            return
        if command == "start":
            handler = workflow.run(run_id=run_id)
            async for event in handler.stream_events():
                if isinstance(event, InputRequiredEvent):
                    if answer is None:
                        print("asked", flush=True)
                    else:
                        handler.ctx.send_event(HumanResponseEvent(response=answer))
        else:
            handler = await workflow.resume(run_id)
            if answer is not None:
                handler.ctx.send_event(HumanResponseEvent(response=answer))
        print(f"result:{await handler}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
