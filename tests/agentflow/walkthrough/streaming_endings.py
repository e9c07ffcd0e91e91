# From the reference's "Streaming events" page, its "Handling workflow termination", and
# the WorkflowFailedEvent example of its API reference (llama-index-workflows 2.26.1):
# https://developers.llamaindex.ai/python/llamaagents/workflows/streaming/
# https://developers.llamaindex.ai/python/workflows-api-reference/events/
# The page's loop runs over three runs that end each way (the workflows are not the
# page's: it shows the loop alone). Its failed branch prints `ev.exception_message`, a
# field of later versions; 2.26.1's API reference prints the exception, as here. main()
# also prints the error each handler raises.
import asyncio

from workflows import Workflow, step
from workflows.events import (
    StartEvent,
    StopEvent,
    WorkflowCancelledEvent,
    WorkflowFailedEvent,
    WorkflowTimedOutEvent,
)


class Slow(Workflow):
    @step
    async def wait(self, ev: StartEvent) -> StopEvent:
        await asyncio.sleep(10)
        return StopEvent()


class Fails(Workflow):
    @step
    async def explode(self, ev: StartEvent) -> StopEvent:
        raise ValueError("no fuel")


async def main():
    timed_out = Slow(timeout=0.05).run()
    cancelled = Slow(timeout=None).run()
    failed = Fails().run()
    for handler in (timed_out, cancelled, failed):
        if handler is cancelled:
            await handler.cancel_run()

        async for ev in handler.stream_events():
            if isinstance(ev, WorkflowTimedOutEvent):
                print(f"Workflow timed out after {ev.timeout}s")
            elif isinstance(ev, WorkflowCancelledEvent):
                print("Workflow was cancelled")
            elif isinstance(ev, WorkflowFailedEvent):
                print(f"Step '{ev.step_name}' failed after {ev.attempts} attempts")
                print(f"{type(ev.exception).__name__}: {ev.exception}")

        try:
            await handler
        except Exception as error:
            print(type(error).__name__)
