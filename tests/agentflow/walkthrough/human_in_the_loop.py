# From the reference's feature walkthrough, section 4 "Adding human-in-the-loop to your
# workflow" and its "Async Human-in-the-loop" (save with ctx.to_dict, resume later):
# https://github.com/run-llama/workflows-py/blob/main/examples/feature_walkthrough.ipynb
# The notebook's top-level `await` cells are the body of main(); `Context`, imported by an
# earlier section of the notebook, is imported here. The test answers input().
from workflows import Context, Workflow, step
from workflows.events import (
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
)


class HITLRequiredEvent(InputRequiredEvent):
    prompt: str


class ResponseEvent(HumanResponseEvent):
    response: str


class HITLWorkflow(Workflow):
    @step
    async def step1(self, ev: StartEvent) -> HITLRequiredEvent:
        return HITLRequiredEvent(
            prompt="What is your name?",
        )

    @step
    async def step2(self, ev: ResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)


async def main():
    w = HITLWorkflow()

    handler = w.run()
    async for ev in handler.stream_events():
        if isinstance(ev, HITLRequiredEvent):
            print(ev.prompt)
            response = input("Enter your response: ")
            handler.ctx.send_event(ResponseEvent(response=response))

    result = await handler
    print("Workflow completed! Got result:", result)

    w = HITLWorkflow()

    handler = w.run()
    req_event = None
    ctx_data = None
    async for ev in handler.stream_events():
        if isinstance(ev, HITLRequiredEvent):
            # break the execution of the workflow
            # and save the context data
            req_event = ev
            ctx_data = handler.ctx.to_dict()
            await handler.cancel_run()
            break

    # Some time later, we can resume the workflow
    # by deserializing the context data
    response = input("Enter your response: ")
    restored_ctx = Context.from_dict(w, ctx_data)

    handler = w.run(ctx=restored_ctx)
    handler.ctx.send_event(ResponseEvent(response=response))

    result = await handler
    print("Workflow completed! Got result:", result)
