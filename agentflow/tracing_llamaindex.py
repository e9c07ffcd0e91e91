"""Run and step spans for LlamaIndex's instrumentation (`llama_index_instrumentation`).

A LlamaIndex tracing set-up (Arize's `LlamaIndexInstrumentor`, Langfuse's, a span handler
of one's own) registers handlers on the instrumentation's dispatchers and hears of spans as
`span_enter`, `span_exit` and `span_drop` calls. When such a handler is registered, a run
and each step execution are announced to the `agentflow` dispatcher the way LlamaIndex
Workflows announces its own: span ids `{Workflow}.run-{uuid}` and `{Workflow}.{step}-{uuid}`,
the workflow as the instance, the run's span as the steps' parent, the caller's active
LlamaIndex span (`active_span_id`) as the run's, and a failure as a drop with a
`SpanDropEvent`. A step's span is the active one while it runs, so what LlamaIndex traces
inside it (a LlamaIndex LLM's call) sits under it.

Nothing is imported when the package is not loaded (then no one can have registered a
handler), and nothing is announced while only its null handlers are there.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

# Imported when a handler listens, never by a run that only checks: `inspect` and `uuid`.
if TYPE_CHECKING:
    import inspect

    from llama_index_instrumentation.dispatcher import Dispatcher

    from agentflow.events import Event

_DISPATCHER_NAME = "agentflow"


def active_dispatcher() -> Dispatcher | None:
    """The `agentflow` dispatcher when a handler other than the null ones would hear of its
    spans or events, else None."""
    instrumentation = sys.modules.get("llama_index_instrumentation")
    if instrumentation is None:
        return None
    from llama_index_instrumentation.event_handlers import NullEventHandler
    from llama_index_instrumentation.span_handlers import NullSpanHandler

    dispatcher: Dispatcher = instrumentation.get_dispatcher(_DISPATCHER_NAME)
    hearing: Dispatcher | None = dispatcher
    while hearing is not None:
        handlers = [*hearing.span_handlers, *hearing.event_handlers]
        if any(not isinstance(h, NullSpanHandler | NullEventHandler) for h in handlers):
            return dispatcher
        hearing = hearing.parent if hearing.propagate else None
    return None


class LlamaIndexRunSpan:
    """A run announced to the dispatcher: entered when made, ended by `end`."""

    def __init__(self, dispatcher: Dispatcher, workflow: Any, start_event: Any) -> None:
        import uuid

        from llama_index_instrumentation.span import active_span_id

        self.dispatcher = dispatcher
        self.workflow = workflow
        self.id = f"{type(workflow).__name__}.run-{uuid.uuid4()}"
        """The run's span id: its steps' parent."""
        self._arguments = _signature("start_event").bind(start_event)
        dispatcher.span_enter(
            id_=self.id,
            bound_args=self._arguments,
            instance=workflow,
            parent_id=active_span_id.get(),
        )

    def end(self, error: BaseException | None) -> None:
        """Exit the span, or drop it when the run failed with `error`."""
        if error is None:
            self.dispatcher.span_exit(
                id_=self.id, bound_args=self._arguments, instance=self.workflow
            )
        else:
            _drop(self.dispatcher, self.id, self._arguments, self.workflow, error)


def announced_step(
    call: Callable[[Event], Awaitable[Any]], run: LlamaIndexRunSpan, step_name: str
) -> Callable[[Event], Awaitable[Any]]:
    """`call` wrapped so that each execution is a span under `run`'s."""
    import uuid

    from llama_index_instrumentation.span import active_span_id

    dispatcher, workflow = run.dispatcher, run.workflow
    prefix = f"{type(workflow).__name__}.{step_name}-"
    signature = _signature("ev")

    async def call_in_span(event: Event) -> Any:
        id_ = f"{prefix}{uuid.uuid4()}"
        arguments = signature.bind(event)
        dispatcher.span_enter(id_=id_, bound_args=arguments, instance=workflow, parent_id=run.id)
        token = active_span_id.set(id_)
        try:
            result = await call(event)
        except BaseException as error:
            _drop(dispatcher, id_, arguments, workflow, error)
            raise
        finally:
            active_span_id.reset(token)
        dispatcher.span_exit(id_=id_, bound_args=arguments, instance=workflow, result=result)
        return result

    return call_in_span


def _signature(parameter: str) -> inspect.Signature:
    """The arguments a handler is shown: the start event of a run, the event of a step."""
    import inspect

    return inspect.Signature(
        [inspect.Parameter(parameter, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    )


def _drop(
    dispatcher: Dispatcher,
    id_: str,
    arguments: inspect.BoundArguments,
    workflow: Any,
    error: BaseException,
) -> None:
    from llama_index_instrumentation.events.span import SpanDropEvent

    dispatcher.event(SpanDropEvent(span_id=id_, err_str=str(error)))
    dispatcher.span_drop(id_=id_, bound_args=arguments, instance=workflow, err=error)
