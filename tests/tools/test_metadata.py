"""tools.metadata: the parameters dict and the OpenAI tool entry."""

from __future__ import annotations

import json

import pytest

from tools import FunctionTool, StrictSchemaError


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
