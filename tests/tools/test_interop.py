"""tools.interop: LlamaIndex tools work in ours and ours in LlamaIndex, both ways."""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.tools import FunctionTool as LlamaFunctionTool
from llama_index.core.tools.types import AsyncBaseTool, BaseTool, ToolMetadata
from llama_index.core.tools.types import ToolOutput as LlamaToolOutput
from pydantic import BaseModel

from tools import FunctionTool, ToolSet
from tools.interop import as_tool, from_llama_index, to_llama_index


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def fail(reason: str) -> None:
    """Fail on purpose."""
    raise RuntimeError(reason)


class EchoInput(BaseModel):
    input: str


class SyncOnlyEcho(BaseTool):
    """A LlamaIndex tool with only the sync `__call__(input)` interface."""

    @property
    def metadata(self) -> ToolMetadata:
        return ToolMetadata(name="echo", description="Echo the input.", fn_schema=EchoInput)

    def __call__(self, input: Any) -> LlamaToolOutput:
        return LlamaToolOutput(
            tool_name="echo", content=f"echo {input}", raw_input={"input": input}, raw_output=input
        )


async def test_llama_function_tool_becomes_ours_with_its_schema() -> None:
    llama_tool = LlamaFunctionTool.from_defaults(multiply)
    ours = from_llama_index(llama_tool)
    assert ours.name == "multiply"
    assert ours.metadata.description == llama_tool.metadata.description
    assert ours.metadata.fn_schema is llama_tool.metadata.fn_schema
    output = await ours.acall(a="6", b=7)
    assert (output.content, output.is_error, output.tool_name) == ("42", False, "multiply")
    assert output.raw_input == {"a": "6", "b": 7}


def test_a_converted_tool_can_be_marked_for_repeated_calls() -> None:
    llama_tool = LlamaFunctionTool.from_defaults(multiply)
    plain = from_llama_index(llama_tool).metadata
    marked = from_llama_index(llama_tool, side_effects=True, allow_repeats=True).metadata
    assert (plain.side_effects, plain.allow_repeats) == (False, False)
    assert (marked.side_effects, marked.allow_repeats) == (True, True)


async def test_invalid_arguments_to_a_converted_tool_are_an_error_output() -> None:
    output = await from_llama_index(LlamaFunctionTool.from_defaults(multiply)).acall(a="x")
    assert output.is_error
    assert "'a': Input should be a valid integer" in output.content
    assert "'b': missing required argument" in output.content


async def test_a_raising_llama_tool_becomes_an_error_output() -> None:
    output = await from_llama_index(LlamaFunctionTool.from_defaults(fail)).acall(reason="no")
    assert output.is_error
    assert output.content == "Error: tool 'fail' raised RuntimeError: no"


async def test_sync_only_llama_base_tool_is_accepted() -> None:
    ours = as_tool(SyncOnlyEcho())
    output = await ours.acall_json('{"input": "hi"}')
    assert (output.content, output.raw_output) == ("echo hi", "hi")


async def test_toolset_accepts_llama_tools_next_to_ours() -> None:
    toolset = ToolSet([LlamaFunctionTool.from_defaults(multiply), FunctionTool.from_defaults(fail)])
    assert toolset.names == ["multiply", "fail"]
    assert (await toolset.acall_json("multiply", '{"a": 2, "b": 3}')).content == "6"


async def test_ours_as_a_llama_tool() -> None:
    llama_tool = to_llama_index(FunctionTool.from_defaults(multiply, timeout=5))
    assert isinstance(llama_tool, AsyncBaseTool)
    assert llama_tool.metadata.name == "multiply"
    assert llama_tool.metadata.description == "Multiply two integers."
    openai_params = llama_tool.metadata.to_openai_tool()["function"]["parameters"]
    assert openai_params["required"] == ["a", "b"]
    assert (await llama_tool.acall(a=3, b="4")).content == "12"
    assert llama_tool.call(a=2, b=2).content == "4"
    assert llama_tool(a=1, b=2).raw_output == 2


async def test_our_error_outputs_stay_errors_in_llama_index() -> None:
    llama_tool = to_llama_index(FunctionTool.from_defaults(fail))
    output = await llama_tool.acall(reason="bad")
    assert output.is_error
    assert output.content == "Error: tool 'fail' raised RuntimeError: bad"
    assert isinstance(output.exception, RuntimeError)
    invalid = await llama_tool.acall()
    assert invalid.is_error
    assert json.dumps(invalid.raw_input) == "{}"


def test_round_trips_return_the_original_objects() -> None:
    ours = FunctionTool.from_defaults(multiply)
    assert from_llama_index(to_llama_index(ours)) is ours
    llama_tool = LlamaFunctionTool.from_defaults(multiply)
    assert to_llama_index(from_llama_index(llama_tool)) is llama_tool


def test_as_tool_passes_ours_through_and_wraps_functions() -> None:
    ours = FunctionTool.from_defaults(multiply)
    assert as_tool(ours) is ours
    assert as_tool(multiply).name == "multiply"


async def test_an_argument_named_self_is_an_error_output_through_llama_index() -> None:
    llama_tool = to_llama_index(FunctionTool.from_defaults(multiply))
    for output in (await llama_tool.acall(self=1, a=2, b=3), llama_tool.call(self=1, a=2, b=3)):
        assert output.is_error
        assert "'self': unexpected argument" in output.content
