"""tools.strict_schema: OpenAI strict-mode rewriting, and the reasons it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

from tools import FunctionTool, StrictSchemaError
from tools.strict_schema import to_strict_schema


class Line(BaseModel):
    sku: str
    quantity: int = 1
    note: str | None = Field(default=None, description="Free text.")


class Order(BaseModel):
    lines: list[Line]
    customer: str


def strict_params(fn: Any) -> dict[str, Any]:
    return FunctionTool.from_defaults(fn).metadata.to_openai_tool(strict=True)["function"][
        "parameters"
    ]


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
    to_strict_schema(schema, "t")
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
