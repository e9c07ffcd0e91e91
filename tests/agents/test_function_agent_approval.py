"""FunctionAgent approval: calls to named tools wait for a human's answer by call id, a
denial reaches the model as the tool's result, and a run saved while waiting resumes in a
new context without re-running the tools that already ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx
from llm_wire import calls_reply, sent_json, text_reply
from pydantic import BaseModel

from agentflow import Context
from agentflow.context.compact_models import non_default_fields
from agentflow.context.serializers import JsonSerializer
from agentflow.errors import WorkflowTimeoutError
from agents import (
    AgentOutput,
    FunctionAgent,
    ToolApprovalRequired,
    ToolApprovalResponse,
    ToolCall,
    ToolCallResult,
)
from agents.llm.openai.client import OpenAI


class Files:
    """Tools that count their runs, to show which ran and how often."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    def delete(self, path: str) -> str:
        """Delete a file."""
        self.runs.append(f"delete {path}")
        return f"deleted {path}"

    def size(self, path: str) -> int:
        """A file's size in bytes."""
        self.runs.append(f"size {path}")
        return 42


async def test_pending_approvals_are_answered_independently_by_call_id(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    files = Files()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "delete", '{"path": "a.txt"}'), ("c2", "delete", '{"path": "b"}')),
            text_reply("Deleted b; a.txt was kept."),
        ]
    )
    agent = FunctionAgent(tools=[files.delete, files.size], llm=llm, approval=["delete"])

    handler = agent.run(user_msg="delete a.txt and b")
    asked: list[ToolApprovalRequired] = []
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            asked.append(ev)
            if len(asked) == 2:  # answer the second first: each waits for its own id
                handler.ctx.send_event(ToolApprovalResponse(call_id="c2", approved=True))
                handler.ctx.send_event(
                    ToolApprovalResponse(call_id="c1", approved=False, reason="keep it")
                )
    output = await handler

    assert isinstance(output, AgentOutput)
    assert sorted((a.call_id, a.tool_name, json.dumps(a.arguments)) for a in asked) == [
        ("c1", "delete", '{"path": "a.txt"}'),
        ("c2", "delete", '{"path": "b"}'),
    ]
    assert files.runs == ["delete b"]
    denied, approved = output.tool_calls
    assert denied.is_error
    assert denied.content == "Error: the user did not approve running tool 'delete': keep it"
    assert approved.content == "deleted b"
    tool_messages = sent_json(route.calls.last.request)["messages"][2:]
    assert [m["content"] for m in tool_messages] == [denied.content, "deleted b"]


async def test_approval_predicate_over_the_call(api: respx.MockRouter, llm: OpenAI) -> None:
    files = Files()
    api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "size", '{"path": "/etc/shadow"}'), ("c2", "size", '{"path": "x"}')),
            text_reply("x is 42 bytes."),
        ]
    )

    def outside_home(call: ToolCall) -> bool:
        return str(call.arguments.get("path", "")).startswith("/")

    agent = FunctionAgent(tools=[files.size], llm=llm, approval=outside_home)
    handler = agent.run(user_msg="sizes?")
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            assert ev.call_id == "c1"
            handler.ctx.send_event(ToolApprovalResponse(call_id="c1", approved=False))
    output = await handler

    assert files.runs == ["size x"]
    assert output.tool_calls[0].content == "Error: the user did not approve running tool 'size'"


