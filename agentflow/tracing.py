"""OpenTelemetry spans for runs and step executions, when OpenTelemetry is there.

A run gets a span `workflow <Name>`; each execution of a step (each attempt, when it is
retried) gets a child span `step <name>` with the step name, the event type, the attempt
number and the run id as attributes, and exceptions recorded. Spans are made only when
`opentelemetry-api` is installed (extra `otel`) and an SDK tracer provider has been set.
The same run and step spans reach LlamaIndex's instrumentation when a handler of its
listens (`agentflow.tracing_llamaindex`). Otherwise nothing is imported and a run pays two
dictionary lookups (`active_tracing`; a look at the dispatchers' handlers besides, when
LlamaIndex's instrumentation is loaded).

The layers above make the GenAI spans inside a step's span (`agents.llm.spans`: `chat
{model}`, `tools.spans`: `execute_tool {name}`, `agents.kit.agent_spans`: `invoke_agent {name}`)
with the helpers here: the same tracer, the one switch for recording message contents,
and the one way a failure is marked.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentflow.tracing_llamaindex import active_dispatcher

if TYPE_CHECKING:
    from llama_index_instrumentation.dispatcher import Dispatcher
    from opentelemetry.context import Context as TraceContext
    from opentelemetry.trace import Span, Tracer

    from agentflow.events import Event
    from agentflow.tracing_llamaindex import LlamaIndexRunSpan

_INSTRUMENTATION_NAME = "agentflow"
_LLAMA_INDEX = "llama_index_instrumentation"

CONTENT_VARIABLE = "AGENTFLOW_TRACE_CONTENT"
"""Set to 1 (or true, yes, on) to record message contents, tool arguments and results on
the GenAI spans; they may hold personal data, so they are left out unless asked for."""

_record_content: bool | None = None


def active_tracer() -> Tracer | None:
    """The tracer to use for a run starting now, or None when no one collects spans.

    A tracer provider can only have been set by code that imported `opentelemetry.trace`,
    so when that module is not loaded there is nothing to look up and nothing is imported.
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    provider = trace.get_tracer_provider()
    # The API's defaults drop every span; don't pay for spans nobody records.
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None
    tracer: Tracer = provider.get_tracer(_INSTRUMENTATION_NAME)
    return tracer


def record_content(enabled: bool | None) -> None:
    """Record message contents, tool arguments and results on the GenAI spans (True), never
    (False), or as `AGENTFLOW_TRACE_CONTENT` says (None, the default)."""
    global _record_content
    _record_content = enabled


