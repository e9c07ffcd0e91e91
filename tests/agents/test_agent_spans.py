"""An agent run's trace (agents.kit.agent_spans with the engine's, model and tool spans):
`invoke_agent {name}` over the run's `workflow` span, each `chat` and `execute_tool` span
under the step that made it, failures marked; and with no tracer provider, no
OpenTelemetry at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest
import respx
from llm_wire import calls_reply, text_reply
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agents import AgentWorkflow, FunctionAgent
from agents.llm.openai.client import OpenAI
from tools import tool


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def parent_of(span: ReadableSpan, spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    (parent,) = [s for s in spans if s.context.span_id == span.parent.span_id]
    return parent


def attributes(span: ReadableSpan) -> dict[str, Any]:
    assert span.attributes is not None
    return dict(span.attributes)


async def test_an_agent_run_with_two_tool_calls_is_one_nested_trace(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "add", '{"a": 1, "b": 2}'), ("c2", "add", '{"a": 3, "b": 4}')),
            text_reply("3 and 7."),
        ]
    )
    agent = FunctionAgent(tools=[add], llm=llm, name="calculator", description="Adds numbers.")
    output = await agent.run("Add 1+2 and 3+4.")
    assert output.response.text == "3 and 7."

    spans = captured_spans.get_finished_spans()
    (invoke,) = named(spans, "invoke_agent calculator")
    assert invoke.kind is SpanKind.INTERNAL
    assert attributes(invoke) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "calculator",
        "gen_ai.agent.description": "Adds numbers.",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
    }
    (run,) = named(spans, "workflow FunctionAgent")
    assert parent_of(run, spans) is invoke
    chats = named(spans, "chat gpt-4o-mini")
    assert len(chats) == 2
    for chat in chats:
        assert parent_of(chat, spans).name == "step call_llm"
        assert parent_of(parent_of(chat, spans), spans) is run
    assert [attributes(chat)["gen_ai.usage.output_tokens"] for chat in chats] == [6, 4]
    tools = named(spans, "execute_tool add")
    assert sorted(attributes(span)["gen_ai.tool.call.id"] for span in tools) == ["c1", "c2"]
    for span in tools:
        assert parent_of(span, spans).name == "step run_tool_call"
        assert parent_of(parent_of(span, spans), spans) is run
    assert {span.context.trace_id for span in spans} == {invoke.context.trace_id}
    assert invoke.status.status_code is StatusCode.UNSET
    # The agent's span covers the whole run: it ends last.
    assert invoke.end_time is not None
    assert all(span.end_time is not None and span.end_time <= invoke.end_time for span in spans)


async def test_an_llm_without_a_provider_name_is_named_by_its_class(
    captured_spans: InMemorySpanExporter,
) -> None:
    from agents.llm.scripted_llm import ScriptedLLM

    agent = FunctionAgent(llm=ScriptedLLM(["Hi."]), name="scripted")
    await agent.run("Hello")
    (invoke,) = named(captured_spans.get_finished_spans(), "invoke_agent scripted")
    assert attributes(invoke)["gen_ai.provider.name"] == "ScriptedLLM"
    assert "gen_ai.agent.description" not in attributes(invoke)


async def test_a_failed_agent_run_marks_its_span(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").respond(
        400, json={"error": {"message": "bad model", "type": "invalid_request_error"}}
    )
    agent = FunctionAgent(tools=[add], llm=llm)
    with pytest.raises(openai.BadRequestError):
        await agent.run("Add 1+2.")
    (invoke,) = named(captured_spans.get_finished_spans(), "invoke_agent agent")
    assert attributes(invoke)["error.type"] == "BadRequestError"
    assert invoke.status.status_code is StatusCode.ERROR


async def test_an_agent_workflow_is_invoked_as_its_root_agent(
    api: respx.MockRouter, llm: OpenAI, captured_spans: InMemorySpanExporter
) -> None:
    api.post("/chat/completions").mock(return_value=text_reply("Hello."))
    team = AgentWorkflow(
        [
            FunctionAgent(name="greeter", description="Greets.", llm=llm),
            FunctionAgent(name="helper", description="Helps.", llm=llm),
        ],
        root_agent="greeter",
    )
    await team.run("Hi")
    spans = captured_spans.get_finished_spans()
    (invoke,) = named(spans, "invoke_agent greeter")
    (run,) = named(spans, "workflow AgentWorkflow")
    assert parent_of(run, spans) is invoke


_UNTRACED_AGENT = """
import asyncio, sys
from llm_wire import calls_reply, text_reply
from wire_mock import mock_wire
from agents import FunctionAgent
from agents.llm.openai.client import OpenAI
from tools import tool

@tool
def add(a: int, b: int) -> int:
    "Add two numbers."
    return a + b

async def main():
    with mock_wire(base_url="https://llm.test/v1") as api:
        api.post("/chat/completions").mock(side_effect=[
            calls_reply(("c1", "add", '{"a": 1, "b": 2}')), text_reply("3."),
        ])
        llm = OpenAI("gpt-4o-mini", api_key="sk-test", base_url="https://llm.test/v1")
        return await FunctionAgent(tools=[add], llm=llm).run("1+2?")

assert str(asyncio.run(main())) == "3."
loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
assert not loaded, loaded
print("ok")
"""


def test_without_a_provider_an_agent_run_imports_no_opentelemetry() -> None:
    tests = Path(__file__).parent
    env = {**os.environ, "PYTHONPATH": str(tests)}
    completed = subprocess.run(
        [sys.executable, "-c", _UNTRACED_AGENT],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"
