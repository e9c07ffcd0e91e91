"""The workflow whose durable runs `journal_format_1.db` holds, as agentflow at 9083816
(format version 1: every model as `{"__model__", "fields", "extra"}`) journalled them:
events and state holding nested models, some at their defaults, and a wait for an answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agentflow import Context, Workflow, step
from agentflow.events import Event, HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent
from agentflow.stores.base import RunStore


class Part(BaseModel):
    count: int = 0
    label: str = "x"


class Prepared(Event):
    part: Part
    parts: list[Part] = Field(default_factory=list)
    total: int = 0


class Asks(Workflow):
    """`prepare` keeps a model in the state and sends a `Prepared`; `ask` waits for a name."""

    def __init__(self, store: RunStore, durability: str = "sync") -> None:
        super().__init__(store=store, timeout=None, durability=durability)  # type: ignore[arg-type]

    @step
    async def prepare(self, ctx: Context, ev: StartEvent) -> Prepared:
        await ctx.store.set("kept", Part(count=7))
        return Prepared(part=Part(count=1), parts=[Part(), Part(label="y")], loose=Part(count=3))

    @step
    async def ask(self, ctx: Context, ev: Prepared) -> StopEvent:
        answer = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        kept = await ctx.store.get("kept")
        labels = ",".join(part.label for part in ev.parts)
        return StopEvent(
            result=f"{answer.response} {ev.part.count} {labels} {ev.loose.count} {kept.count}"
        )
