"""tools.metadata: the parameters dict (the provider-neutral schema a tool has)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import BaseModel

from tools import FunctionTool
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
    assert metadata.get_parameters_dict()["required"] == ["city"]
    assert _CountedSchema.generated == 1


def test_a_new_fn_schema_gets_its_own_parameters_dict() -> None:
    metadata = ToolMetadata(name="forecast", description="Forecast.", fn_schema=_CountedSchema)
    metadata.get_parameters_dict()
    metadata.fn_schema = _OtherSchema
    assert list(metadata.get_parameters_dict()["properties"]) == ["days"]
