"""The workflows the DBOS runner tests serve: `server`, a WorkflowServer that
`agentflow worker cluster_flows:server --dsn ...` and `agentflow serve cluster_flows:server
--dsn ... --runner dbos` load in child processes.

Each step appends `start <word> <step> <worker>` to the file `$CLUSTER_LOG` names as it
begins (the start event's word names the run). With `$CLUSTER_GATE` set to a port, a
chain's second step then waits until the test's gate on 127.0.0.1 at that port sends it a
byte: a test holds the chains there, their first step completed, kills a worker, opens the
gate, and reads from the log which steps ran where, and how often.
"""

from __future__ import annotations

import asyncio
import hashlib
import os

from agentflow import Context, Workflow, step
from agentflow.errors import WaitForEventTimeoutError
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.server import WorkflowServer

WORKER = os.environ.get("CLUSTER_WORKER", "?")


def note(word: str, step_name: str) -> None:
    path = os.environ.get("CLUSTER_LOG")
    if path:
        with open(path, "a") as log:
            log.write(f"start {word} {step_name} {WORKER}\n")


async def gate() -> None:
    """Wait until the test's gate opens (at once when the test set none)."""
    port = os.environ.get("CLUSTER_GATE")
    if port:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(port))
        await reader.read(1)
        writer.close()


class Progress(Event):
    step_name: str


class ChainStart(StartEvent):
    word: str


class Second(Event):
    word: str
    text: str


class Third(Event):
    word: str
    text: str


class Chain(Workflow):
    """Three steps, each adding to the word; each streams a Progress event."""

    async def _step(self, ctx: Context, word: str, name: str, text: str) -> str:
        note(word, name)
        ctx.write_event_to_stream(Progress(step_name=name))
        if name == "second":
            await gate()
        return f"{text}-{name}"

    @step
    async def first(self, ctx: Context, ev: ChainStart) -> Second:
        return Second(word=ev.word, text=await self._step(ctx, ev.word, "first", ev.word))

    @step
    async def second(self, ctx: Context, ev: Second) -> Third:
        return Third(word=ev.word, text=await self._step(ctx, ev.word, "second", ev.text))

    @step
    async def third(self, ctx: Context, ev: Third) -> StopEvent:
        return StopEvent(result=await self._step(ctx, ev.word, "third", ev.text))


class Asks(Workflow):
    """Asks for a name (a returned question), then greets."""

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent:
        note(str(ev.get("word", "?")), "ask")
        return InputRequiredEvent(prefix="name?")

    @step
    async def greet(self, ctx: Context, ev: HumanResponseEvent) -> StopEvent:
        note(ev.response, "greet")
        return StopEvent(result=f"hello {ev.response}")


class WaitStart(StartEvent):
    word: str
    timeout: float | None = None


class WaitsForName(Workflow):
    """Asks for a name inside its step (`ctx.wait_for_event`), with the start event's
    timeout; ends with the name, or with "nobody" once the wait timed out."""

    @step
    async def ask(self, ctx: Context, ev: WaitStart) -> StopEvent:
        note(ev.word, "ask")
        try:
            answer = await ctx.wait_for_event(
                HumanResponseEvent,
                waiter_event=InputRequiredEvent(prefix="name?"),
                timeout=ev.timeout,
            )
        except WaitForEventTimeoutError:
            return StopEvent(result="nobody")
        return StopEvent(result=f"hello {answer.response}")


class Work(StartEvent):
    rounds: int


class Crunch(Workflow):
    """A CPU-bound step (the throughput benchmark): `rounds` SHA-256 rounds."""

    @step
    def crunch(self, ev: Work) -> StopEvent:
        digest = b"agentflow"
        for _ in range(ev.rounds):
            digest = hashlib.sha256(digest).digest()
        return StopEvent(result=digest.hex()[:16])


server = WorkflowServer(token="")
server.add_workflow("chain", Chain(timeout=None))
server.add_workflow("asks", Asks(timeout=None))
server.add_workflow("crunch", Crunch(timeout=None))
server.add_workflow("waits", WaitsForName(timeout=None))
