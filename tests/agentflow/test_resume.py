"""Saving a run that is under way and resuming it: steps, waits, queues, buffers, stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest

from agentflow import Context, Workflow, step
from agentflow.errors import ContextSerdeError, WorkflowTimeoutError
from agentflow.events import (
    Event,
    HumanResponseEvent,
    InputRequiredEvent,
    StartEvent,
    StopEvent,
    WorkflowCancelledEvent,
)


def through_json(ctx: Context[Any]) -> dict[str, Any]:
    """What another process would read back."""
    return json.loads(json.dumps(ctx.to_dict()))


class Interview(Workflow):
    """Asks two questions inside one step; counts how often the step started."""

    started = 0

    @step
    async def interview(self, ctx: Context, ev: StartEvent) -> StopEvent:
        type(self).started += 1
        name = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        colour = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="colour?")
        )
        return StopEvent(result=f"{name.response} likes {colour.response}")


async def answer_questions(handler: Any, answers: dict[str, str | None]) -> list[str]:
    """Answers each question from `answers`; on None, saves and cancels. Returns prompts."""
    asked = []
    async for event in handler.stream_events():
        if isinstance(event, InputRequiredEvent):
            asked.append(event.prefix)
            answer = answers[event.prefix]
            if answer is None:
                await handler.cancel_run()
            else:
                handler.ctx.send_event(HumanResponseEvent(response=answer))
    return asked


async def test_a_step_saved_mid_wait_reruns_and_gets_its_earlier_answer_at_once() -> None:
    Interview.started = 0
    first = Interview(timeout=None).run()
    asked = await answer_questions(first, {"name?": "Ada", "colour?": None})
    assert asked == ["name?", "colour?"]
    saved = through_json(first.ctx)

    workflow = Interview(timeout=None)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    asked_again = await answer_questions(resumed, {"colour?": "green"})
    assert await resumed == "Ada likes green"
    # The step ran again from its start; its first wait returned the saved answer without
    # asking, and only the unanswered question was asked again.
    assert Interview.started == 2
    assert asked_again == ["colour?"]


async def test_an_answer_sent_before_the_rerun_step_waits_is_taken_at_once() -> None:
    first = Interview(timeout=None).run()
    await answer_questions(first, {"name?": None})
    workflow = Interview(timeout=None)
    resumed = workflow.run(ctx=Context.from_dict(workflow, through_json(first.ctx)))
    resumed.ctx.send_event(HumanResponseEvent(response="Bo"))
    asked = await answer_questions(resumed, {"colour?": "red"})
    assert await resumed == "Bo likes red"
    assert asked == ["colour?"]


class Item(Event):
    index: int


class Done(Event):
    index: int


class Batch(Workflow):
    """Fans out items; item processing blocks until `gate` opens, a few at a time."""

    gate = asyncio.Event()
    processed: ClassVar[list[int]] = []

    @step
    async def split(self, ctx: Context, ev: StartEvent) -> Item | None:
        await ctx.store.set("total", ev.total)
        for index in range(ev.total):
            ctx.send_event(Item(index=index))
        return None

    @step(num_workers=2)
    async def process(self, ctx: Context, ev: Item) -> Done:
        if ev.index >= 3:
            await type(self).gate.wait()
        type(self).processed.append(ev.index)
        ctx.write_event_to_stream(ev)
        return Done(index=ev.index)

    @step
    async def join(self, ctx: Context, ev: Done) -> StopEvent | None:
        total = await ctx.store.get("total")
        done = ctx.collect_events(ev, Done, count=total)
        return None if done is None else StopEvent(result=sorted(d.index for d in done))


async def test_queued_running_and_collected_events_all_survive_a_save() -> None:
    Batch.gate = asyncio.Event()
    Batch.processed = []
    workflow = Batch(timeout=None)
    handler = workflow.run(total=8)
    stream = handler.stream_events()
    # Items 0-2 pass the gate and are collected; 3 and 4 block in the two workers;
    # 5-7 wait in the queue.
    seen = [await anext(stream) for _ in range(3)]
    assert sorted(e.index for e in seen) == [0, 1, 2]  # type: ignore[attr-defined]
    saved = through_json(handler.ctx)
    await handler.cancel_run()
    assert [type(e) for e in [e async for e in stream]] == [WorkflowCancelledEvent]
    run = saved["run"]
    running = [item["step"] for item in run["in_progress"]]
    queued_for = [item["step"] for item in run["queued"]]
    assert running.count("process") == 2
    assert queued_for.count("process") == 3
    # The three finished items' Done events are collected, or handed to the collector.
    collected = sum(len(events) for events in run.get("collected", {}).values())
    assert collected + queued_for.count("join") + running.count("join") == 3

    Batch.gate.set()
    Batch.processed = []
    fresh = Batch(timeout=None)
    resumed = fresh.run(ctx=Context.from_dict(fresh, saved))
    assert await resumed == list(range(8))
    assert sorted(Batch.processed) == [3, 4, 5, 6, 7]


async def test_a_cancelled_run_resumes_in_the_same_context() -> None:
    workflow = Interview(timeout=None)
    ctx = Context(workflow)
    first = workflow.run(ctx=ctx)
    await answer_questions(first, {"name?": None})
    assert ctx.has_unfinished_run
    resumed = workflow.run(ctx=ctx)
    await answer_questions(resumed, {"name?": "Cy", "colour?": "blue"})
    assert await resumed == "Cy likes blue"
    assert not ctx.has_unfinished_run


async def test_a_new_start_event_starts_over_instead_of_resuming() -> None:
    workflow = Notes()
    ctx = Context(workflow)
    with pytest.raises(WorkflowTimeoutError):
        await workflow.run(ctx=ctx, wait=True)
    assert ctx.has_unfinished_run
    assert await workflow.run(ctx=ctx, wait=False) == "no wait"
    assert not ctx.has_unfinished_run


class Notes(Workflow):
    def __init__(self) -> None:
        super().__init__(timeout=0.05)

    @step
    async def maybe_wait(self, ev: StartEvent) -> StopEvent:
        if ev.wait:
            await asyncio.Event().wait()
        return StopEvent(result="no wait")


async def test_a_saved_run_naming_a_missing_step_is_refused() -> None:
    first = Interview(timeout=None).run()
    await answer_questions(first, {"name?": None})
    saved = through_json(first.ctx)
    saved["run"]["in_progress"][0]["step"] = "renamed"
    with pytest.raises(ContextSerdeError, match="step 'renamed'"):
        Context.from_dict(Interview(), saved)


# An unanswered question is streamed again, first, to the resumed run's follower


class Work(Event):
    pass


class Note(Event):
    pass


class AsksAndWorks(Workflow):
    """`begin` returns a question, the way LlamaIndex's walkthrough asks (`reply` takes the
    answer), and sends `work` an event; `work` writes a Note once `gate` opens."""

    gate: ClassVar[asyncio.Event]

    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> InputRequiredEvent | Work:
        ctx.send_event(Work())
        return InputRequiredEvent(prefix="name?")

    @step
    async def work(self, ctx: Context, ev: Work) -> None:
        await type(self).gate.wait()
        ctx.write_event_to_stream(Note())

    @step
    async def reply(self, ev: HumanResponseEvent) -> StopEvent:
        return StopEvent(result=ev.response)


class WaitsAndWorks(Workflow):
    """The same question asked inside the step, through `wait_for_event`."""

    gate: ClassVar[asyncio.Event]

    @step
    async def begin(self, ctx: Context, ev: StartEvent) -> Work | None:
        ctx.send_event(Work())
        return None

    @step
    async def ask(self, ctx: Context, ev: Work) -> StopEvent:
        reply = await ctx.wait_for_event(
            HumanResponseEvent, waiter_event=InputRequiredEvent(prefix="name?")
        )
        return StopEvent(result=reply.response)

    @step
    async def work(self, ctx: Context, ev: Work) -> None:
        await type(self).gate.wait()
        ctx.write_event_to_stream(Note())


@pytest.mark.parametrize(
    ("flow", "open_at_resume"),
    [
        # Streamed by the restore itself, before any step runs again.
        (AsksAndWorks, True),
        # Asked again by the step, which runs again up to its wait.
        (WaitsAndWorks, False),
    ],
)
async def test_an_unanswered_question_is_streamed_again_first_after_a_restore(
    flow: type[AsksAndWorks] | type[WaitsAndWorks], open_at_resume: bool
) -> None:
    flow.gate = asyncio.Event()
    first = flow(timeout=None).run()
    async for event in first.stream_events():
        if isinstance(event, InputRequiredEvent):
            break
    saved = through_json(first.ctx)  # `work` is still waiting for its gate
    await first.cancel_run()

    if open_at_resume:
        flow.gate.set()
    workflow = flow(timeout=None)
    resumed = workflow.run(ctx=Context.from_dict(workflow, saved))
    streamed: list[Event] = []
    async for event in resumed.stream_events():
        streamed.append(event)
        if isinstance(event, InputRequiredEvent):
            flow.gate.set()
        if isinstance(event, Note):
            resumed.ctx.send_event(HumanResponseEvent(response="Ada"))
    assert await resumed == "Ada"
    # Once, before the Note the resumed `work` writes.
    assert [type(e) for e in streamed] == [InputRequiredEvent, Note, StopEvent]
    question = streamed[0]
    assert isinstance(question, InputRequiredEvent)
    assert question.prefix == "name?"
