"""Workflow.run(): start events, results, custom stop events, num_workers, verbose."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from agentflow import Context, Workflow, step
from agentflow.errors import ContextStateError, StartEventError, WorkflowRuntimeError
from agentflow.events import Event, StartEvent, StopEvent


class Greeting(Event):
    text: str


class EchoWorkflow(Workflow):
    @step
    async def greet(self, ev: StartEvent) -> Greeting:
        return Greeting(text=f"hello {ev.name}")

    @step
    async def finish(self, ev: Greeting) -> StopEvent:
        return StopEvent(result=ev.text)


class TypedStart(StartEvent):
    query: str
    limit: int = 3


class TypedStartWorkflow(Workflow):
    @step
    async def answer(self, ev: TypedStart) -> StopEvent:
        return StopEvent(result=[ev.query] * ev.limit)


class Verdict(StopEvent):
    score: float
    label: str


class VerdictWorkflow(Workflow):
    @step
    async def judge(self, ev: StartEvent) -> Verdict:
        return Verdict(score=0.5, label=ev.label)


class MarkerStop(StopEvent):
    """A StopEvent subclass without fields of its own: its result is still unwrapped."""


class MarkerWorkflow(Workflow):
    @step
    async def finish(self, ev: StartEvent) -> MarkerStop:
        return MarkerStop(result=41 + 1)


async def test_run_passes_keyword_arguments_on_the_start_event() -> None:
    assert await EchoWorkflow().run(name="ada") == "hello ada"


async def test_run_accepts_a_ready_start_event() -> None:
    assert await EchoWorkflow().run(start_event=StartEvent(name="bob")) == "hello bob"


async def test_run_builds_the_workflows_own_start_event_type_from_kwargs() -> None:
    assert await TypedStartWorkflow().run(query="q", limit=2) == ["q", "q"]


async def test_run_rejects_kwargs_that_do_not_fit_a_typed_start_event() -> None:
    with pytest.raises(ValueError, match="query"):
        TypedStartWorkflow().run(limit=2)


async def test_bad_start_kwargs_raise_a_runtime_error_naming_the_field_with_pydantic_s_cause() -> (
    None
):
    with pytest.raises(WorkflowRuntimeError) as raised:
        TypedStartWorkflow().run(query="q", limit="many")
    message = str(raised.value)
    assert message.startswith(
        "Failed creating a start event of type 'TypedStart' with the keyword arguments: "
        "{'query': 'q', 'limit': 'many'}"
    )
    assert "limit: Input should be a valid integer" in message
    assert isinstance(raised.value, StartEventError)
    assert isinstance(raised.value.__cause__, ValidationError)


async def test_a_start_event_that_is_no_start_event_is_a_value_error_as_in_llamaindex() -> None:
    with pytest.raises(ValueError, match="must be an instance of 'StartEvent'") as raised:
        EchoWorkflow().run(start_event=Greeting(text="hi"))  # type: ignore[arg-type]
    assert str(raised.value) == (
        "The 'start_event' argument must be an instance of 'StartEvent'. workflow EchoWorkflow "
        "starts with StartEvent, but run() got a Greeting"
    )
    assert isinstance(raised.value, WorkflowRuntimeError)


async def test_run_rejects_a_start_event_of_the_wrong_type() -> None:
    with pytest.raises(WorkflowRuntimeError, match="TypedStart"):
        TypedStartWorkflow().run(start_event=StartEvent(query="q"))


async def test_run_rejects_start_event_together_with_kwargs() -> None:
    with pytest.raises(TypeError, match="name"):
        EchoWorkflow().run(start_event=StartEvent(), name="x")


async def test_a_stop_event_subclass_with_fields_is_itself_the_result() -> None:
    result = await VerdictWorkflow().run(label="good")
    assert isinstance(result, Verdict)
    assert (result.score, result.label) == (0.5, "good")


async def test_a_stop_event_subclass_without_fields_gives_its_result() -> None:
    assert await MarkerWorkflow().run() == 42


def test_run_outside_an_event_loop_says_how_to_call_it() -> None:
    with pytest.raises(RuntimeError, match=r"asyncio\.run"):
        EchoWorkflow().run(name="x")


async def test_the_same_workflow_instance_serves_concurrent_runs() -> None:
    workflow = EchoWorkflow()
    results = await asyncio.gather(*(workflow.run(name=str(i)) for i in range(50)))
    assert results == [f"hello {i}" for i in range(50)]


async def test_a_context_of_another_workflow_instance_is_refused() -> None:
    ctx = Context(EchoWorkflow())
    with pytest.raises(WorkflowRuntimeError, match="another EchoWorkflow"):
        EchoWorkflow().run(ctx=ctx, name="x")


class Gate(Event):
    index: int


class Released(Event):
    index: int


class ConcurrencyProbe(Workflow):
    """Sends eight events to a step limited to `num_workers=2` and records the peak."""

    peak = 0
    running = 0

    @step
    async def fan_out(self, ctx: Context, ev: StartEvent) -> Gate | None:
        for index in range(8):
            ctx.send_event(Gate(index=index))
        return None

    @step(num_workers=2)
    async def limited(self, ev: Gate) -> Released:
        type(self).running += 1
        type(self).peak = max(type(self).peak, type(self).running)
        await asyncio.sleep(0)
        type(self).running -= 1
        return Released(index=ev.index)

    @step
    async def gather(self, ctx: Context, ev: Released) -> StopEvent | None:
        done = ctx.collect_events(ev, Released, count=8)
        return None if done is None else StopEvent(result=sorted(e.index for e in done))


async def test_num_workers_caps_how_many_events_a_step_handles_at_once() -> None:
    ConcurrencyProbe.peak = 0
    assert await ConcurrencyProbe().run() == list(range(8))
    assert ConcurrencyProbe.peak == 2


async def test_verbose_prints_each_step_and_what_it_produced(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await EchoWorkflow(verbose=True).run(name="v")
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "Running step greet",
        "Step greet produced event Greeting",
        "Running step finish",
        "Step finish produced event StopEvent",
    ]


async def test_a_context_serves_one_run_at_a_time() -> None:
    workflow = WaitingWorkflow()
    ctx = Context(workflow)
    handler = workflow.run(ctx=ctx)
    with pytest.raises(ContextStateError, match="one run at a time"):
        workflow.run(ctx=ctx)
    await handler.cancel_run()


class WaitingWorkflow(Workflow):
    @step
    async def wait(self, ev: StartEvent) -> StopEvent:
        await asyncio.Event().wait()
        return StopEvent()


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout"):
        EchoWorkflow(timeout=0)


class DefaultWorkersProbe(Workflow):
    """Ten events to a step with the default num_workers; each waits until all started
    ones are released, so the peak shows how many ran at once."""

    peak = 0
    running = 0

    @step
    async def fan_out(self, ctx: Context, ev: StartEvent) -> Gate | None:
        for index in range(10):
            ctx.send_event(Gate(index=index))
        return None

    @step
    async def default_limited(self, ev: Gate) -> Released:
        type(self).running += 1
        type(self).peak = max(type(self).peak, type(self).running)
        for _ in range(3):
            await asyncio.sleep(0)
        type(self).running -= 1
        return Released(index=ev.index)

    @step
    async def gather(self, ctx: Context, ev: Released) -> StopEvent | None:
        done = ctx.collect_events(ev, Released, count=10)
        return None if done is None else StopEvent(result=len(done))


async def test_num_workers_defaults_to_four() -> None:
    DefaultWorkersProbe.peak = 0
    assert await DefaultWorkersProbe().run() == 10
    assert DefaultWorkersProbe.peak == 4


class InnerWorkflow(Workflow):
    @step
    async def double(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=ev.value * 2)


class OuterWorkflow(Workflow):
    @step
    async def call_inner(self, ev: StartEvent) -> StopEvent:
        inner = await InnerWorkflow().run(value=ev.value)
        return StopEvent(result=inner + 1)


async def test_a_step_can_run_another_workflow_on_the_same_loop() -> None:
    assert await OuterWorkflow().run(value=20) == 41


async def test_a_ctx_that_is_not_a_context_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="takes a Context, got a str"):
        EchoWorkflow().run(ctx="not a context")  # type: ignore[arg-type]


def test_a_workflow_with_plain_start_and_stop_names_those_and_its_module_qualified_name() -> None:
    class Plain(Workflow):
        @step
        async def only(self, ev: StartEvent) -> StopEvent:
            return StopEvent()

    flow = Plain()
    assert flow.workflow_name == f"{__name__}.{Plain.__qualname__}"
    assert flow.start_event_class is StartEvent
    assert flow.stop_event_class is StopEvent
    assert flow.events == [StartEvent, StopEvent]
