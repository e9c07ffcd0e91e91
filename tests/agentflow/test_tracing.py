"""OpenTelemetry spans: one per run, one per step execution, exceptions recorded."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from agentflow import Workflow, step
from agentflow.events import Event, StartEvent, StepState, StepStateChanged, StopEvent
from agentflow.retry_policy import retry_policy, stop_after_attempt, wait_none
from agentflow.tracing import active_tracer

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="module")
def provider() -> TracerProvider:
    """The process-wide SDK provider (OpenTelemetry allows setting it only once)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        current.add_span_processor(SimpleSpanProcessor(_exporter))
        return current
    sdk_provider = TracerProvider()
    sdk_provider.add_span_processor(SimpleSpanProcessor(_exporter))
    trace.set_tracer_provider(sdk_provider)
    return sdk_provider


@pytest.fixture
def spans(provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    _exporter.clear()
    yield _exporter
    _exporter.clear()


class Drafted(Event):
    text: str


class TracedWorkflow(Workflow):
    attempts = 0

    @step
    async def draft(self, ev: StartEvent) -> Drafted:
        return Drafted(text="hello")

    @step(retry_policy=retry_policy(wait=wait_none(), stop=stop_after_attempt(2)))
    async def publish(self, ev: Drafted) -> StopEvent:
        type(self).attempts += 1
        if type(self).attempts == 1:
            raise ConnectionError("first try fails")
        return StopEvent(result=ev.text)


def by_name(finished: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in finished if span.name == name]


async def test_a_run_span_with_a_child_span_per_step_attempt(
    spans: InMemorySpanExporter,
) -> None:
    TracedWorkflow.attempts = 0
    handler = TracedWorkflow().run()
    assert await handler == "hello"
    finished = spans.get_finished_spans()
    (run,) = by_name(finished, "workflow TracedWorkflow")
    assert run.attributes is not None
    assert run.attributes["agentflow.run_id"] == handler.run_id
    (draft,) = by_name(finished, "step draft")
    first, second = by_name(finished, "step publish")
    for child in (draft, first, second):
        assert child.parent is not None
        assert child.parent.span_id == run.context.span_id
        assert child.attributes is not None
        assert child.attributes["agentflow.run_id"] == handler.run_id
    assert draft.attributes is not None
    assert draft.attributes["agentflow.event_type"] == "StartEvent"
    assert [s.attributes["agentflow.attempt"] for s in (first, second)] == [1, 2]  # type: ignore[index]
    assert first.status.status_code is StatusCode.ERROR
    assert [e.name for e in first.events] == ["exception"]
    assert second.status.status_code is not StatusCode.ERROR


async def test_a_stream_asking_for_step_states_keeps_the_step_spans(
    spans: InMemorySpanExporter,
) -> None:
    """Step states and spans both wrap a step's call: asking for one must not lose the
    other (the lanes were once bound before the run's span existed, so without spans)."""
    TracedWorkflow.attempts = 0
    handler = TracedWorkflow().run()
    streamed = [event async for event in handler.stream_events(expose_internal=True)]
    assert await handler == "hello"
    states = [(e.name, e.step_state) for e in streamed if isinstance(e, StepStateChanged)]
    assert states == [
        ("draft", StepState.RUNNING),
        ("draft", StepState.NOT_RUNNING),
        ("publish", StepState.RUNNING),
        ("publish", StepState.NOT_RUNNING),
        ("publish", StepState.RUNNING),
        ("publish", StepState.NOT_RUNNING),
    ]
    finished = spans.get_finished_spans()
    (run,) = by_name(finished, "workflow TracedWorkflow")
    steps = by_name(finished, "step draft") + by_name(finished, "step publish")
    assert [span.name for span in steps] == ["step draft", "step publish", "step publish"]
    for child in steps:
        assert child.parent is not None
        assert child.parent.span_id == run.context.span_id


class FailingWorkflow(Workflow):
    @step
    async def explode(self, ev: StartEvent) -> StopEvent:
        raise ValueError("bad input")


async def test_a_failed_run_marks_its_span_failed(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError, match="bad input"):
        await FailingWorkflow().run()
    (run,) = by_name(spans.get_finished_spans(), "workflow FailingWorkflow")
    assert run.status.status_code is StatusCode.ERROR
    assert any(event.name == "exception" for event in run.events)


class LeakingWorkflow(Workflow):
    @step
    async def explode(self, ev: StartEvent) -> StopEvent:
        raise ValueError("card 4111-1111-SECRET refused")


async def test_failed_run_and_step_spans_name_the_error_type_and_record_it_whole(
    spans: InMemorySpanExporter,
) -> None:
    """The engine's spans record a failure as OpenTelemetry records any (contents or not);
    only the GenAI spans leave an error's text out without contents."""
    with pytest.raises(ValueError, match="SECRET"):
        await LeakingWorkflow().run()
    finished = spans.get_finished_spans()
    for span in by_name(finished, "workflow LeakingWorkflow") + by_name(finished, "step explode"):
        assert span.attributes is not None
        assert span.attributes["error.type"] == "ValueError"
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description is not None
        assert "SECRET" in span.status.description
        (event,) = span.events
        assert event.name == "exception"
        assert (event.attributes or {})["exception.type"] == "ValueError"
        assert "SECRET" in str((event.attributes or {})["exception.message"])


class Inner(Workflow):
    @step
    async def inner_step(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=1)


class Outer(Workflow):
    @step
    async def outer_step(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result=await Inner().run())


async def test_a_nested_runs_span_sits_under_the_step_that_started_it(
    spans: InMemorySpanExporter,
) -> None:
    assert await Outer().run() == 1
    finished = spans.get_finished_spans()
    (outer_step,) = by_name(finished, "step outer_step")
    (inner_run,) = by_name(finished, "workflow Inner")
    assert inner_run.parent is not None
    assert inner_run.parent.span_id == outer_step.context.span_id


def test_without_a_provider_or_llamaindex_no_span_is_made_and_nothing_imported() -> None:
    code = (
        "import sys, asyncio\n"
        "from agentflow import Workflow, step\n"
        "from agentflow.events import StartEvent, StopEvent\n"
        "class Once(Workflow):\n"
        "    @step\n"
        "    async def only(self, ev: StartEvent) -> StopEvent:\n"
        "        return StopEvent(result='done')\n"
        "async def main():\n"
        "    return await Once().run()\n"
        "assert asyncio.run(main()) == 'done'\n"
        "assert 'opentelemetry' not in sys.modules, 'a run imported opentelemetry'\n"
        "assert 'llama_index_instrumentation' not in sys.modules, 'a run imported it'\n"
        "from agentflow.tracing import active_tracer\n"
        "assert active_tracer() is None\n"
        "print('ok')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.strip() == "ok"


def test_with_a_provider_runs_get_a_tracer(provider: TracerProvider) -> None:
    assert active_tracer() is not None
