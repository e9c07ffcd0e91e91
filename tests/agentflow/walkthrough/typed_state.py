# From the reference's feature walkthrough, section 3 "Add state to your workflow between
# steps and across runs" (typed state, a Context kept across runs, to_dict/from_dict):
# https://github.com/run-llama/workflows-py/blob/main/examples/feature_walkthrough.ipynb
# The notebook's top-level `await` cells are the body of main().
from pydantic import BaseModel
from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StopEvent


class State(BaseModel):
    counter: int = 0


class IncrementAgainEvent(Event):
    pass


class StatefulWorkflow(Workflow):
    @step
    async def step1(self, ctx: Context[State], ev: StartEvent) -> IncrementAgainEvent:
        async with ctx.store.edit_state() as state:
            state.counter += 1

        return IncrementAgainEvent()

    @step
    async def step2(self, ctx: Context[State], ev: IncrementAgainEvent) -> StopEvent:
        async with ctx.store.edit_state() as state:
            state.counter += 1

        return StopEvent(result=state.counter)


async def main():
    w = StatefulWorkflow()

    result = await w.run()
    print(result)

    result = await w.run()
    print(result)

    ctx = Context(w)

    result = await w.run(ctx=ctx)
    print(result)

    result = await w.run(ctx=ctx)
    print(result)

    ctx_data = ctx.to_dict()
    restored_ctx = Context.from_dict(w, ctx_data)

    result = await w.run(ctx=restored_ctx)
    print(result)