def defaults_given(value: Any, where: str = "state") -> list[str]:
    """Where a model in `value` holds a field set explicitly to its default."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        given = {name: getattr(value, name) for name in value.model_fields_set}
        kept = non_default_fields(type(value), **given)
        found += [f"{where}.{name}" for name in sorted(given.keys() - kept.keys())]
        items = [(name, getattr(value, name)) for name in type(value).model_fields]
        items += list((value.__pydantic_extra__ or {}).items())
        for name, item in items:
            found += defaults_given(item, f"{where}.{name}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += defaults_given(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += defaults_given(item, f"{where}[{key!r}]")
    return found


async def test_saved_while_waiting_resumes_without_rerunning_tools(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    files = Files()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "size", '{"path": "a"}'), ("c2", "delete", '{"path": "a"}')),
            text_reply("a was 42 bytes and is deleted."),
        ]
    )
    agent = FunctionAgent(tools=[files.size, files.delete], llm=llm, approval=["delete"])

    handler = agent.run(user_msg="size of a, then delete it")
    seen: set[str] = set()
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired | ToolCallResult):
            seen.add(type(ev).__name__)
        if seen == {"ToolApprovalRequired", "ToolCallResult"}:
            break  # the size call has run; the delete call waits
    saved: dict[str, Any] = json.loads(json.dumps(handler.ctx.to_dict()))
    await handler.cancel_run()
    assert files.runs == ["size a"]
    # The agent sets no field to its default explicitly: a save would have to write it.
    assert defaults_given(JsonSerializer().deserialize(saved["state"])) == []

    # Another process: a new agent object and a context restored from the saved data.
    agent = FunctionAgent(tools=[files.size, files.delete], llm=llm, approval=["delete"])
    resumed = agent.run(ctx=Context.from_dict(agent, saved))
    async for ev in resumed.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            resumed.ctx.send_event(ToolApprovalResponse(call_id=ev.call_id, approved=True))
    output = await resumed

    assert isinstance(output, AgentOutput)
    assert files.runs == ["size a", "delete a"]  # size ran once
    assert [r.content for r in output.tool_calls] == ["42", "deleted a"]
    assert output.response.text == "a was 42 bytes and is deleted."
    assert len(route.calls) == 2


async def test_a_run_saved_by_format_1_while_waiting_resumes_and_saves_again_smaller(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    """`saved/approval_waiting_format_1.json`: the run above, saved by agentflow at 9083816
    (format version 1) once `size` had run and `delete` waited for its approval."""
    saved = json.loads(
        (Path(__file__).parent / "saved" / "approval_waiting_format_1.json").read_text()
    )
    assert saved["version"] == 1
    files = Files()
    agent = FunctionAgent(tools=[files.size, files.delete], llm=llm, approval=["delete"])
    ctx = Context.from_dict(agent, saved)
    state = await ctx.store.get_state()

    # Saved again (format 2), it holds less and loads as the same state. Format 1 did not
    # say which fields were set, so every field it wrote counts as set and is written again.
    again = json.loads(json.dumps(ctx.to_dict()))
    assert again["version"] == 2
    assert len(again["state"]) < len(saved["state"])
    assert await Context.from_dict(agent, again).store.get_state() == state

    route = api.post("/chat/completions").mock(
        side_effect=[text_reply("a was 42 bytes and is deleted.")]
    )
    resumed = agent.run(ctx=Context.from_dict(agent, again))
    async for ev in resumed.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            resumed.ctx.send_event(ToolApprovalResponse(call_id=ev.call_id, approved=True))
    output = await resumed
    assert files.runs == ["delete a"]  # size had run before the save
    assert [r.content for r in output.tool_calls] == ["42", "deleted a"]
    assert output.response.text == "a was 42 bytes and is deleted."
    assert [m["role"] for m in sent_json(route.calls[0].request)["messages"]] == [
        "user",
        "assistant",
        "tool",
        "tool",
    ]


class Impatient(FunctionAgent):
    approval_timeout = 0.05


async def test_an_unanswered_approval_times_out_naming_agent_tool_and_call(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    files = Files()
    api.post("/chat/completions").mock(side_effect=[calls_reply(("c7", "delete", '{"path": "a"}'))])
    agent = Impatient(tools=[files.delete], llm=llm, name="janitor", approval=["delete"])

    with pytest.raises(WorkflowTimeoutError, match="ToolApprovalResponse") as raised:
        await agent.run(user_msg="delete a")
    assert "agent 'janitor' waited for the approval of tool 'delete' (call_id 'c7')" in (
        raised.value.__notes__
    )
    assert files.runs == []


async def test_a_call_left_waiting_by_a_cancelled_run_gets_a_result_before_the_next_turn(
    api: respx.MockRouter, llm: OpenAI
) -> None:
    files = Files()
    route = api.post("/chat/completions").mock(
        side_effect=[
            calls_reply(("c1", "size", '{"path": "a"}'), ("c2", "delete", '{"path": "a"}')),
            text_reply("Nothing was deleted."),
        ]
    )
    agent = FunctionAgent(tools=[files.size, files.delete], llm=llm, approval=["delete"])
    ctx: Context[Any] = Context(agent)

    handler = agent.run(ctx=ctx, user_msg="size of a, then delete it")
    async for ev in handler.stream_events():
        if isinstance(ev, ToolApprovalRequired):
            break
    await handler.cancel_run()
    output = await agent.run(ctx=ctx, user_msg="Never mind. Did anything happen?")

    assert output.response.text == "Nothing was deleted."
    sent = sent_json(route.calls.last.request)["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool", "user"]
    assert [m["tool_call_id"] for m in sent[2:4]] == ["c1", "c2"]  # every call answered
    assert sent[3]["content"] == (
        "Error: no result from tool 'delete': the run ended before every call of this reply "
        "had finished"
    )
    assert "delete a" not in files.runs
