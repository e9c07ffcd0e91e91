"""Workflows that tests/agentflow/test_cli.py runs through the `agentflow` command in a
subprocess (imported as `cli_workflows:Name` from this directory), plus a few things that
are not workflows, for the loader's error messages."""

from __future__ import annotations

import os

from pydantic import BaseModel

from agentflow import Context, Workflow, step
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)


class Progress(Event):
    step: int
    note: str


class Greeter(Workflow):
    """Streams one Progress event per `count`, then greets `name`."""

    @step
    async def greet(self, ctx: Context, ev: StartEvent) -> StopEvent:
        for index in range(ev.get("count", 2)):
            ctx.write_event_to_stream(Progress(step=index, note=f"working on {ev.name}"))
        return StopEvent(result=f"hello {ev.name}")


greeter_instance = Greeter(timeout=30)


class EchoArgs(Workflow):
    """Returns the start event's fields, to show how `--arg` values were parsed."""

    @step
    async def echo(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result={key: ev[key] for key in sorted(ev.keys())})


class SearchStart(StartEvent):
    query: str
    limit: int = 3


class TypedSearch(Workflow):
    """Starts with a typed StartEvent: `query` is required, `limit` must be an int."""

    @step
    async def search(self, ev: SearchStart) -> StopEvent:
        return StopEvent(result=[ev.query] * ev.limit)


class AskName(Workflow):
    """Asks for a name with `wait_for_event`, then for a mood: two prompts in one run."""

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        name = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="Name? ")
        )
        mood = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="Mood? ")
        )
        return StopEvent(result=f"{name.response} is {mood.response}")


class ColourQuestion(InputRequiredEvent):
    pass


class ColourAnswer(HumanResponseEvent):
    pass


class AskColour(Workflow):
    """The other human-in-the-loop style: a step returns the question and another step
    accepts the answer, a HumanResponseEvent subclass."""

    @step
    async def ask(self, ev: StartEvent) -> ColourQuestion:
        return ColourQuestion(prefix="Favourite colour? ")

    @step
    async def answer(self, ev: ColourAnswer) -> StopEvent:
        return StopEvent(result=f"colour: {ev.response}")


class Boom(Workflow):
    @step
    async def explode(self, ev: StartEvent) -> StopEvent:
        raise ValueError("kaboom")


class NeverAnswered(Event):
    pass


class WaitsForever(Workflow):
    """Waits for an event nobody sends, so only its timeout ends it."""

    @step
    async def wait(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await ctx.wait_for_event(NeverAnswered, timeout=None)
        return StopEvent(result="unreachable")


class ReadsLLMTimeout(Workflow):
    """Returns OPENAI_TIMEOUT as its steps see it: where `--llm-timeout` reaches the LLM
    clients a workflow builds from the environment."""

    @step
    async def read(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=os.environ.get("OPENAI_TIMEOUT", "unset"))


class NeedsArguments(Workflow):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key

    @step
    async def run_it(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=self.api_key)


class NoStartStep(Workflow):
    """Invalid: nothing accepts a StartEvent, so running it fails validation."""

    @step
    async def orphan(self, ev: Progress) -> StopEvent:
        return StopEvent(result="never")


class Token(Event):
    """Streamed text the way LLM workflows stream it: the new piece and everything so far."""

    delta: str
    text: str


class Note(Event):
    body: str


class Answer(BaseModel):
    """A result that prints as its text, like an agent's output."""

    text: str
    tokens: int

    def __str__(self) -> str:
        return self.text


class Chatty(Workflow):
    """Streams a long note, the answer token by token, a short note, then the answer."""

    @step
    async def talk(self, ctx: Context, ev: StartEvent) -> StopEvent:
        ctx.write_event_to_stream(Note(body="x" * 500))
        text = ""
        for word in ("Otters ", "hold ", "hands."):
            text += word
            ctx.write_event_to_stream(Token(delta=word, text=text))
        ctx.write_event_to_stream(Note(body="done"))
        return StopEvent(result=Answer(text=text, tokens=3))


class Report(StopEvent):
    """A stop event that is the result, and prints as a document."""

    title: str
    body: str

    def __str__(self) -> str:
        return f"# {self.title}\n{self.body}"


class Measurement(StopEvent):
    """A stop event that is the result, with no text form of its own."""

    metres: float


class Reports(Workflow):
    @step
    async def write(self, ev: StartEvent) -> Report:
        return Report(title="Otters", body="They hold hands.")


class Measures(Workflow):
    @step
    async def measure(self, ev: StartEvent) -> Measurement:
        return Measurement(metres=1.2)


class NotAWorkflow:
    pass


def not_a_workflow() -> None:
    """A function, where the command needs a workflow."""
