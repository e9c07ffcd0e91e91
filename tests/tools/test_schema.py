"""tools.schema: signatures, hints and docstrings become argument models."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from agentflow import Context
from tools.errors import ToolDefinitionError
from tools.schema import describe_function, is_context_annotation


class Unit(enum.Enum):
    celsius = "celsius"
    fahrenheit = "fahrenheit"


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    name: str
    addresses: list[Address] = []


def schema_of(fn: Any) -> dict[str, Any]:
    return describe_function(fn, fn.__name__).fn_schema.model_json_schema()


def test_hints_and_defaults_become_types_and_required() -> None:
    def f(
        a: int,
        b: float,
        unit: Unit,
        mode: Literal["fast", "deep"],
        note: str | None = None,
        tags: list[str] | None = None,
        counts: dict[str, int] | None = None,
        who: Person | None = None,
        flag: bool = True,
    ) -> None: ...

    schema = schema_of(f)
    props = schema["properties"]
    assert schema["required"] == ["a", "b", "unit", "mode"]
    assert props["a"]["type"] == "integer"
    assert props["b"]["type"] == "number"
    assert props["unit"] == {"$ref": "#/$defs/Unit"}
    assert schema["$defs"]["Unit"]["enum"] == ["celsius", "fahrenheit"]
    assert props["mode"]["enum"] == ["fast", "deep"]
    assert props["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert props["note"]["default"] is None
    assert {"type": "array", "items": {"type": "string"}} in props["tags"]["anyOf"]
    assert {"type": "object", "additionalProperties": {"type": "integer"}} in props["counts"][
        "anyOf"
    ]
    assert schema["$defs"]["Person"]["properties"]["addresses"]["items"] == {
        "$ref": "#/$defs/Address"
    }
    assert props["flag"]["default"] is True
    assert schema["additionalProperties"] is False


def test_google_docstring_gives_summary_and_parameter_descriptions() -> None:
    def f(city: str, days: int = 3) -> None:
        """Get the forecast.

        Longer text that is not part of the description.

        Args:
            city: The city's name.
            days (int): How many days ahead.
        """

    described = describe_function(f, "f")
    props = described.fn_schema.model_json_schema()["properties"]
    assert described.summary == "Get the forecast."
    assert props["city"]["description"] == "The city's name."
    assert props["days"]["description"] == "How many days ahead."


def test_numpy_docstring_parameter_descriptions() -> None:
    def f(city: str, days: int = 3) -> None:
        """Get the forecast.

        Parameters
        ----------
        city : str
            The city's name.
        days : int
            How many days ahead.
        """

    props = schema_of(f)["properties"]
    assert props["city"]["description"] == "The city's name."
    assert props["days"]["description"] == "How many days ahead."


def test_rest_docstring_parameter_descriptions() -> None:
    def f(city: str, days: int = 3) -> None:
        """Get the forecast.

        :param city: The city's name.
        :param days: How many days ahead.
        """

    props = schema_of(f)["properties"]
    assert props["city"]["description"] == "The city's name."
    assert props["days"]["description"] == "How many days ahead."


def test_annotated_field_description_wins_over_docstring_and_keeps_constraints() -> None:
    def f(limit: Annotated[int, Field(description="Most results.", ge=1, le=50)] = 10) -> None:
        """Search.

        Args:
            limit: Docstring text that loses.
        """

    prop = schema_of(f)["properties"]["limit"]
    assert prop["description"] == "Most results."
    assert (prop["minimum"], prop["maximum"], prop["default"]) == (1, 50, 10)


def test_no_docstring_gives_empty_summary_and_untyped_parameters_are_any() -> None:
    def f(x):  # type: ignore[no-untyped-def]
        return x

    described = describe_function(f, "f")
    assert described.summary == ""
    assert described.fn_schema.model_json_schema()["properties"]["x"] == {"title": "X"}


def test_context_parameter_is_left_out_and_remembered() -> None:
    def f(ctx: Context, query: str) -> None: ...

    described = describe_function(f, "f")
    assert described.context_param == "ctx"
    assert list(described.fn_schema.model_fields) == ["query"]


def test_is_context_annotation() -> None:
    assert is_context_annotation(Context)
    assert is_context_annotation(Context[Person])
    assert not is_context_annotation(Person)
    assert not is_context_annotation(Any)


def test_names_pydantic_reserves_are_aliased() -> None:
    def f(json: str, _private: int = 1, model_config: int = 2) -> None: ...

    described = describe_function(f, "f")
    schema = described.fn_schema.model_json_schema()
    assert set(schema["properties"]) == {"json", "_private", "model_config"}
    assert set(described.param_names.values()) == {"json", "_private", "model_config"}
    validated = described.fn_schema.model_validate({"json": "x", "_private": 5})
    names = described.param_names
    fields = {names.get(k, k): getattr(validated, k) for k in type(validated).model_fields}
    assert fields == {"json": "x", "_private": 5, "model_config": 2}


def test_positional_only_parameters_are_recorded() -> None:
    def f(a: int, /, b: int) -> None: ...

    assert describe_function(f, "f").positional_only == ("a",)


def test_star_args_and_kwargs_are_refused_by_name() -> None:
    def f(*items: int) -> None: ...

    def g(**options: int) -> None: ...

    with pytest.raises(ToolDefinitionError, match=r"tool 'f': parameter '\*items'"):
        describe_function(f, "f")
    with pytest.raises(ToolDefinitionError, match=r"tool 'g': parameter '\*\*options'"):
        describe_function(g, "g")


def test_unresolvable_hint_names_the_tool() -> None:
    def f(x: NoSuchType) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(ToolDefinitionError, match="tool 'f': cannot resolve a type hint"):
        describe_function(f, "f")


def test_callable_object_is_described_by_its_call_method() -> None:
    class Greeter:
        def __call__(self, name: str) -> str:
            """Greet someone."""
            return f"hi {name}"

    described = describe_function(Greeter(), "greet")
    assert described.summary == "Greet someone."
    assert list(described.fn_schema.model_fields) == ["name"]


def test_context_imported_only_under_type_checking_is_still_detected() -> None:
    from tests.tools._context_under_type_checking import remember

    described = describe_function(remember, "remember")
    assert described.context_param == "ctx"
    assert list(described.fn_schema.model_fields) == ["key"]


def test_field_as_default_value_is_understood() -> None:
    def f(
        limit: int = Field(default=10, description="Most results.", ge=1),
        query: str = Field(description="What to find."),
    ) -> None: ...

    schema = schema_of(f)
    assert schema["required"] == ["query"]
    assert schema["properties"]["limit"]["default"] == 10
    assert schema["properties"]["limit"]["minimum"] == 1
    assert schema["properties"]["query"]["description"] == "What to find."
