"""`execute_tool {name}` spans (tools.spans): one per call whichever way the tool is called,
with the GenAI conventions' attributes, every error output a failed span, and the
arguments and result only when contents are recorded."""

from __future__ import annotations

import asyncio
import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from span_text import recorded_text

from tools import FunctionTool, ToolSet, tool


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
async def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


def only_span(spans: InMemorySpanExporter) -> ReadableSpan:
    (span,) = spans.get_finished_spans()
    return span


def attributes(span: ReadableSpan) -> dict[str, object]:
    assert span.attributes is not None
    return dict(span.attributes)


async def test_a_toolset_call_is_a_span_with_the_call_id_and_no_contents(
    captured_spans: InMemorySpanExporter,
) -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("step run_tool_call") as parent:
        output = await ToolSet([add]).acall("add", {"a": 2, "b": 3}, call_id="call_1")
    assert output.content == "5"
    span = next(s for s in captured_spans.get_finished_spans() if s.name == "execute_tool add")
    assert span.kind is SpanKind.INTERNAL
    assert attributes(span) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "add",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Add two numbers.",
        "gen_ai.tool.call.id": "call_1",
    }
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id
    assert span.status.status_code is StatusCode.UNSET


async def test_a_tool_that_raises_is_a_failed_span_with_its_contents_when_recorded(
    captured_spans: InMemorySpanExporter, content_recorded: None
) -> None:
    output = await ToolSet([divide]).acall("divide", {"a": 1, "b": 0}, call_id="call_2")
    assert output.is_error
    span = only_span(captured_spans)
    assert span.name == "execute_tool divide"
    values = attributes(span)
    assert values["error.type"] == "ZeroDivisionError"
    assert values["gen_ai.tool.call.id"] == "call_2"
    assert json.loads(str(values["gen_ai.tool.call.arguments"])) == {"a": 1, "b": 0}
    assert values["gen_ai.tool.call.result"] == output.content
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


async def test_contents_are_left_out_unless_recorded(
    captured_spans: InMemorySpanExporter,
) -> None:
    await ToolSet([divide]).acall("divide", {"a": 1, "b": 0})
    values = attributes(only_span(captured_spans))
    assert values["error.type"] == "ZeroDivisionError"
    assert "gen_ai.tool.call.arguments" not in values
    assert "gen_ai.tool.call.result" not in values
    assert "gen_ai.tool.call.id" not in values


@pytest.mark.parametrize(
    ("call", "error_type"),
    [
        (lambda tools: tools.acall("add", {"a": "two", "b": 3}), "ValidationError"),
        (lambda tools: tools.acall_json("add", "{not json", call_id="c"), "JSONDecodeError"),
        (lambda tools: tools.acall_json("add", "[1, 2]", call_id="c"), "ToolError"),
        (lambda tools: tools.acall("subtract", {"a": 1}, call_id="c"), "ToolError"),
    ],
    ids=["invalid-arguments", "bad-json", "json-not-an-object", "unknown-tool"],
)
async def test_every_error_output_is_a_failed_span(
    captured_spans: InMemorySpanExporter, call: object, error_type: str
) -> None:
    output = await call(ToolSet([add]))  # type: ignore[operator]
    assert output.is_error
    span = only_span(captured_spans)
    assert attributes(span)["error.type"] == error_type
    assert span.status.status_code is StatusCode.ERROR
    # The error output may quote the arguments: only the error's type, without contents.
    assert span.status.description == error_type
    assert output.content not in recorded_text(span)


@pytest.mark.parametrize(
    "call",
    [
        lambda tools: tools.acall("add", {"a": "4111-1111-SECRET", "b": 3}),
        lambda tools: tools.acall_json("add", '["4111-1111-SECRET"]', call_id="c"),
    ],
    ids=["invalid-arguments", "json-not-an-object"],
)
async def test_an_error_output_quoting_the_arguments_leaves_them_out_of_the_span(
    captured_spans: InMemorySpanExporter, call: object
) -> None:
    output = await call(ToolSet([add]))  # type: ignore[operator]
    assert "SECRET" in output.content  # what the model reads quotes the value back
    span = only_span(captured_spans)
    assert "SECRET" not in recorded_text(span)
    assert [event.name for event in span.events] in ([], ["exception"])


