"""The differences docs/porting-from-llamaindex.md lists as deliberate, checked on both
engines: each program is written for `workflows` and run on llama-index-workflows 2.26.1 and
with the import renamed to agentflow (`run_program`), and each engine must behave as the
page says it does."""

from __future__ import annotations

import pytest
from test_llamaindex_compat import reference_installed, run_program

pytestmark = pytest.mark.skipif(
    not reference_installed(), reason="llama-index-workflows 2.26.1 is not installed"
)

WAIT_RUNS_THE_STEP_AGAIN = """
from workflows import Context, Workflow, step
from workflows.events import HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

class Asks(Workflow):
    before_the_wait = 0

    @step
    async def ask(self, ctx: Context, ev: StartEvent) -> StopEvent:
        type(self).before_the_wait += 1
        reply = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        return StopEvent(result=reply.response)

async def main():
    handler = Asks(timeout=10).run()
    async for ev in handler.stream_events():
        if isinstance(ev, InputRequiredEvent):
            handler.ctx.send_event(HumanResponseEvent(response="Ada"))
    return await handler, Asks.before_the_wait
"""

FORWARD_REFERENCE = """
from __future__ import annotations

from workflows import Workflow, step
from workflows.errors import WorkflowValidationError
from workflows.events import Event, StartEvent, StopEvent

try:
    class Early(Workflow):
        @step
        async def first(self, ev: StartEvent) -> Later:
            return Later()

        @step
        async def second(self, ev: Later) -> StopEvent:
            return StopEvent(result="resolved")
except WorkflowValidationError:
    Early = None

class Later(Event):
    pass

async def main():
    return "refused at definition" if Early is None else await Early(timeout=10).run()
"""

RESUMED_STREAM = """
from workflows import Context, Workflow, step
from workflows.events import HumanResponseEvent, InputRequiredEvent, StartEvent, StopEvent

class Asks(Workflow):
    @step
    async def ask(self, ev: StartEvent) -> InputRequiredEvent:
        return InputRequiredEvent(prefix="name?")

    @step
    async def reply(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)

async def main():
    workflow = Asks(timeout=10)
    handler = workflow.run()
    async for ev in handler.stream_events():
        if isinstance(ev, InputRequiredEvent):
            saved = handler.ctx.to_dict()
            await handler.cancel_run()
            break
    handler = workflow.run(ctx=Context.from_dict(workflow, saved))
    handler.ctx.send_event(HumanResponseEvent(response="Ada"))
    streamed = [type(ev).__name__ async for ev in handler.stream_events()]
    return await handler, streamed
"""


@pytest.mark.parametrize(
    ("engine", "expected"),
    [("workflows", ("Ada", 2)), ("agentflow", ("Ada", 1))],
)
async def test_only_the_reference_runs_the_work_before_a_wait_again(
    engine: str, expected: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await run_program(WAIT_RUNS_THE_STEP_AGAIN, engine, "wait", monkeypatch) == expected


@pytest.mark.parametrize(
    ("engine", "expected"),
    [("workflows", "refused at definition"), ("agentflow", "resolved")],
)
async def test_only_agentflow_keeps_a_forward_reference(
    engine: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await run_program(FORWARD_REFERENCE, engine, "forward", monkeypatch) == expected


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("workflows", ("Ada", ["StopEvent"])),
        ("agentflow", ("Ada", ["InputRequiredEvent", "StopEvent"])),
    ],
)
async def test_only_agentflow_streams_an_unanswered_question_again_after_a_restore(
    engine: str, expected: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await run_program(RESUMED_STREAM, engine, "resumed", monkeypatch) == expected
