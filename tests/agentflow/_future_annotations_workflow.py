"""A workflow written under `from __future__ import annotations`, for test_validation.py.

Every annotation here is a string until the engine resolves it, including ones naming
classes defined below the workflow, a `Context[...]` state type, a union event parameter,
an optional return and a free step added with `@step(workflow=...)`.
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel

from agentflow import Context, Workflow, step
from agentflow.events import Event, StartEvent, StopEvent


class Trail(BaseModel):
    """The state: the name of every step that ran, in order."""

    steps: list[str] = []


class FutureWorkflow(Workflow):
    @step
    async def begin(self, ctx: Context[Trail], ev: StartEvent) -> Shortcut | Detour:
        await _record(ctx, "begin")
        return Shortcut(text=ev.text) if ev.short else Detour(text=ev.text)

    @step
    async def detour(self, ctx: Context[Trail], ev: Detour) -> Optional[Shortcut]:  # noqa: UP045
        await _record(ctx, "detour")
        return Shortcut(text=ev.text + " via detour")

    @step
    async def arrive(self, ctx: Context[Trail], ev: Shortcut) -> Arrived | None:
        await _record(ctx, "arrive")
        return Arrived(text=ev.text)


@step(workflow=FutureWorkflow)
async def finish(ctx: Context[Trail], ev: Arrived) -> StopEvent:
    await _record(ctx, "finish")
    return StopEvent(result=(ev.text, (await ctx.store.get_state()).steps))


async def _record(ctx: Context[Trail], name: str) -> None:
    async with ctx.store.edit_state() as state:
        state.steps.append(name)


# Defined after the workflow on purpose: only resolvable once the module is fully loaded.


class Shortcut(Event):
    text: str


class Detour(Event):
    text: str


class Arrived(Event):
    text: str