async def test_with_contents_on_an_error_output_is_the_result_and_the_exception_is_whole(
    captured_spans: InMemorySpanExporter,
) -> None:
    from agentflow.tracing import record_content

    record_content(True)
    try:
        output = await ToolSet([add]).acall("add", {"a": "4111-1111-SECRET", "b": 3})
    finally:
        record_content(None)
    span = only_span(captured_spans)
    assert attributes(span)["gen_ai.tool.call.result"] == output.content
    (event,) = span.events
    assert "SECRET" in str(dict(event.attributes or {})["exception.message"])


async def test_an_unknown_tool_is_named_on_its_span(captured_spans: InMemorySpanExporter) -> None:
    await ToolSet([add]).acall("subtract", {"a": 1}, call_id="call_9")
    span = only_span(captured_spans)
    assert span.name == "execute_tool subtract"
    assert attributes(span)["gen_ai.tool.call.id"] == "call_9"


async def test_a_tool_past_its_timeout_is_a_failed_span(
    captured_spans: InMemorySpanExporter,
) -> None:
    never = asyncio.Event()

    async def wait_forever() -> str:
        """Never answers."""
        await never.wait()
        return "late"

    slow = FunctionTool.from_defaults(wait_forever, timeout=0.01)
    output = await slow.acall()
    assert output.is_error
    assert attributes(only_span(captured_spans))["error.type"] == "TimeoutError"


async def test_direct_and_sync_calls_are_spans_too(captured_spans: InMemorySpanExporter) -> None:
    assert (await divide.acall(6, 3)).content == "2.0"
    assert add.call(1, 2).content == "3"
    assert add(a=2, b=2).content == "4"
    names = [span.name for span in captured_spans.get_finished_spans()]
    assert names == ["execute_tool divide", "execute_tool add", "execute_tool add"]
    for span in captured_spans.get_finished_spans():
        assert "gen_ai.tool.call.id" not in attributes(span)
        assert span.status.status_code is StatusCode.UNSET


async def test_a_caller_cancelled_mid_call_ends_the_span_failed(
    captured_spans: InMemorySpanExporter,
) -> None:
    started, never = asyncio.Event(), asyncio.Event()

    @tool
    async def block() -> str:
        """Waits."""
        started.set()
        await never.wait()
        return "done"

    task = asyncio.create_task(block.acall())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = only_span(captured_spans)
    assert attributes(span)["error.type"] == "CancelledError"
    assert span.status.status_code is StatusCode.ERROR


def test_a_sync_call_interrupted_ends_the_span_failed(
    captured_spans: InMemorySpanExporter,
) -> None:
    @tool
    def interrupted() -> str:
        """Stopped by Ctrl-C."""
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted.call()
    span = only_span(captured_spans)
    assert attributes(span)["error.type"] == "KeyboardInterrupt"
    assert span.status.status_code is StatusCode.ERROR


async def test_the_variable_turns_contents_on_and_the_setting_wins(
    captured_spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentflow.tracing import record_content

    monkeypatch.setenv("AGENTFLOW_TRACE_CONTENT", "1")
    await add.acall(1, 2)
    record_content(False)
    try:
        await add.acall(3, 4)
    finally:
        record_content(None)
    on, off = captured_spans.get_finished_spans()
    assert json.loads(str(attributes(on)["gen_ai.tool.call.arguments"])) == {"a": 1, "b": 2}
    assert attributes(on)["gen_ai.tool.call.result"] == "3"
    assert "gen_ai.tool.call.arguments" not in attributes(off)
