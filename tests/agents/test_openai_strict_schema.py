"""agents.llm.openai.strict_schema: one strict-mode rewriting for tools and for structured
output, and the named error for what strict mode cannot express."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from agents.llm import StrictSchemaError
from agents.llm.openai.strict_schema import strict_json_schema, strict_parameters
from agents.llm.openai.tool_specs import to_openai_tool
from tools import FunctionTool, ToolSet


class Line(BaseModel):
    sku: str
    quantity: int = 1
    note: str | None = Field(default=None, description="Free text.")


class Order(BaseModel):
    lines: list[Line]
    customer: str


def strict_params(fn: Any) -> dict[str, Any]:
    return to_openai_tool(FunctionTool.from_defaults(fn), strict=True)["function"]["parameters"]


def test_nested_models_are_closed_and_fully_required() -> None:
    def place(order: Order, priority: bool = False) -> None: ...

    params = strict_params(place)
    assert params["required"] == ["order", "priority"]
    for name in ("Line", "Order"):
        definition = params["$defs"][name]
        assert definition["additionalProperties"] is False
        assert definition["required"] == list(definition["properties"])
    assert "default" not in params["$defs"]["Line"]["properties"]["quantity"]


def test_optional_parameters_stay_nullable_without_default() -> None:
    def f(note: str | None = None) -> None: ...

    prop = strict_params(f)["properties"]["note"]
    assert prop == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_ref_with_sibling_description_is_inlined() -> None:
    def f(line: Line = Field(description="One line.")) -> None: ...  # noqa: B008

    prop = strict_params(f)["properties"]["line"]
    assert "$ref" not in prop
    assert prop["description"] == "One line."
    assert prop["additionalProperties"] is False


def test_every_problem_is_listed_with_its_place() -> None:
    def f(anything: Any, pair: tuple[int, str], labels: dict[str, int]) -> None: ...

    with pytest.raises(StrictSchemaError) as caught:
        strict_params(f)
    message = str(caught.value)
    assert message.startswith("tool 'f' cannot use OpenAI strict mode: ")
    assert "'anything' has no type" in message
    assert "'pair' is a tuple" in message
    assert "'labels' is an object with free-form keys" in message


class Bag(BaseModel):
    extras: dict[str, str]


def test_problems_inside_models_are_named_by_model_and_field() -> None:
    def f(bag: Bag) -> None: ...

    with pytest.raises(StrictSchemaError, match=r"'Bag\.extras' is an object with free-form"):
        strict_params(f)


def test_input_schema_is_not_modified() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer", "default": 1}}}
    strict_parameters(schema, "t")
    assert schema == {"type": "object", "properties": {"a": {"type": "integer", "default": 1}}}


def test_keywords_strict_mode_refuses_are_dropped_and_still_validated() -> None:
    def tag(
        names: Annotated[set[str], Field(min_length=1)],
        code: Annotated[str, Field(min_length=2, max_length=4, pattern="^[A-Z]+$")],
        where: Path,
        day: str = Field(default="x", json_schema_extra={"format": "date"}),
    ) -> None: ...

    params = strict_params(tag)
    names, code = params["properties"]["names"], params["properties"]["code"]
    assert "uniqueItems" not in names
    assert names["minItems"] == 1  # supported: kept
    assert "minLength" not in code
    assert "maxLength" not in code
    assert code["pattern"] == "^[A-Z]+$"
    assert "format" not in params["properties"]["where"]  # pydantic's "path"
    assert params["properties"]["day"]["anyOf"][0]["format"] == "date"
    output = FunctionTool.from_defaults(tag).call(names=["a"], code="TOOLONG", where="p")
    assert output.is_error
    assert "'code': String should have at most 4 characters" in output.content


def test_the_error_names_each_keyword_and_its_path() -> None:
    def f(pair: tuple[int, str], bag: Bag) -> None: ...

    with pytest.raises(StrictSchemaError) as caught:
        strict_params(f)
    error = caught.value
    assert error.subject == "tool 'f'"
    assert [(problem.path, problem.keyword) for problem in error.problems] == [
        ("pair", "prefixItems"),
        ("Bag.extras", "additionalProperties"),
    ]
    assert (error.path, error.keyword) == ("pair", "prefixItems")


class Household(BaseModel):
    home: Line
    counts: dict[str, int] = {}


def test_an_output_class_gets_the_same_rules_and_the_same_error() -> None:
    # One implementation: a dict field is refused for structured output as for a tool,
    # naming the keyword and the path (the output rewriter used to leave it open).
    with pytest.raises(StrictSchemaError) as caught:
        strict_json_schema(Household)
    assert caught.value.subject == "output class 'Household'"
    assert [(p.path, p.keyword) for p in caught.value.problems] == [
        ("counts", "additionalProperties")
    ]
    assert "'counts' is an object with free-form keys" in str(caught.value)


def test_output_defaults_become_required_not_nullable() -> None:
    schema = strict_json_schema(Line)

    assert schema["required"] == ["sku", "quantity", "note"]
    assert schema["properties"]["quantity"] == {"type": "integer", "title": "Quantity"}
    assert schema["additionalProperties"] is False


def forecast(city: str, days: int = 3) -> str:
    """Get the weather forecast.

    Args:
        city: The city's name.
        days: How many days ahead.
    """
    return city


def test_a_tool_becomes_an_openai_entry_from_its_neutral_schema() -> None:
    tool = FunctionTool.from_defaults(forecast)
    assert to_openai_tool(tool) == {
        "type": "function",
        "function": {
            "name": "forecast",
            "description": "Get the weather forecast.",
            "parameters": tool.metadata.get_parameters_dict(),
        },
    }


def test_a_strict_entry_requires_everything_and_null_stands_for_a_default() -> None:
    function = to_openai_tool(FunctionTool.from_defaults(forecast), strict=True)["function"]
    params = function["parameters"]
    assert function["strict"] is True
    assert params["required"] == ["city", "days"]
    assert params["additionalProperties"] is False
    assert params["properties"]["days"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "description": "How many days ahead; null for the default (3)",
    }


def test_tools_know_nothing_of_openai() -> None:
    tool = FunctionTool.from_defaults(forecast)
    assert not hasattr(tool.metadata, "to_openai_tool")
    assert not hasattr(ToolSet([tool]), "to_openai_tools")
