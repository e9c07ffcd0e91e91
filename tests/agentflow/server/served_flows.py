"""Workflows the server tests serve, and `server`, a WorkflowServer over a SQLite file
(`$SERVED_STORE`) that `agentflow serve served_flows:server` runs in the crash tests.

Steps append a line to the file `$SERVED_LOG` names (when set) each time they start, so a
test can count how often each step ran across a kill and a restart.
"""

from __future__ import annotations

import asyncio
import os

from agentflow import Context, Workflow, step
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)
from agentflow.server import WorkflowServer
from agentflow.stores import SqliteStore


def note(line: str) -> None:
    """Append `line` to the side-effect log, if the test asked for one."""
    path = os.environ.get("SERVED_LOG")
    if path:
        with open(path, "a") as log:
            log.write(line + "\n")


class Progress(Event):
    n: int


class Greet(Workflow):
    """Says hello."""

    @step
    async def go(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=f"Hello, {ev.get('name', 'World')}!")


class Topic(StartEvent):
    topic: str
    count: int = 1


class Count(Workflow):
    """Streams `count` Progress events, then asks a question and ends with the answer."""

    @step
    async def go(self, ev: Topic, ctx: Context) -> StopEvent:
        for n in range(ev.count):
            ctx.write_event_to_stream(Progress(n=n))
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix=f"{ev.topic}? ")
        )
        return StopEvent(result={"topic": ev.topic, "got": answer.response})


class Ask(Workflow):
    """Asks a name and greets it."""

    @step
    async def ask(self, ev: StartEvent, ctx: Context) -> StopEvent:
        note("ask")
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="Name? ")
        )
        return StopEvent(result={"got": answer.response})


class Boom(Workflow):
    @step
    async def go(self, ev: StartEvent) -> StopEvent:
        raise RuntimeError("kaboom")


class Middle(Event):
    pass


class Last(Event):
    pass


class Chain(Workflow):
    """a -> b -> c. Step b streams `Progress(n=1)` and then, in a server started with
    `$SERVED_HOLD` set, waits forever: the crash test kills that server while it waits."""

    @step
    async def a(self, ev: StartEvent) -> Middle:
        note("a")
        return Middle()

    @step
    async def b(self, ev: Middle, ctx: Context) -> Last:
        note("b")
        ctx.write_event_to_stream(Progress(n=1))
        if os.environ.get("SERVED_HOLD"):
            await asyncio.Event().wait()
        return Last()

    @step
    async def c(self, ev: Last) -> StopEvent:
        note("c")
        return StopEvent(result="chain done")


class Talk(Workflow):
    """`first` streams Progress 0 and 1; `second` streams Progress 2, asks "go?", then
    streams Progress 3 and 4; `third` streams Progress 5 and ends. The stream: seqs 0..7,
    the question at 3."""

    @step
    async def first(self, ev: StartEvent, ctx: Context) -> Middle:
        note("first")
        for n in range(2):
            ctx.write_event_to_stream(Progress(n=n))
        return Middle()

    @step
    async def second(self, ev: Middle, ctx: Context) -> Last:
        note("second")
        ctx.write_event_to_stream(Progress(n=2))
        await ctx.wait_for_event(HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="go?"))
        for n in range(3, 5):
            ctx.write_event_to_stream(Progress(n=n))
        return Last()

    @step
    async def third(self, ev: Last, ctx: Context) -> StopEvent:
        note("third")
        ctx.write_event_to_stream(Progress(n=5))
        return StopEvent(result="talked")


class Rating(HumanResponseEvent):
    stars: int


class Tally(Workflow):
    """Takes words, one answer each, until the answer `end`; the words are the result."""

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


def make_server(store: SqliteStore | None = None, **options: object) -> WorkflowServer:
    """A server of every workflow above."""
    served = WorkflowServer(store, **options)  # type: ignore[arg-type]
    served.add_workflow("greet", Greet(timeout=None))
    served.add_workflow("count", Count(timeout=None))
    served.add_workflow("ask", Ask(timeout=None))
    served.add_workflow("boom", Boom(timeout=None))
    served.add_workflow("chain", Chain(timeout=None))
    served.add_workflow("talk", Talk(timeout=None))
    served.add_workflow("tally", Tally(timeout=None), additional_events=[Rating])
    return served


server = make_server(SqliteStore(os.environ.get("SERVED_STORE", "served-runs.db")))