def content_recorded() -> bool:
    """Whether GenAI spans record contents now (`record_content`, else the variable)."""
    if _record_content is not None:
        return _record_content
    return os.environ.get(CONTENT_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def mark_failed(
    span: Span, error_type: str, error: BaseException | None = None, *, whole: bool = False
) -> None:
    """Mark `span` failed the way the GenAI conventions ask: `error.type` (an exception's
    class name, or a name of our own for a failure without one) and status ERROR; the one
    way every span here (run, step, chat, tool, agent) is marked failed.

    The exception is recorded whole (message and stack trace, its text the status's
    description) on the engine's own spans (`whole`), as OpenTelemetry records any failed
    span's; on a GenAI span only with contents (`content_recorded`), as its text may quote
    the prompt or a tool's arguments (pydantic repeats the value it refused). Otherwise the
    status names the type and the `exception` event holds `exception.type` alone."""
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", error_type)
    description = error_type
    if error is not None and (whole or content_recorded()):
        span.record_exception(error)
        description = str(error) or error_type
    elif error is not None:
        span.add_event("exception", {"exception.type": error_type})
    span.set_status(Status(StatusCode.ERROR, description))


def mark_raised(span: Span, error: BaseException, *, whole: bool = False) -> None:
    """`mark_failed` for an exception, named by its class."""
    mark_failed(span, type(error).__qualname__, error, whole=whole)


@dataclass(frozen=True, slots=True)
class RunTracing:
    """Who hears of a run's spans: OpenTelemetry's tracer, LlamaIndex's instrumentation
    (`agentflow.tracing_llamaindex`), or both."""

    tracer: Tracer | None
    dispatcher: Dispatcher | None


@dataclass(slots=True)
class RunSpans:
    """A run's spans while it goes: what its step spans go under."""

    context: TraceContext | None
    """The OpenTelemetry context holding the `workflow <Name>` span."""
    llama_index: LlamaIndexRunSpan | None
    """The run as announced to LlamaIndex's dispatcher."""
    error: BaseException | None = None
    """What the run failed with (`record_run_failure`)."""


def active_tracing() -> RunTracing | None:
    """Who collects the spans of a run starting now; None when no one does."""
    # Neither package loaded, so no one can have set a provider or registered a handler:
    # the common case, answered without a call.
    if "opentelemetry.trace" not in sys.modules and _LLAMA_INDEX not in sys.modules:
        return None
    tracer, dispatcher = active_tracer(), active_dispatcher()
    if tracer is None and dispatcher is None:
        return None
    return RunTracing(tracer, dispatcher)


@contextmanager
def run_span(
    tracing: RunTracing, workflow: Any, workflow_name: str, run_id: str, start_event: Any
) -> Iterator[RunSpans]:
    """The spans covering a whole run; yields what its step spans go under."""
    from agentflow.tracing_llamaindex import LlamaIndexRunSpan

    llama_index = (
        LlamaIndexRunSpan(tracing.dispatcher, workflow, start_event)
        if tracing.dispatcher is not None
        else None
    )
    spans = RunSpans(None, llama_index)
    try:
        if tracing.tracer is None:
            yield spans
            return
        from opentelemetry import trace

        with tracing.tracer.start_as_current_span(
            f"workflow {workflow_name}",
            attributes={"agentflow.workflow": workflow_name, "agentflow.run_id": run_id},
            record_exception=False,  # marked by `mark_raised`, with error.type
            set_status_on_exception=False,
        ) as span:
            spans.context = trace.set_span_in_context(span)
            try:
                yield spans
            except BaseException as error:  # the driver cancelled as the loop shuts down
                spans.error = spans.error or error
                raise
            finally:
                if spans.error is not None:
                    mark_raised(span, spans.error, whole=True)
    except BaseException as error:  # raised before the span started
        spans.error = spans.error or error
        raise
    finally:
        if llama_index is not None:
            llama_index.end(spans.error)


def record_run_failure(spans: RunSpans, error: BaseException) -> None:
    """Mark the run's spans failed with `error` (when they end)."""
    spans.error = error


def traced_step(
    call: Callable[[Event], Awaitable[Any]],
    tracing: RunTracing,
    parent: RunSpans,
    step_name: str,
    run_id: str,
    attempt: Callable[[], int],
) -> Callable[[Event], Awaitable[Any]]:
    """`call` wrapped so that each execution runs inside a `step <name>` span (and is a
    LlamaIndex span under the run's, when LlamaIndex's instrumentation listens)."""
    if parent.llama_index is not None:
        from agentflow.tracing_llamaindex import announced_step

        call = announced_step(call, parent.llama_index, step_name)
    tracer, context = tracing.tracer, parent.context
    if tracer is None or context is None:
        return call

    async def call_in_span(event: Event) -> Any:
        with tracer.start_as_current_span(
            f"step {step_name}",
            context=context,
            attributes={
                "agentflow.step": step_name,
                "agentflow.event_type": type(event).__name__,
                "agentflow.attempt": attempt(),
                "agentflow.run_id": run_id,
            },
            record_exception=False,  # marked by `mark_raised`, with error.type
            set_status_on_exception=False,
        ) as span:
            try:
                return await call(event)
            except BaseException as error:
                mark_raised(span, error, whole=True)
                raise

    return call_in_span
