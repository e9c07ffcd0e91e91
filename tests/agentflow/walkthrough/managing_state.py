# From the reference's "Managing State" page (untyped state with get/set and edit_state,
# typed state, a context kept across runs and through to_dict/from_dict):
# https://developers.llamaindex.ai/python/llamaagents/workflows/managing_state/
# The page names every workflow MyWorkflow; here each has a name of its own. Its "Locking
# the State" step is put in a workflow, and the page's `if "count" not in state` (a
# NameError: the block's name is `ctx_state`) reads `ctx_state`. main() runs each twice.
from pydantic import BaseModel, Field
from workflows import Context, Workflow, step
from workflows.events import StartEvent, StopEvent


class MyWorkflow(Workflow):
    @step
    async def my_step(self, ctx: Context, ev: StartEvent) -> StopEvent:
        current_count = await ctx.store.get("count", default=0)
        current_count += 1
        await ctx.store.set("count", current_count)
        return StopEvent()


class LockingWorkflow(Workflow):
    @step
    async def my_step(self, ctx: Context, ev: StartEvent) -> StopEvent:
        # No other steps can access the state while the `with` block is running
        async with ctx.store.edit_state() as ctx_state:
            if "count" not in ctx_state:
                ctx_state["count"] = 0
            ctx_state["count"] += 1
        return StopEvent()


class CounterState(BaseModel):
    count: int = Field(default=0)


class TypedWorkflow(Workflow):
    @step
    async def start(self, ctx: Context[CounterState], ev: StartEvent) -> StopEvent:
        # Allows for atomic state updates
        async with ctx.store.edit_state() as ctx_state:
            ctx_state.count += 1

        return StopEvent(result="Done!")


async def main():
    for workflow_class in (MyWorkflow, LockingWorkflow, TypedWorkflow):
        workflow = workflow_class()
        ctx = Context(workflow)

        handler = workflow.run(ctx=ctx)
        result = await handler

        # Optional: save the ctx somewhere and restore
        ctx_dict = ctx.to_dict()
        ctx = Context.from_dict(workflow, ctx_dict)

        # continue with next run
        handler = workflow.run(ctx=ctx)
        result = await handler

        print(workflow_class.__name__, result, await ctx.store.get("count"))
