"""tools.metadata: the parameters dict (the provider-neutral schema a tool has)."""

from __future__ import annotations

import json

from tools import FunctionTool


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
