"""`invoke_agent {name}` spans: one per agent run, by OpenTelemetry's GenAI conventions.

```
 invoke_agent Helper                      (this module: from run() until the handler resolves)
   └─ workflow FunctionAgent              (agentflow.tracing: the run)
        ├─ step call_llm ── chat gpt-4o-mini        (agents.llm.spans)
        └─ step run_tool_call ── execute_tool add   (tools.spans)
```

The agent's span is the parent of its run's span, not a child: the run's steps (and the
model and tool calls inside them) then sit under the agent, which is how trace viewers
such as Phoenix show an agent. It is made current only while `run()` starts the run, whose
tasks take their context from there, and ends when the handler resolves, failed
(`error.type`, status ERROR) when the run did. Attributes: `gen_ai.operation.name`
"invoke_agent", `gen_ai.agent.name`, `gen_ai.agent.description` when the agent has one,
and the model's `gen_ai.provider.name` (`agents.llm.spans.provider_of`: the class's name
for an LLM that names no provider) and `gen_ai.request.model` when the agent has one.
Without a tracer provider the run starts as it is: nothing is made or imported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from agentflow.tracing import active_tracer, mark_raised

if TYPE_CHECKING:
    from opentelemetry.trace import Span

HandlerT = TypeVar("HandlerT", bound=asyncio.Future[Any])


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """What an agent's span says about it."""

    name: str
    """The agent's name (`gen_ai.agent.name`)."""
    model: str | None = None
    """The model it calls first (`gen_ai.request.model`), when it has one."""
    provider: str | None = None
    """That model's provider (`gen_ai.provider.name`): "openai", "anthropic", ..."""
    description: str | None = None
    """What the agent does (`gen_ai.agent.description`), when it says."""


def run_as_agent(
    identify: Callable[[], AgentIdentity | None], start: Callable[[], HandlerT]
) -> HandlerT:
    """`start()` (a run starting), inside an `invoke_agent {name}` span that lasts until
    the handler it returns resolves; just `start()` when tracing is off or `identify()`
    (asked only when tracing is on) says the workflow is no agent."""
    tracer = active_tracer()
    agent = identify() if tracer is not None else None
    if tracer is None or agent is None:
        return start()
    from opentelemetry import context, trace
    from opentelemetry.trace import SpanKind

    attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent.name}
    if agent.model is not None:
        attributes["gen_ai.request.model"] = agent.model
    if agent.provider is not None:
        attributes["gen_ai.provider.name"] = agent.provider
    if agent.description:
        attributes["gen_ai.agent.description"] = agent.description
    span = tracer.start_span(
        f"invoke_agent {agent.name}", kind=SpanKind.INTERNAL, attributes=attributes
    )
    token = context.attach(trace.set_span_in_context(span))
    try:
        handler = start()
    except BaseException as error:
        mark_raised(span, error)
        span.end()
        raise
    finally:
        context.detach(token)
    handler.add_done_callback(lambda done: _end(span, done))
    return handler


def _end(span: Span, handler: asyncio.Future[Any]) -> None:
    error = asyncio.CancelledError() if handler.cancelled() else handler.exception()
    if error is not None:
        mark_raised(span, error)
    span.end()
