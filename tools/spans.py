"""`execute_tool {name}` spans: one per tool call, by OpenTelemetry's GenAI conventions.

Every way a tool runs goes through `FunctionTool.execute` or `acall_json` (a `ToolSet`
call, an agent's, a direct `acall`, an MCP tool, a tool served over MCP), and each of them
through `traced_tool_call` here, so a call has one span whichever path it took. The span is
current while the tool runs: an LLM call or a workflow run inside the tool sits under it.

Attributes: `gen_ai.operation.name` "execute_tool", `gen_ai.tool.name`,
`gen_ai.tool.type` "function", `gen_ai.tool.description` and `gen_ai.tool.call.id` when
known. An error output (bad arguments, an exception, a timeout, no such tool) is a failed
span: `error.type` is the exception's class name, or `ToolError` for an error output
without one; the arguments (`gen_ai.tool.call.arguments`), the text the model reads
(`gen_ai.tool.call.result`) and the error's own text, which may quote the arguments, are
recorded only when contents are (`agentflow.tracing.mark_failed`).
Without a tracer provider the call runs as it is: nothing is made or imported.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from tools.output import ToolOutput

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

ERROR_WITHOUT_EXCEPTION = "ToolError"
"""`error.type` of an error output that holds no exception (too many positional arguments,
JSON arguments that are not an object, a tool name the set does not hold)."""


async def traced_tool_call(
    name: str,
    description: str | None,
    call_id: str | None,
    call: Callable[[], Awaitable[ToolOutput]],
) -> ToolOutput:
    """`await call()` inside an `execute_tool {name}` span, when tracing is on."""
    from agentflow.tracing import active_tracer, mark_raised  # here: `import tools` loads none

    tracer = active_tracer()
    if tracer is None:
        return await call()
    with _start(tracer, name, description, call_id) as span:
        try:
            output = await call()
        except BaseException as error:  # the caller's cancellation: the call did not end
            mark_raised(span, error)
            raise
        _record(span, output)
        return output


def traced_tool_call_sync(
    name: str, description: str | None, call: Callable[[], ToolOutput]
) -> ToolOutput:
    """`call()` inside an `execute_tool {name}` span, when tracing is on (`FunctionTool.call`
    of a sync function, which has no call id)."""
    from agentflow.tracing import active_tracer, mark_raised

    tracer = active_tracer()
    if tracer is None:
        return call()
    with _start(tracer, name, description, None) as span:
        try:
            output = call()
        except BaseException as error:  # Ctrl-C, or the like: the call did not end
            mark_raised(span, error)
            raise
        _record(span, output)
        return output


def _start(tracer: Tracer, name: str, description: str | None, call_id: str | None) -> Any:
    from opentelemetry.trace import SpanKind

    attributes: dict[str, str] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.type": "function",
    }
    if description:
        attributes["gen_ai.tool.description"] = description
    if call_id is not None:
        attributes["gen_ai.tool.call.id"] = call_id
    # The outcome is marked here, from the output: an exception only ever means the caller
    # was cancelled, and it is marked before it leaves.
    return tracer.start_as_current_span(
        f"execute_tool {name}",
        kind=SpanKind.INTERNAL,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )


def _record(span: Span, output: ToolOutput) -> None:
    from agentflow.tracing import content_recorded, mark_failed

    if content_recorded():
        span.set_attribute("gen_ai.tool.call.arguments", _json_text(output.raw_input))
        span.set_attribute("gen_ai.tool.call.result", output.content)
    if not output.is_error:
        return
    error = output.exception
    mark_failed(
        span, type(error).__qualname__ if error is not None else ERROR_WITHOUT_EXCEPTION, error
    )


def _json_text(value: Any) -> str:
    return to_json(value, fallback=str).decode()
