"""An agent run seen in a real Arize Phoenix. A `FunctionAgent` run with two tool calls (the
model mocked with respx at the OpenAI wire) is exported over OTLP/HTTP by the SDK's exporter,
read back through Phoenix's REST API (`GET /v1/projects/{project}/spans`), and shown in
Phoenix's UI in headless Chromium, whose screenshot the docs use."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from headless_chromium import headless_chromium
from llm_wire import BASE_URL, calls_reply, text_reply
from otlp_export import OtlpExport
from phoenix_server import PhoenixServer
from playwright.async_api import Route, expect
from wire_mock import mock_wire

from agents import FunctionAgent
from agents.llm.openai.client import OpenAI
from tools import tool

# Phoenix's start and Chromium's first launch each take tens of seconds on a loaded machine.
pytestmark = [pytest.mark.phoenix, pytest.mark.timeout(300)]

MODEL = "gpt-4o-mini"
READ_DEADLINE = 60.0
"""Seconds Phoenix may take to make exported spans readable (it inserts them in batches)."""
UI_DEADLINE_MS = 60_000
"""How long the trace page may take to show a span: Phoenix's UI loads the trace with
GraphQL queries, slow on a loaded machine (Playwright's `expect` waits 5 s by default)."""
SCREENSHOT_DIR_VARIABLE = "AGENTFLOW_SCREENSHOT_DIR"
"""Where the UI test writes `phoenix-trace.png` (docs/images for the docs' screenshot)."""


@tool
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two whole numbers."""
    return a * b


async def run_agent() -> str:
    """One run in which the model asks for both tools at once, then answers; its run id."""
    with mock_wire(base_url=BASE_URL, assert_all_called=True) as api:
        api.post("/chat/completions").mock(
            side_effect=[
                calls_reply(
                    ("call_add", "add", '{"a": 2, "b": 3}'),
                    ("call_multiply", "multiply", '{"a": 4, "b": 5}'),
                    prompt=21,
                ),
                text_reply("5 and 20", prompt=34, completion=7),
            ]
        )
        llm = OpenAI(MODEL, api_key="sk-test", base_url=BASE_URL)
        agent = FunctionAgent(tools=[add, multiply], llm=llm, name="calculator")
        handler = agent.run(user_msg="What are 2 + 3 and 4 * 5?")
        output = await handler
    assert str(output) == "5 and 20"
    return handler.run_id


@dataclass(frozen=True)
class PhoenixTrace:
    """One run's trace, each span as Phoenix's REST API returns it."""

    run_id: str
    trace_id: str
    spans: list[dict[str, Any]]
    ui_url: str
    """The trace's page in Phoenix's UI."""

    def named(self, name: str) -> list[dict[str, Any]]:
        return sorted(
            (span for span in self.spans if span["name"] == name),
            key=lambda span: str(span["start_time"]),
        )

    def one(self, name: str) -> dict[str, Any]:
        found = self.named(name)
        assert len(found) == 1, f"{len(found)} spans named {name!r} in {self.names()}"
        return found[0]

    def parent(self, span: dict[str, Any]) -> dict[str, Any] | None:
        parents = [s for s in self.spans if s["context"]["span_id"] == span["parent_id"]]
        return parents[0] if parents else None

    def names(self) -> Counter[str]:
        return Counter(span["name"] for span in self.spans)


def read_trace(phoenix: PhoenixServer, export: OtlpExport, run_id: str) -> PhoenixTrace:
    """The trace of run `run_id` from Phoenix, once every span of it the SDK exported can be
    read there."""
    sent = export.sent.get_finished_spans()
    (run_span,) = [
        span
        for span in sent
        if span.name.startswith("workflow ")
        and (span.attributes or {}).get("agentflow.run_id") == run_id
    ]
    trace_id = f"{run_span.context.trace_id:032x}"
    expected = {
        f"{span.context.span_id:016x}"
        for span in sent
        if span.context.trace_id == run_span.context.trace_id
    }
    deadline = time.monotonic() + READ_DEADLINE
    with httpx.Client(base_url=phoenix.url, timeout=10) as client:
        while True:
            response = client.get(
                f"/v1/projects/{export.project}/spans",
                params={"trace_id": trace_id, "limit": 1000},
            )
            # 404 until the project's first span has been stored.
            if response.status_code != 404:
                response.raise_for_status()
                page = response.json()
                assert page["next_cursor"] is None
                spans: list[dict[str, Any]] = page["data"]
                if {span["context"]["span_id"] for span in spans} >= expected:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Phoenix has not stored the run's {len(expected)} spans within "
                    f"{READ_DEADLINE:.0f} s: {response.status_code} {response.text[:500]}"
                )
            phoenix.pause(0.25)
        project = client.get(f"/v1/projects/{export.project}").raise_for_status().json()
    ui_url = f"{phoenix.url}/projects/{project['data']['id']}/traces/{trace_id}"
    return PhoenixTrace(run_id, trace_id, spans, ui_url)


@pytest.fixture(scope="module")
def agent_trace(phoenix: PhoenixServer, otlp_export: OtlpExport) -> PhoenixTrace:
    """The agent run, exported to Phoenix and read back (once for the module's tests)."""
    run_id = asyncio.run(run_agent())
    otlp_export.flush()
    return read_trace(phoenix, otlp_export, run_id)


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """AGENTFLOW_SCREENSHOT_DIR (made if missing) when set, else the test's own directory."""
    configured = os.environ.get(SCREENSHOT_DIR_VARIABLE)
    if not configured:
        return tmp_path
    directory = Path(configured)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def test_the_run_and_step_spans_are_read_back_from_phoenix_as_one_tree(
    agent_trace: PhoenixTrace,
) -> None:
    run = agent_trace.one("workflow FunctionAgent")
    assert run["attributes"]["agentflow.run_id"] == agent_trace.run_id
    assert run["attributes"]["agentflow.workflow"] == "FunctionAgent"
    assert run["context"]["trace_id"] == agent_trace.trace_id

    steps = [span for span in agent_trace.spans if span["name"].startswith("step ")]
    assert Counter(span["name"] for span in steps) == {
        "step setup": 1,
        "step call_llm": 2,
        "step handle_reply": 2,
        "step run_tool_call": 2,
        "step aggregate_tool_results": 2,
        "step finalize": 1,
    }
    for step in steps:
        assert step["parent_id"] == run["context"]["span_id"], step["name"]
        assert step["attributes"]["agentflow.run_id"] == agent_trace.run_id
        assert step["attributes"]["agentflow.attempt"] == 1
    tool_steps = agent_trace.named("step run_tool_call")
    assert [s["attributes"]["agentflow.event_type"] for s in tool_steps] == ["ToolCall"] * 2

    # One tree: a single root, and every other span's parent is in the trace.
    roots = [span["name"] for span in agent_trace.spans if span["parent_id"] is None]
    assert len(roots) == 1, roots
    orphans = [
        span["name"]
        for span in agent_trace.spans
        if span["parent_id"] is not None and agent_trace.parent(span) is None
    ]
    assert orphans == []


def test_the_agent_tool_and_llm_spans_are_read_back_from_phoenix_nested(
    agent_trace: PhoenixTrace,
) -> None:
    """The GenAI semantic conventions' spans: `invoke_agent`, `execute_tool`, `chat`, each
    where the contract of issue 20 puts it, with what Phoenix makes of them."""
    run = agent_trace.one("workflow FunctionAgent")
    agent = agent_trace.one("invoke_agent calculator")
    assert agent["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert agent["attributes"]["gen_ai.agent.name"] == "calculator"
    assert agent["attributes"]["gen_ai.provider.name"] == "openai"
    assert agent["attributes"]["gen_ai.request.model"] == MODEL
    assert agent["span_kind"] == "AGENT"  # what Phoenix makes of gen_ai.operation.name
    # The agent span is under the run's span, or the run's span is under it.
    assert agent_trace.parent(agent) == run or agent_trace.parent(run) == agent

    tool_steps = agent_trace.named("step run_tool_call")
    for name, call_id, description in [
        ("add", "call_add", "Add two whole numbers."),
        ("multiply", "call_multiply", "Multiply two whole numbers."),
    ]:
        tool_span = agent_trace.one(f"execute_tool {name}")
        assert tool_span["attributes"]["gen_ai.operation.name"] == "execute_tool"
        assert tool_span["attributes"]["gen_ai.tool.name"] == name
        assert tool_span["attributes"]["gen_ai.tool.call.id"] == call_id
        assert tool_span["attributes"]["gen_ai.tool.type"] == "function"
        assert tool_span["attributes"]["gen_ai.tool.description"] == description
        assert "error.type" not in tool_span["attributes"]
        assert tool_span["status_code"] != "ERROR"
        assert tool_span["span_kind"] == "TOOL"
        assert agent_trace.parent(tool_span) in tool_steps
    tool_parents = {
        agent_trace.one(f"execute_tool {name}")["parent_id"] for name in ("add", "multiply")
    }
    assert len(tool_parents) == 2, "both tool calls ran in one step execution"

    chats = agent_trace.named(f"chat {MODEL}")
    llm_steps = agent_trace.named("step call_llm")
    assert [agent_trace.parent(chat) for chat in chats] == llm_steps
    for chat, finish_reason, (input_tokens, output_tokens) in zip(
        chats, ["tool_calls", "stop"], [(21, 6), (34, 7)], strict=True
    ):
        attributes = chat["attributes"]
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.provider.name"] == "openai"
        assert attributes["gen_ai.request.model"] == MODEL
        assert attributes["gen_ai.response.model"] == MODEL
        assert attributes["gen_ai.response.id"] == "chatcmpl-1"
        assert attributes["gen_ai.response.finish_reasons"] == [finish_reason]
        assert attributes["gen_ai.usage.input_tokens"] == input_tokens
        assert attributes["gen_ai.usage.output_tokens"] == output_tokens
        # Phoenix reads the conventions' attributes: an LLM span with its token counts.
        assert chat["span_kind"] == "LLM"
        assert attributes["llm.token_count.prompt"] == input_tokens
        assert attributes["llm.token_count.completion"] == output_tokens
        # Message contents are recorded only on opt-in (AGENTFLOW_TRACE_CONTENT).
        assert "gen_ai.input.messages" not in attributes
        assert "gen_ai.output.messages" not in attributes


async def test_the_trace_is_shown_in_phoenix_ui(
    agent_trace: PhoenixTrace, phoenix: PhoenixServer, screenshot_dir: Path
) -> None:
    """The trace's page lists every span of the run; its screenshot is written to
    AGENTFLOW_SCREENSHOT_DIR when set."""
    elsewhere: list[str] = []

    async def only_phoenix(route: Route) -> None:
        # Phoenix is told to fetch nothing from outside; the page is held to it all the same.
        if route.request.url.startswith(phoenix.url + "/"):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    async with headless_chromium() as browser:
        page = await browser.new_page(viewport={"width": 1440, "height": 1100})
        page.set_default_timeout(UI_DEADLINE_MS)
        await page.route("**/*", only_phoenix)
        await page.goto(agent_trace.ui_url)
        for name, count in agent_trace.names().items():
            span_row = page.get_by_text(name, exact=True).nth(count - 1)
            await expect(span_row).to_be_visible(timeout=UI_DEADLINE_MS)
        shot = screenshot_dir / "phoenix-trace.png"
        await page.screenshot(path=shot)
    assert shot.stat().st_size > 10_000
    assert elsewhere == []
