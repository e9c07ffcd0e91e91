"""tools.function_tool: building tools, calling them, and every way a call can fail."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from typing import Any

import pytest
from pydantic import BaseModel, model_validator

from agentflow import Context, Workflow, step
from agentflow.events import StartEvent, StopEvent
from tools import FunctionTool, ToolDefinitionError, ToolOutput, tool


class Point(BaseModel):
    x: int
    y: int


def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


async def shift(point: Point, dx: int) -> Point:
    """Move a point right."""
    return Point(x=point.x + dx, y=point.y)


def explode(reason: str) -> None:
    """Always fails."""
    raise ValueError(f"boom: {reason}")


class Noop(Workflow):
    @step
    async def only(self, ev: StartEvent) -> StopEvent:
        return StopEvent()


# --- building -------------------------------------------------------------------------


def test_from_defaults_takes_name_and_summary_from_the_function() -> None:
    add_tool = FunctionTool.from_defaults(add)
    assert add_tool.metadata.name == "add"
    assert add_tool.metadata.description == "Add two integers."
    assert add_tool.metadata.return_direct is False
    assert add_tool.timeout is None


def test_from_defaults_overrides() -> None:
    add_tool = FunctionTool.from_defaults(
        add, name="plus", description="Sum.", return_direct=True, timeout=2
    )
    assert (add_tool.name, add_tool.metadata.description) == ("plus", "Sum.")
    assert add_tool.metadata.return_direct is True
    assert add_tool.timeout == 2


def test_side_effects_and_allow_repeats_reach_the_metadata_off_by_default() -> None:
    plain = FunctionTool.from_defaults(add)
    refund = FunctionTool.from_defaults(add, side_effects=True)

    @tool(side_effects=True, allow_repeats=True)
    def send_message(text: str) -> str:
        """Send a chat message."""
        return "sent"

    assert (plain.metadata.side_effects, plain.metadata.allow_repeats) == (False, False)
    assert (refund.metadata.side_effects, refund.metadata.allow_repeats) == (True, False)
    flags = send_message.metadata
    assert (flags.side_effects, flags.allow_repeats) == (True, True)
    assert "side_effects" not in json.dumps(send_message.metadata.get_parameters_dict())


def test_function_without_docstring_gets_a_plain_description() -> None:
    def nameless(a: int) -> int:
        return a

    assert FunctionTool.from_defaults(nameless).metadata.description == "Call nameless."


def test_decorator_bare_and_with_options() -> None:
    @tool
    def double(n: int) -> int:
        """Double a number."""
        return 2 * n

    @tool(name="triple_it", timeout=1.5)
    async def triple(n: int) -> int:
        return 3 * n

    assert isinstance(double, FunctionTool)
    assert double.metadata.description == "Double a number."
    assert (triple.name, triple.timeout) == ("triple_it", 1.5)


def test_explicit_fn_schema_replaces_the_signature() -> None:
    def anything(**kwargs: Any) -> str:
        """Echo."""
        return json.dumps(kwargs, sort_keys=True)

    echo = FunctionTool.from_defaults(anything, fn_schema=Point)
    assert echo.metadata.fn_schema is Point
    assert echo.metadata.description == "Echo."
    assert echo.call(x="1", y=2).content == '{"x": 1, "y": 2}'


def test_partial_keeps_the_wrapped_function_hints() -> None:
    add_ten = FunctionTool.from_defaults(functools.partial(add, b=10), name="add_ten")
    assert add_ten.metadata.get_parameters_dict()["properties"]["a"]["type"] == "integer"
    assert add_ten.call(a="5").content == "15"
    assert FunctionTool.from_defaults(functools.partial(add, b=1)).name == "add"


def test_star_kwargs_without_fn_schema_is_refused() -> None:
    def anything(**kwargs: Any) -> None: ...

    with pytest.raises(ToolDefinitionError, match="'\\*\\*kwargs'"):
        FunctionTool.from_defaults(anything)


# --- calling --------------------------------------------------------------------------


async def test_acall_sync_function_coerces_arguments() -> None:
    output = await FunctionTool.from_defaults(add).acall(a="2", b=3)
    assert output == ToolOutput(
        tool_name="add", content="5", raw_input={"a": "2", "b": 3}, raw_output=5
    )


async def test_sync_function_runs_in_a_worker_thread() -> None:
    def where() -> str:
        return threading.current_thread().name

    output = await FunctionTool.from_defaults(where).acall()
    assert output.content != threading.current_thread().name
    assert output.content == "tool where"


async def test_acall_async_function_with_nested_model_returns_json() -> None:
    output = await FunctionTool.from_defaults(shift).acall(point={"x": 1, "y": 2}, dx=3)
    assert output.is_error is False
    assert json.loads(output.content) == {"x": 4, "y": 2}
    assert output.raw_output == Point(x=4, y=2)


async def test_acall_json_parses_and_validates() -> None:
    output = await FunctionTool.from_defaults(add).acall_json('{"a": 40, "b": "2"}')
    assert (output.content, output.is_error) == ("42", False)


async def test_acall_json_empty_string_means_no_arguments() -> None:
    def ping() -> str:
        return "pong"

    assert (await FunctionTool.from_defaults(ping).acall_json("")).content == "pong"


def test_call_from_sync_code_for_sync_and_async_functions() -> None:
    assert FunctionTool.from_defaults(add).call(a=1).content == "2"
    assert FunctionTool.from_defaults(add)(a=1, b=5).content == "6"
    output = FunctionTool.from_defaults(shift).call(point=Point(x=0, y=0), dx=1)
    assert output.raw_output == Point(x=1, y=0)


async def test_call_of_async_tool_works_inside_a_running_loop() -> None:
    output = FunctionTool.from_defaults(shift).call(point={"x": 0, "y": 0}, dx=2)
    assert output.raw_output == Point(x=2, y=0)


def test_positional_arguments_fill_parameters_in_order() -> None:
    assert FunctionTool.from_defaults(add).call(1, 2).content == "3"


def test_positional_only_parameters_are_passed_by_position() -> None:
    def sub(a: int, b: int, /) -> int:
        return a - b

    assert FunctionTool.from_defaults(sub).call(a=5, b=2).content == "3"


def test_content_is_json_for_dicts_and_lists_and_text_for_strings() -> None:
    def data() -> dict[str, Any]:
        return {"items": [1, 2], "point": Point(x=1, y=2)}

    def text() -> str:
        return "plain"

    assert json.loads(FunctionTool.from_defaults(data).call().content) == {
        "items": [1, 2],
        "point": {"x": 1, "y": 2},
    }
    assert FunctionTool.from_defaults(text).call().content == "plain"


def test_a_returned_tool_output_is_kept() -> None:
    def custom(a: int) -> ToolOutput:
        return ToolOutput(tool_name="custom", content="handled", is_error=True)

    output = FunctionTool.from_defaults(custom).call(a=1)
    assert (output.content, output.is_error, output.raw_input) == ("handled", True, {"a": 1})


def test_parameter_named_like_a_pydantic_attribute_is_passed_through() -> None:
    def render(json: str, _depth: int = 1) -> str:
        return f"{json}:{_depth}"

    assert FunctionTool.from_defaults(render).call(json="x", _depth=3).content == "x:3"


def test_null_for_a_parameter_with_default_means_the_default() -> None:
    assert FunctionTool.from_defaults(add).call(a=1, b=None).content == "2"


def test_null_stays_null_for_a_parameter_that_accepts_it() -> None:
    def limit(n: int | None = 5) -> str:
        return repr(n)

    limit_tool = FunctionTool.from_defaults(limit)
    assert limit_tool.call(n=None).content == "None"
    assert limit_tool.call().content == "5"


# --- errors become outputs ------------------------------------------------------------


async def test_malformed_json_is_an_error_output() -> None:
    output = await FunctionTool.from_defaults(add).acall_json('{"a": 1,')
    assert output.is_error
    assert output.content.startswith("Error: the arguments for tool 'add' are not valid JSON")
    assert output.raw_input == {"arguments": '{"a": 1,'}
    assert isinstance(output.exception, json.JSONDecodeError)


async def test_json_that_is_not_an_object_is_an_error_output() -> None:
    output = await FunctionTool.from_defaults(add).acall_json("[1, 2]")
    assert output.is_error
    assert "must be a JSON object, got list" in output.content


async def test_wrong_types_are_named_with_the_value_received() -> None:
    output = await FunctionTool.from_defaults(add).acall_json('{"a": "two"}')
    assert output.is_error
    assert output.content.startswith("Error: invalid arguments for tool 'add': 'a': ")
    assert "valid integer" in output.content
    assert "(got 'two')" in output.content
    assert output.content.endswith("The tool takes: a, b")


async def test_missing_and_unexpected_arguments_are_named() -> None:
    output = await FunctionTool.from_defaults(add).acall(b=2, c=3)
    assert output.is_error
    assert "'a': missing required argument" in output.content
    assert "'c': unexpected argument" in output.content


async def test_long_invalid_values_are_shortened_in_the_message() -> None:
    output = await FunctionTool.from_defaults(add).acall(a="x" * 1000)
    assert "(got 'xxxxx" in output.content
    assert "...)" in output.content
    assert len(output.content) < 400


async def test_nested_field_errors_give_the_path() -> None:
    output = await FunctionTool.from_defaults(shift).acall(point={"x": 1}, dx=1)
    assert "'point.y': missing required argument" in output.content


def test_too_many_or_doubled_positional_arguments() -> None:
    add_tool = FunctionTool.from_defaults(add)
    assert "takes at most 2 positional arguments, got 3" in add_tool.call(1, 2, 3).content
    assert "got 'a' twice" in add_tool.call(1, a=1).content


async def test_a_raising_tool_gives_an_error_output_naming_tool_and_error() -> None:
    output = await FunctionTool.from_defaults(explode).acall(reason="disk")
    assert output.is_error
    assert output.content == "Error: tool 'explode' raised ValueError: boom: disk"
    assert isinstance(output.exception, ValueError)
    assert output.raw_input == {"reason": "disk"}


def test_a_raising_tool_via_sync_call_gives_an_error_output() -> None:
    output = FunctionTool.from_defaults(explode).call(reason="x")
    assert (output.is_error, output.content) == (
        True,
        "Error: tool 'explode' raised ValueError: boom: x",
    )


async def test_a_hanging_async_tool_is_stopped_by_its_timeout() -> None:
    never = asyncio.Event()

    async def hang() -> None:
        await never.wait()

    output = await FunctionTool.from_defaults(hang, timeout=0.05).acall()
    assert output.is_error
    assert "tool 'hang' did not finish within its timeout of 0.05 s" in output.content
    assert isinstance(output.exception, TimeoutError)


async def test_a_hanging_sync_tool_is_abandoned_at_its_timeout() -> None:
    release = threading.Event()

    def block() -> str:
        release.wait()
        return "late"

    try:
        output = await FunctionTool.from_defaults(block, timeout=0.05).acall()
    finally:
        release.set()
    assert output.is_error
    assert "tool 'block' did not finish within its timeout of 0.05 s" in output.content


def test_a_hanging_sync_tool_is_abandoned_at_its_timeout_in_sync_call() -> None:
    release = threading.Event()

    def block() -> str:
        release.wait()
        return "late"

    try:
        output = FunctionTool.from_defaults(block, timeout=0.05).call()
    finally:
        release.set()
    assert output.is_error
    assert "did not finish within its timeout" in output.content


async def test_a_tool_raising_timeout_error_itself_is_not_called_a_timeout() -> None:
    def slow_backend() -> None:
        raise TimeoutError("backend took too long")

    output = await FunctionTool.from_defaults(slow_backend, timeout=5).acall()
    assert output.content == "Error: tool 'slow_backend' raised TimeoutError: backend took too long"
    sync_output = FunctionTool.from_defaults(slow_backend, timeout=5).call()
    assert sync_output.content == output.content


async def test_exception_without_message_says_so() -> None:
    def bare() -> None:
        raise KeyError

    output = await FunctionTool.from_defaults(bare).acall()
    assert output.content == "Error: tool 'bare' raised KeyError: (no message)"


# --- context --------------------------------------------------------------------------


async def remember(ctx: Context, key: str) -> str:
    """Store a key in the workflow state."""
    await ctx.store.set("last", key)
    return key


async def test_context_parameter_is_hidden_from_schema_and_passed_by_caller() -> None:
    remember_tool = FunctionTool.from_defaults(remember)
    ctx: Context[Any] = Context(Noop())
    assert remember_tool.requires_context
    assert list(remember_tool.metadata.get_parameters_dict()["properties"]) == ["key"]
    output = await remember_tool.acall(ctx=ctx, key="k1")
    assert output.content == "k1"
    assert output.raw_input == {"key": "k1"}
    assert await ctx.store.get("last") == "k1"


async def test_acall_json_passes_ctx_to_a_tool_that_takes_it() -> None:
    ctx: Context[Any] = Context(Noop())
    output = await FunctionTool.from_defaults(remember).acall_json('{"key": "k2"}', ctx=ctx)
    assert output.content == "k2"
    assert await ctx.store.get("last") == "k2"
    # A tool without a Context parameter ignores the ctx it is offered.
    assert (await FunctionTool.from_defaults(add).acall_json('{"a": 1}', ctx=ctx)).content == "2"


async def test_missing_context_is_an_error_output() -> None:
    output = await FunctionTool.from_defaults(remember).acall(key="k")
    assert output.is_error
    assert "needs the workflow Context in its parameter 'ctx'" in output.content


async def test_llm_cannot_supply_the_context_argument() -> None:
    remember_tool = FunctionTool.from_defaults(remember)
    output = await remember_tool.acall_json('{"ctx": "forged", "key": "k"}')
    assert output.is_error
    assert "needs the workflow Context in its parameter 'ctx'" in output.content
    ctx: Context[Any] = Context(Noop())
    output = await remember_tool.acall_json('{"ctx": "forged", "key": "k3"}', ctx=ctx)
    assert output.content == "k3"
    assert await ctx.store.get("last") == "k3"


# --- arguments named like the call methods' own parameters ------------------------------


async def test_argument_named_self_is_validated_not_a_type_error() -> None:
    add_tool = FunctionTool.from_defaults(add)
    output = await add_tool.acall_json('{"self": 1, "a": 1}')
    assert output.is_error
    assert "'self': unexpected argument" in output.content
    assert add_tool.call(self=1, a=1).is_error
    assert add_tool(self=1, a=1).is_error

    def rename(self: str) -> str:
        """Echo a name."""
        return self

    assert (await FunctionTool.from_defaults(rename).acall_json('{"self": "me"}')).content == "me"


# --- results that cannot become text -------------------------------------------------


def circular() -> dict[str, Any]:
    """Return data that refers to itself."""
    data: dict[str, Any] = {}
    data["self"] = data
    return data


async def test_result_that_cannot_be_rendered_is_an_error_output() -> None:
    circular_tool = FunctionTool.from_defaults(circular)
    for output in (await circular_tool.acall(), circular_tool.call()):
        assert output.is_error
        assert "tool 'circular' returned a dict that cannot be written as text" in output.content
        assert "Circular reference" in output.content


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ('{"a": ' + "1" * 5000 + "}", "integer string conversion"),
        ('{"a": ' + "[" * 100_000 + "}", "recursion"),
    ],
)
async def test_hostile_json_arguments_are_error_outputs(arguments: str, reason: str) -> None:
    output = await FunctionTool.from_defaults(add).acall_json(arguments)
    assert output.is_error
    assert "the arguments for tool 'add' are not valid JSON" in output.content
    assert reason in output.content


def exits(code: int) -> None:
    """Exit the way argparse does on bad input."""
    raise SystemExit(code)


async def async_exits(code: int) -> None:
    """Exit from a coroutine."""
    raise SystemExit(code)


async def test_a_tool_calling_sys_exit_is_an_error_output() -> None:
    for fn in (exits, async_exits):
        exit_tool = FunctionTool.from_defaults(fn)
        timed = FunctionTool.from_defaults(fn, timeout=5.0)
        for output in (await exit_tool.acall(code=2), exit_tool.call(code=2), timed.call(code=2)):
            assert output.is_error
            assert f"tool '{fn.__name__}' raised SystemExit: 2" in output.content


class Span(BaseModel):
    start: int
    end: int

    @model_validator(mode="before")
    @classmethod
    def from_pair(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"start": value[0], "end": value[1]}  # IndexError for a short list
        return value


def span_length(span: Span) -> int:
    """Length of a span."""
    return span.end - span.start


async def test_a_validator_raising_something_else_is_an_error_output() -> None:
    span_tool = FunctionTool.from_defaults(span_length)
    assert (await span_tool.acall(span=[2, 5])).content == "3"
    for output in (await span_tool.acall(span=[2]), span_tool.call(span=[2])):
        assert output.is_error
        assert "invalid arguments for tool 'span_length'" in output.content
        assert "IndexError" in output.content
