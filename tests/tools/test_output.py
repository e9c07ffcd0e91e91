"""tools.output: ToolOutput and how return values become text."""

from __future__ import annotations

import datetime
import enum

from pydantic import BaseModel

from tools.output import ToolOutput, render_content


class Colour(enum.Enum):
    red = "red"


class Item(BaseModel):
    name: str
    when: datetime.date


def test_strings_pass_through() -> None:
    assert render_content("héllo") == "héllo"


def test_models_dicts_lists_and_scalars_are_json() -> None:
    item = Item(name="a", when=datetime.date(2024, 1, 2))
    assert render_content(item) == '{"name":"a","when":"2024-01-02"}'
    assert render_content({"items": [item], "n": 1}) == (
        '{"items":[{"name":"a","when":"2024-01-02"}],"n":1}'
    )
    assert render_content([1, "x", None]) == '[1,"x",null]'
    assert render_content(None) == "null"
    assert render_content(True) == "true"
    assert render_content(2.5) == "2.5"
    assert render_content(Colour.red) == '"red"'


def test_objects_json_cannot_hold_are_written_with_str() -> None:
    class Thing:
        def __str__(self) -> str:
            return "a thing"

    assert render_content({"t": Thing()}) == '{"t":"a thing"}'


def test_tool_output_str_and_exception() -> None:
    error = RuntimeError("x")
    failed = ToolOutput(tool_name="t", content="Error: x", raw_output=error, is_error=True)
    ok = ToolOutput(tool_name="t", content="5", raw_output=5)
    assert str(failed) == "Error: x"
    assert failed.exception is error
    assert ok.exception is None
    assert ok.raw_input == {}
