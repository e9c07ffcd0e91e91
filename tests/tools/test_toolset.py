"""tools.toolset: lookup by name, duplicate refusal, unknown names as error outputs."""

from __future__ import annotations

from typing import Any

import pytest

from agentflow import Context, Workflow, step
from agentflow.events import StartEvent, StopEvent
from tools import DuplicateToolError, FunctionTool, ToolSet


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def upper(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


async def whoami(ctx: Context, greeting: str) -> str:
    """Say which workflow this is."""
    return f"{greeting} {type(ctx.workflow).__name__}"


class Noop(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()


def test_tools_functions_are_accepted_and_found_by_name() -> None:
    toolset = ToolSet([FunctionTool.from_defaults(add), upper])
    assert toolset.names == ["add", "upper"]
    assert len(toolset) == 2
    assert "upper" in toolset
    assert "nope" not in toolset
    assert toolset["add"].name == "add"
    assert toolset.get("nope") is None
    assert [t.name for t in toolset] == ["add", "upper"]
    assert repr(toolset) == "ToolSet(['add', 'upper'])"


def test_duplicate_names_are_refused_when_built() -> None:
    with pytest.raises(DuplicateToolError, match="two tools are named 'add'"):
        ToolSet([add, FunctionTool.from_defaults(upper, name="add")])


def test_non_tools_are_refused() -> None:
    with pytest.raises(TypeError, match="is not a tool"):
        ToolSet([42])


def test_getitem_unknown_name_lists_available() -> None:
    with pytest.raises(KeyError, match="available: add"):
        ToolSet([add])["sub"]


async def test_acall_and_acall_json_dispatch_by_name() -> None:
    toolset = ToolSet([add, upper])
    assert (await toolset.acall("add", {"a": 1, "b": 2})).content == "3"
    assert (await toolset.acall_json("upper", '{"text": "hi"}')).content == "HI"


async def test_unknown_name_is_an_error_output_listing_the_tools() -> None:
    toolset = ToolSet([add, upper])
    for output in (
        await toolset.acall("subtract", {"a": 1}),
        await toolset.acall_json("subtract", '{"a": 1}'),
    ):
        assert output.is_error
        assert output.tool_name == "subtract"
        assert output.content == (
            "Error: there is no tool named 'subtract'. Available tools: add, upper"
        )


async def test_context_reaches_tools_that_take_it() -> None:
    toolset = ToolSet([whoami, add])
    ctx: Context[Any] = Context(Noop())
    assert (await toolset.acall("whoami", {"greeting": "hi"}, ctx=ctx)).content == "hi Noop"
    json_output = await toolset.acall_json("whoami", '{"greeting": "yo"}', ctx=ctx)
    assert json_output.content == "yo Noop"
    assert (await toolset.acall("add", {"a": 1, "b": 1}, ctx=ctx)).content == "2"


async def test_llm_arguments_cannot_supply_the_context() -> None:
    toolset = ToolSet([whoami])
    output = await toolset.acall("whoami", {"greeting": "hi", "ctx": "forged"})
    assert output.is_error
    assert "needs the workflow Context in its parameter 'ctx'" in output.content
    ctx: Context[Any] = Context(Noop())
    output = await toolset.acall("whoami", {"greeting": "hi", "ctx": "forged"}, ctx=ctx)
    assert output.content == "hi Noop"
