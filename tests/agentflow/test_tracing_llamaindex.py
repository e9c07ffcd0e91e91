"""Run and step spans reaching LlamaIndex's instrumentation (agentflow.tracing_llamaindex):
a real span handler and event handler on its root dispatcher hear of each run and step
execution as LlamaIndex Workflows announces its own, nested, failures dropped; with only the
null handlers nothing is announced, and without the package loaded nothing is imported."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.base import BaseEvent
from llama_index_instrumentation.event_handlers import BaseEventHandler
from llama_index_instrumentation.events.span import SpanDropEvent
from llama_index_instrumentation.span_handlers import BaseSpanHandler
from pydantic import Field

from agentflow import Workflow, step
from agentflow.events import Event, StartEvent, StopEvent
from agentflow.tracing_llamaindex import active_dispatcher


@dataclass
class Heard:
    """One span as the handler heard of it."""

    id: str
    parent: str | None
    instance: Any
    arguments: dict[str, Any]
    outcome: str = "open"
    result: Any = None
    error: BaseException | None = None


class CollectingSpanHandler(BaseSpanHandler[Heard]):
    """Keeps every span it hears of, in the order they were entered."""

    heard: list[Heard] = Field(default_factory=list)

    def new_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_span_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Heard:
        span = Heard(id_, parent_span_id, instance, dict(bound_args.arguments))
        self.heard.append(span)
        return span

    def prepare_to_exit_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> Heard:
        span = self.open_spans[id_]
        span.outcome, span.result = "exited", result
        return span

    def prepare_to_drop_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> Heard:
        span = self.open_spans[id_]
        span.outcome, span.error = "dropped", err
        return span


class CollectingEventHandler(BaseEventHandler):
    events: list[BaseEvent] = Field(default_factory=list)

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


@dataclass
class Listening:
    spans: CollectingSpanHandler
    events: CollectingEventHandler

    def named(self, prefix: str) -> list[Heard]:
        return [span for span in self.spans.heard if span.id.startswith(prefix)]


@pytest.fixture
def listening() -> Iterator[Listening]:
    root = get_dispatcher()
    span_handlers, event_handlers = list(root.span_handlers), list(root.event_handlers)
    spans, events = CollectingSpanHandler(), CollectingEventHandler()
    root.add_span_handler(spans)
    root.add_event_handler(events)
    yield Listening(spans, events)
    root.span_handlers, root.event_handlers = span_handlers, event_handlers


class Drafted(Event):
    text: str


_inner = get_dispatcher("tests.llamaindex_code")


@_inner.span
async def llamaindex_code(text: str) -> str:
    """Stands for LlamaIndex code a step calls (an LLM's chat), traced by the dispatcher."""
    return text.upper()


class Drafting(Workflow):
    @step
    async def draft(self, ev: StartEvent) -> Drafted:
        return Drafted(text=await llamaindex_code(ev.topic))

    @step
    async def publish(self, ev: Drafted) -> StopEvent:
        if ev.text == "FAIL":
            raise ValueError("cannot publish FAIL")
        return StopEvent(result=ev.text)


async def test_a_run_and_its_steps_are_nested_spans_of_the_dispatcher(
    listening: Listening,
) -> None:
    workflow = Drafting()
    assert await workflow.run(topic="otters") == "OTTERS"
    (run,) = listening.named("Drafting.run-")
    (draft,) = listening.named("Drafting.draft-")
    (publish,) = listening.named("Drafting.publish-")
    (inner,) = listening.named("llamaindex_code-")
    assert run.parent is None
    assert run.instance is workflow
    assert run.arguments["start_event"].topic == "otters"
    assert (draft.parent, publish.parent) == (run.id, run.id)
    assert draft.instance is workflow
    assert type(draft.arguments["ev"]) is StartEvent
    assert publish.result.result == "OTTERS"
    # LlamaIndex code called in a step sits under the step's span.
    assert inner.parent == draft.id
    assert [span.outcome for span in (run, draft, publish, inner)] == ["exited"] * 4
    assert not [event for event in listening.events.events if isinstance(event, SpanDropEvent)]


async def test_a_failed_step_and_run_are_dropped_with_an_event(listening: Listening) -> None:
    with pytest.raises(ValueError, match="cannot publish FAIL"):
        await Drafting().run(topic="fail")
    (run,) = listening.named("Drafting.run-")
    (publish,) = listening.named("Drafting.publish-")
    assert (run.outcome, publish.outcome) == ("dropped", "dropped")
    assert isinstance(publish.error, ValueError)
    drops = [event for event in listening.events.events if isinstance(event, SpanDropEvent)]
    assert {event.span_id for event in drops} == {run.id, publish.id}


_outer = get_dispatcher("tests.llamaindex_caller")


@_outer.span
async def llamaindex_caller() -> Any:
    """Stands for LlamaIndex code that runs a workflow (a tool of a LlamaIndex agent)."""
    return await Drafting().run(topic="nested")


async def test_a_run_started_inside_a_llamaindex_span_sits_under_it(
    listening: Listening,
) -> None:
    assert await llamaindex_caller() == "NESTED"
    (caller,) = listening.named("llamaindex_caller-")
    (run,) = listening.named("Drafting.run-")
    assert run.parent == caller.id


async def test_with_only_the_null_handlers_nothing_is_announced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every way a span or event reaches the handlers through agentflow's dispatcher is
    watched: none is used."""
    from llama_index_instrumentation.dispatcher import Dispatcher

    announced: list[str] = []

    def watching(method: str) -> Any:
        def record(self: Dispatcher, *args: Any, **kwargs: Any) -> None:
            if self.name == "agentflow":
                announced.append(method)

        return record

    for method in ("span_enter", "span_exit", "span_drop", "event"):
        monkeypatch.setattr(Dispatcher, method, watching(method))
    assert await Drafting().run(topic="quiet") == "QUIET"
    assert announced == []
    assert active_dispatcher() is None
