# From the reference's "Human in the Loop" page: the question answered while streaming,
# then the run saved at its question, cancelled, restored and answered later:
# https://developers.llamaindex.ai/python/llamaagents/workflows/human_in_the_loop/
# The page's top-level code is the body of main(), its imports completed; the test
# answers input(), and main() prints the results the page leaves in `final_result`.
from workflows import Context, Workflow, step
from workflows.events import HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent


class HumanInTheLoopWorkflow(Workflow):
    @step
    async def step1(self, ev: StartEvent) -> InputRequiredEvent:
        return InputRequiredEvent(prefix="Enter a number: ")

    @step
    async def step2(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)


async def main():
    # workflow should work with streaming
    workflow = HumanInTheLoopWorkflow()

    handler = workflow.run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            # here, we can handle human input however you want
            # this means using input(), websockets, accessing async state, etc.
            # here, we just use input()
            response = input(event.prefix)
            handler.ctx.send_event(HumanResponseEvent(response=response))

    final_result = await handler
    print(final_result)

    handler = workflow.run()
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            # Serialize the context, store it anywhere as a JSON blob
            ctx_dict = handler.ctx.to_dict()
            await handler.cancel_run()
            break

    ...

    # now we handle the human response once it comes in
    response = input(event.prefix)

    restored_ctx = Context.from_dict(workflow, ctx_dict)
    handler = workflow.run(ctx=restored_ctx)

    # Send the event to resume the workflow
    handler.ctx.send_event(HumanResponseEvent(response=response))

    # now we resume the workflow streaming with our restored context
    async for event in handler.stream_events():
        continue

    final_result = await handler
    print(final_result)
