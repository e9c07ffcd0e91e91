"""tools.metadata: the parameters dict and the OpenAI tool entry."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from tools import FunctionTool, StrictSchemaError
from tools.metadata import ToolMetadata


def forecast(city: str, days: int = 3) -> str:
    """Get the weather forecast.

    Args:
        city: The city's name.
        days: How many days ahead.
    """
    return city


def test_get_parameters_dict_is_a_clean_object_schema() -> None:
    params = FunctionTool.from_defaults(forecast).metadata.get_parameters_dict()
    assert params == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city's name."},
            "days": {"type": "integer", "default": 3, "description": "How many days ahead."},
        },
        "required": ["city"],
        "additionalProperties": False,
    }


def test_fn_schema_str_and_get_name() -> None:
    metadata = FunctionTool.from_defaults(forecast).metadata
    assert json.loads(metadata.fn_schema_str) == metadata.get_parameters_dict()
    assert metadata.get_name() == "forecast"


def test_to_openai_tool_non_strict() -> None:
    entry = FunctionTool.from_defaults(forecast).metadata.to_openai_tool()
    assert entry == {
        "type": "function",
        "function": {
            "name": "forecast",
            "description": "Get the weather forecast.",
            "parameters": FunctionTool.from_defaults(forecast).metadata.get_parameters_dict(),
        },
    }


def test_to_openai_tool_strict_requires_everything_and_marks_strict() -> None:
    function = FunctionTool.from_defaults(forecast).metadata.to_openai_tool(strict=True)["function"]
    params = function["parameters"]
    assert function["strict"] is True
    assert params["required"] == ["city", "days"]
    assert params["additionalProperties"] is False
    assert params["properties"]["days"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "description": "How many days ahead; null for the default (3)",
    }


def test_to_openai_tool_strict_refuses_free_form_dicts_with_reason() -> None:
    def tag(labels: dict[str, str]) -> None:
        """Tag things."""

    with pytest.raises(StrictSchemaError, match=r"tool 'tag'.*'labels' is an object with free"):
        FunctionTool.from_defaults(tag).metadata.to_openai_tool(strict=True)


class _CountedSchema(BaseModel):
    """Arguments whose JSON schema counts how often pydantic is asked for it."""

    city: str
    generated: ClassVar[int] = 0

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        cls.generated += 1
        return super().model_json_schema(*args, **kwargs)


class _OtherSchema(BaseModel):
    days: int


def test_the_parameters_dict_is_generated_once_and_each_caller_gets_its_own() -> None:
    # An agent asks for every tool's schema on each LLM call (to count its tokens), and
    # pydantic takes about half a millisecond to generate one.
    metadata = ToolMetadata(name="forecast", description="Forecast.", fn_schema=_CountedSchema)
    first = metadata.get_parameters_dict()
    first["properties"]["city"]["type"] = "changed by the caller"
    assert metadata.get_parameters_dict()["properties"]["city"] == {"type": "string"}
    assert metadata.to_openai_tool()["function"]["parameters"]["required"] == ["city"]
    assert _CountedSchema.generated == 1


def test_a_new_fn_schema_gets_its_own_parameters_dict() -> None:
    metadata = ToolMetadata(name="forecast", description="Forecast.", fn_schema=_CountedSchema)
    metadata.get_parameters_dict()
    metadata.fn_schema = _OtherSchema
    assert list(metadata.get_parameters_dict()["properties"]) == ["days"]
